"""Contract tests: what our clients send and what our simulators answer, checked against the services' own
OpenAPI documents (../shared/api-specs; skipped where that folder is absent).

Real clients against the real simulators over loopback; every request and answer on the wire is recorded
by the HTTP clients' event hooks and validated with jsonschema against the spec's schemas.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import httpx2
import openai
import pytest

from desktop.clients.front import FrontClient
from desktop.clients.llm import LlmClient
from desktop.core.llm_extractor import ShipmentList, load_prompt
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace
from tests.helpers.specs import Wire, admitting_null, errors, load_spec


@pytest.fixture(scope="module")
def sims():
    workspace = generate_workspace(seed=7, conversations=25)
    running = start_simulators(workspace, SimConfig.for_tests())
    yield running, workspace
    for server in (running.front, running.openai, running.ship24):
        server.stop()




# -- Front ---------------------------------------------------------------------------------------------
FRONT_ROUTES = {   # our route kind -> (spec path, method, response component)
    "search": ("/conversations/search/{query}", "listOfConversationSearchResults"),
    "messages": ("/conversations/{conversation_id}/messages", "listOfMessages"),
    "inboxes": ("/inboxes", "listOfInboxes"),
}


def _front_kind(path: str) -> str:
    if path.startswith("/conversations/search/"):
        return "search"
    return "messages" if path.endswith("/messages") else "inboxes"


def test_front_requests_and_simulated_answers_follow_the_spec(sims):
    spec = load_spec("front-core-api.subset.json")
    answers = admitting_null(spec)    # Front sends null for absent relations; its spec marks none nullable
    running, workspace = sims
    wire = Wire()

    async def main():
        http = httpx.AsyncClient(event_hooks={"response": [wire.on_response]})
        async with FrontClient(running.front_url, DEMO_KEYS["front"], http=http) as front:
            await front.inboxes()
            refs = [ref async for page in front.search(workspace.start - 10, workspace.end) for ref in page]
            for ref in refs[:8]:
                await front.conversation_messages(ref.id)
        await http.aclose()
    asyncio.run(main())

    seen = set()
    for request, status, body in wire.exchanges:
        kind = _front_kind(urlsplit(str(request.url)).path)
        seen.add(kind)
        path, component = FRONT_ROUTES[kind]
        operation = spec["paths"][path]["get"]
        allowed = {p.get("name") or spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
                   for p in operation.get("parameters", [])} - {"query", "conversation_id"}
        query = dict(parse_qsl(urlsplit(str(request.url)).query))
        assert set(query) <= allowed, f"{kind}: {set(query) - allowed} is not a parameter of {path}"
        assert int(query.get("limit", 1)) <= spec["components"]["parameters"]["limit"]["schema"]["maximum"]
        assert status == 200
        schema = f"#/components/responses/{component}/content/application~1json/schema"
        assert errors(answers, schema, body) == [], f"the simulator's {kind} answer breaks the spec"
    assert seen == {"search", "messages", "inboxes"}
    search_query = unquote(urlsplit(str(wire.exchanges[1][0].url)).path.rsplit("/", 1)[1])
    assert search_query.startswith("after:") and " before:" in search_query   # epoch seconds, Front's syntax


def test_a_scan_needs_only_the_scopes_the_readme_asks_for(sims):
    """The routes a scan calls (observed on the wire) need exactly the token scopes README.md asks for.
    (Listing inboxes needs `inboxes:read` too, and the simulator checks no scopes yet: issue 10.)"""
    import re

    from tests.helpers.shared import REPO_ROOT

    spec = load_spec("front-core-api.subset.json")
    running, workspace = sims
    wire = Wire()

    async def main():
        http = httpx.AsyncClient(event_hooks={"response": [wire.on_response]})
        async with FrontClient(running.front_url, DEMO_KEYS["front"], http=http) as front:
            async for page in front.search(workspace.start - 10, workspace.end):
                await front.conversation_messages(page[0].id)
        await http.aclose()
    asyncio.run(main())
    used = {FRONT_ROUTES[_front_kind(urlsplit(str(r.url)).path)][0] for r, _, _ in wire.exchanges}
    needed = {scope for path in used for scope in spec["paths"][path]["get"]["x-required-scopes"]}
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    token_row = next(line for line in readme.splitlines() if "FRONT_API_TOKEN" in line and "|" in line)
    assert needed == set(re.findall(r"`(\w+:read)`", token_row)) == {"conversations:read", "messages:read"}


# -- OpenAI --------------------------------------------------------------------------------------------
def test_openai_request_and_simulated_answer_follow_the_spec(sims):
    """The request the client builds itself (the strict response format made once per schema, sent as is)
    is the one the spec describes; the simulator's answer is a spec chat completion."""
    spec = load_spec("openai.subset.json")
    running, _ = sims
    wire = Wire()

    async def main():
        http = openai.DefaultAsyncHttpx2Client(trust_env=False, event_hooks={"response": [wire.on_response]})
        client = LlmClient(running.openai_url, DEMO_KEYS["openai"], "gpt-4.1-mini", http_client=http)
        try:
            return await client.parse(load_prompt(), "Your UPS tracking number is 1Z999AA10123456784.",
                                      ShipmentList)
        finally:
            await client.aclose()
    reply = asyncio.run(main())

    [(models, models_status, listed), (request, status, body)] = wire.exchanges
    # The key check before the first call: `GET /models`, answered as the spec's ListModelsResponse.
    assert (models.method, urlsplit(str(models.url)).path, models_status) == ("GET", "/v1/models", 200)
    assert "/models" in spec["paths"] and "get" in spec["paths"]["/models"]
    assert errors(spec, "#/components/schemas/ListModelsResponse", listed) == []
    sent = json.loads(request.content)
    assert errors(spec, "#/components/schemas/CreateChatCompletionRequest", sent) == []
    assert sent["response_format"]["type"] == "json_schema" and sent["response_format"]["json_schema"]["strict"]
    assert status == 200
    assert errors(spec, "#/components/schemas/CreateChatCompletionResponse", body) == []
    assert reply.parsed.shipments[0].tracking_number == "1Z999AA10123456784"


