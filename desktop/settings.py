"""User settings (no secrets): endpoints, model, budgets, registration policy and scan defaults.

Stored as JSON in the user config directory. Environment variables `FRONT_API_URL`, `OPENAI_BASE_URL`
and `SHIP24_API_URL` override the stored endpoints. Keys live in `desktop.secrets`, never here.

An endpoint that only holds for this process (from an environment variable, or the demo's simulators on
127.0.0.1) is listed in `Settings.endpoint_overrides` with where it came from. `save` never writes such
an endpoint: the file keeps what it held (issue 11 item 2: the demo's temporary URLs broke the next
real scan).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from desktop import __version__, paths

FRONT_DEFAULT_URL = "https://api2.frontapp.com"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
SHIP24_DEFAULT_URL = "https://api.ship24.com"

ENDPOINT_ENV = {"front_url": "FRONT_API_URL", "openai_url": "OPENAI_BASE_URL", "ship24_url": "SHIP24_API_URL"}
#: Fields that live only in the running process: never read from nor written to the file.
RUNTIME_FIELDS = ("endpoint_overrides",)


@dataclass(frozen=True)
class Settings:
    """Everything the user can set except keys. Immutable: change with `dataclasses.replace`."""

    front_url: str = FRONT_DEFAULT_URL
    openai_url: str = OPENAI_DEFAULT_URL
    ship24_url: str = SHIP24_DEFAULT_URL
    #: gpt-5.4-mini: a small reasoning model OpenAI serves for Structured Outputs (ModelIdsShared in its
    #: OpenAPI document, no shutdown announced); gpt-4.1-mini and gpt-4o-mini shut down on 2027-01-14.
    model: str = "gpt-5.4-mini"
    #: Share of the company's Front budget this app may use (the rest is for other integrations).
    front_budget_share: float = 0.8
    #: When True, every shipment waits for a person to approve it before it is registered.
    approve_all_by_hand: bool = False
    batch_size: int = 50
    concurrent_batches: int = 3
    extractor: str = "llm"
    #: Skip the LLM for conversations where the engine finds no plausible candidate at all.
    llm_prefilter: bool = True
    #: Per-conversation token budget for the text sent to the LLM.
    llm_token_budget: int = 6000
    #: Minutes between automatic tracking-status refreshes while the app runs (0 = never).
    status_refresh_minutes: int = 60
    #: Whether the status refresh runs by itself every `status_refresh_minutes` (F5 works either way).
    status_refresh_auto: bool = True
    #: A scan "since last scan" at `morning_scan_at` (local "HH:MM") each day while the app runs
    #: (desktop.gui.morningscan: at most once a day; a time missed while the app was closed is not caught up).
    morning_scan: bool = False
    morning_scan_at: str = "08:00"
    #: Most shipments one scan may register without a person (each costs a Ship24 tracker); beyond it
    #: they wait for review, saying why (desktop.core.policy). 0 = every shipment waits.
    auto_register_per_scan: int = 100
    #: The same over any 24 hours, across scans and processes.
    auto_register_per_day: int = 300
    #: Your name, recorded on the scans you start and the reviews you do (team mode, issue 16); "" = the OS
    #: user name (`desktop.store.actor`).
    user_name: str = ""
    #: The database: "" = `$SHIPSCAN_DB` or the file in the user data directory; else a SQLite file's path or
    #: a PostgreSQL URL shared by a team (`postgresql://user@host:port/db`). Never holds a password: the
    #: dialog moves one into the keyring, and `save` drops one (`desktop.paths.default_db_path` reads it).
    database: str = ""
    #: (endpoint field, where its value comes from) for endpoints that hold only while this process runs,
    #: e.g. ("front_url", "FRONT_API_URL"); `save` keeps the stored value of these. Not part of equality.
    endpoint_overrides: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def overridden(self, name: str) -> str | None:
        """Where the endpoint field `name` comes from when it is not the stored one; None when it is."""
        return dict(self.endpoint_overrides).get(name)

    def with_runtime_endpoints(self, source: str, **urls: str) -> Settings:
        """These settings with endpoints that hold for this process only (e.g. the demo's simulators)."""
        marked = dict(self.endpoint_overrides) | dict.fromkeys(urls, source)
        return replace(self, **urls, endpoint_overrides=tuple(marked.items()))

    def with_env(self) -> Settings:
        """These settings with endpoint environment variables applied on top.

        Raises:
            ConfigurationError: an endpoint is not a usable http(s) URL (names the variable and the URL).
        """
        overrides = {name: os.environ[env] for name, env in ENDPOINT_ENV.items() if os.environ.get(env)}
        for name, url in overrides.items():
            check_url(url, ENDPOINT_ENV[name])
        for name in ENDPOINT_ENV:
            if name not in overrides:
                check_url(getattr(self, name), f"the {name.removesuffix('_url')} endpoint in Settings")
        marked = self
        for name, url in overrides.items():
            marked = marked.with_runtime_endpoints(ENDPOINT_ENV[name], **{name: url})
        return marked


def check_url(url: str, where: str) -> str:
    """`url` when it is an http(s) URL with a host and a valid port; else ConfigurationError naming `where`."""
    from desktop.errors import ConfigurationError

    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ConfigurationError(f"{where} is not a valid URL ({exc}): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{where} must be an http:// or https:// URL with a host: {url!r}")
    return url


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


def load(path: Path | None = None) -> Settings:
    """Settings from `path` (default: the user config file); unknown or invalid fields are ignored."""
    path = path or settings_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    known = {f.name: f.type for f in fields(Settings) if f.name not in RUNTIME_FIELDS}
    clean = {k: v for k, v in raw.items() if k in known} if isinstance(raw, dict) else {}
    try:
        return Settings(**clean)
    except TypeError:
        return Settings()


def save(settings: Settings, path: Path | None = None) -> None:
    """Write `settings` to `path` (default: the user config file), atomically.

    Endpoints listed in `settings.endpoint_overrides` are not written: the file keeps the value it held
    (or the default), so an environment variable or the demo never replaces the user's real endpoint.
    """
    path = path or settings_path()
    data = asdict(settings)
    for name in RUNTIME_FIELDS:
        data.pop(name, None)
    if settings.endpoint_overrides:
        stored = load(path)
        for name, _source in settings.endpoint_overrides:
            data[name] = getattr(stored, name)
    data["database"] = without_password(str(data.get("database") or ""))
    tmp = path.with_suffix(".tmp")
    data["saved_by"] = __version__  # which shipscan wrote the file (load ignores it)
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)


def without_password(target: str) -> str:
    """A database URL with its password removed (a path, or a URL without one, is returned as it is)."""
    if not paths.is_database_url(target):
        return target
    parts = urllib.parse.urlsplit(target)
    if parts.password is None:
        return target
    user, _sep, host = parts.netloc.rpartition("@")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}@{host}"))
