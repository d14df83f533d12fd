"""Who is acting: the person recorded on scan runs and review actions (issue 16, team mode).

Contract:
- `current()` is the name set with `set_name` (the app and the command line pass the name from Settings,
  "Your name"), else the OS user name, else "unknown". Never empty, at most `MAX_LENGTH` characters, one
  line (a name is shown in tables and printed by `--json` commands).
- `set_name(None)` or a blank name goes back to the OS user name.
- Process-wide and thread-safe (a plain module value: every thread of one app acts for the same person).
"""

from __future__ import annotations

import getpass

MAX_LENGTH = 80
UNKNOWN = "unknown"

_name: str | None = None


def clean(name: str | None) -> str:
    """`name` on one line, trimmed and cut to `MAX_LENGTH`; "" when blank or not a string."""
    return " ".join(name.split())[:MAX_LENGTH] if isinstance(name, str) else ""


def os_user() -> str:
    """The OS login name, or "unknown" where none can be read (no USER/LOGNAME, no passwd entry)."""
    try:
        return clean(getpass.getuser()) or UNKNOWN
    except (OSError, KeyError, ImportError):
        return UNKNOWN


def set_name(name: str | None) -> None:
    """Act as `name` from now on (blank or None: the OS user name)."""
    global _name
    _name = clean(name) or None


def current() -> str:
    """The acting person's name (see the module's contract)."""
    return _name or os_user()
