"""API keys: read from environment variables or the OS keyring, never from a plain file, never logged.

`get_key` tries the environment variable first (what scripts and CI use), then the keyring. Where the
machine has no keyring backend (a headless Linux box without a Secret Service), `set_key` raises
`KeyringUnavailable` with what to install; nothing ever falls back to a file.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from desktop.errors import ConfigurationError

KEYRING_SERVICE = "shipscan"

#: service name -> the environment variable that overrides the keyring.
ENV_VARS = {"front": "FRONT_API_TOKEN", "openai": "OPENAI_API_KEY", "ship24": "SHIP24_API_KEY"}

NO_KEYRING_HELP = (
    "No system keyring is available, so API keys cannot be saved. On Linux, install and unlock a Secret "
    "Service provider (GNOME Keyring or KWallet, e.g. `apt install gnome-keyring`) and log in again, or set "
    "FRONT_API_TOKEN, OPENAI_API_KEY and SHIP24_API_KEY in the environment instead."
)


class KeyringUnavailable(RuntimeError):
    """The OS keyring cannot store secrets on this machine; the message says what to do."""


class InvalidKey(ConfigurationError):
    """A key holds characters no API key has (a newline, a tab, another control character)."""


def validate_key(service: str, value: str, where: str) -> str:
    """`value` stripped of surrounding blanks, or InvalidKey naming `where` it came from.

    A pasted key with a newline inside would go into an HTTP header, and the client's error quoting that
    header would then print the key; so it is refused on entry, never used. The message never shows it.
    """
    value = value.strip()
    bad = [ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or ch.isspace()]
    if bad:
        from desktop import log

        log.register_secrets(value)  # mask it, and its key-like pieces, should it leak anyway
        raise InvalidKey(f"the {service} key from {where} contains {len(bad)} invalid character(s) "
                         "(a line break, tab, space or other control character); paste it again on one line")
    return value


@dataclass(frozen=True)
class Keys:
    """The three API keys; None where not configured. `repr` never shows a key."""

    front: str | None = None
    openai: str | None = None
    ship24: str | None = None

    def __repr__(self) -> str:
        shown = {name: ("set" if getattr(self, name) else "not set") for name in ENV_VARS}
        return f"Keys({', '.join(f'{k}={v}' for k, v in shown.items())})"


def _check(service: str) -> None:
    if service not in ENV_VARS:
        raise ValueError(f"unknown service {service!r}; expected one of {sorted(ENV_VARS)}")


def get_key(service: str) -> str | None:
    """The key for `service` ("front", "openai", "ship24") from its env var, else the keyring, else None.

    Raises:
        InvalidKey: the key found holds control characters or blanks (the message says where it is).
    """
    _check(service)
    value = os.environ.get(ENV_VARS[service], "").strip()
    if value:
        return validate_key(service, value, ENV_VARS[service])
    try:
        stored = keyring.get_password(KEYRING_SERVICE, service) or None
    except KeyringError:
        return None
    return validate_key(service, stored, "the system keyring") if stored else None


def load_keys() -> Keys:
    return Keys(front=get_key("front"), openai=get_key("openai"), ship24=get_key("ship24"))


def keyring_available() -> bool:
    """True when the active keyring backend can store secrets (not the 'fail' or 'null' backend)."""
    backend = keyring.get_keyring()
    module = type(backend).__module__
    return not (module.startswith("keyring.backends.fail") or module.startswith("keyring.backends.null")
                or "PlaintextKeyring" in type(backend).__name__)


def set_key(service: str, value: str | None) -> None:
    """Store (or with None/empty, delete) the key for `service` in the OS keyring.

    Raises:
        KeyringUnavailable: no usable keyring backend; the message says what to install.
        InvalidKey: `value` holds control characters or blanks (nothing is stored).
    """
    _check(service)
    if value:
        value = validate_key(service, value, "the Settings field")
    if not keyring_available():
        raise KeyringUnavailable(NO_KEYRING_HELP)
    try:
        if value:
            keyring.set_password(KEYRING_SERVICE, service, value)
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, service)
            except PasswordDeleteError:
                pass
    except KeyringError as exc:
        raise KeyringUnavailable(f"{NO_KEYRING_HELP} ({exc})") from exc
