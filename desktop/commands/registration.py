"""`shipscan queue`, `shipscan retry` and `shipscan status`: the registration queue from the command line.

- `queue [--json] [--all] [--release CNV | --reject CNV]`: what waits for Ship24 and why (no network). A
  conversation with more numbers than a plausible order is ONE held group (`desktop.store.holds`): one line
  here, one entry of `held_groups` in --json (its rows stay in `items`, each naming its `held_group`);
  `--release`/`--reject` act on such a group as a whole (release approves and queues it).
- `retry (--all | ID...) [--json]`: queue the given shipments (or every failed/waiting/paused one) for an
  attempt right now, lifting a quota pause, drain what is due, and report each shipment's outcome.
  Exit 0 when every retried shipment is registered, 1 when some still wait, 2 on a usage/config error.
- `status [--refresh] [--json] [ID...]`: tracking status of registered shipments; `--refresh` asks Ship24 first.

Clients come from `desktop.services.open_services` when available (it honours --demo and --db); otherwise
the Ship24 client is built from `Settings().with_env()` and the key from `desktop.secrets`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from desktop.errors import ConfigurationError

# The store, the Ship24 client (httpx), the keyring and asyncio are imported by the functions that run a
# command: registering the parsers must stay cheap for every other command (`shipscan extract` included).
if TYPE_CHECKING:
    from desktop import settings as settings_mod
    from desktop.clients.ship24 import Ship24Client
    from desktop.store import outbox

#: SQLite integers are 64-bit: a larger id can name no shipment, and would overflow the query.
MAX_ID = 2**63 - 1


def shipment_id(text: str) -> int:
    """An argparse type: a shipment id (1 .. 2**63-1), else a usage error naming it."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a shipment id: {text!r}") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"not a shipment id (1 to {MAX_ID}): {text}")
    return value


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    queue = subparsers.add_parser("queue", parents=[common], help="list what waits for Ship24 and why",
                                  description="List shipments whose Ship24 registration waits, and why.")
    queue.add_argument("--json", action="store_true", help="print JSON")
    queue.add_argument("--all", action="store_true", help="include registered and dismissed shipments")
    held = queue.add_mutually_exclusive_group()
    held.add_argument("--release", metavar="CONVERSATION",
                      help="release a held conversation: approve and queue all its held shipments")
    held.add_argument("--reject", metavar="CONVERSATION",
                      help="reject a held conversation: none of its held shipments is ever registered")
    queue.set_defaults(func=run, command="queue")

    retry = subparsers.add_parser("retry", parents=[common], help="retry Ship24 registration now",
                                  description="Retry registration now, whatever the backoff said, and "
                                              "report each outcome. Exit 1 when some still wait.")
    retry.add_argument("ids", nargs="*", type=shipment_id, metavar="ID", help="shipment ids")
    retry.add_argument("--all", action="store_true", help="every failed, waiting or paused shipment")
    retry.add_argument("--json", action="store_true", help="print JSON")
    retry.set_defaults(func=run, command="retry")

    status = subparsers.add_parser("status", parents=[common], help="tracking status of registered shipments",
                                   description="Show (and with --refresh, fetch from Ship24) tracking status.")
    status.add_argument("ids", nargs="*", type=shipment_id, metavar="ID", help="shipment ids (default: all)")
    status.add_argument("--refresh", action="store_true", help="ask Ship24 for the latest status first")
    status.add_argument("--all", action="store_true", help="with --refresh: include delivered ones")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=run, command="status")


def run(args: argparse.Namespace) -> int:
    import asyncio

    try:
        if args.command == "queue":
            return _run_queue(args)
        if args.command == "retry":
            if not args.all and not args.ids:
                print("shipscan retry: give shipment IDs or --all", file=sys.stderr)
                return 2
            return asyncio.run(_run_retry(args))
        return asyncio.run(_run_status(args))
    except ConfigurationError as exc:
        print(f"shipscan {args.command}: {exc}", file=sys.stderr)
        return 2


# -- queue -------------------------------------------------------------------------------------------------


def _open_db(args: argparse.Namespace) -> None:
    from desktop import paths
    from desktop.store.db import open_database

    open_database(paths.resolve_db_path(getattr(args, "db", None), bool(getattr(args, "demo", False))))


def _run_queue(args: argparse.Namespace) -> int:
    from desktop.store import history_views, holds, outbox

    _open_db(args)
    if getattr(args, "release", None) or getattr(args, "reject", None):
        return _act_on_group(args)
    items = outbox.queue_items(include_done=args.all)
    groups = holds.held_groups()
    group_of = {sid: g.conversation_id for g in groups for sid in g.shipment_ids}
    reviewed = history_views.last_reviews([item.shipment_id for item in items])  # who did what last (issue 16)
    report = {"paused": outbox.is_paused(), "pause_reason": outbox.pause_reason(), "counts": outbox.counts(),
              "items": [{**item.to_json(), "held_group": group_of.get(item.shipment_id),
                         "last_review": r.to_json() if (r := reviewed.get(item.shipment_id)) else None}
                        for item in items],
              "held_groups": [g.to_json() for g in groups]}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if report["paused"]:
        print(f"Registration is PAUSED: {report['pause_reason']}\n")
    counts = ", ".join(f"{n} {state}" for state, n in report["counts"].items() if n)
    print(f"Outbox: {counts or 'empty'}")
    for held in groups:   # one line per held conversation, not one per number in it
        print(f"  HELD    {held.count:>6,} shipments      {held.reason}")
        print(f"          release or reject it: shipscan queue --release {held.conversation_id} "
              f"(or --reject)")
    for item in items:
        if item.shipment_id not in group_of:
            print(f"  #{item.shipment_id:<6} {item.tracking_number:<26} {item.state:<17} {item.reason}")
    if not items:
        print("Nothing waits.")
    return 0