def test_openai_error_answers_have_the_documented_shape(sims):
    spec = load_spec("openai.subset.json")
    running, _ = sims
    answer = httpx2.post(f"{running.openai_url}/chat/completions", json={"model": "x", "messages": []},
                         headers={"Authorization": "Bearer wrong-key"})
    assert answer.status_code == 401
    pointer = "#/components/schemas/ErrorResponse"
    if "ErrorResponse" not in spec["components"]["schemas"]:
        pytest.skip("this spec subset has no ErrorResponse schema")
    assert errors(spec, pointer, answer.json()) == []


# -- Ship24 --------------------------------------------------------------------------------------------
def test_ship24_create_and_bulk_follow_the_spec(db):
    """The payload the outbox builds for a shipment (`outbox.payload_for`), as the client sends it to
    `POST /trackers` and `/trackers/bulk`, is the spec's tracker-create-request; the simulator's answers
    are the spec's 201 bodies."""
    from desktop.clients.ship24 import Ship24Client
    from desktop.store import outbox
    from desktop.store.tables import ShipmentRow
    from tests.helpers.registration import SHIP24_KEY, add_shipment, ship24_sim

    spec = load_spec("ship24-tracking-api.yaml")
    ids = [add_shipment("1Z999AA10123456784", postcode="10115", country="DE", order_number="PO-7"),
           add_shipment("9400111899223100017251", courier="usps", courier_code="us-post", carrier="USPS")]
    payloads = [outbox.payload_for(ShipmentRow.get_by_id(i)) for i in ids]
    wire = Wire()
    with ship24_sim() as sim:
        async def main():
            http = httpx.AsyncClient(event_hooks={"response": [wire.on_response]})
            async with Ship24Client(sim.url, SHIP24_KEY, http=http) as client:
                await client.create_tracker(payloads[0])
                await client.create_trackers_bulk(payloads)
            await http.aclose()
        asyncio.run(main())

    operations = {"/public/v1/trackers": "#/components/schemas/tracker-create-request"}
    for request, status, body in wire.exchanges:
        path = urlsplit(str(request.url)).path
        sent = json.loads(request.content)
        answer = spec["paths"][path]["post"]["responses"][str(status)]["content"]["application/json"]["schema"]
        pointer = "#/paths/" + path.replace("/", "~1") + f"/post/responses/{status}/content/application~1json/schema"
        assert status in (200, 201, 207) and answer
        if path in operations:
            assert errors(spec, operations[path], sent) == []
        else:
            request_pointer = "#/paths/" + path.replace("/", "~1") + \
                "/post/requestBody/content/application~1json/schema"
            assert errors(spec, request_pointer, sent) == []
        assert errors(spec, pointer, body) == [], f"the simulator's answer to {path} breaks the spec"
    assert {urlsplit(str(r.url)).path for r, _, _ in wire.exchanges} == {"/public/v1/trackers",
                                                                        "/public/v1/trackers/bulk"}


