"""A PC clock minutes away from Front's: the Front simulator's clock-offset switch, both directions, over
loopback. `x-ratelimit-reset` is an epoch on Front's clock; the client reads Front's time from `Date`."""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop.clients.front import FrontClient
from tests.helpers.synthetic import front_server

TOKEN = "demo-front-token"


def fetch_all(server, ids) -> tuple[float, object, int]:
    async def main():
        async with FrontClient(server.url, TOKEN) as front:
            started = time.monotonic()
            await asyncio.gather(*(front.conversation_messages(i) for i in ids))
            return time.monotonic() - started, front.stats, front.pacer.company.limit
    return asyncio.run(main())


@pytest.mark.parametrize("offset", [180.0, -180.0], ids=["front-3-min-ahead", "front-3-min-behind"])
def test_a_clock_minutes_off_neither_stalls_a_scan_nor_causes_a_429(offset):
    window = 2.0
    with front_server(80, per_minute=20, window_seconds=window) as (server, ws):   # 16 a window are ours
        server.config.clock_offset_seconds = offset
        ids = [c.id for c in ws.conversations if c.messages and not c.merged_into][:40]
        seconds, stats, limit = fetch_all(server, ids)
    assert limit == 20
    assert server.log.rate_limited == 0 and stats.rate_limited == 0
    # 40 requests, 16 per 2-s window: three windows. Trusting the PC clock would wait ~3 minutes for the
    # first reset (Front ahead) or send into the spent window and get 429s (Front behind).
    assert seconds < 5 * window, f"stalled for {seconds:.1f} s"


def test_the_date_header_follows_the_simulated_clock():
    import email.utils

    import httpx

    with front_server(5, per_minute=50) as (server, _ws):
        server.config.clock_offset_seconds = -180.0
        answer = httpx.get(f"{server.url}/inboxes", headers={"Authorization": f"Bearer {TOKEN}"})
    stated = email.utils.parsedate_to_datetime(answer.headers["date"]).timestamp()
    assert abs(stated - (time.time() - 180.0)) < 2.0
    assert 0 < float(answer.headers["x-ratelimit-reset"]) - stated <= 61