def _act_on_group(args: argparse.Namespace) -> int:
    """`queue --release CNV` / `--reject CNV`: act on a held group whole; 1 when there is no such group."""
    from desktop.store import actor, holds

    conversation = args.release or args.reject
    held = holds.group(conversation)
    if held is None:
        print(f"shipscan queue: no held group for conversation {conversation}", file=sys.stderr)
        return 1
    act, verb = (holds.release, "released: queued for registration") if args.release else \
        (holds.reject, "rejected: never registered")
    done = act(held.conversation_id, held.shipment_ids)
    if args.json:
        print(json.dumps({"conversation_id": held.conversation_id, "action": "release" if args.release
                          else "reject", "shipment_ids": done, "by": actor.current()}, indent=2))
    else:
        print(f"Conversation {held.label}: {len(done):,} shipments {verb}.")
    return 0


# -- clients -----------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _ship24(args: argparse.Namespace) -> AsyncIterator[tuple[Ship24Client, settings_mod.Settings]]:
    """The Ship24 client and settings, with the database open."""
    try:
        from desktop.services import open_services
    except ImportError:
        open_services = None
    if open_services is not None:
        async with open_services(args, require=("ship24",)) as svc:
            if svc.ship24 is None:
                raise ConfigurationError("the Ship24 client is not available")
            yield svc.ship24, svc.settings
        return
    if getattr(args, "demo", False):
        raise ConfigurationError("--demo needs desktop.services, which is not installed")
    from desktop import secrets
    from desktop import settings as settings_mod
    from desktop.clients.ship24 import Ship24Client

    current = settings_mod.load().with_env()
    key = secrets.get_key("ship24")
    if not key:
        raise ConfigurationError(f"no Ship24 API key: set {secrets.ENV_VARS['ship24']} or save it in Settings")
    _open_db(args)
    client = Ship24Client(current.ship24_url, key)
    try:
        yield client, current
    finally:
        await client.aclose()


# -- retry -------------------------------------------------------------------------------------------------


async def _run_retry(args: argparse.Namespace) -> int:
    from desktop.core.registration import RegistrationWorker
    from desktop.store import outbox

    async with _ship24(args) as (client, current):
        worker = RegistrationWorker(client, approve_all_by_hand=current.approve_all_by_hand)
        # An explicit retry may take over rows another (maybe dead) process holds: re-sending the frozen
        # payload is free thanks to Ship24's idempotent create.
        ids = worker.retry_now(None if args.all else args.ids, break_leases=True)
        # Only what was asked for: `retry 999999` must not drain everything else that happens to be due.
        summary = await worker.drain_once(None if args.all else ids)
        items = outbox.queue_items(include_done=True, shipment_ids=ids)
    unknown = sorted(set(args.ids) - set(ids)) if not args.all else []
    waiting = [item for item in items if item.state != outbox.REGISTERED]
    if args.json:
        print(json.dumps({"summary": summary.to_json(), "not_retryable": unknown,
                          "items": [item.to_json() for item in items]}, indent=2))
    else:
        _print_retry(items, unknown, summary.paused_reason)
    return 1 if waiting or unknown else 0


def _print_retry(items: list[outbox.QueueItem], unknown: list[int], paused: str | None) -> None:
    if not items and not unknown:
        print("Nothing to retry.")
    for item in items:
        print(f"  #{item.shipment_id:<6} {item.tracking_number:<26} {item.state:<17} {item.reason}")
    for sid in unknown:
        print(f"  #{sid:<6} not retried: no such shipment, or it is registered, dismissed or awaiting approval")
    if paused:
        print(f"\nRegistration is PAUSED: {paused}")


# -- status ------------------------------------------------------------------------------------------------


async def _run_status(args: argparse.Namespace) -> int:
    from desktop.store import outbox

    ids = args.ids or None
    summary = None
    if args.refresh:
        from desktop.core.status import StatusRefresher

        async with _ship24(args) as (client, _current):
            summary = await StatusRefresher(client).refresh(ids, include_final=args.all)
    else:
        _open_db(args)
    rows = outbox.status_rows(ids)
    if args.json:
        print(json.dumps({"refresh": summary.to_json() if summary else None, "shipments": rows}, indent=2))
    else:
        if summary is not None:
            print(f"Refreshed {summary.checked} trackers, {summary.changed} changed, {summary.failed} failed.")
            for error in summary.errors[:10]:
                print(f"  ! {error}")
        for row in rows:
            when = f" at {row['latest_event_at']}" if row["latest_event_at"] else ""
            eta = f", expected {row['expected_delivery']}" if row["expected_delivery"] else ""
            print(f"  #{row['shipment_id']:<6} {row['tracking_number']:<26} {row['status_text'] or 'not checked'}"
                  f"{eta}. {row['latest_event'] or ''}{when}")
    return 1 if summary is not None and summary.failed else 0
