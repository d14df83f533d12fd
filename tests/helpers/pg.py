"""A PostgreSQL server for the tests, and a fresh empty database on it per test.

    url = fresh_database_url()   # postgresql://shipscan@127.0.0.1:PORT/shipscan_t_<n>

Which server:
- `$SHIPSCAN_TEST_PG` (a URL of a role that may CREATE DATABASE; `.ci/run` sets it), else
- a private server started once for the test session: `initdb` on a temporary folder and `postgres` on a
  free 127.0.0.1 port (trust authentication on loopback only), run as an unprivileged user when we are
  root (postgres refuses root: the `postgres` account, else `nobody`), stopped and deleted at exit (or,
  should the test process be killed, by a small watchdog process within a few seconds).

No server at all (no PostgreSQL binaries, or it would not start): the test is skipped, except with
`SHIPSCAN_TEST_PG_REQUIRED=1` (set by `.ci/run`), where it fails, so CI never passes by skipping.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ENV_URL = "SHIPSCAN_TEST_PG"
ENV_REQUIRED = "SHIPSCAN_TEST_PG_REQUIRED"
ROLE = "shipscan"
_counter = itertools.count(1)
_state: dict = {}


def required() -> bool:
    return os.environ.get(ENV_REQUIRED, "") not in ("", "0")


def _unavailable(why: str):
    """Skip the test (or fail it where PostgreSQL is required)."""
    if required():
        pytest.fail(f"PostgreSQL is required ({ENV_REQUIRED}=1) but {why}")
    pytest.skip(f"no PostgreSQL server: {why}")


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian's layout, else `initdb` on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as() -> str | None:
    """The unprivileged account the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


#: argv: test process pid, postgres pid, data folder. Polls once a second; stops postgres when the test
#: process is gone, then deletes the folder.
_WATCHDOG = """
import os, shutil, signal, sys, time
parent, server, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
while alive(parent) and alive(server):
    time.sleep(1)
if alive(server):
    os.kill(server, signal.SIGINT)
    for _ in range(30):
        if not alive(server):
            break
        time.sleep(1)
shutil.rmtree(folder, ignore_errors=True)
"""


class PrivateServer:
    """A throw-away PostgreSQL server on a temporary data folder (see the module docstring)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = _run_as()
        self.folder = Path(tempfile.mkdtemp(prefix="shipscan-pg-"))
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        data = self.folder / "data"
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.folder.chmod(0o700)
        log = self.folder / "server.log"
        subprocess.run([str(self.bindir / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "--no-sync",
                        "-E", "UTF8", "--locale=C"], user=self.user, check=True, capture_output=True,
                       cwd=self.folder)
        # fsync off: a test server's data is thrown away, and it makes every commit cheaper.
        args = [str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.folder),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=200"]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(args, user=self.user, stdout=out, stderr=subprocess.STDOUT,
                                            cwd=self.folder, start_new_session=True)
        self._wait_ready(log)
        # Should this process die without running atexit (SIGKILL, a CI timeout), a watchdog stops the server.
        subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.process.pid),
                          str(self.folder)], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _wait_ready(self, log: Path) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {log.read_text(errors='replace')[-800:]}")
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("postgres did not accept connections within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends open sessions
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def server_url() -> str:
    """URL of the session's server (a role that may create databases); skips or fails without one."""
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL]
    if "url" in _state:
        return _state["url"]
    if "error" in _state:
        _unavailable(_state["error"])
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _state["error"] = "psycopg is not installed"
        _unavailable(_state["error"])
    bindir = bin_dir()
    if bindir is None:
        _state["error"] = "no PostgreSQL server binaries (initdb) on this machine"
        _unavailable(_state["error"])
    server = PrivateServer(bindir)
    try:
        server.start()
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        server.stop()
        _state["error"] = f"a private server would not start: {exc} {detail.decode(errors='replace')[-300:]}"
        _unavailable(_state["error"])
    atexit.register(server.stop)
    _state["server"], _state["url"] = server, server.url
    return server.url


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def fresh_database_url() -> str:
    """A new, empty database on the test server (`drop_database(url)` removes it)."""
    name = f"shipscan_t_{os.getpid()}_{next(_counter)}"
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    _admin(f'CREATE DATABASE "{name}"')
    return _with_database(server_url(), name)


def drop_database(url: str) -> None:
    """Remove a database made by `fresh_database_url` (best effort; its sessions are ended first)."""
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    try:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # a test server gone already: nothing left to drop
        pass


def assert_kind(database, target) -> None:
    """`database` is what `target` names: PostgreSQL for a URL, SQLite for a path (code that took a URL
    for a file name would otherwise pass every test on a SQLite file called "postgresql:")."""
    wants_postgres = isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))
    assert ("Postgres" in type(database).__name__) == wants_postgres, (type(database).__name__, target)
