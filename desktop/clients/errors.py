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

`ApiError.temporary` says whether retrying the same request later may succeed; `ApiError.permanent` says
that no other request to the service can succeed either (a refused key, an account out of quota): callers
stop at the first such answer and raise `ServiceRefused`, one line naming the service.
"""

from __future__ import annotations

from desktop.errors import ExpectedError


class ApiError(ExpectedError):
    """A failure talking to `service` ("front", "openai", "ship24")."""

    temporary = False
    #: True when every request to this service would fail the same way (see the module docstring).
    permanent = False

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

    permanent = True


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


#: How users know the services.
SERVICE_NAMES = {"front": "Front", "openai": "OpenAI", "ship24": "Ship24"}


class ServiceRefused(ExpectedError):
    """A service refused us as a whole (`cause.permanent`): the scan or refresh stops at the first one.

    The message is one line, e.g. "OpenAI refused the key (HTTP 401): Incorrect API key provided: ...".
    """

    def __init__(self, cause: ApiError) -> None:
        super().__init__(_refusal_text(cause))
        self.cause = cause
        self.service = cause.service


def _refusal_text(cause: ApiError) -> str:
    name = SERVICE_NAMES.get(cause.service, cause.service)
    if not isinstance(cause, ApiStatusError):
        return f"{name} refused the request: {cause.message}"
    what = "the key" if isinstance(cause, AuthError) else "the request"
    code = f" {cause.code}" if cause.code and not isinstance(cause, AuthError) else ""
    return f"{name} refused {what} (HTTP {cause.status}{code}): {cause.detail}"
