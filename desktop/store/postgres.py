"""PostgreSQL for the store: database URLs, where their password comes from, and the database class.

A database target is a plain path (SQLite) or a URL `postgresql://user@host:port/dbname` (also
`postgres://`; libpq's query parameters such as `?sslmode=require` pass through). Contracts:

- The password: the URL's own (typed on the command line or in `SHIPSCAN_DB`), else `PGPASSWORD`, else
  the OS keyring (service "shipscan", name `keyring_name(url)`), else libpq's `PGPASSFILE`/`~/.pgpass`.
  It is never written to a settings file (`split_password` + `save_password` keep it in the keyring) and
  never shown: `redact_url` drops it, `describe_failure` words errors without it, and it is registered
  with the log's redactor the moment it is read.
- `PostgresDatabase` runs the store's SQL unchanged: `?` placeholders become psycopg's `%s`, epoch
  timestamps are DOUBLE PRECISION (peewee's default REAL would round them to minutes), and
  `atomic("IMMEDIATE")` (or "EXCLUSIVE") takes one transaction-scoped advisory lock first, so write
  transactions serialise across every desktop exactly as SQLite's IMMEDIATE does on one file. A lock
  waits at most `LOCK_TIMEOUT_MS` (SQLite's busy_timeout), then fails.
- Sessions run in UTC, so dates computed in SQL (`store.dialect`) match SQLite's.
No Qt here.
"""

from __future__ import annotations

import functools
import getpass
import os
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import peewee
from peewee import PostgresqlDatabase

URL_SCHEMES = ("postgresql://", "postgres://")
KEYRING_SERVICE = "shipscan"
#: The advisory lock that stands for SQLite's database-wide write lock ("SHIPSCAN" in ASCII).
ADVISORY_LOCK_KEY = 0x5348495053434E
LOCK_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 10
DEFAULT_PORT = 5432


def is_url(target: object) -> bool:
    """True when `target` names a PostgreSQL database (a URL), False for a file path."""
    return isinstance(target, str) and target.lower().startswith(URL_SCHEMES)


def _parts(url: str):
    return urlsplit(url)


def redact_url(url: str) -> str:
    """`url` without its password (the user, host, port, database and options stay)."""
    parts = _parts(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}"))


def split_password(url: str) -> tuple[str, str | None]:
    """(the URL without its password, the password or None): what Settings saves, and what it keeps in
    the keyring."""
    password = _parts(url).password
    return redact_url(url), (unquote(password) if password is not None else None)


def _who(url: str) -> tuple[str, str, int, str]:
    """(user, host, port, database) with libpq's defaults filled in."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    user = info.get("user") or os.environ.get("PGUSER") or getpass.getuser()
    host = info.get("host") or os.environ.get("PGHOST") or "localhost"
    port = int(info.get("port") or os.environ.get("PGPORT") or DEFAULT_PORT)
    return str(user), str(host), port, str(info.get("dbname") or os.environ.get("PGDATABASE") or user)


def keyring_name(url: str) -> str:
    """The keyring entry of this server's password: `postgresql:<user>@<host>:<port>`."""
    user, host, port, _db = _who(url)
    return f"postgresql:{user}@{host}:{port}"


def where(url: str) -> str:
    """The server and database in words, for messages: `database "x" on host:port as user`."""
    user, host, port, dbname = _who(url)
    return f'database "{dbname}" on {host}:{port} as {user}'


def password_for(url: str) -> str | None:
    """The password to send, or None to let libpq find it (PGPASSWORD, PGPASSFILE, ~/.pgpass)."""
    own = _parts(url).password
    if own is not None:
        return unquote(own)
    if os.environ.get("PGPASSWORD"):
        return None
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, keyring_name(url)) or None
    except Exception:  # no usable keyring backend: libpq's own sources remain
        return None


def save_password(url: str, password: str | None) -> None:
    """Keep (or with None/"", forget) the server's password in the OS keyring.

    Raises:
        desktop.secrets.KeyringUnavailable: this machine has no keyring that can store it.
    """
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    from desktop.secrets import NO_KEYRING_HELP, KeyringUnavailable, keyring_available

    if not keyring_available():
        raise KeyringUnavailable(NO_KEYRING_HELP)
    try:
        if password:
            keyring.set_password(KEYRING_SERVICE, keyring_name(url), password)
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, keyring_name(url))
            except PasswordDeleteError:
                pass
    except KeyringError as exc:
        raise KeyringUnavailable(f"{NO_KEYRING_HELP} ({exc})") from exc


