"""Backoff: exponential growth, cap, jitter bounds, max attempts, Retry-After floor."""

from __future__ import annotations

import pytest

from desktop.clients.backoff import Backoff


def test_grows_exponentially_without_jitter():
    b = Backoff(base=2, factor=3, cap=1000, max_attempts=10, jitter=0)
    assert [b.delay(n) for n in (1, 2, 3, 4)] == [2, 6, 18, 54]


def test_capped():
    b = Backoff(base=10, factor=2, cap=60, max_attempts=99, jitter=0)
    assert b.delay(5) == 60
    assert b.delay(10_000) == 60  # no overflow for huge attempt counts


@pytest.mark.parametrize("roll", [0.0, 0.25, 0.999])
def test_jitter_stays_within_the_top_share(roll):
    b = Backoff(base=100, factor=2, cap=10_000, jitter=0.5)
    delay = b.delay(1, rand=lambda: roll)
    assert 50 <= delay <= 100
    assert delay == pytest.approx(50 + 50 * roll)


def test_jitter_spreads_items():
    import random

    rng = random.Random(3)
    b = Backoff(base=10, jitter=0.5)
    delays = {round(b.delay(3, rand=rng.random), 6) for _ in range(20)}
    assert len(delays) > 10


def test_max_attempts_gives_none():
    b = Backoff(base=1, max_attempts=3, jitter=0)
    assert b.next_attempt_at(100.0, 1) == 101.0
    assert b.next_attempt_at(100.0, 2) == 102.0
    assert b.exhausted(3)
    assert b.next_attempt_at(100.0, 3) is None


def test_retry_after_is_a_floor():
    b = Backoff(base=1, jitter=0)
    assert b.next_attempt_at(0.0, 1, retry_after=7.5) == 7.5
    assert b.next_attempt_at(0.0, 1, retry_after=0.1) == 1.0


@pytest.mark.parametrize("kwargs", [{"base": 0}, {"factor": 0.5}, {"cap": 0.5, "base": 1},
                                    {"max_attempts": 0}, {"jitter": 1.5}])
def test_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        Backoff(**kwargs)
