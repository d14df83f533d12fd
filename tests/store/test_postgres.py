"""The store on PostgreSQL by URL (issue 16 items 1 and 5): opening, migrating, refusing, locking, and the
SQL that differs between the two databases, on a real server (tests/helpers/pg.py)."""

from __future__ import annotations

import subprocess
import sys
import threading

import psycopg
import pytest

from desktop import paths
from desktop.store import db as store_db
from desktop.store import postgres, views
from desktop.store.tables import ConversationRow, ScanRunRow, database
from tests.helpers import pg
from tests.helpers.registration import add_shipment


@pytest.fixture
def url():
    target = pg.fresh_database_url()
    yield target
    pg.drop_database(target)


def _server_only(url: str) -> str:
    """The URL of a database that cannot exist (for error messages)."""
    return url.rsplit("/", 1)[0] + "/shipscan_no_such_db"


def test_a_url_opens_postgresql_with_the_same_schema_and_version(url):
    database_ = store_db.open_database(url)
    try:
        assert isinstance(database_, postgres.PostgresDatabase)
        assert store_db._version(database_) == len(store_db.MIGRATIONS)
        assert {"scan_run", "conversation", "shipment", "registration", "registration_attempt",
                "app_meta"} <= set(database_.get_tables())
        assert store_db.migrate(database_) == []        # up to date: nothing runs twice
        # Epoch seconds keep their fractions (peewee's REAL would round them to 128 s at this size).
        ScanRunRow.create(since=1_800_000_000.25, until=1_800_000_001.5, batch_size=1, concurrent_batches=1,
                          extractor="rules", started_at=1_800_000_000.125)
        assert ScanRunRow.get().started_at == 1_800_000_000.125
    finally:
        store_db.close_database(database_)
    reopened = store_db.open_database(url)
    assert ScanRunRow.select().count() == 1
    assert store_db.app_versions(reopened)["created_by"]
    store_db.close_database(reopened)


def test_a_newer_database_is_refused_and_left_alone(url):
    store_db.close_database(store_db.open_database(url))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"UPDATE {store_db.PG_VERSION_TABLE} SET version = 99")
        conn.execute("UPDATE app_meta SET value = '9.9.9' WHERE key = 'last_opened_by'")
    with pytest.raises(store_db.DatabaseTooNew) as caught:
        store_db.open_database(url)
    assert "99" in str(caught.value) and "9.9.9" in str(caught.value)
    with psycopg.connect(url) as conn:   # nothing was written: still 99, still 9.9.9
        assert conn.execute(f"SELECT version FROM {store_db.PG_VERSION_TABLE}").fetchone()[0] == 99
        assert conn.execute("SELECT value FROM app_meta WHERE key = 'last_opened_by'").fetchone()[0] == "9.9.9"


def test_a_missing_database_is_one_line_naming_it_without_the_password(url):
    target = postgres.with_password(_server_only(url), "hunter2-secret")
    with pytest.raises(store_db.DatabaseUnusable) as caught:
        store_db.open_database(target)
    message = str(caught.value)
    assert "shipscan_no_such_db" in message and "does not exist" in message
    assert "hunter2" not in message and "\n" not in message and caught.value.path is None


def test_an_unreachable_server_is_one_line_naming_host_and_port_without_the_password():
    with socket_closed_port() as port:
        target = f"postgresql://alice:s3cret-pw@127.0.0.1:{port}/team"
        with pytest.raises(store_db.DatabaseUnusable) as caught:
            store_db.open_database(target)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "not reachable" in message and "team" in message
    assert "s3cret" not in message and "\n" not in message


class socket_closed_port:
    """A loopback port nobody listens on (bound, never listening, for the test's duration)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def test_immediate_transactions_take_one_store_wide_lock(url):
    """atomic("IMMEDIATE") on PostgreSQL holds the advisory lock until COMMIT: another session cannot take
    it meanwhile (so two desktops' write transactions run one after the other, as on one SQLite file)."""
    database_ = store_db.open_database(url)
    probe = psycopg.connect(url, autocommit=True)
    try:
        def other_may_lock() -> bool:
            with probe.transaction():
                return probe.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                     (postgres.ADVISORY_LOCK_KEY,)).fetchone()[0]

        with database.atomic("IMMEDIATE"):
            ConversationRow.create(id="cnv_1")
            assert other_may_lock() is False
        assert other_may_lock() is True
        with database.atomic():                     # a plain transaction takes no lock
            assert other_may_lock() is True
    finally:
        probe.close()
        store_db.close_database(database_)


def test_a_writer_waits_for_the_other_desktops_transaction(url):
    """A second session's IMMEDIATE transaction waits until the first commits, then sees its row."""
    store_db.close_database(store_db.open_database(url))
    holder = psycopg.connect(url)
    holder.execute("BEGIN")
    holder.execute("SELECT pg_advisory_xact_lock(%s)", (postgres.ADVISORY_LOCK_KEY,))
    holder.execute("INSERT INTO conversation (id, subject, scan_state, attempts, tokens_in, truncated) "
                   "VALUES ('cnv_first', '', 'pending', 0, 0, FALSE)")
    seen: list = []
    entered = threading.Event()

    def writer() -> None:
        database_ = store_db.open_database(url)
        entered.set()
        with database.atomic("IMMEDIATE"):
            seen.append(ConversationRow.select().count())
        store_db.close_database(database_)

    thread = threading.Thread(target=writer)
    thread.start()
    entered.wait(30)
    while not seen and not _a_session_waits_for_a_lock(holder):   # no timing: wait for either outcome
        threading.Event().wait(0.05)
    assert seen == []          # it waits: the holder has not committed
    holder.commit()
    holder.close()
    thread.join(30)
    assert seen == [1]


