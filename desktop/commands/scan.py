"""`shipscan scan`: scan a date range of Front conversations for shipments.

    shipscan scan --since DATE [--until DATE] [--inbox ID]... [--batch-size N] [--concurrent-batches K]
                  [--extractor llm|rules] [--rescan] [--demo] [--db PATH] [--json]

DATE is YYYY-MM-DD (midnight UTC) or an ISO datetime (UTC unless it carries an offset); `--until` is
exclusive and defaults to now. With `--demo` and no dates the whole demo workspace is scanned.
A progress bar goes to stderr on a terminal, plain progress lines (about every 15 s, and for long
rate-limit waits) when stderr is a file or a pipe; `--json` prints ONE summary object on stdout.
Exit codes: 0 done (conversations that failed are retried by the next scan), 1 the run failed,
2 configuration error (e.g. a missing key, or a Front token without a scope the scan needs: one line
naming it; `--json` still prints the failed run's summary), 130 interrupted.
The scan only queues registrations; the app's background worker or `shipscan retry --all` registers them
with Ship24 (`shipscan queue` shows what waits).
Several scans may run at once on one database (team mode, issue 16): each conversation is claimed before it
is read, one another live scan holds is skipped and counted (`claimed_elsewhere` in `--json`; that scan
commits it), and a killed scan's claims expire after a lease of 120 s (`SHIPSCAN_CLAIM_LEASE` seconds
overrides it; on the same machine they are free as soon as its process is gone).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from desktop import log as applog
from desktop.core.events import ErrorReported, Event, Progress, RateLimitWait, RunStarted
from desktop.errors import ConfigurationError


def parse_date(text: str) -> float:
    """Epoch seconds of YYYY-MM-DD (00:00 UTC) or an ISO datetime (naive = UTC)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or ISO datetime: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


#: Far above any sensible batch or concurrency, far below what overflows a loop or the database.
MAX_COUNT = 10_000


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_COUNT}")
    return value


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("scan", parents=[common], help="scan a date range of conversations",
                                   description="Scan a date range of Front conversations for shipments.")
    parser.add_argument("--since", type=parse_date, metavar="DATE", help="start of the range (inclusive)")
    parser.add_argument("--until", type=parse_date, metavar="DATE", help="end of the range (exclusive)")
    parser.add_argument("--inbox", action="append", default=[], metavar="ID", help="only this inbox (repeat)")
    parser.add_argument("--batch-size", type=_positive, metavar="N", help="conversations per batch (50)")
    parser.add_argument("--concurrent-batches", type=_positive, metavar="K", help="batches at once (3)")
    parser.add_argument("--extractor", choices=("llm", "rules"), help="how shipments are found (llm)")
    parser.add_argument("--rescan", action="store_true", help="scan unchanged conversations too")
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop.core import offload

    # The engine's CPU work goes to a worker process, in parallel with this one's HTTP, JSON and SQLite:
    # with 150 conversations in flight, one interpreter lock would otherwise be what holds the scan back.
    offload.use_processes()
    try:
        return asyncio.run(_scan(args))
    except ConfigurationError as exc:
        print(f"shipscan scan: {exc}", file=sys.stderr)
        return 2
    finally:
        offload.shutdown()


async def _scan(args: argparse.Namespace) -> int:
    from desktop.core.pipeline import Scanner, ScanParams
    from desktop.services import open_services

    async with open_services(args) as svc:
        since, until = _range(args, svc)
        if args.inbox:
            await _check_inboxes(svc.front, args.inbox)
        extractor = svc.extractor(args.extractor)
        for notice in svc.notices:
            print(f"shipscan scan: {notice}", file=sys.stderr)
        params = ScanParams(since=since, until=until, inboxes=tuple(args.inbox),
                            batch_size=args.batch_size or svc.settings.batch_size,
                            concurrent_batches=args.concurrent_batches or svc.settings.concurrent_batches,
                            extractor=extractor.name, rescan=args.rescan)
        view = ProgressView(sys.stderr, terminal=sys.stderr.isatty())
        svc.relay.sink = view
        view.start()
        svc.front.refused_scope = None      # only a scope refused during the run decides the exit code
        try:
            summary = await Scanner(svc.front, extractor, _scope_said_once(view, svc.front),
                                    settings=svc.settings, llm=svc.llm).run(params)
        finally:
            view.close()
        if args.json:
            from desktop.store import actor

            print(json.dumps({**summary, "started_by": actor.current()}, sort_keys=False))
        scope = svc.front.refused_scope
        if summary["state"] == "failed" and scope:
            raise ConfigurationError(f"Front token lacks the {scope} scope (a scan needs conversations:read "
                                     "and messages:read)")
        if not args.json:
            _print_human(summary, svc.db_path)
    return 0 if summary["state"] == "completed" else 1


