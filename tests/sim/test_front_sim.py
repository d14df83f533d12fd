"""The Front simulator over real HTTP (httpx): search, pagination, shapes, errors, rate limits and faults."""

from __future__ import annotations

import calendar
import json
import time
from urllib.parse import quote

import httpx
import pytest

from desktop.sim import SimConfig
from tests.sim.conftest import PLAIN, T0


def search_path(query: str) -> str:
    return "/conversations/search/" + quote(query, safe="")


def crawl(client: httpx.Client, first: str, params: dict | None = None, max_pages: int = 100) -> tuple[list, list]:
    """Follow _pagination.next to the end: (all results, all page bodies)."""
    response = client.get(first, params=params)
    assert response.status_code == 200, response.text
    pages = [response.json()]
    while pages[-1]["_pagination"]["next"] and len(pages) < max_pages:
        response = client.get(pages[-1]["_pagination"]["next"])
        assert response.status_code == 200, response.text
        pages.append(response.json())
    return [r for page in pages for r in page["_results"]], pages


def fresh_window(seconds: float) -> None:
    """Sleep into the start of a new fixed window, so a burst of requests lands in one window."""
    time.sleep(seconds - (time.time() % seconds) + 0.02)


# Auth and error shapes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_bad_token_is_401_with_front_error_shape(sims, http, token):
    response = http.front(sims, token).get("/inboxes")
    assert response.status_code == 401
    assert response.json() == {"_error": {"status": 401, "title": "Unauthenticated",
                                          "message": "JSON Web Token error"}}
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(response.headers)


def test_unknown_conversation_is_404_and_bad_query_is_400(sims, http):
    client = http.front(sims)
    missing = client.get("/conversations/cnv_nope")
    assert missing.status_code == 404
    assert missing.json()["_error"] == {"status": 404, "title": "Not found",
                                        "message": "Unknown conversation ID cnv_nope"}
    bad = client.get(search_path("after:yesterday"))
    assert bad.status_code == 400 and bad.json()["_error"]["title"] == "Bad request"
    assert client.get(search_path("is:bogus")).status_code == 400
    assert client.get("/conversations", params={"limit": 0}).status_code == 400
    assert client.get("/conversations", params={"page_token": "zz-not-hex"}).status_code == 400
    assert client.get("/inboxes/inb_nope/conversations").status_code == 404


