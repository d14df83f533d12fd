"""Front Core API client: search a date range, read every message of a conversation, list inboxes.

Contract:
- `search(since, until, inboxes)` yields pages of new `ConversationRef`s (deduplicated by id) for
  conversations with activity in [since, until). The query is `after:<s> before:<s>` in epoch seconds in
  the URL-encoded path, `limit=100`; `_pagination.next` is followed exactly as given. A repeated `next`
  or a run of empty pages ends the listing (a server fault must not loop us forever). Front ANDs
  filters, so several inboxes are searched one after another and merged.
- `conversation_messages(id)` returns `(resolved_id, messages oldest first)`, every page of them; a merged
  conversation answers 301 and is followed once.
- `count(since, until, inboxes)` is the number of conversations in range over every inbox given: one
  search request per inbox (Front's `_total`), for the estimate.
- `latest_conversation()` is the most recently active conversation (or None), for the connection test.
- Every request is paced by `FrontPacer` before any 429 (see front_pacing); 429s wait `retry-after` (at
  least 1 s) and are retried, as are timeouts, resets and 5xx (a few times, with backoff). What still fails
  raises the typed `desktop.clients.errors` family. Waits are reported through `on_wait(seconds, reason)`.
- Scopes: a scan needs `conversations:read` (search) and `messages:read`; the inbox list needs
  `inboxes:read` and is optional. A 403 raises `MissingScope` naming the scope the route needs (from
  Front's spec, `ROUTE_SCOPES`; Front's message wording is not relied on), and is remembered in
  `refused_scope` so a command can tell a token's missing scope from other failures.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from desktop.clients.backoff import Backoff
from desktop.clients.budget import WaitCallback
from desktop.clients.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeout,
    AuthError,
    MalformedResponse,
    RateLimited,
)
from desktop.clients.front_pacing import FrontBudget, FrontPacer
from desktop.clients.front_parse import (
    SERVICE,
    parse_conversation,
    parse_message,
    search_query,
)
from desktop.clients.front_parse import error_message as _error_message
from desktop.clients.front_parse import json_object as _json
from desktop.clients.front_parse import status_error as _status_error
from desktop.domain import ConversationRef, Inbox, Message

__all__ = ["MAX_EMPTY_PAGES", "MAX_IN_FLIGHT", "PAGE_LIMIT", "POOL_SIZE", "RETRY_BACKOFF", "ROUTE_SCOPES",
           "SERVICE", "FrontClient", "FrontStats", "MissingScope", "parse_conversation", "parse_message",
           "search_query"]

log = logging.getLogger("shipscan.front")

PAGE_LIMIT = 100
#: A listing that returns this many empty pages in a row (with a `next` link) is over.
MAX_EMPTY_PAGES = 3
#: Between attempts after a timeout, a reset or a 5xx: 0.5 s, 1 s, 2 s... at most 8 s, the top half random.
#: Requests on the wire at once, each on a kept-alive connection. Front documents no cap on parallel
#: requests, its budgets are per minute (the pacer keeps to them), so this only has to let a full scan
#: window (150 conversations) fetch at once: at 20, the first 150 fetches queued for up to a second and
#: the LLM-bound benchmark kept 58-64 LLM calls in flight of 150; at 150, 86-98.
MAX_IN_FLIGHT = 150
#: Connections per pool: they are spread over several small pools. WORKAROUND: httpcore 1.x's pool, for
#: every request it assigns or releases, checks every idle connection (a poll and a getpeername each) and,
#: per idle one, counts all of them again: quadratic in its size (cProfile of the LLM-bound benchmark: 2.5 s
#: of the pool's bookkeeping with one pool of 20, 0.5 s with four of five). After a scan window's first
#: burst most connections sit idle, so a small pool is what keeps each request's checks few.
POOL_SIZE = 4
RETRY_BACKOFF = Backoff(base=0.5, factor=2.0, cap=8.0, max_attempts=6, jitter=0.5)
#: The scope each kind of request needs (`x-required-scopes` in Front's core API spec).
ROUTE_SCOPES = {"search": "conversations:read", "conversations": "conversations:read",
                "messages": "messages:read", "inboxes": "inboxes:read"}
_CONVERSATION_ID = re.compile(r"/conversations/(cnv_[^/?#]+)")


class MissingScope(AuthError):
    """403 on a route: the token lacks `scope`. Permanent, like a refused key: no other request of the same
    kind can succeed. The message names the scope: "Front token lacks the messages:read scope"."""

    def __init__(self, scope: str, front_message: str) -> None:
        super().__init__(SERVICE, 403, f"Front token lacks the {scope} scope ({front_message})")
        self.scope = scope


@dataclass
class FrontStats:
    """Counters since the client was made (the pipeline reports differences per run)."""

    requests: int = 0
    rate_limited: int = 0
    message_fetches: int = 0
    search_requests: int = 0
    retries: int = 0
    in_flight: int = 0      # requests sent and not yet answered (a gauge, not a counter)

    def snapshot(self) -> dict[str, int]:
        return {"requests": self.requests, "rate_limited": self.rate_limited,
                "message_fetches": self.message_fetches, "search_requests": self.search_requests,
                "retries": self.retries}


class FrontClient:
    """One company's Front API; share one instance between all tasks so they share the budget."""

    def __init__(self, base_url: str, token: str, *, http: httpx.AsyncClient | None = None,
                 budget_share: float = 0.8, on_wait: WaitCallback | None = None, timeout: float = 30.0,
                 max_attempts: int = 6, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self._base = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._own_http = http is None
        self._pools = [http] if http is not None else _pools(max_in_flight, timeout)
        self._pool_load = [0] * len(self._pools)
        # A request takes its place in the budget only once it can go on the wire: one that queued in the
        # connection pool after taking it would reach Front out of order, and the budget's accounting
        # ("remaining after this one, minus what we sent after it") would count it twice.
        self._wire = asyncio.Semaphore(max_in_flight)
        self._max_attempts = max(1, max_attempts)
        #: Called as `on_wait(seconds, reason)` when a request is held back for the budget (assignable:
        #: the scanner points it at its event sink for the length of a run).
        self.on_wait = on_wait
        self.pacer = FrontPacer(budget_share=budget_share, on_wait=self._report_wait)
        self.stats = FrontStats()
        #: Front's `_total` for the last search (summed over inboxes); None until known.
        self.last_total: int | None = None
        #: The scope of the last 403 (`MissingScope`), None while none was refused.
        self.refused_scope: str | None = None

    def _report_wait(self, seconds: float, reason: str) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds, reason)

    async def aclose(self) -> None:
        if self._own_http:
            for pool in self._pools:
                await pool.aclose()

    async def __aenter__(self) -> FrontClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- public API ---------------------------------------------------------------------------------------
    async def inboxes(self) -> list[Inbox]:
        """Every inbox the token can see."""
        inboxes = []
        async for results in self._pages(f"{self._base}/inboxes", "inboxes", None):  # the spec: no params
            inboxes += [Inbox(id=str(r["id"]), name=str(r.get("name") or r["id"])) for r in results]
        return inboxes

    async def count(self, since: float, until: float, inboxes: Iterable[str] = ()) -> int:
        """Conversations with activity in [since, until) in any of `inboxes` (all when empty).

        One search request per inbox: the sum of Front's `_total`s, less the conversations seen in more
        than one inbox's first page (Front has no OR of inboxes; exact whenever each inbox fits a page).
        """
        seen: set[str] = set()
        total = 0
        for inbox in list(inboxes) or [None]:
            data = _json(await self._get(self._search_url(since, until, inbox), "search", "search"))
            results = data.get("_results")
            if not isinstance(results, list):
                raise MalformedResponse(SERVICE, "no _results list in the answer to search")
            ids = {parse_conversation(raw, inbox).id for raw in results}
            reported = data.get("_total")
            total += max(reported if isinstance(reported, int) else 0, len(ids)) - len(ids & seen)
            seen |= ids
        return total

    async def latest_conversation(self) -> ConversationRef | None:
        """The most recently active conversation the token sees (`GET /conversations?limit=1`), or None."""
        data = _json(await self._get(f"{self._base}/conversations?limit=1", "conversations", None))
        results = data.get("_results")
        if not isinstance(results, list):
            raise MalformedResponse(SERVICE, "no _results list in the answer to conversations")
        return parse_conversation(results[0]) if results else None

    def _search_url(self, since: float, until: float, inbox: str | None) -> str:
        return f"{self._base}/conversations/search/{quote(search_query(since, until, inbox), safe='')}" \
               f"?limit={PAGE_LIMIT}"

    async def search(self, since: float, until: float,
                     inboxes: Iterable[str] = ()) -> AsyncIterator[list[ConversationRef]]:
        """Pages of conversations with activity in [since, until), each conversation once."""
        seen: set[str] = set()
        self.last_total = None
        for inbox in list(inboxes) or [None]:
            async for results in self._pages(self._search_url(since, until, inbox), "search", "search"):
                page = []
                for raw in results:
                    ref = parse_conversation(raw, inbox)
                    if ref.id not in seen:
                        seen.add(ref.id)
                        page.append(ref)
                if page:
                    yield page

    async def conversation_messages(self, conversation_id: str) -> tuple[str, list[Message]]:
        """(id of the conversation that holds the messages, all its messages oldest first)."""
        url = f"{self._base}/conversations/{quote(conversation_id, safe='')}/messages?limit={PAGE_LIMIT}"
        response = await self._get(url, "messages", f"conversation:{conversation_id}")
        resolved = conversation_id
        if response.status_code == 301 or response.history:
            url, resolved = self._redirect_target(response, conversation_id)
            response = await self._get(url, "messages", f"conversation:{resolved}")
            if response.status_code == 301:
                raise MalformedResponse(SERVICE, f"{conversation_id} redirected more than once")
        messages: dict[str, Message] = {}
        async for results in self._pages(url, "messages", f"conversation:{resolved}", first=response):
            for raw in results:
                message = parse_message(raw, resolved)
                messages[message.id] = message
        return resolved, sorted(messages.values(), key=lambda m: (m.created_at, m.id))

    # -- paging -------------------------------------------------------------------------------------------
    async def _pages(self, url: str, kind: str, resource: str | None,
                     first: httpx.Response | None = None) -> AsyncIterator[list[dict[str, Any]]]:
        """`_results` of every page from `url`, following `_pagination.next` exactly as given."""
        visited: set[str] = set()
        empty = 0
        next_url: str | None = url
        while next_url:
            visited.add(next_url)
            response = first if first is not None else await self._get(next_url, kind, resource)
            first = None
            data = _json(response)
            results = data.get("_results")
            if not isinstance(results, list):
                raise MalformedResponse(SERVICE, f"no _results list in the answer to {kind}")
            if kind == "search" and len(visited) == 1 and isinstance(data.get("_total"), int):
                self.last_total = (self.last_total or 0) + data["_total"]
            empty = 0 if results else empty + 1
            if results:
                yield results
            next_url = (data.get("_pagination") or {}).get("next")
            if next_url in visited:
                log.warning("Front repeated a page link for %s; stopping the listing there", kind)
                return
            if empty >= MAX_EMPTY_PAGES:
                log.warning("Front sent %d empty pages in a row for %s; stopping the listing", empty, kind)
                return

    def _redirect_target(self, response: httpx.Response, conversation_id: str) -> tuple[str, str]:
        """URL of the surviving conversation's messages and its id, from a 301 (or a followed redirect)."""
        if response.status_code != 301:          # the http client followed it already
            target = str(response.url)
        else:
            location = response.headers.get("location")
            if not location:
                raise MalformedResponse(SERVICE, f"301 without Location for {conversation_id}")
            target = urljoin(str(response.request.url), location)
        found = _CONVERSATION_ID.search(target)
        if not found:
            raise MalformedResponse(SERVICE, f"301 for {conversation_id} points to {target}")
        resolved = found.group(1)
        if "/messages" not in target:
            target = f"{self._base}/conversations/{quote(resolved, safe='')}/messages?limit={PAGE_LIMIT}"
        log.debug("conversation %s was merged into %s", conversation_id, resolved)
        return target, resolved

    # -- one request, paced and retried ---------------------------------------------------------------
    async def _get(self, url: str, kind: str, resource: str | None) -> httpx.Response:
        """GET `url` within the budget; returns a 2xx or 301 answer, raises ApiError otherwise."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(url, kind, resource)
            except (ApiTimeout, ApiConnectionError) as exc:
                if attempt >= self._max_attempts:
                    raise
                await self._backoff(attempt, exc)
                continue
            if response.status_code == 429:
                headers = FrontBudget.parse(response.headers)
                self.stats.rate_limited += 1
                wait = self.pacer.rate_limited(kind, headers, resource)
                log.info("Front 429 on %s (tier %s); waiting %.1f s", kind, headers.tier, wait)
                if attempt >= self._max_attempts:
                    raise RateLimited(SERVICE, _error_message(response), wait, tier=headers.tier)
                self.stats.retries += 1
                continue                       # the pacer now holds the next attempt back
            if response.status_code >= 500 and attempt < self._max_attempts:
                await self._backoff(attempt, _status_error(response))
                continue
            if response.status_code < 300 or response.status_code == 301:
                return response
            if response.status_code == 403 and kind in ROUTE_SCOPES:
                self.refused_scope = ROUTE_SCOPES[kind]
                raise MissingScope(ROUTE_SCOPES[kind], _error_message(response))
            raise _status_error(response)

    async def _send(self, url: str, kind: str, resource: str | None) -> httpx.Response:
        async with self._wire:
            return await self._send_paced(url, kind, resource)

    async def _get_pooled(self, url: str) -> httpx.Response:
        """GET on the least busy connection pool (see POOL_SIZE)."""
        index = min(range(len(self._pools)), key=self._pool_load.__getitem__)
        self._pool_load[index] += 1
        try:
            return await self._pools[index].get(url, headers=self._auth)
        finally:
            self._pool_load[index] -= 1

    async def _send_paced(self, url: str, kind: str, resource: str | None) -> httpx.Response:
        ticket = await self.pacer.before(kind, resource)
        headers = received = None
        self.stats.in_flight += 1
        try:
            response = await self._get_pooled(url)
            headers, received = response.headers, time.time()
        except httpx.TimeoutException as exc:
            raise ApiTimeout(SERVICE, f"no answer to {kind} ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise ApiConnectionError(SERVICE, f"{kind}: {type(exc).__name__}: {exc}") from exc
        finally:
            self.stats.in_flight -= 1
            self.pacer.done(ticket, headers, received)
            self.stats.requests += 1
            if kind == "search":
                self.stats.search_requests += 1
            elif kind == "messages":
                self.stats.message_fetches += 1
        return response

    async def _backoff(self, attempt: int, exc: ApiError) -> None:
        self.stats.retries += 1
        delay = RETRY_BACKOFF.delay(attempt)
        log.info("Front: %s; retrying in %.1f s", exc, delay)
        await asyncio.sleep(delay)


def _pools(max_in_flight: int, timeout: float) -> list[httpx.AsyncClient]:
    """Clients of POOL_SIZE connections that together keep `max_in_flight` (see POOL_SIZE). They share one
    TLS context: building one reads the CA bundle (~25 ms each, a third of a second for all of them)."""
    shards = max(1, -(-max_in_flight // POOL_SIZE))
    size = -(-max_in_flight // shards)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    timeouts = httpx.Timeout(timeout, connect=min(timeout, 10.0))
    tls = httpx.create_ssl_context()
    return [httpx.AsyncClient(timeout=timeouts, limits=limits, verify=tls) for _ in range(shards)]