def _a_session_waits_for_a_lock(conn) -> bool:
    with psycopg.connect(pg.server_url(), autocommit=True) as probe:
        return probe.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                             ).fetchone()[0] > 0


def test_placeholders_translate_outside_quotes_only():
    assert postgres.translate("SELECT ? WHERE a LIKE '50%?' AND b = ?") == \
        "SELECT %s WHERE a LIKE '50%%?' AND b = %s"
    assert postgres.translate("SELECT 1 FROM \"odd?\"") == "SELECT 1 FROM \"odd?\""   # no ?: untouched
    assert postgres.translate("SELECT %s") == "SELECT %s"                              # peewee's own


def test_search_ignores_case_on_both_databases(db_both):
    add_shipment("1ZABCDEF0000000001", order_number="PO-Acme-77")
    add_shipment("1ZABCDEF0000000002", order_number="po-other")
    assert len(views.shipment_ids(views.ShipmentFilter(text="acme"))) == 1
    assert len(views.shipment_ids(views.ShipmentFilter(text="PO-"))) == 2
    assert len(views.shipment_ids(views.ShipmentFilter(text="1zabcdef"))) == 2
    assert views.shipment_ids(views.ShipmentFilter(text='"')) != []      # only a quote: no filter
    assert views.carriers() == ["UPS"]


def test_dates_in_sql_agree_on_both_databases(db_both):
    """Days in transit: from the shipped date to today (UTC), computed by each database's own functions."""
    import datetime as dt

    sid = add_shipment("1ZABCDEF0000000003")
    shipped = (dt.datetime.now(dt.UTC) - dt.timedelta(days=6)).strftime("%Y-%m-%d")
    database.execute_sql("UPDATE shipment SET shipped_date = ? WHERE id = ?", [shipped, sid])
    assert views.shipment_rows([sid])[sid].days == 6
    database.execute_sql("UPDATE shipment SET shipped_date = 'soon' WHERE id = ?", [sid])
    assert views.shipment_rows([sid])[sid].days is None          # not a date: no figure, no error
    rows = views.shipment_ids(views.ShipmentFilter(), views.ShipmentSort("days", True))
    assert rows == [sid]


def test_urls_stay_urls_through_the_command_line_paths(monkeypatch):
    target = "postgresql://alice@db.example:5433/team"
    assert paths.resolve_db_path(target, demo=False) == target
    monkeypatch.setenv("SHIPSCAN_DB", target)
    assert paths.default_db_path() == target
    assert paths.resolve_db_path(None, demo=False) == target


def test_a_url_password_is_split_off_and_the_keyring_supplies_it(monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1
        store: dict = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    monkeypatch.delenv("PGPASSWORD", raising=False)
    try:
        bare, password = postgres.split_password("postgresql://alice:p%40ss@db.example/team")
        assert (bare, password) == ("postgresql://alice@db.example/team", "p@ss")
        assert postgres.keyring_name(bare) == "postgresql:alice@db.example:5432"
        monkeypatch.setattr("desktop.secrets.keyring_available", lambda: True)
        postgres.save_password(bare, password)
        assert postgres.password_for(bare) == "p@ss"
        monkeypatch.setenv("PGPASSWORD", "from-env")
        assert postgres.password_for(bare) is None          # libpq reads PGPASSWORD itself
        assert postgres.password_for("postgresql://alice:own@db.example/team") == "own"
    finally:
        keyring.set_keyring(previous)


def test_the_command_line_works_on_a_url(url):
    """`shipscan queue --json --db URL` opens, migrates and answers from the server."""
    done = subprocess.run([sys.executable, "-m", "desktop", "queue", "--json", "--db", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute(f"SELECT version FROM {store_db.PG_VERSION_TABLE}").fetchone()[0] == \
            len(store_db.MIGRATIONS)


@pytest.mark.parametrize(("server_says", "we_say"), [
    ('connection to server at "10.0.0.1", port 5433 failed: FATAL:  password authentication failed for user '
     '"alice" (Sup3rSecret)', "refused the password for alice"),
    ('connection to server at "10.0.0.1", port 5433 failed: fe_sendauth: no password supplied',
     "wants a password for alice and none was found"),
    ('connection to server at "10.0.0.1", port 5433 failed: FATAL:  role "alice" does not exist',
     'no user (role) "alice"'),
])
def test_refusals_are_one_line_without_the_password(server_says, we_say):
    cause = postgres.describe_failure(Exception(server_says), "postgresql://alice:Sup3rSecret@db.example:5433/team")
    assert we_say in cause and "Sup3rSecret" not in cause and "\n" not in cause
