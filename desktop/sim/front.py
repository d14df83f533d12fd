"""Front Core API double (api-notes §3.1 items 1-13), served by `SimServer`.

Routes: GET /conversations/search/{query}, /conversations, /inboxes, /inboxes/{id}/conversations,
/conversations/{id}, /conversations/{id}/messages, /messages/{id}.

Rate limits (all switchable in FrontSimConfig): one company budget per window (x-ratelimit-limit/-remaining/
-reset on EVERY response, 429 + retry-after when empty); search held to `search_share` of it and each
conversation to `per_conversation_per_second`: those answer 429 with retry-after AND x-front-tier while
x-ratelimit-remaining is still > 0. A request refused by a tier does not consume the company budget.

Search semantics (decisions where Front's docs are silent): a conversation matches a time filter when ANY
of its messages falls in the window (after:/before: exclusive unless `inclusive_bounds`; during: = that UTC
day); `is:`/`inbox:`/`tag:`/`from:`/`to:` must all hold; free-text words and "quoted phrases" must all
occur as whole words in the subject or a message; unknown `name:value` tokens count as free text; merged
conversations never match. Results: newest last activity first, `_total` = all matches. Page tokens are
keyset cursors (stable); `drift` switches to offsets that slide back one item per page.

Order of checks on every request: token (401, no budget used), budget (429), then what the route demands
(`front_scopes`: 403 for a missing scope, 400 for a query parameter the spec does not list), then the work.
Tokens: `token` with `token_scopes` (None = all, the demo token) and `extra_tokens`, each with its scopes.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from typing import Any
from urllib.parse import quote, unquote, urlencode

from desktop.sim import front_data as fd
from desktop.sim import front_scopes
from desktop.sim.config import FrontSimConfig
from desktop.sim.server import SimLog, SimRequest, SimResponse, SimService, WindowCounter, json_response
from desktop.sim.workspace import SimConversation, Workspace

MAX_LIMIT = 100


class FrontLog(SimLog):
    """SimLog plus message_fetches (GET .../messages), search_requests and requests_by_token."""

    def __init__(self) -> None:
        super().__init__()
        self.message_fetches = 0
        self.search_requests = 0
        self.requests_by_token: Counter[str] = Counter()


class _Refused(Exception):
    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


class FrontService(SimService):
    name = "front"

    def __init__(self, workspace: Workspace, config: FrontSimConfig, seed: int = 7) -> None:
        super().__init__(config, FrontLog(), seed)
        self.config: FrontSimConfig = config
        self.workspace = workspace
        self.by_id = {c.id: c for c in workspace.conversations}
        self.messages = {m.id: (c, m) for c in workspace.conversations for m in c.messages}
        self._haystacks = {c.id: fd.haystack(c) for c in workspace.conversations}
        # Newest activity first, ties by id: the only order search knows (and the default list order).
        self._ordered = sorted((c for c in workspace.conversations if not c.merged_into and c.messages),
                               key=self._sort_key)
        self._counter = WindowCounter()
        for template, handler in (
                ("/conversations/search/{query}", self.search), ("/conversations", self.list_conversations),
                ("/inboxes", self.list_inboxes), ("/inboxes/{id}/conversations", self.inbox_conversations),
                ("/conversations/{id}", self.get_conversation), ("/conversations/{id}/messages", self.messages_of),
                ("/messages/{id}", self.get_message)):
            self.route("GET", template, handler)

    @staticmethod
    def _sort_key(c: SimConversation) -> tuple[float, str]:
        return (-c.last_activity_at, c.id)

    # Errors and headers ----------------------------------------------------------------------------------
    def error(self, status: int, title: str, message: str) -> SimResponse:
        return json_response(status, fd.error_body(status, title, message))

    def not_found(self, request: SimRequest) -> SimResponse:
        return self.error(404, "Not found", f"Unknown route {request.method} {request.path}")

    def server_error(self, request: SimRequest, status: int) -> SimResponse:
        return self.error(status, "Internal server error", "An unexpected error occurred")

    def finalize(self, request: SimRequest, response: SimResponse) -> SimResponse:
        """x-ratelimit-* on every response; computed without consuming when the handler did not."""
        limit, remaining, reset = request.context.get("ratelimit") or self._peek()
        response.headers += [("x-ratelimit-limit", str(limit)), ("x-ratelimit-remaining", str(remaining)),
                             ("x-ratelimit-reset", str(reset))]
        return response

    def _peek(self) -> tuple[int, int, int]:
        with self.lock:
            used, end = self._counter.state("company", self.config.window_seconds, self.now())
        limit = self.config.rate_limit_per_minute
        return limit, max(0, limit - used), math.ceil(end)

    def _retry_after(self, wait: float) -> str:
        mode = self.config.retry_after_mode
        if mode == "zero":
            return "0"
        if mode == "fractional":
            return f"{max(wait - math.floor(wait), 0.05):.2f}"
        return str(max(1, math.ceil(wait)))

    # Auth + limits -------------------------------------------------------------------------------------
    def admit(self, request: SimRequest, kind: str = "", key: str = "") -> None:
        """Check the token and the limits; raise _Refused with the 401/429 answer, else consume budget.

        `kind` is "search" (proportional limit) or "conversation" (per-resource burst limit on `key`).
        """
        token = request.bearer()
        if token is None or (token != self.config.token and token not in self.config.extra_tokens):
            raise _Refused(self.error(401, "Unauthenticated", "JSON Web Token error"))
        cfg, now = self.config, self.now()
        with self.lock:
            self.log.requests_by_token[token[:6] + "..."] += 1  # never the whole token
            used, end = self._counter.state("company", cfg.window_seconds, now)
            limit = cfg.rate_limit_per_minute
            if cfg.rate_limits and used >= limit:
                request.context["ratelimit"] = (limit, 0, math.ceil(end))
                raise _Refused(self._too_many(end - now, None, "Rate limit exceeded. Please retry later."))
            request.context["ratelimit"] = (limit, max(0, limit - used - 1), math.ceil(end))
            tier = self._tier_refusal(kind, key, now) if cfg.rate_limits else None
            if tier is not None:
                request.context["ratelimit"] = (limit, max(0, limit - used), math.ceil(end))
                raise _Refused(tier)
            self._counter.hit("company", cfg.window_seconds, now)
            if kind == "search":
                self._counter.hit("search", cfg.window_seconds, now)
            elif kind == "conversation" and cfg.per_conversation_per_second:
                self._counter.hit(("cnv", key), 1.0, now)

    def _tier_refusal(self, kind: str, key: str, now: float) -> SimResponse | None:
        cfg = self.config
        if kind == "search":
            cap = max(1, math.ceil(cfg.rate_limit_per_minute * cfg.search_share))
            used, end = self._counter.state("search", cfg.window_seconds, now)
            if used >= cap:
                return self._too_many(end - now, "proportional",
                                      f"Rate limit exceeded for proportional route (search: {cap} per window).")
        elif kind == "conversation" and cfg.per_conversation_per_second:
            used, end = self._counter.state(("cnv", key), 1.0, now)
            if used >= cfg.per_conversation_per_second:
                ms = max(1, int((end - now) * 1000))
                return self._too_many(end - now, "2",
                                      f"Rate limit exceeded for tier-2 route. Please retry in {ms} milliseconds.")
        return None

    def _too_many(self, wait: float, tier: str | None, message: str) -> SimResponse:
        response = self.error(429, "Too many requests", message)
        response.headers.append(("retry-after", self._retry_after(wait)))
        if tier is not None:
            response.headers.append(("x-front-tier", tier))
        return response

    def _granted(self, token: str) -> list[str] | None:
        """The scopes of a known token (None: every scope)."""
        if token == self.config.token:
            return self.config.token_scopes
        return list(self.config.extra_tokens[token])

    def demands(self, request: SimRequest) -> None:
        """403 for a scope the route needs and the token lacks; 400 for a parameter the route does not take."""
        route = self.match(request.method, request.path)[0]
        assert route is not None  # only routed requests reach a handler
        missing = front_scopes.missing_scopes(route.name, self._granted(request.bearer() or ""))
        if missing:
            raise _Refused(json_response(403, front_scopes.forbidden_body(missing)))
        unknown = front_scopes.unknown_params(route.name, request.query)
        if unknown and self.config.reject_unknown_params:
            raise fd.QueryError(f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")

    def guarded(self, request: SimRequest, kind: str, key: str, body: Any) -> SimResponse:
        try:
            self.admit(request, kind, key)
            self.demands(request)
            return body()
        except _Refused as refused:
            return refused.response
        except fd.QueryError as bad:
            return self.error(400, "Bad request", str(bad))

    # Pagination ----------------------------------------------------------------------------------------
    def _limit(self, request: SimRequest) -> int:
        raw = request.arg("limit")
        if raw is None:
            return self.config.default_limit
        try:
            limit = int(raw)
        except ValueError:
            raise fd.QueryError(f"Invalid limit {raw!r}") from None
        if limit < 1:
            raise fd.QueryError("limit must be at least 1")
        if limit > MAX_LIMIT:
            if self.config.limit_over_max == "error":
                raise fd.QueryError(f"limit must be at most {MAX_LIMIT}")
            limit = MAX_LIMIT
        return limit

    def _next_base(self, request: SimRequest) -> str:
        if self.config.next_host == "company":  # the company-subdomain form: same server, other host name
            return request.base_url.replace("127.0.0.1", "localhost")
        return request.base_url

    def page(self, request: SimRequest, items: list[Any], keys: list[tuple[Any, ...]]) -> tuple[list[Any], str | None]:
        """Slice `items` (sorted by `keys`) at the request's cursor; returns (page, next URL or None)."""
        limit = self._limit(request)
        token = request.arg("page_token")
        state = fd.decode_token(token) if token else {}
        if state.get("end"):  # the injected "empty page that is not the last" fault
            return [], self._next_url(request, limit, token or "")
        if self.config.drift or "o" in state:
            start = int(state.get("o", 0))
            if token and self.config.drift and limit > 1:
                start = max(0, start - 1)  # an item landed above: the previous page's last item moves down
        else:
            start = bisect.bisect_right(keys, tuple(state["k"])) if "k" in state else 0
        chunk = items[start:start + limit]
        if start + limit >= len(items):
            return chunk, self._tail_next(request, limit, token)
        if self.config.drift:
            following = {"o": start + limit}
        else:
            following = {"k": list(keys[start + limit - 1])}
        return chunk, self._next_url(request, limit, fd.encode_token(following))

    def _tail_next(self, request: SimRequest, limit: int, token: str | None) -> str | None:
        fault = self.config.pagination_fault
        if fault == "repeat_next":
            return self._next_url(request, limit, token or fd.encode_token({"o": 0}))
        if fault == "empty_tail":
            return self._next_url(request, limit, fd.encode_token({"end": 1}))
        return None

    def _next_url(self, request: SimRequest, limit: int, token: str) -> str:
        query = {k: v for k, v in request.query.items() if k not in ("page_token", "limit")}
        params = [(k, v) for k, values in query.items() for v in values]
        params += [("limit", str(limit)), ("page_token", token)]
        return f"{self._next_base(request)}{request.path}?{urlencode(params)}"

    def envelope(self, request: SimRequest, results: list[Any], next_url: str | None,
                 total: int | None = None) -> SimResponse:
        body: dict[str, Any] = {"_pagination": {"next": next_url},
                                "_links": {"self": request.base_url + request.raw_target}}
        if total is not None:
            body["_total"] = total
        body["_results"] = results
        return json_response(200, body)

    def _conversation_page(self, request: SimRequest, found: list[SimConversation],
                           total: int | None = None) -> SimResponse:
        keys = [self._sort_key(c) for c in found]
        chunk, next_url = self.page(request, found, keys)
        results = [fd.conversation_json(c, request.base_url, self.config.include_updated_at) for c in chunk]
        return self.envelope(request, results, next_url, total)

    # Handlers ------------------------------------------------------------------------------------------
    def search(self, request: SimRequest) -> SimResponse:
        self.log.add("search_requests")

        def body() -> SimResponse:
            query = fd.parse_query(unquote(request.params["query"]))
            inclusive = self.config.inclusive_bounds
            found = [c for c in self._ordered if fd.matches(c, query, inclusive, self._haystacks[c.id])]
            return self._conversation_page(request, found, total=len(found))
        return self.guarded(request, "search", "", body)

    def list_conversations(self, request: SimRequest, inbox_id: str | None = None) -> SimResponse:
        def body() -> SimResponse:
            statuses = request.query.get("q[statuses][]", [])
            found = [c for c in self._ordered if (not statuses or c.status in statuses)
                     and (inbox_id is None or inbox_id in c.inbox_ids)]
            if request.arg("sort_order") == "asc" and inbox_id is None:
                found = found[::-1]
                keys = [(c.last_activity_at, c.id) for c in found]
                chunk, next_url = self.page(request, found, keys)
                results = [fd.conversation_json(c, request.base_url, self.config.include_updated_at)
                           for c in chunk]
                return self.envelope(request, results, next_url)
            return self._conversation_page(request, found)
        return self.guarded(request, "", "", body)

    def inbox_conversations(self, request: SimRequest) -> SimResponse:
        inbox_id = request.params["id"]
        if inbox_id not in {i.id for i in self.workspace.inboxes}:
            return self.guarded(request, "", "", lambda: self.error(404, "Not found",
                                                                    f"Unknown inbox ID {inbox_id}"))
        return self.list_conversations(request, inbox_id)

    def list_inboxes(self, request: SimRequest) -> SimResponse:
        def body() -> SimResponse:
            base = request.base_url
            results = [{"_links": {"self": f"{base}/inboxes/{i.id}",
                                   "related": {"conversations": f"{base}/inboxes/{i.id}/conversations"}},
                        "id": i.id, "name": i.name, "is_private": False, "is_public": True,
                        "custom_fields": {}} for i in self.workspace.inboxes]
            return self.envelope(request, results, None)
        return self.guarded(request, "", "", body)

    def _resolve(self, request: SimRequest, conversation_id: str, suffix: str) -> SimConversation | SimResponse:
        conversation = self.by_id.get(conversation_id)
        if conversation is None:
            return self.error(404, "Not found", f"Unknown conversation ID {conversation_id}")
        if conversation.merged_into:  # 301 to the survivor, one hop per request like the real API
            query = request.raw_target.partition("?")[2]
            location = f"{request.base_url}/conversations/{quote(conversation.merged_into)}{suffix}"
            return SimResponse(301, b"", [("location", location + (f"?{query}" if query else ""))])
        return conversation

    def get_conversation(self, request: SimRequest) -> SimResponse:
        conversation_id = unquote(request.params["id"])

        def body() -> SimResponse:
            found = self._resolve(request, conversation_id, "")
            if isinstance(found, SimResponse):
                return found
            return json_response(200, fd.conversation_json(found, request.base_url,
                                                           self.config.include_updated_at))
        return self.guarded(request, "conversation", conversation_id, body)

    def messages_of(self, request: SimRequest) -> SimResponse:
        conversation_id = unquote(request.params["id"])
        self.log.add("message_fetches")

        def body() -> SimResponse:
            found = self._resolve(request, conversation_id, "/messages")
            if isinstance(found, SimResponse):
                return found
            sort_by = request.arg("sort_by", "created_at")
            if sort_by != "created_at":
                raise fd.QueryError(f"Invalid sort_by {sort_by!r}")
            ascending = request.arg("sort_order", "desc") == "asc"
            ordered = sorted(found.messages, key=lambda m: (m.created_at, m.id), reverse=not ascending)
            keys = [(i,) for i in range(len(ordered))]
            chunk, next_url = self.page(request, ordered, keys)
            results = [fd.message_json(m, found.id, request.base_url) for m in chunk]
            return self.envelope(request, results, next_url)
        return self.guarded(request, "conversation", conversation_id, body)

    def get_message(self, request: SimRequest) -> SimResponse:
        message_id = unquote(request.params["id"])

        def body() -> SimResponse:
            found = self.messages.get(message_id)
            if found is None:
                return self.error(404, "Not found", f"Unknown message ID {message_id}")
            return json_response(200, fd.message_json(found[1], found[0].id, request.base_url))
        return self.guarded(request, "", "", body)
