"""Logging for the desktop app: named loggers, a rotating log file, and an in-memory ring buffer.

Loggers are declared once here, one per area (`shipscan.<area>`); modules use
`logging.getLogger("shipscan.<area>")` or the constants below. Level meanings:

- DEBUG: detail for a developer (request ids, timings, counts per batch).
- INFO: what the user did and what the app did about it (scan started, 40 shipments found).
- WARNING: an expected failure the user may want to know about (a conversation failed, a 429).
- ERROR: an expected failure that stopped a whole action (the scan could not list conversations).
- CRITICAL: a bug (an unexpected exception that reached the crash handler).

Never log an API key or the body of an email. Two filters enforce what can be enforced: every record is
passed through `Redactor` (bearer tokens, `sk-...`/`apik_...` keys and every key value registered with
`Redactor.add_secret`) and is cut to `MAX_MESSAGE_CHARS`, so a body that slips into a message cannot fill
the file.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import logging.handlers
import re
from dataclasses import dataclass
from pathlib import Path

AREAS = ("pipeline", "front", "llm", "ship24", "db", "gui", "sim", "registration")
ROOT = logging.getLogger("shipscan")
pipeline = logging.getLogger("shipscan.pipeline")
front = logging.getLogger("shipscan.front")
llm = logging.getLogger("shipscan.llm")
ship24 = logging.getLogger("shipscan.ship24")
db = logging.getLogger("shipscan.db")
gui = logging.getLogger("shipscan.gui")
sim = logging.getLogger("shipscan.sim")
registration = logging.getLogger("shipscan.registration")

LOG_FILE_NAME = "shipscan.log"
MAX_MESSAGE_CHARS = 2000
FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"

_KEY_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\bapik_[A-Za-z0-9_\-]{4,}"),
    re.compile(r"(?i)(api[_-]?key[\"'=: ]+)[A-Za-z0-9._\-]{6,}"),
)


def key_like(piece: str) -> bool:
    """Whether a piece of a pasted key (a line or a blank-separated word) looks like key material, not a
    word: at least 6 characters with a digit or a capital after a small letter ("abcdefXYZ987"), or 20+."""
    piece = piece.strip()
    if len(piece) < 6:
        return False
    return len(piece) >= 20 or any(ch.isdigit() for ch in piece) or re.search(r"[a-z][A-Z]", piece) is not None


class Redactor(logging.Filter):
    """Masks secrets in every record and caps its length; attached to each of our handlers."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add_secret(self, value: str | None) -> None:
        """Mask `value` wherever it appears from now on (short values are ignored: too many false hits).

        Also masks the forms an error message quotes it in: escaped as in a `repr` or JSON string
        (httpx quotes a bad header as b'Bearer sk-...\\n...'), and each line of a multi-line value.
        """
        if not value:
            return
        forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1]}
        # Pieces only where they look like key material: a key pasted as "Bearer sk-..." or with a label
        # beside it must not mask that ordinary word in every message from now on.
        forms.update(piece for piece in {*value.splitlines(), *value.split()} if key_like(piece))
        self._secrets.update(form for form in forms if len(form) >= 6)

    def redact(self, text: str, limit: int | None = MAX_MESSAGE_CHARS) -> str:
        """`text` with every known secret and key-shaped string masked, cut to `limit` characters."""
        for secret in sorted(self._secrets, key=len, reverse=True):  # longest first: no half-masked keys
            text = text.replace(secret, "***")
        for pattern in _KEY_PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
        if limit is not None and len(text) > limit:
            text = text[:limit] + " [...cut]"
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the record
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Tracebacks can quote a request's headers or a key: format them now, masked (the formatter
            # then uses `exc_text` as it is).
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info), limit=None)
        return True


#: The one redactor of the process: every handler `setup` installs uses it, and keys registered with
#: `register_secrets` (by desktop.services when it loads them) stay masked across setups.
REDACTOR = Redactor()


def register_secrets(*values: str | None) -> None:
    """Mask these values (API keys) in every log record and crash report from now on."""
    for value in values:
        REDACTOR.add_secret(value)


def redact(text: str | None, limit: int | None = None) -> str | None:
    """The one redaction for everything that leaves the process (terminal, --json, database error
    columns, crash reports, logs): known keys and key-shaped strings masked. None stays None."""
    return None if text is None else REDACTOR.redact(str(text), limit=limit)


class RedactingStream(io.TextIOBase):
    """A text stream that masks secrets in every write before passing it on (the CLI wraps stdout and
    stderr in it, so no print of any command can show a key). A secret split across two writes is not
    seen; `print` writes its whole text at once."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(REDACTOR.redact(text, limit=None))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8")


class RingBuffer(logging.Handler):
    """Keeps the last `capacity` formatted records in memory for the crash dialog and the log view."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__()
        self.records: collections.deque[str] = collections.deque(maxlen=capacity)
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(self.format(record))
        except Exception:  # a handler must never raise into the caller
            self.handleError(record)

    def text(self, last: int | None = None) -> str:
        lines = list(self.records)
        return "\n".join(lines[-last:] if last else lines)


@dataclass
class LogSetup:
    """What `setup` installed: the ring buffer, the redactor and the log file's path (None if unwritable)."""

    ring: RingBuffer
    redactor: Redactor
    log_path: Path | None
    handlers: tuple[logging.Handler, ...]

    def close(self) -> None:
        """Remove and close the handlers `setup` added (tests call `setup` many times)."""
        for handler in self.handlers:
            ROOT.removeHandler(handler)
            handler.close()


_current: LogSetup | None = None


def level_for(verbose: int) -> int:
    return logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG


def setup(verbose: int = 0, log_dir: Path | None = None, *, console: bool = True,
          file: bool = True) -> LogSetup:
    """Install the handlers on the `shipscan` logger; a second call replaces the first call's handlers.

    The file (the app's; command-line tools pass `file=False`) records INFO and up (DEBUG with -vv); the
    console shows WARNING, INFO with -v. Every handler masks secrets through `REDACTOR`.
    """
    global _current
    if _current is not None:
        _current.close()
    redactor, ring = REDACTOR, RingBuffer()
    ring.addFilter(redactor)
    handlers: list[logging.Handler] = [ring]
    log_path = _file_path(log_dir) if file else None
    if log_path is not None:
        file_handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=2_000_000, backupCount=3,
                                                            encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(FORMAT))
        file_handler.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
        file_handler.addFilter(redactor)
        handlers.append(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        stream.setLevel(level_for(verbose))
        stream.addFilter(redactor)
        handlers.append(stream)
    for handler in handlers:
        ROOT.addHandler(handler)
    ROOT.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    _current = LogSetup(ring=ring, redactor=redactor, log_path=log_path, handlers=tuple(handlers))
    return _current


def _file_path(log_dir: Path | None) -> Path | None:
    try:
        if log_dir is None:
            from desktop import paths

            log_dir = paths.log_dir()
        log_dir.mkdir(parents=True, exist_ok=True)
        return log_dir / LOG_FILE_NAME
    except OSError:  # a read-only home must not stop the app; the ring buffer still works
        return None
