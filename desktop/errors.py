"""The root of Shipscan's own exceptions.

    ShipscanError
     ├── ExpectedError            the environment's fault (network, bad input, full disk): shown, not a crash
     │    ├── ExtractionFailed     a conversation could not be extracted; `reason` says why
     │    └── ConfigurationError   a key or setting is missing or wrong; the message names it
     └── (anything else)          a bug: reaches the crash handler

API clients raise `desktop.clients.errors.ApiError` (an ExpectedError).
"""

from __future__ import annotations


class ShipscanError(Exception):
    """Base of every exception Shipscan raises on purpose."""


class ExpectedError(ShipscanError):
    """A failure caused by the outside world; callers record it on the item and tell the user."""


class ExtractionFailed(ExpectedError):
    """Extraction of one conversation failed after retries. Never recorded as "no shipments"."""

    def __init__(self, reason: str, *, tokens_in: int = 0, llm_calls: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tokens_in = tokens_in
        self.llm_calls = llm_calls


class ConfigurationError(ExpectedError):
    """Something the user must configure is missing or invalid (the message names it)."""
