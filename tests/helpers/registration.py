"""Shipments for registration tests: a real SQLite file with conversations, shipments and outbox rows
written the way the scan writes them (one transaction per shipment, `outbox.enqueue`)."""

from __future__ import annotations

import contextlib
import random
import string
from collections.abc import Iterator
from pathlib import Path

from peewee import SqliteDatabase

from desktop.store import outbox
from desktop.store.db import open_database
from desktop.store.tables import ConversationRow, ShipmentRow, database


def open_tmp_db(tmp_path: Path, name: str = "shipscan.sqlite3") -> SqliteDatabase:
    return open_database(tmp_path / name)


def add_shipment(number: str, *, courier: str = "ups", courier_code: str | None = "ups",
                 carrier: str | None = "UPS", review_state: str = "auto", conversation_id: str = "cnv_test",
                 postcode: str | None = None, country: str | None = None,
                 order_number: str | None = None) -> int:
    """Insert one shipment and its outbox row in one transaction; returns the shipment id."""
    with database.atomic("IMMEDIATE"):  # reads then writes: another thread (the store's) may write meanwhile
        ConversationRow.get_or_create(id=conversation_id, defaults={"subject": "Where is my parcel?"})
        ship = ShipmentRow.create(conversation=conversation_id, tracking_number=number, courier=courier,
                                  carrier=carrier, courier_code=courier_code, order_number=order_number,
                                  destination_postcode=postcode, destination_country=country,
                                  review_state=review_state, validated=review_state == "auto")
        outbox.enqueue(ship)
    return ship.id


def numbers(count: int, seed: int = 1) -> list[str]:
    """Distinct tracking-number-like strings the Ship24 simulator accepts (no dummy digit runs)."""
    rng = random.Random(seed)
    result: set[str] = set()
    while len(result) < count:
        body = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(12))
        result.add(f"SS{body}")
    return sorted(result)


# -- the Ship24 simulator ------------------------------------------------------------------------------------

SHIP24_KEY = "apik_demo_key"


@contextlib.contextmanager
def ship24_sim(**config: object) -> Iterator:
    """A Ship24 simulator alone on loopback (no latency); `config` sets Ship24SimConfig fields, and
    `faults=dict(...)` the fault switches. Yields the SimServer (`.url`, `.log`, `.config`, `.service`)."""
    from desktop.sim.config import SimConfig
    from desktop.sim.server import SimServer
    from desktop.sim.ship24 import Ship24Service

    cfg = SimConfig.for_tests().ship24
    for name, value in config.items():
        if name == "faults":
            for fault, rate in dict(value).items():  # type: ignore[call-overload]
                setattr(cfg.faults, fault, rate)
        else:
            setattr(cfg, name, value)
    server = SimServer(Ship24Service(cfg, seed=11)).start()
    try:
        yield server
    finally:
        server.stop()


# -- the command line -------------------------------------------------------------------------------------

CLI_SNIPPET = """
import argparse, importlib, sys
try:
    from desktop import cli
    for name in cli.COMMAND_MODULES:
        importlib.import_module(f"desktop.commands.{name}")
    main = cli.main
except ImportError:  # another command module is not written yet: parse with ours alone
    from desktop.cli import common_options
    from desktop.commands import registration

    def main(argv=None):
        parser = argparse.ArgumentParser(prog="shipscan", parents=[common_options(False)])
        registration.register(parser.add_subparsers(), common_options(True))
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
"""


def shipscan(argv: list[str]) -> int:
    """Run `shipscan ARGV` in this process; returns the exit code."""
    scope: dict = {}
    exec(CLI_SNIPPET, scope)  # noqa: S102 - fixed text above
    return scope["main"](argv)


def shipscan_command(argv: list[str]) -> list[str]:
    """argv for a subprocess running `shipscan ARGV` with this interpreter."""
    import sys

    return [sys.executable, "-c", CLI_SNIPPET + "\nsys.exit(main(sys.argv[1:]))", *argv]
