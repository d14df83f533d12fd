"""The error family shared by the Front, OpenAI and Ship24 clients.

    ApiError(ExpectedError)          any failure talking to a service; `.service` names it
     ├── ApiConnectionError          connect failure, reset, DNS
     ├── ApiTimeout                  no answer within the client's timeout
     ├── MalformedResponse           an answer we cannot parse (bad JSON, missing fields)
     └── ApiStatusError              an HTTP error status; `.status`, `.code`, `.message`
          ├── AuthError              401/403 or Ship24's auth_* codes: the key is wrong
          ├── NotFound               404
          ├── RateLimited            429; `.retry_after` seconds (>= the client's floor)
          └── ServerError            5xx

`ApiError.temporary` says whether retrying the same request later may succeed.
"""

from __future__ import annotations

from desktop.errors import ExpectedError


class ApiError(ExpectedError):
    """A failure talking to `service` ("front", "openai", "ship24")."""

    temporary = False

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message


class ApiConnectionError(ApiError):
    """The connection failed or was reset before an answer arrived."""

    temporary = True


class ApiTimeout(ApiError):
    """The service did not answer within the timeout."""

    temporary = True


class MalformedResponse(ApiError):
    """The service answered with something we cannot parse."""

    temporary = True


class ApiStatusError(ApiError):
    """The service answered with an HTTP error status."""

    def __init__(self, service: str, status: int, message: str, code: str | None = None) -> None:
        super().__init__(service, f"HTTP {status}{f' {code}' if code else ''}: {message}")
        self.status = status
        self.code = code
        self.detail = message

    @property
    def temporary(self) -> bool:  # type: ignore[override]
        return self.status in (408, 409, 425, 429) or self.status >= 500


class AuthError(ApiStatusError):
    """The key was refused (401/403, or Ship24's auth_* codes)."""


class NotFound(ApiStatusError):
    """The resource does not exist (404)."""


class RateLimited(ApiStatusError):
    """429: wait `retry_after` seconds before the next request to this limit."""

    def __init__(self, service: str, message: str, retry_after: float, code: str | None = None,
                 tier: str | None = None) -> None:
        super().__init__(service, 429, message, code)
        self.retry_after = retry_after
        self.tier = tier


class ServerError(ApiStatusError):
    """5xx from the service."""
