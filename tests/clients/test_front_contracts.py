"""Contract tests for the Front requests issue 10 added (the estimate's count over several inboxes, the
connection test's latest conversation and its messages) and the simulator's answers to them, checked
against Front's own OpenAPI document (../shared/api-specs; skipped where that folder is absent). The
general Front, OpenAI and Ship24 contract tests live in test_contracts.py; this file adds what is new.

Also: the scopes a token needs for each request the app makes come from the spec's `x-required-scopes`,
and the simulator enforces exactly those (a token with only README's two scopes scans and tests fine).
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from desktop.clients.front import ROUTE_SCOPES, FrontClient, MissingScope
from desktop.gui.connection import test_connection as probe
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace
from tests.helpers.specs import Wire, admitting_null, errors, load_spec

SCAN_TOKEN = "scan-only"
#: spec path -> (our request kind, response component)
OPERATIONS = {"/conversations/search/{query}": ("search", "listOfConversationSearchResults"),
              "/conversations": ("conversations", "listOfConversations"),
              "/conversations/{conversation_id}/messages": ("messages", "listOfMessages"),
              "/inboxes": ("inboxes", "listOfInboxes")}


@pytest.fixture(scope="module")
def sims():
    workspace = generate_workspace(seed=7, conversations=25)
    config = SimConfig.for_tests()
    config.front.extra_tokens = {SCAN_TOKEN: ["conversations:read", "messages:read"]}
    with start_simulators(workspace, config) as running:
        yield running, workspace




def _spec_path(path: str) -> str:
    if path.startswith("/conversations/search/"):
        return "/conversations/search/{query}"
    if path.endswith("/messages"):
        return "/conversations/{conversation_id}/messages"
    return path


def _query_names(spec: dict, operation: dict) -> set[str]:
    resolved = [spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                for p in operation.get("parameters", [])]
    return {p["name"] for p in resolved if p["in"] == "query"}


def _record(sims, token: str, action) -> Wire:
    running, _ = sims
    wire = Wire()

    async def main():
        http = httpx.AsyncClient(event_hooks={"response": [wire.on_response]})
        try:
            await action(running.front_url, token, http)
        finally:
            await http.aclose()
    asyncio.run(main())
    return wire


def test_the_count_and_the_connection_test_follow_the_spec(sims):
    spec = load_spec("front-core-api.subset.json")
    answers = admitting_null(spec)
    _, workspace = sims
    inboxes = tuple(inbox.id for inbox in workspace.inboxes[:2])

    async def action(url, token, http):
        async with FrontClient(url, token, http=http) as front:
            assert await front.count(workspace.start - 10, workspace.end, inboxes) > 0
        ok, message = await probe("front", url, token, http)
        assert ok, message
    wire = _record(sims, DEMO_KEYS["front"], action)

    seen = set()
    for request, status, body in wire.exchanges:
        path = _spec_path(urlsplit(str(request.url)).path)
        kind, component = OPERATIONS[path]
        seen.add(kind)
        operation = spec["paths"][path]["get"]
        query = dict(parse_qsl(urlsplit(str(request.url)).query))
        assert set(query) <= _query_names(spec, operation), f"{path}: {set(query)} not all in the spec"
        assert int(query.get("limit", 1)) <= spec["components"]["parameters"]["limit"]["schema"]["maximum"]
        assert status == 200
        schema = f"#/components/responses/{component}/content/application~1json/schema"
        assert errors(answers, schema, body) == [], f"the simulator's answer to {path} breaks the spec"
        assert ROUTE_SCOPES[kind] in operation["x-required-scopes"]      # the scope we name on a 403
    assert seen == {"search", "conversations", "messages", "inboxes"}
    searches = [r for r, _, _ in wire.exchanges if "/search/" in str(r.url)]
    assert len(searches) == len(inboxes)                                 # one per inbox, none per page


def test_a_missing_scope_is_fronts_403_error_shape_and_the_scan_scopes_suffice(sims):
    """Front's spec defines no error schema: the shape is api-notes §1.7's `_error` object."""
    _, workspace = sims

    async def action(url, token, http):
        async with FrontClient(url, token, http=http) as front:
            refs = [ref async for page in front.search(workspace.start - 10, workspace.end) for ref in page]
            await front.conversation_messages(refs[0].id)
            with pytest.raises(MissingScope):
                await front.inboxes()
    wire = _record(sims, SCAN_TOKEN, action)
    statuses = {urlsplit(str(r.url)).path.split("/")[1]: status for r, status, _ in wire.exchanges}
    assert statuses == {"conversations": 200, "inboxes": 403}
    [(_, _, refused)] = [(r, s, b) for r, s, b in wire.exchanges if s == 403]
    assert set(refused) == {"_error"} and set(refused["_error"]) == {"status", "title", "message"}
    assert refused["_error"]["status"] == 403 and isinstance(refused["_error"]["message"], str)