def with_password(url: str, password: str) -> str:
    """`url` carrying `password` (for a caller that must hand one string on; never log the result)."""
    parts = _parts(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = quote(parts.username or "", safe="")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """The store's `?` placeholders as psycopg's `%s` (and a literal `%` as `%%`); quoted text and
    identifiers are left alone. SQL without a `?` outside quotes is returned unchanged (peewee's own)."""
    out: list[str] = []
    quote_char = ""
    found = False
    for char in sql:
        if quote_char:
            if char == quote_char:
                quote_char = ""
        elif char in ("'", '"'):
            quote_char = char
        elif char == "?":
            out.append("%s")
            found = True
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out) if found else sql


class PostgresDatabase(PostgresqlDatabase):
    """peewee's PostgreSQL database, speaking the store's SQLite-flavoured conventions (module docstring)."""

    field_types = {**PostgresqlDatabase.field_types, "FLOAT": "DOUBLE PRECISION"}
    dialect = "postgresql"

    def _connect(self):
        conn = super()._connect()
        # Why: dates the store computes in SQL are UTC on SQLite; and a lock waits like busy_timeout.
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute(f"SET lock_timeout = {int(LOCK_TIMEOUT_MS)}")
        return conn

    def begin(self, lock_type: str | None = None):  # type: ignore[override]
        """BEGIN; for "IMMEDIATE"/"EXCLUSIVE" also the store-wide write lock (released at COMMIT/ROLLBACK)."""
        super().begin()
        if lock_type and lock_type.upper() in ("IMMEDIATE", "EXCLUSIVE"):
            self.cursor().execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))

    def execute_sql(self, sql, params=None):
        return super().execute_sql(translate(sql), params)

    def _execute_cursor(self, sql, params, **cursor_options):
        if params:
            return super()._execute_cursor(sql, params, **cursor_options)
        # Why: given even an empty tuple, psycopg parses the text for placeholders and a literal % fails.
        self._log_query(sql, params)
        with peewee.__exception_wrapper__:
            cursor = self.cursor(**cursor_options)
            cursor.execute(sql)
        return cursor


def connect_database(url: str) -> PostgresDatabase:
    """An unconnected `PostgresDatabase` for `url` (password as `password_for` finds it)."""
    from desktop import log

    password = password_for(url)
    # Masked in every log line from now on; also as the URL writes it, should the password be short.
    log.register_secrets(password, f":{quote(password, safe='')}@" if password else None)
    options: dict = {"prefer_psycopg3": True, "autoconnect": True}
    if password is not None:
        options["password"] = password
    if "connect_timeout" not in url:
        options["connect_timeout"] = CONNECT_TIMEOUT_S
    _user, _host, _port, dbname = _who(url)
    return PostgresDatabase(dbname, conninfo=_normalised(url), **options)


def _normalised(url: str) -> str:
    """libpq wants `postgresql://` or `postgres://` in lower case; both are accepted from people."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.lower()}://{rest}"


def describe_failure(exc: BaseException, url: str) -> str:
    """One line on why the server refused us, never the password (the caller names host and database)."""
    text = str(exc).strip()
    password = password_for(url)
    if password:
        text = text.replace(password, "***")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    low = text.lower()
    if "no password supplied" in low:
        return (f"the server wants a password for {_who(url)[0]} and none was found (give it in the URL, in "
                "Settings, which keeps it in the system keyring, in PGPASSWORD or in ~/.pgpass)")
    if "password authentication failed" in low:
        return (f"the server refused the password for {_who(url)[0]} (give it in the URL, in Settings, which keeps "
                "it in the system keyring, in PGPASSWORD or in ~/.pgpass)")
    if "does not exist" in low and "database" in low:
        return f'the database "{_who(url)[3]}" does not exist on the server (create it, e.g. `createdb`)'
    if "role" in low and "does not exist" in low:
        return f'the server has no user (role) "{_who(url)[0]}"'
    if any(word in low for word in ("connection refused", "could not connect", "timeout expired",
                                    "could not translate host name", "no route to host", "connection timed out",
                                    "name or service not known", "network is unreachable")):
        _user, host, port, _db = _who(url)
        return f"the server {host}:{port} is not reachable ({first.rsplit(':', 1)[-1].strip()})"
    return first