def _scope_said_once(view: ProgressView, front: Any) -> Callable[[Event], None]:
    """`view`, without the run's failure line when a missing Front scope caused it: that is said once,
    as the exit-2 configuration error."""
    def sink(event: Event) -> None:
        if isinstance(event, ErrorReported) and event.where == "scan" and front.refused_scope:
            return
        view(event)
    return sink


async def _check_inboxes(front: Any, wanted: list[str]) -> None:
    """ConfigurationError naming each `--inbox` Front does not know: a typo must not scan nothing, rc 0.

    A refused token is said as the scan says it (`ServiceRefused`: "Front refused the key (HTTP 401): ..."),
    not as a bare "front: HTTP 401".
    """
    from desktop.clients.errors import ApiError, ServiceRefused
    from desktop.clients.front import MissingScope

    try:
        listed = await front.inboxes()
    except MissingScope:    # the inbox list is optional (inboxes:read): scan what was asked, unchecked
        print("shipscan scan: the Front token lacks the inboxes:read scope, so --inbox ids are not checked",
              file=sys.stderr)
        return
    except ApiError as exc:
        if exc.permanent:
            raise ServiceRefused(exc) from None
        raise
    known = {inbox.id for inbox in listed}
    unknown = [inbox for inbox in wanted if inbox not in known]
    if unknown:
        raise ConfigurationError(f"unknown --inbox {', '.join(unknown)}; Front has: {', '.join(sorted(known))}")


def _range(args: argparse.Namespace, svc: Any) -> tuple[float, float]:
    since, until = args.since, args.until
    if svc.demo and since is None:
        demo_since, demo_until = svc.demo_range()
        return demo_since, until or demo_until
    if since is None:
        raise ConfigurationError("--since DATE is required (YYYY-MM-DD or an ISO datetime)")
    until = until or time.time()
    if until <= since:
        raise ConfigurationError("--until must be after --since")
    return since, until