SHIP24_READS = {   # (method, spec path) -> pointer of the answer's schema, or None: the `tracker` in data
    ("GET", "/public/v1/couriers"): "#/paths/~1public~1v1~1couriers/get/responses/200/content/application~1json/schema",
    ("GET", "/public/v1/trackers/{trackerId}"): None,
    ("PATCH", "/public/v1/trackers/{trackerId}"): None,
    ("GET", "/public/v1/trackers/{trackerId}/results"):
        "#/paths/~1public~1v1~1trackers~1{trackerId}~1results/get/responses/200/content/application~1json/schema",
}


def _ship24_route(method: str, path: str) -> tuple[str, str]:
    parts = path.split("/")
    if len(parts) > 4 and parts[3] == "trackers" and parts[4] not in ("bulk", "track", "search"):
        parts[4] = "{trackerId}"
    return method, "/".join(parts)


def test_ship24_couriers_update_and_results_follow_the_spec(db):
    """The requests the worker and the status refresher really send -- GET /couriers, the create, the PATCH
    that settles a tracker_conflict after an edit (desktop.core.conflicts), GET /trackers/{id} and its
    results, by clientTrackerId where they use it -- against their operations (parameters, body), and the
    simulator's answers against the documented schemas. (The spec's GET/PATCH tracker schema is the
    `tracker` itself while its examples wrap it in `data.tracker`, as the API does: the tracker is checked.)"""
    from desktop.clients.ship24 import Ship24Client
    from desktop.core.registration import RegistrationWorker
    from desktop.core.status import StatusRefresher
    from desktop.store import outbox, review
    from tests.core.test_registration import LoseAnswers
    from tests.helpers.registration import SHIP24_KEY, add_shipment, ship24_sim

    spec = load_spec("ship24-tracking-api.yaml")
    sid = add_shipment("1Z999AA10123456784", courier_code="ups")
    wire = Wire()
    with ship24_sim() as sim:
        async def main():
            lost = httpx.AsyncClient(transport=LoseAnswers(1))   # the create's answer is lost
            async with Ship24Client(sim.url, SHIP24_KEY, http=lost) as client:
                await RegistrationWorker(client).drain_once()
            await lost.aclose()
            review.set_destination([sid], postcode="10115", country="DE")
            http = httpx.AsyncClient(event_hooks={"response": [wire.on_response]})
            async with Ship24Client(sim.url, SHIP24_KEY, http=http) as client:
                await RegistrationWorker(client).drain_once()      # 400 tracker_conflict -> PATCH
                await client.get_tracker(outbox.registration_for(sid).client_tracker_id, by_client_id=True)
                await StatusRefresher(client).refresh()
            await http.aclose()
        asyncio.run(main())
    assert outbox.registration_for(sid).state == "registered"

    seen = set()
    for request, status, body in wire.exchanges:
        url = urlsplit(str(request.url))
        route = _ship24_route(request.method, url.path)
        if status == 429:   # GET /couriers is 1/s per key: the new worker's first ask may meet the last one's
            assert body is None and route == ("GET", "/public/v1/couriers")  # plain text; waited, asked again
            continue
        if route == ("POST", "/public/v1/trackers"):
            assert status == 400 and body["errors"][0]["code"] == "tracker_conflict"
            assert errors(spec, "#/components/schemas/tracker-create-request", json.loads(request.content)) == []
            continue
        seen.add(route)
        operation = spec["paths"][route[1]][route[0].lower()]
        params = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
        for name, value in parse_qsl(url.query):
            assert name in params and value in params[name]["schema"].get("enum", [value]), (route, name)
        if route[0] == "PATCH":
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            sent = json.loads(request.content)
            assert set(sent) <= set(schema["properties"]) and sent, sent
            assert errors(spec, "#/paths/~1public~1v1~1trackers~1{trackerId}/patch/requestBody/content/"
                                "application~1json/schema", sent) == []
        assert status == 200, route
        pointer = SHIP24_READS[route]
        if pointer is None:
            assert errors(spec, "#/components/schemas/tracker", body["data"]["tracker"]) == [], route
        else:
            assert errors(spec, pointer, body) == [], f"the simulator's answer to {route} breaks the spec"
    assert seen == set(SHIP24_READS)


