"""Shared machinery of the simulators: a loopback HTTP/1.1 server, routing, latency and fault injection,
fixed-window counters, and the SimLog that tests and benchmarks read.

Each simulator is a `SimService` subclass: it declares `routes` (method, regex, route name, handler) and
turns a `SimRequest` into a `SimResponse`. `SimServer` runs it on 127.0.0.1:0 in a daemon thread with
keep-alive and an explicit content-length on every response (what the openai SDK and httpx expect).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from desktop.sim.config import FaultConfig, LatencyConfig

log = logging.getLogger("shipscan.sim")


class SimLog:
    """What a simulator received. Thread-safe; read the attributes directly.

    requests_by_route: Counter of "METHOD /route/{template}" -> count (every request, errors included);
    total_requests; rate_limited (429s sent); max_rate_per_second (most requests in any sliding 1 s window).
    Subclasses add service extras as int attributes updated with `add(name, n)`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self.requests_by_route: Counter[str] = Counter()
        self.total_requests = 0
        self.rate_limited = 0
        self.max_rate_per_second = 0
        self.status_counts: Counter[int] = Counter()
        #: Answer times drawn per route: {"POST /v1/chat/completions": {"count", "total", "max"}} (seconds).
        self.latency_by_route: dict[str, dict[str, float]] = {}

    def record_latency(self, route: str, seconds: float) -> None:
        with self._lock:
            entry = self.latency_by_route.setdefault(route, {"count": 0, "total": 0.0, "max": 0.0})
            entry["count"] += 1
            entry["total"] += seconds
            entry["max"] = max(entry["max"], seconds)

    def record_request(self, route: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self.requests_by_route[route] += 1
            self.total_requests += 1
            self._recent.append(now)
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            self.max_rate_per_second = max(self.max_rate_per_second, len(self._recent))

    def record_status(self, status: int) -> None:
        with self._lock:
            self.status_counts[status] += 1
            if status == 429:
                self.rate_limited += 1

    def add(self, name: str, n: int = 1) -> None:
        """Increment the integer attribute `name` by `n` under the lock."""
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> dict[str, Any]:
        """A plain-dict copy (for printing or JSON)."""
        with self._lock:
            data = {k: v for k, v in vars(self).items() if not k.startswith("_")}
            return json.loads(json.dumps(data, default=lambda o: dict(o) if isinstance(o, Counter) else str(o)))


@dataclass
class SimRequest:
    method: str
    path: str  # raw (still percent-encoded) path without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # "http://127.0.0.1:PORT" as the client addressed us
    raw_target: str = ""
    params: dict[str, str] = field(default_factory=dict)  # regex groups of the matched route
    context: dict[str, Any] = field(default_factory=dict)  # per-request scratch space of the service

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The JSON body; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8") or "null")

    def bearer(self) -> str | None:
        """The token of `Authorization: Bearer <token>`, or None."""
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value[:7].lower() == "bearer " else None


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"
    action: str = "answer"  # "answer", "timeout" (hold then drop) or "reset" (drop now)


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> SimResponse:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return SimResponse(status, body, list(headers or []))


def text_response(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> SimResponse:
    return SimResponse(status, text.encode("utf-8"), list(headers or []), "text/plain; charset=utf-8")


Handler = Callable[[SimRequest], SimResponse]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str  # "GET /conversations/{id}": the key in SimLog.requests_by_route
    handler: Handler


class WindowCounter:
    """Fixed windows aligned to multiples of `window` seconds of wall-clock time, one count per key.

    Not thread-safe on its own: services call it under their lock.
    """

    def __init__(self) -> None:
        self._counts: dict[Any, tuple[float, int]] = {}

    def state(self, key: Any, window: float, now: float) -> tuple[int, float]:
        """(count used in the current window, epoch seconds at which the window ends)."""
        start = math.floor(now / window) * window
        begun, count = self._counts.get(key, (start, 0))
        if begun != start:
            count = 0
        return count, start + window

    def hit(self, key: Any, window: float, now: float, n: int = 1) -> int:
        """Count `n` more in the current window; returns the new count."""
        count, end = self.state(key, window, now)
        self._counts[key] = (end - window, count + n)
        return count + n


class SimService:
    """Base of the three simulators: subclasses set `log`, `config`, and register routes in `__init__`."""

    name = "sim"

    def __init__(self, config: Any, log_: SimLog, seed: int) -> None:
        self.config = config
        self.log = log_
        self.routes: list[Route] = []
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    def route(self, method: str, template: str, handler: Handler) -> None:
        """Register `template` like "/conversations/{id}"; `{x}` matches one path segment."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(Route(method, re.compile(f"^{regex}$"), f"{method} {template}", handler))

    def random(self) -> float:
        with self._rng_lock:
            return self.rng.random()

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """The route for `method path` and its path parameters, or (None, {})."""
        for candidate in self.routes:
            found = candidate.pattern.match(path)
            if found and candidate.method == method:
                return candidate, found.groupdict()
        return None, {}

    # Hooks a service overrides -------------------------------------------------------------------------
    def not_found(self, request: SimRequest) -> SimResponse:
        return json_response(404, {"error": "not found"})

    def server_error(self, request: SimRequest, status: int) -> SimResponse:
        return json_response(status, {"error": "internal error"})

    def finalize(self, request: SimRequest, response: SimResponse) -> SimResponse:
        """Add headers every response carries (request ids, rate-limit headers...)."""
        return response

    # The request pipeline ------------------------------------------------------------------------------
    def now(self) -> float:
        """This service's wall clock: the machine's, moved by `clock_offset_seconds` where the config has
        one (a server whose clock disagrees with the client's). Windows, resets and `Date` all use it."""
        return time.time() + float(getattr(self.config, "clock_offset_seconds", 0.0) or 0.0)

    def dispatch(self, request: SimRequest) -> SimResponse:
        """Admission (auth, rate limits, the work) happens when the request arrives, as at the real
        services; the answer then takes the configured latency to come back."""
        route, params = self.match(request.method, request.path)
        name = route.name if route else f"{request.method} (unrouted)"
        self.log.record_request(name)
        fault = self._pick_fault(self.config.faults)
        if fault == "timeout":
            return SimResponse(0, action="timeout")
        if fault == "reset":
            return SimResponse(0, action="reset")
        if fault == "5xx":
            response = self.server_error(request, (500, 502, 503)[int(self.random() * 3) % 3])
        elif route is None:
            response = self.not_found(request)
        else:
            request.params = params
            response = route.handler(request)
        response = self.finalize(request, response)
        self.log.record_latency(name, self._sleep_latency(self.latency_for(name)))
        return response

    def latency_for(self, route: str) -> LatencyConfig:
        """The answer time of `route` (the service's `latency`; a service may answer some routes faster)."""
        return self.config.latency

    def _sleep_latency(self, latency: LatencyConfig) -> float:
        """Sleep the answer time drawn for this request; returns it in seconds."""
        if latency.median_ms <= 0:
            return 0.0
        with self._rng_lock:
            delay = latency.median_ms * self.rng.lognormvariate(0.0, latency.spread)
            if self.rng.random() < latency.tail_probability:
                delay *= latency.tail_multiplier
        time.sleep(delay / 1000.0)
        return delay / 1000.0

    def _pick_fault(self, faults: FaultConfig) -> str | None:
        roll = self.random()
        for name, rate in (("reset", faults.reset_rate), ("timeout", faults.timeout_rate),
                           ("5xx", faults.error_5xx_rate)):
            if roll < rate:
                return name
            roll -= rate
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response sets content-length
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; with Nagle on, the second waits for the client's delayed
        # ACK (~40 ms per keep-alive request). Real servers don't stall like that.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header, on the service's own clock (see `SimService.now`)."""
        return email.utils.formatdate(self.server.service.now() if timestamp is None else timestamp,
                                      usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.server.service.name, format % args)

    def _serve(self) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.server.server_address
        request = SimRequest(
            method=self.command, path=target.path, query=parse_qs(target.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()}, body=body,
            base_url=f"http://{host[0]}:{host[1]}", raw_target=self.path)
        service = self.server.service
        try:
            response = service.dispatch(request)
        except Exception:  # a simulator bug must surface as a 500, not a hung client
            log.exception("%s: handler failed for %s %s", service.name, self.command, self.path)
            response = service.server_error(request, 500)
        if response.action == "reset":
            self._drop(hard=True)
            return
        if response.action == "timeout":
            time.sleep(service.config.faults.timeout_hold_seconds)
            self._drop(hard=False)
            return
        service.log.record_status(response.status)
        self._write(response)

    def _write(self, response: SimResponse) -> None:
        self.send_response(response.status)
        self.send_header("content-type", response.content_type)
        self.send_header("content-length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _drop(self, hard: bool) -> None:
        self.close_connection = True
        if hard:  # SO_LINGER 0 makes close() send RST instead of FIN: a real "connection reset"
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default backlog of 5 drops SYNs when clients open many connections at once

    def __init__(self, service: SimService) -> None:
        self.service = service
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping keep-alive sockets (and our own resets) are normal here: log quietly.
        log.debug("%s: connection error from %s", self.service.name, client_address, exc_info=True)


class SimServer:
    """Runs one SimService on 127.0.0.1:<free port> in a daemon thread until `stop()`."""

    def __init__(self, service: SimService) -> None:
        self.service = service
        self._server = _Server(service)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sim-{service.name}", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> SimLog:
        return self.service.log

    @property
    def config(self) -> Any:
        return self.service.config

    def start(self) -> SimServer:
        self._thread.start()
        log.info("%s simulator listening on %s", self.service.name, self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