class ProgressView:
    """The scan's stderr sink.

    On a terminal (`terminal=True`): a one-line bar redrawn in place, and error lines. Elsewhere (a log
    file, a pipe, a service manager): plain lines, so a long wait is visible where nobody watches a bar:
    a progress line at most every `interval` seconds, and at least that often while the scan runs once
    `start()` has started the heartbeat (a service that never answers sends no events to react to); a
    line for each new rate-limit wait of `long_wait` seconds or more. Both: one "scan failed: ..." line
    when the run fails. Nothing goes to stdout (`--json` stays one object there).
    """

    def __init__(self, stream: TextIO, *, terminal: bool, interval: float = 15.0, long_wait: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._terminal = terminal
        self._interval = interval
        self._long_wait = long_wait
        self._clock = clock
        self._started = self._last_line = clock()
        self._last_bar = 0.0
        self._wait = ""
        self._drawn = False
        self._latest: Progress | None = None
        #: When each service's latest reported wait ends (clock time), so a wait reported by every
        #: caller held by it is printed once.
        self._waits_until: dict[str, float] = {}
        self._heartbeat: asyncio.Task | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, ErrorReported) and event.where == "scan":
            self._line(f"scan failed: {event.message}")
        elif isinstance(event, RunStarted) and event.resumed:
            self._line(f"resuming run {event.run_id}")
        elif self._terminal:
            self._on_terminal(event)
        elif isinstance(event, RateLimitWait):
            self._log_wait(event)
        elif isinstance(event, Progress):
            self._latest = event
            if self._clock() - self._last_line >= self._interval:
                self._log_progress()

    def start(self) -> None:
        """Start the heartbeat (plain mode only; call inside the running event loop)."""
        if not self._terminal and self._heartbeat is None:
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        if self._terminal and self._drawn:
            self._stream.write("\n")
            self._stream.flush()

    # -- a terminal ---------------------------------------------------------------------------------------
    def _on_terminal(self, event: Event) -> None:
        if isinstance(event, RateLimitWait):
            self._wait = f" (waiting {event.seconds:.0f} s for {event.service})"
        elif isinstance(event, ErrorReported):
            self._line(f"error: {event.where}: {event.message}")
        elif isinstance(event, Progress):
            now = self._clock()
            if now - self._last_bar >= 0.1 or (event.listing_complete and event.done == event.listed):
                self._last_bar = now
                self._bar(event)

    def _bar(self, p: Progress) -> None:
        total = max(p.listed, 1)
        filled = int(30 * p.done / total)
        text = (f"\r[{'#' * filled}{'.' * (30 - filled)}] {_figures(p)}, {p.elapsed:.0f} s{_left(p)}"
                f"{self._wait}")
        self._wait = ""
        self._stream.write(text.ljust(100))
        self._stream.flush()
        self._drawn = True

    # -- a log --------------------------------------------------------------------------------------------
    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(max(0.05, self._last_line + self._interval - self._clock()))
            if self._clock() - self._last_line >= self._interval:
                self._log_progress()

    def _log_progress(self) -> None:
        p, now = self._latest, self._clock()
        done = f"{_figures(p)}{_left(p)}" if p is not None else "no conversation finished yet"
        waits = [f"{service} for {until - now:.0f} s more" for service, until in self._waits_until.items()
                 if until - now >= 1.0]
        self._line(f"progress: {done}, {now - self._started:.0f} s"
                   + (f" (waiting: {', '.join(waits)})" if waits else ""))

    def _log_wait(self, event: RateLimitWait) -> None:
        until = self._clock() + event.seconds
        if until <= self._waits_until.get(event.service, 0.0) + 1.0:
            return   # the same wait, reported by another caller it holds
        self._waits_until[event.service] = until
        if event.seconds >= self._long_wait:
            self._line(f"waiting {event.seconds:.0f} s for {event.service}: {event.reason}")

    def _line(self, text: str) -> None:
        self._stream.write(("\n" if self._drawn else "") + (applog.redact(text) or "") + "\n")
        self._stream.flush()
        self._drawn = False
        self._last_line = self._clock()


def _figures(p: Progress) -> str:
    more = "" if p.listing_complete else "+"
    return f"{p.done}/{p.listed}{more} conversations, {p.shipments} shipments, {p.failed} failed"


def _left(p: Progress | None) -> str:
    if p is None or p.eta_seconds is None or p.done >= p.listed:
        return ""
    return f", ~{p.eta_seconds:.0f} s left"


def _print_human(s: dict, db_path: Any) -> None:
    print(f"Run {s['run_id']} {s['state']}{' (resumed)' if s['resumed'] else ''} in {s['seconds']:.1f} s "
          f"with the {s['extractor']} extractor.")
    elsewhere = f", {s['claimed_elsewhere']} left to another scan running now" if s.get("claimed_elsewhere") else ""
    print(f"Conversations: {s['conversations_listed']} listed, {s['conversations_scanned']} scanned, "
          f"{s['conversations_unchanged']} unchanged, {s['conversations_failed']} failed{elsewhere}.")
    print(f"Shipments: {s['shipments_found']} found, {s['shipments_new']} new; "
          f"{s['registrations_queued']} registrations queued, "
          f"{s['registrations_waiting_approval']} waiting for approval.")
    print(f"Front: {s['front_requests']} requests, {s['front_429s']} rate-limited; LLM: {s['llm_calls']} calls, "
          f"{s['llm_tokens_in']}+{s['llm_tokens_out']} tokens.")
    if s.get("error"):
        print(f"Error: {s['error']}")
    print(f"Database: {db_path}")