# Search --------------------------------------------------------------------------------------------------
def test_search_pagination_visits_every_match_once_and_matches_total(sims, http):
    client = http.front(sims)
    results, pages = crawl(client, search_path(f"after:{T0 - 1} before:{T0 + 150_000}"), {"limit": 7})
    ids = [r["id"] for r in results]
    assert len(ids) == len(set(ids)) == pages[0]["_total"] == PLAIN + 1  # + the long thread
    assert all(p["_total"] == pages[0]["_total"] for p in pages)
    assert len(pages) == -(-len(ids) // 7) and pages[-1]["_pagination"]["next"] is None
    first_next = pages[0]["_pagination"]["next"]
    assert first_next.startswith(sims.front_url + "/conversations/search/") and "limit=7" in first_next
    assert "page_token=" in first_next
    assert pages[0]["_links"]["self"].startswith(sims.front_url + "/conversations/search/")
    activity = [r["updated_at"] for r in results]
    assert activity == sorted(activity, reverse=True)  # newest activity first


def test_time_filters_match_any_message_so_long_conversations_repeat(sims, http, tiny_ws):
    client = http.front(sims)

    def ids(query: str) -> set[str]:
        return {r["id"] for r in crawl(client, search_path(query), {"limit": 100})[0]}
    early = ids(f"after:{T0 - 6 * 86400} before:{T0 - 4 * 86400}")
    late = ids(f"after:{T0 + 2 * 86400} before:{T0 + 3 * 86400}")
    between = ids(f"after:{T0 - 3 * 86400} before:{T0 - 86400}")
    assert "cnv_multiday" in early and "cnv_multiday" in late and "cnv_multiday" not in between
    day = time.gmtime(T0 + 2 * 86400 + 10)
    start = calendar.timegm((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0))
    during = ids(f"during:{T0 + 2 * 86400 + 10}")
    on_that_day = {c.id for c in tiny_ws.conversations
                   if any(start <= m.created_at < start + 86400 for m in c.messages)}
    assert "cnv_multiday" in during and during == on_that_day
    assert "cnv_merged" not in ids(f"after:{T0 - 10 * 86400}")


def test_bounds_are_exclusive_by_default_and_inclusive_by_switch(sims, http, make_sims):
    # cnv_t001's only message is at exactly T0 + 600.
    query = search_path(f"after:{T0 + 600} before:{T0 + 601}")
    assert http.front(sims).get(query).json()["_total"] == 0
    inclusive = make_sims(lambda cfg: setattr(cfg.front, "inclusive_bounds", True))
    body = http.front(inclusive).get(query).json()
    assert [r["id"] for r in body["_results"]] == ["cnv_t001"]


def test_search_filters_and_free_text(sims, http):
    client = http.front(sims)

    def ids(query: str) -> set[str]:
        return {r["id"] for r in crawl(client, search_path(query), {"limit": 100})[0]}
    archived_support = ids("inbox:inb_support is:archived")
    assert archived_support == {f"cnv_t{i:03d}" for i in range(PLAIN) if i % 4 == 0}
    assert ids("tag:tag_vip") == {f"cnv_t{i:03d}" for i in range(0, PLAIN, 10)}
    assert ids('"lost shipment"') == {"cnv_t005"} == ids("label lost")
    assert ids('"shipment lost"') == set()
    assert "cnv_multiday" in ids("is:unreplied") and "cnv_t000" not in ids("is:unreplied")
    assert ids("from:casey@example.com order 1007") == {"cnv_t007"}


def test_limit_over_100_is_clamped_or_rejected_by_switch(sims, http, make_sims):
    body = http.front(sims).get("/conversations", params={"limit": 500}).json()
    assert len(body["_results"]) == 100
    strict = make_sims(lambda cfg: setattr(cfg.front, "limit_over_max", "error"))
    response = http.front(strict).get("/conversations", params={"limit": 500})
    assert response.status_code == 400 and "_error" in response.json()
    default = http.front(sims).get("/conversations").json()
    assert len(default["_results"]) == 50  # default page size when limit is left out


# Lists, objects, messages ---------------------------------------------------------------------------------
def test_inboxes_and_conversation_lists(sims, http):
    client = http.front(sims)
    inboxes = client.get("/inboxes").json()["_results"]
    assert {i["id"] for i in inboxes} == {"inb_support", "inb_orders"}
    everything, _ = crawl(client, "/conversations", {"limit": 100})
    assert len(everything) == PLAIN + 2 and "cnv_merged" not in {c["id"] for c in everything}
    ascending, _ = crawl(client, "/conversations", {"limit": 100, "sort_order": "asc"})
    assert [c["id"] for c in ascending] == [c["id"] for c in everything][::-1]
    archived, _ = crawl(client, "/conversations", {"q[statuses][]": "archived", "limit": 100})
    assert {c["status"] for c in archived} == {"archived"}
    orders, _ = crawl(client, "/inboxes/inb_orders/conversations", {"limit": 25})
    assert len(orders) == PLAIN // 2 + 1 and "_total" not in orders


def test_conversation_object_shape(sims, http, make_sims):
    body = http.front(sims).get("/conversations/cnv_t003").json()
    assert body["id"] == "cnv_t003" and body["type"] == "conversation" and isinstance(body["created_at"], float)
    assert body["updated_at"] == T0 + 3 * 600 + 60
    last = body["_links"]["related"]["last_message"]
    assert last == f"{sims.front_url}/messages/msg_t003b?referer=conversation"
    assert body["_links"]["related"]["messages"] == f"{sims.front_url}/conversations/cnv_t003/messages"
    for key in ("subject", "status", "assignee", "recipient", "tags", "links", "custom_fields", "is_private",
                "scheduled_reminders", "metadata", "ticket_ids"):
        assert key in body
    message = http.front(sims).get(last).json()
    assert message["id"] == "msg_t003b" and message["is_inbound"] is False
    no_updated = make_sims(lambda cfg: setattr(cfg.front, "include_updated_at", False))
    assert "updated_at" not in http.front(no_updated).get("/conversations/cnv_t003").json()


def test_messages_paginate_newest_first_without_total(sims, http):
    client = http.front(sims)
    messages, pages = crawl(client, "/conversations/cnv_long/messages", {"limit": 100})
    assert len(pages) == 2 and len(messages) == 150 and all("_total" not in p for p in pages)
    times = [m["created_at"] for m in messages]
    assert times == sorted(times, reverse=True)
    oldest_first, _ = crawl(client, "/conversations/cnv_long/messages",
                            {"limit": 60, "sort_by": "created_at", "sort_order": "asc"})
    assert [m["id"] for m in oldest_first] == [m["id"] for m in messages][::-1]
    inbound = next(m for m in messages if m["is_inbound"])
    outbound = next(m for m in messages if not m["is_inbound"])
    assert inbound["author"] is None and outbound["author"]["id"].startswith("tea_")
    assert inbound["body"].startswith("<div>") and inbound["text"] and inbound["blurb"]
    assert {r["role"] for r in inbound["recipients"]} == {"from", "to"}


def test_message_attachments_have_urls(sims, http):
    message = http.front(sims).get("/conversations/cnv_t005/messages").json()["_results"][0]
    assert message["attachments"][0]["filename"] == "label.pdf"
    assert message["attachments"][0]["url"].startswith(sims.front_url)


def test_merged_conversation_answers_301_to_the_survivor(sims, http):
    client = http.front(sims)
    response = client.get("/conversations/cnv_merged")
    assert response.status_code == 301
    assert response.headers["location"] == f"{sims.front_url}/conversations/cnv_t001"
    messages = client.get("/conversations/cnv_merged/messages", params={"limit": 10})
    assert messages.status_code == 301
    assert messages.headers["location"] == f"{sims.front_url}/conversations/cnv_t001/messages?limit=10"
    followed = client.get("/conversations/cnv_merged/messages", follow_redirects=True)
    assert followed.status_code == 200 and followed.json()["_results"][0]["id"] == "msg_t001a"


# Pagination switches ----------------------------------------------------------------------------------
def test_drift_mode_repeats_items_across_pages_but_loses_none(http, make_sims):
    drifting = make_sims(lambda cfg: setattr(cfg.front, "drift", True))
    results, pages = crawl(http.front(drifting), "/conversations", {"limit": 10})
    ids = [r["id"] for r in results]
    assert len(ids) > len(set(ids)) == PLAIN + 2  # duplicates to drop by id, nothing missing


def test_company_host_form_of_next_still_works(http, make_sims):
    company = make_sims(lambda cfg: setattr(cfg.front, "next_host", "company"))
    results, pages = crawl(http.front(company), "/conversations", {"limit": 100})
    assert pages[0]["_pagination"]["next"].startswith(f"http://localhost:{company.front.port}/")
    assert len(results) == PLAIN + 2


def test_pagination_faults_repeat_next_and_empty_tail(http, make_sims):
    repeat = make_sims(lambda cfg: setattr(cfg.front, "pagination_fault", "repeat_next"))
    client = http.front(repeat)
    _, pages = crawl(client, "/conversations", {"limit": 100}, max_pages=4)
    assert len(pages) == 4 and pages[2]["_pagination"]["next"] == pages[3]["_pagination"]["next"]
    empty = make_sims(lambda cfg: setattr(cfg.front, "pagination_fault", "empty_tail"))
    _, pages = crawl(http.front(empty), "/conversations", {"limit": 100}, max_pages=4)
    assert pages[2]["_results"] == [] and pages[2]["_pagination"]["next"]


# Rate limits ------------------------------------------------------------------------------------------------
def limited(cfg: SimConfig, per_window: int = 6, search_share: float = 1.0, per_conversation: int = 0) -> None:
    cfg.front.rate_limit_per_minute = per_window
    cfg.front.window_seconds = 2.0
    cfg.front.search_share = search_share
    cfg.front.per_conversation_per_second = per_conversation


def test_company_budget_headers_and_global_429(http, make_sims):
    limited_sims = make_sims(limited)
    client = http.front(limited_sims)
    fresh_window(2.0)
    remaining = []
    for _ in range(6):
        response = client.get("/inboxes")
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "6"
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
        assert abs(int(response.headers["x-ratelimit-reset"]) - time.time()) < 5  # epoch seconds
    assert remaining == [5, 4, 3, 2, 1, 0]
    refused = client.get("/inboxes")
    assert refused.status_code == 429 and refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["retry-after"].isdigit() and int(refused.headers["retry-after"]) >= 1
    assert "x-front-tier" not in refused.headers
    assert refused.json()["_error"]["status"] == 429
    time.sleep(int(refused.headers["x-ratelimit-reset"]) - time.time() + 0.05)
    assert client.get("/inboxes").status_code == 200
    log = limited_sims.front.log
    assert log.rate_limited == 1 and log.requests_by_route["GET /inboxes"] == 8


def test_search_is_held_to_its_share_with_tier_header_while_remaining_is_positive(http, make_sims):
    share = make_sims(lambda cfg: limited(cfg, per_window=10, search_share=0.4))
    client = http.front(share)
    fresh_window(2.0)
    statuses = [client.get(search_path("order")).status_code for _ in range(4)]
    refused = client.get(search_path("order"))
    assert statuses == [200] * 4 and refused.status_code == 429
    assert refused.headers["x-front-tier"] and int(refused.headers["x-ratelimit-remaining"]) > 0
    assert int(refused.headers["retry-after"]) >= 1
    assert client.get("/inboxes").status_code == 200  # the company budget is not used up
    assert share.front.log.search_requests == 5


def test_per_conversation_burst_limit(http, make_sims):
    burst = make_sims(lambda cfg: limited(cfg, per_window=100, per_conversation=2))
    client = http.front(burst)
    fresh_window(1.0)
    first = [client.get("/conversations/cnv_t002/messages").status_code for _ in range(2)]
    refused = client.get("/conversations/cnv_t002")
    assert first == [200, 200] and refused.status_code == 429
    assert refused.headers["x-front-tier"] == "2" and int(refused.headers["x-ratelimit-remaining"]) > 0
    assert "milliseconds" in refused.json()["_error"]["message"]
    assert client.get("/conversations/cnv_t004").status_code == 200  # another conversation is fine
    assert burst.front.log.message_fetches == 2


@pytest.mark.parametrize("mode", ["zero", "fractional"])
def test_retry_after_variants(http, make_sims, mode):
    variant = make_sims(lambda cfg: (limited(cfg, per_window=1), setattr(cfg.front, "retry_after_mode", mode)))
    client = http.front(variant)
    fresh_window(2.0)
    client.get("/inboxes")
    refused = client.get("/inboxes")
    assert refused.status_code == 429
    value = float(refused.headers["retry-after"])
    assert value == 0 if mode == "zero" else 0 < value < 1


def test_rate_limits_switch_off(http, make_sims):
    off = make_sims(lambda cfg: (limited(cfg, per_window=1), setattr(cfg.front, "rate_limits", False)))
    client = http.front(off)
    assert {client.get("/inboxes").status_code for _ in range(5)} == {200}


# Transport faults, latency and the log ----------------------------------------------------------------------
def test_5xx_fault_uses_the_error_shape(http, make_sims):
    failing = make_sims(lambda cfg: setattr(cfg.front.faults, "error_5xx_rate", 1.0))
    response = http.front(failing).get("/inboxes")
    assert response.status_code in (500, 502, 503) and response.json()["_error"]["status"] == response.status_code


def test_reset_fault_drops_the_connection(http, make_sims):
    resetting = make_sims(lambda cfg: setattr(cfg.front.faults, "reset_rate", 1.0))
    with pytest.raises(httpx.TransportError):
        http.front(resetting).get("/inboxes")


def test_timeout_fault_holds_longer_than_the_client_waits(http, make_sims):
    def tweak(cfg: SimConfig) -> None:
        cfg.front.faults.timeout_rate = 1.0
        cfg.front.faults.timeout_hold_seconds = 1.0
    holding = make_sims(tweak)
    with pytest.raises(httpx.ReadTimeout):
        http.front(holding, timeout=0.3).get("/inboxes")


def test_latency_tail_delays_responses(http, make_sims):
    def tweak(cfg: SimConfig) -> None:
        cfg.front.latency.median_ms = 100.0
        cfg.front.latency.spread = 0.0
        cfg.front.latency.tail_probability = 1.0
        cfg.front.latency.tail_multiplier = 2.0
    slow = make_sims(tweak)
    started = time.monotonic()
    assert http.front(slow).get("/inboxes").status_code == 200
    assert time.monotonic() - started >= 0.2  # a lower bound only: the injected delay is exact


def test_log_counts_routes_rates_and_fetches(http, make_sims):
    fresh = make_sims()
    client = http.front(fresh)
    for _ in range(3):
        client.get("/conversations/cnv_t001/messages")
    client.get(search_path("order"))
    log = fresh.front.log
    assert log.requests_by_route["GET /conversations/{id}/messages"] == 3
    assert log.message_fetches == 3 and log.search_requests == 1 and log.total_requests == 4
    assert 1 <= log.max_rate_per_second <= 4
    assert json.loads(json.dumps(log.snapshot()))["total_requests"] == 4


def test_config_from_file_nests_and_rejects_unknown_keys(tmp_path):
    path = tmp_path / "sim.json"
    path.write_text(json.dumps({"front": {"rate_limit_per_minute": 100, "faults": {"error_5xx_rate": 0.1}},
                                "ship24": {"postcode_required_couriers": ["dpd"]}}))
    cfg = SimConfig.from_file(path)
    assert cfg.front.rate_limit_per_minute == 100 and cfg.front.faults.error_5xx_rate == 0.1
    assert cfg.ship24.postcode_required_couriers == ("dpd",) and cfg.openai.requests_per_minute == 500
    path.write_text(json.dumps({"front": {"rate_limit_per_mnute": 1}}))
    with pytest.raises(ValueError, match="rate_limit_per_mnute"):
        SimConfig.from_file(path)
