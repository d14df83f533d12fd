"""The desktop GUI (the only package besides desktop/app.py that imports PySide6 and qasync).

bridge.py turns core events into Qt signals and holds the async actions; mainwindow.py lays out and
wires the views (scanpanel, progress, shipmentsview + details, retryview, historyview, settingsdialog);
models/ holds one QAbstractTableModel per table; messages.py and crash.py are the two error channels
(expected errors to the status area, bugs to the crash dialog).
"""
