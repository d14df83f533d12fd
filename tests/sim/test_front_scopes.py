"""The Front simulator's scopes and query parameters: its own table agrees with Front's spec, tokens carry
scopes (the demo token all of them), a missing scope is Front's 403, an unknown parameter a 400 (switch)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from desktop.sim.front_scopes import ROUTES
from tests.helpers.specs import load_spec
from tests.sim.conftest import T0

SCAN_TOKEN = "scan-only-token"
SCAN_SCOPES = ["conversations:read", "messages:read"]
SEARCH = "/conversations/search/" + quote(f"after:{T0 - 1} before:{T0 + 9000}", safe="")
#: One request per route the simulator serves: (route name, path).
REQUESTS = [("GET /conversations/search/{query}", SEARCH), ("GET /conversations", "/conversations"),
            ("GET /inboxes", "/inboxes"), ("GET /inboxes/{id}/conversations", "/inboxes/inb_support/conversations"),
            ("GET /conversations/{id}", "/conversations/cnv_t003"),
            ("GET /conversations/{id}/messages", "/conversations/cnv_t003/messages"),
            ("GET /messages/{id}", "/messages/msg_t003a")]
#: The simulator's templates name path parameters `{id}`; the spec names them per resource.
SPEC_PATHS = {"/inboxes/{id}/conversations": "/inboxes/{inbox_id}/conversations",
              "/conversations/{id}": "/conversations/{conversation_id}",
              "/conversations/{id}/messages": "/conversations/{conversation_id}/messages",
              "/messages/{id}": "/messages/{message_id}"}


def _spec_operation(spec: dict, route: str) -> dict:
    method, template = route.split(" ", 1)
    return spec["paths"][SPEC_PATHS.get(template, template)][method.lower()]


def _query_params(spec: dict, operation: dict) -> set[str]:
    resolved = [spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                for p in operation.get("parameters", [])]
    return {p["name"] for p in resolved if p["in"] == "query"}


def test_the_simulators_table_is_the_specs_scopes_and_parameters():
    spec = load_spec("front-core-api.subset.json")
    assert {name for name, _ in REQUESTS} == set(ROUTES)       # every served route has its rules
    for route, rules in ROUTES.items():
        operation = _spec_operation(spec, route)
        assert rules.scopes == tuple(operation["x-required-scopes"]), route
        assert set(rules.params) - {"referer"} == _query_params(spec, operation), route  # referer: see table


def test_the_demo_token_has_every_scope(sims, http):
    client = http.front(sims)
    for route, path in REQUESTS:
        assert client.get(path).status_code == 200, route


def test_a_token_without_a_scope_gets_fronts_403_on_exactly_those_routes(make_sims, http):
    running = make_sims(lambda cfg: cfg.front.extra_tokens.update({SCAN_TOKEN: SCAN_SCOPES}))
    client = http.front(running, SCAN_TOKEN)
    for route, path in REQUESTS:
        response = client.get(path)
        if "inboxes:read" in ROUTES[route].scopes:
            assert response.status_code == 403, route
            assert response.json() == {"_error": {"status": 403, "title": "Forbidden",
                                                  "message": "Missing required scopes: [inboxes:read]"}}
            assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(response.headers)
        else:
            assert response.status_code == 200, route
    # The demo token still has everything, and an unknown token is still a 401.
    assert http.front(running).get("/inboxes").status_code == 200
    assert http.front(running, "some-other-token").get(SEARCH).status_code == 401


def test_the_main_token_can_be_given_scopes_too(make_sims, http):
    running = make_sims(lambda cfg: setattr(cfg.front, "token_scopes", ["conversations:read"]))
    client = http.front(running)
    assert client.get(SEARCH).status_code == 200
    refused = client.get("/conversations/cnv_t003/messages")
    assert refused.status_code == 403
    assert refused.json()["_error"]["message"] == "Missing required scopes: [messages:read]"
    assert client.get("/messages/msg_t003a").status_code == 403


@pytest.mark.parametrize("strict", [True, False])
def test_unknown_query_parameters_are_rejected_by_switch(make_sims, http, strict):
    running = make_sims(lambda cfg: setattr(cfg.front, "reject_unknown_params", strict))
    client = http.front(running)
    for path, params in ((SEARCH, {"limit": 5, "sort_order": "asc"}), ("/inboxes", {"limit": 5}),
                         ("/conversations/cnv_t003/messages", {"q": "x"})):
        response = client.get(path, params=params)
        if strict:
            assert response.status_code == 400, path
            assert response.json()["_error"]["title"] == "Bad request"
            assert "Unknown query parameter" in response.json()["_error"]["message"]
        else:
            assert response.status_code == 200, path
    # What the spec lists is always accepted, the query object's bracket form included.
    assert client.get("/conversations", params={"q[statuses][]": "archived", "limit": 5,
                                                "sort_by": "date", "sort_order": "asc"}).status_code == 200
    assert client.get("/conversations/cnv_t003/messages",
                      params={"limit": 5, "sort_by": "created_at", "sort_order": "asc"}).status_code == 200
    assert client.get(SEARCH, params={"limit": 5}).status_code == 200


def test_a_scope_is_checked_before_the_parameters(make_sims, http):
    running = make_sims(lambda cfg: cfg.front.extra_tokens.update({SCAN_TOKEN: SCAN_SCOPES}))
    assert http.front(running, SCAN_TOKEN).get("/inboxes", params={"bogus": 1}).status_code == 403
