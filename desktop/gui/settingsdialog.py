"""Settings: API keys (OS keyring; shown only as set / not set), test connection, endpoints, model, Front budget
share, registration policy and scan defaults.

Keys are written only to the OS keyring (`desktop.secrets.set_key`). Where no keyring backend exists the
key fields are disabled and the dialog says so plainly (`secrets.NO_KEYRING_HELP`); nothing is ever
written to a plain file. A key typed here can be tested before it is saved. Endpoint and key changes take
effect at the next start (the running clients keep theirs); the dialog says that too.

Signals:
    test_requested(str service, str base_url, str key), settings_saved(Settings).
"""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import secrets
from desktop import settings as settings_mod

SERVICES = (("front", "Front", "front_url"), ("openai", "OpenAI", "openai_url"), ("ship24", "Ship24", "ship24_url"))


class SettingsDialog(QDialog):
    test_requested = Signal(str, str, str)
    settings_saved = Signal(object)

    def __init__(self, settings: settings_mod.Settings, parent: QWidget | None = None, *,
                 settings_path=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        self._path = settings_path
        self.keyring_ok = secrets.keyring_available()
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_keys())
        layout.addWidget(self._build_services(settings))
        layout.addWidget(self._build_defaults(settings))
        note = QLabel("Endpoint and key changes take effect the next time Shipscan starts.")
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # ------------------------------------------------------------------ building

    def _build_keys(self) -> QGroupBox:
        box = QGroupBox("API keys (kept in the system keyring)")
        grid = QGridLayout(box)
        self.key_status: dict[str, QLabel] = {}
        self.key_edits: dict[str, QLineEdit] = {}
        self.test_results: dict[str, QLabel] = {}
        row = 0
        if not self.keyring_ok:
            warning = QLabel(secrets.NO_KEYRING_HELP)
            warning.setTextFormat(Qt.TextFormat.PlainText)
            warning.setWordWrap(True)
            warning.setAccessibleName("No keyring available")
            grid.addWidget(warning, row, 0, 1, 5)
            row += 1
        for service, name, _url in SERVICES:
            status = QLabel()
            edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="new key (leave empty to keep)")
            edit.setAccessibleName(f"New {name} key")
            edit.setEnabled(self.keyring_ok)
            save = QPushButton("Save key")
            save.setEnabled(self.keyring_ok)
            save.clicked.connect(lambda _=False, s=service: self.save_key(s))
            test = QPushButton("Test connection")
            test.setAccessibleName(f"Test {name} connection")
            test.clicked.connect(lambda _=False, s=service: self.request_test(s))
            result = QLabel()
            result.setTextFormat(Qt.TextFormat.PlainText)
            result.setWordWrap(True)
            for column, widget in enumerate((QLabel(name), status, edit, save, test)):
                grid.addWidget(widget, row, column)
            grid.addWidget(result, row + 1, 1, 1, 4)
            self.key_status[service], self.key_edits[service], self.test_results[service] = status, edit, result
            row += 2
        self.refresh_key_status()
        return box

    def _build_services(self, settings) -> QGroupBox:
        box = QGroupBox("Services")
        form = QFormLayout(box)
        self.url_edits = {}
        for service, name, field in SERVICES:
            edit = QLineEdit(getattr(settings, field))
            edit.setAccessibleName(f"{name} endpoint")
            form.addRow(f"{name} endpoint", edit)
            self.url_edits[service] = edit
        self.model_edit = QLineEdit(settings.model)
        self.model_edit.setAccessibleName("LLM model")
        self.share = QDoubleSpinBox(minimum=5, maximum=100, decimals=0, suffix=" %", value=settings.front_budget_share * 100)
        self.share.setAccessibleName("Share of Front's budget")
        self.by_hand = QCheckBox("Approve every shipment by hand before it is registered")
        self.by_hand.setChecked(settings.approve_all_by_hand)
        form.addRow("&Model", self.model_edit)
        form.addRow("Share of Front's &budget", self.share)
        form.addRow("Registration", self.by_hand)
        # Caps on what registers without a person: each automatic registration costs a Ship24 tracker.
        self.cap_scan = QSpinBox(minimum=0, maximum=100_000, value=settings.auto_register_per_scan,
                                 specialValueText="none (review all)")
        self.cap_day = QSpinBox(minimum=0, maximum=100_000, value=settings.auto_register_per_day,
                                specialValueText="none (review all)")
        for label, widget in (("Automatic registrations per &scan", self.cap_scan),
                              ("Automatic registrations per &day", self.cap_day)):
            widget.setAccessibleName(label.replace("&", ""))
            form.addRow(label, widget)
        return box

    def _build_defaults(self, settings) -> QGroupBox:
        box = QGroupBox("Scan defaults")
        form = QFormLayout(box)
        self.batch_size = QSpinBox(minimum=1, maximum=500, value=settings.batch_size)
        self.concurrent = QSpinBox(minimum=1, maximum=20, value=settings.concurrent_batches)
        self.extractor = QComboBox()
        self.extractor.addItem("LLM (OpenAI)", "llm")
        self.extractor.addItem("Rules only", "rules")
        self.extractor.setCurrentIndex(max(0, self.extractor.findData(settings.extractor)))
        self.prefilter = QCheckBox("Skip the LLM where no plausible number appears")
        self.prefilter.setChecked(settings.llm_prefilter)
        self.token_budget = QSpinBox(minimum=500, maximum=100_000, singleStep=500, value=settings.llm_token_budget)
        self.refresh_minutes = QSpinBox(minimum=0, maximum=24 * 60, value=settings.status_refresh_minutes,
                                        suffix=" min", specialValueText="never")
        for label, widget in (("Batch si&ze", self.batch_size), ("Batches at &once", self.concurrent),
                              ("E&xtractor", self.extractor), ("Pre-filter", self.prefilter),
                              ("Tokens per conversation", self.token_budget),
                              ("Refresh tracking status every", self.refresh_minutes)):
            widget.setAccessibleName(label.replace("&", ""))
            form.addRow(label, widget)
        return box

    # ------------------------------------------------------------------ keys

    def refresh_key_status(self) -> None:
        """Only "set" / "not set" (and where from): a key itself is never shown."""
        for service, label in self.key_status.items():
            env = secrets.ENV_VARS[service]
            if os.environ.get(env, "").strip():
                label.setText(f"set (from {env})")
            else:
                try:
                    label.setText("set" if secrets.get_key(service) else "not set")
                except secrets.InvalidKey:
                    label.setText("invalid: save it again on one line")

    def save_key(self, service: str) -> bool:
        value = self.key_edits[service].text().strip()
        try:
            secrets.set_key(service, value or None)
        except (secrets.KeyringUnavailable, secrets.InvalidKey) as exc:
            self.test_results[service].setText(str(exc))
            return False
        self.key_edits[service].clear()
        self.test_results[service].setText("Key saved in the keyring." if value else "Key removed.")
        self.refresh_key_status()
        return True

    def request_test(self, service: str) -> None:
        try:
            key = self.key_edits[service].text().strip() or secrets.get_key(service) or ""
            if key:
                key = secrets.validate_key(service, key, "the Settings field")
        except secrets.InvalidKey as exc:
            self.test_results[service].setText(f"✘ {exc}")
            return
        self.test_results[service].setText("Testing…")
        self.test_requested.emit(service, self.url_edits[service].text().strip(), key)

    def show_test_result(self, service: str, ok: bool, message: str) -> None:
        if service in self.test_results:
            self.test_results[service].setText(("✔ " if ok else "✘ ") + message)

    # ------------------------------------------------------------------ settings

    def values(self) -> settings_mod.Settings:
        return replace(self._settings, front_url=self.url_edits["front"].text().strip(),
                       openai_url=self.url_edits["openai"].text().strip(),
                       ship24_url=self.url_edits["ship24"].text().strip(), model=self.model_edit.text().strip(),
                       front_budget_share=self.share.value() / 100, approve_all_by_hand=self.by_hand.isChecked(),
                       batch_size=self.batch_size.value(), concurrent_batches=self.concurrent.value(),
                       extractor=self.extractor.currentData(), llm_prefilter=self.prefilter.isChecked(),
                       llm_token_budget=self.token_budget.value(),
                       status_refresh_minutes=self.refresh_minutes.value(),
                       auto_register_per_scan=self.cap_scan.value(), auto_register_per_day=self.cap_day.value())

    def save(self) -> None:
        new = self.values()
        settings_mod.save(new, self._path)
        self.settings_saved.emit(new)
        self.accept()
