"""Settings: API keys (OS keyring; shown only as set / not set), test connection, endpoints, model, Front budget
share, registration policy, scan defaults, and what runs by itself (the status refresh, the morning scan).

Keys are written only to the OS keyring (`desktop.secrets.set_key`). Where no keyring backend exists the
key fields are disabled and the dialog says so plainly (`secrets.NO_KEYRING_HELP`, shown whole at any
size); nothing is ever written to a plain file. A key typed here can be tested before it is saved.

What applies when (the dialog says it, `APPLIES_NOW` / `APPLIES_AT_START`): the registration policy, the
caps, the model, the pre-filter, the token budget, the status refresh and the morning scan apply at once (the receiver of
`settings_saved`, `Bridge.apply_settings`, hands them to the running app); endpoints, keys, Front's budget
share and the scan panel's defaults at the next start. An endpoint that comes from an environment
variable or the demo is shown read-only and never saved (`Settings.endpoint_overrides`).

Signals:
    test_requested(str service, str base_url, str key), settings_saved(Settings).
"""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import paths, secrets
from desktop import settings as settings_mod
from desktop.store import actor, postgres

SERVICES = (("front", "Front", "front_url"), ("openai", "OpenAI", "openai_url"), ("ship24", "Ship24", "ship24_url"))
APPLIES_NOW = ("Saved settings apply at once: registration by hand, the automatic registration caps, the model, "
               "the pre-filter, tokens per conversation, the status refresh and the morning scan.")
APPLIES_AT_START = ("Endpoints, keys, the database, Front's budget share and the scan defaults (batch size, "
                    "batches at once, extractor) take effect the next time Shipscan starts.")


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
        layout.addWidget(self._build_schedule(settings))
        self.note = QLabel(f"{APPLIES_NOW}\n{APPLIES_AT_START}")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("When settings apply")
        layout.addWidget(self.note)
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
            self.keyring_help = help_label(secrets.NO_KEYRING_HELP, "No keyring available")
            grid.addWidget(self.keyring_help, row, 0, 1, 5)
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
            source = settings.overridden(field)
            if source:  # holds for this run only: shown as is, never saved (see settings.save)
                edit.setReadOnly(True)
                edit.setToolTip(f"Set by {source} for this run only; not saved in the settings.")
                form.addRow(f"{name} endpoint", self._with_note(edit, f"from {source}, not saved"))
            else:
                form.addRow(f"{name} endpoint", edit)
            self.url_edits[service] = edit
        self.model_edit = QLineEdit(settings.model)
        self.model_edit.setAccessibleName("LLM model")
        self.share = QDoubleSpinBox(minimum=5, maximum=100, decimals=0, suffix=" %", value=settings.front_budget_share * 100)
        self.share.setAccessibleName("Share of Front's budget")
        self.by_hand = QCheckBox("Approve every shipment by hand before it is registered")
        self.by_hand.setChecked(settings.approve_all_by_hand)
        self.name_edit = QLineEdit(settings.user_name, placeholderText=actor.os_user())
        self.name_edit.setAccessibleName("Your name")
        self.name_edit.setToolTip("Recorded on the scans you start and the reviews you do, so the team sees who "
                                  "did what (empty: your user name on this computer). Applies at once.")
        form.addRow("&Your name", self.name_edit)
        form.addRow("&Database", self._build_database(settings))
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
        for label, widget in (("Batch si&ze", self.batch_size), ("Batches at &once", self.concurrent),
                              ("E&xtractor", self.extractor), ("Pre-filter", self.prefilter),
                              ("Tokens per conversation", self.token_budget)):
            widget.setAccessibleName(label.replace("&", ""))
            form.addRow(label, widget)
        return box

    def _build_schedule(self, settings) -> QGroupBox:
        """The status refresh (on/off and its interval) and the morning scan (on/off and its time)."""
        box = QGroupBox("While Shipscan runs")
        form = QFormLayout(box)
        self.refresh_auto = QCheckBox("Refresh tracking status every")
        self.refresh_auto.setChecked(settings.status_refresh_auto and settings.status_refresh_minutes > 0)
        self.refresh_minutes = QSpinBox(minimum=1, maximum=24 * 60, suffix=" min",
                                        value=settings.status_refresh_minutes or 60)
        self.morning_scan = QCheckBox("Scan since the last scan every day at")
        self.morning_scan.setChecked(settings.morning_scan)
        self.morning_at = QTimeEdit(QTime.fromString(settings.morning_scan_at, "HH:mm"), displayFormat="HH:mm")
        if not self.morning_at.time().isValid():
            self.morning_at.setTime(QTime(8, 0))
        for check, widget, name in ((self.refresh_auto, self.refresh_minutes, "Status refresh interval"),
                                    (self.morning_scan, self.morning_at, "Morning scan time")):
            widget.setAccessibleName(name)
            widget.setEnabled(check.isChecked())
            check.toggled.connect(widget.setEnabled)
            form.addRow(check, widget)
        return box

    def _build_database(self, settings) -> QWidget:
        """A SQLite file's path or a team's PostgreSQL URL; a password typed in the URL goes to the keyring."""
        self.database_edit = QLineEdit(settings.database, placeholderText=str(paths.data_dir() / "shipscan.sqlite3"))
        self.database_edit.setAccessibleName("Database")
        self.database_edit.setToolTip("Empty: the file in your data folder. A path: that SQLite file. A team's "
                                      "server: postgresql://user@host:5432/dbname (a password typed in it is "
                                      "kept in the system keyring, never in the settings file). Applies at the "
                                      "next start; SHIPSCAN_DB and --db win over it.")
        return self.database_edit

    def _database_value(self) -> str | None:
        """The database to save, its password moved to the keyring; None (said in the note) when it cannot."""
        text = self.database_edit.text().strip()
        if not paths.is_database_url(text):
            return text
        bare, password = postgres.split_password(text)
        if password:
            try:
                postgres.save_password(bare, password)
            except secrets.KeyringUnavailable as exc:
                self.note.setText(f"The database password was not saved: {exc}")
                return None
            self.database_edit.setText(bare)
        return bare

    @staticmethod
    def _with_note(widget: QWidget, text: str) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget, 1)
        note = QLabel(f"({text})")
        note.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(note)
        return row

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
                       status_refresh_auto=self.refresh_auto.isChecked(),
                       morning_scan=self.morning_scan.isChecked(),
                       morning_scan_at=self.morning_at.time().toString("HH:mm"),
                       auto_register_per_scan=self.cap_scan.value(), auto_register_per_day=self.cap_day.value(),
                       user_name=actor.clean(self.name_edit.text()),
                       database=settings_mod.without_password(self.database_edit.text().strip()))

    def save(self) -> None:
        """Write the settings (never an endpoint that holds only for this run), emit `settings_saved`."""
        database = self._database_value()
        if database is None:
            return
        new = replace(self.values(), database=database)
        settings_mod.save(new, self._path)
        self.settings_saved.emit(new)
        self.accept()


def help_label(text: str, name: str) -> QLabel:
    """A wrapped plain-text label that is never clipped: wrapped labels in a layout report a height for
    too wide a line, so the help was cut at the dialog's default size; this one asks for its real height."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setAccessibleName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setMinimumWidth(420)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.MinimumExpanding)
    return label