SHIP24_OTHERS = {   # the client's other operations: (method, spec path) -> the answer's schema
    ("POST", "/public/v1/trackers/track"):
        "#/paths/~1public~1v1~1trackers~1track/post/responses/200/content/application~1json/schema",
    ("GET", "/public/v1/trackers/search/{trackingNumber}/results"):
        "#/paths/~1public~1v1~1trackers~1search~1{trackingNumber}~1results/get/responses/200/content/"
        "application~1json/schema",
    ("GET", "/public/v1/trackers"):
        "#/paths/~1public~1v1~1trackers/get/responses/200/content/application~1json/schema",
}


@pytest.mark.parametrize("track_status", [200, 201])
def test_ship24_track_search_and_list_follow_the_spec(db, track_status):
    """The client's remaining operations (`track`, `search_results`, `list_trackers`: no part of the app
    calls them today, the client offers them): requests against their operations, the simulator's answers
    against the documented schemas. `POST /trackers/track` answers 200 in the spec and 201 live (a switch
    of the simulator): the client takes either, and the body is the same."""
    from desktop.clients.ship24 import Ship24Client
    from tests.helpers.registration import SHIP24_KEY, ship24_sim

    spec = load_spec("ship24-tracking-api.yaml")
    wire = Wire()
    with ship24_sim(track_status=track_status) as sim:
        async def main():
            http = httpx.AsyncClient(event_hooks={"response": [wire.on_response]})
            async with Ship24Client(sim.url, SHIP24_KEY, http=http) as client:
                await client.track({"trackingNumber": "SHIP24_SAMPLE_DELIVERED_001"})
                await client.search_results("SHIP24_SAMPLE_DELIVERED_001")
                await client.list_trackers(page=1, limit=10)
            await http.aclose()
        asyncio.run(main())
    seen = set()
    for request, status, body in wire.exchanges:
        url = urlsplit(str(request.url))
        parts = url.path.split("/")
        if len(parts) > 5 and parts[4] == "search":
            parts[5] = "{trackingNumber}"
        route = (request.method, "/".join(parts))
        operation = spec["paths"][route[1]][route[0].lower()]
        params = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
        for name, _value in parse_qsl(url.query):
            assert name in params, (route, name)
        if route[0] == "POST":
            assert errors(spec, "#/paths/~1public~1v1~1trackers~1track/post/requestBody/content/"
                                "application~1json/schema", json.loads(request.content)) == []
        assert status == (track_status if route[1].endswith("/track") else 200), (route, status, body)
        assert errors(spec, SHIP24_OTHERS[route], body) == [], f"the simulator's answer to {route} breaks the spec"
        seen.add(route)
    assert seen == set(SHIP24_OTHERS)
