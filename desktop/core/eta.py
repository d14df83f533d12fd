"""When will the scan end? A prediction from the run's own measured rates, not from assumptions.

A scan ends when two things are over:
1. the throughput phase: every listed conversation has started; conversations start as fast as others
   finish (the window is full) or as the budgets allow, so the measured completion rate carries on;
2. the tail: the conversations still running when the last one started. Answer times have a heavy tail,
   so the slowest of them, not the average, decides the end.

`Eta` is fed each conversation's start and end, and, when it holds its slot while it waits (for Front's
budget, then its fetch), when its messages are in hand (`conversation_served`): its answer time counts
from then. A conversation held 40 s by the budget is not a 40 s answer: counted as one, the tail read as
enormous (the demo scan's ETA said 15 s left for a scan that ended 0.1 s later). The wait is the budget's,
and `budget_wait(n)` (the Front client's pacer) says how long the budget keeps the waiting ones and n more.
`seconds_left(expected_total)` is the later of:
- throughput: `(still to start) / (completions per second so far)`, or the budget's wait for them and
  the waiting ones when that is longer, plus a typical answer time;
- tail: answer times follow a log-normal, fitted to the answers so far with the conversations still
  running counted as "at least this long" (censored: the quick answers come back first, so a plain fit
  would never see the slow ones); the end is when the slowest of the conversations still to finish is
  expected to be done (the median of their maximum, each running one conditioned on its age so far).
Pure arithmetic with an injected clock: tested without a network (tests/core/test_eta.py).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist

#: Below this many answer times the tail is not fitted (the throughput part alone is used).
MIN_SAMPLES = 8
#: The fit and the tail are recomputed at most this often (seconds): they read every answer time so far...
REFIT_EVERY = 0.5
#: ...or sooner, once this share more answers came in (a scan of a few seconds has few such intervals),
#: but not sooner than this: as the first window's answers pour in (8, 9, 11, 13... answers) every one
#: would refit, and each fit costs the event loop a few milliseconds while it should be sending calls.
REFIT_GROWTH = 0.1
REFIT_MIN_INTERVAL = 0.1
#: The tail's end is at most this many times the longest answer seen so far, after the last start.
TAIL_STRETCH = 3.0
#: Points that stand for the running conversations, and for those still to start, in the tail's sum.
SAMPLE_POINTS = 40
#: The tail ends when all pending answers are in with this chance: the median of the slowest one's end.
#: (Measured on simulated runs, tests/core/test_eta.py: later quantiles are worse on heavy tails.)
ALL_DONE_CHANCE = 0.5
_NORMAL = NormalDist()


@dataclass
class Eta:
    clock: Callable[[], float]
    #: Seconds until the requests now waiting for the budget and n more could all have gone (None: unknown).
    budget_wait: Callable[[int], float | None] | None = None
    started_at: float = field(default=0.0)
    _running: dict[str, float] = field(default_factory=dict)  # served conversations: when served
    _waiting: set[str] = field(default_factory=set)          # started, holding a slot, not served yet
    _logs: list[float] = field(default_factory=list)        # log answer times of finished conversations
    _asked_logs: list[float] = field(default_factory=list)  # the same, of those that waited for an LLM answer
    _started: int = 0
    _finished: int = 0
    _tail_end: tuple[float, float] | None = None            # (when computed, predicted end of the tail)
    _tail_answers: int = 0                                   # answers known when the tail was computed
    _first_end: float | None = None                          # when the first conversation finished
    _typical: tuple[float, float] | None = None              # (when computed, the median answer time)

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def conversation_started(self, key: str, *, waiting: bool = False) -> None:
        """`waiting`: it holds its slot but is served later (`conversation_served`)."""
        self._started += 1
        if waiting:
            self._waiting.add(key)
        else:
            self._running[key] = self.clock()

    def conversation_served(self, key: str) -> None:
        """Its messages are in hand: its answer time counts from now."""
        if key in self._waiting:
            self._waiting.discard(key)
            self._running[key] = self.clock()

    def conversation_finished(self, key: str, worked: bool = True, asked: bool = False) -> None:
        """`worked`: the conversation was read (an unchanged one costs nothing and tells nothing);
        `asked`: it waited for an LLM answer. Conversations the pre-filter spares the LLM end in a fraction
        of the time: fitted together with the others, two humps read as one very wide log-normal, whose
        tail is far longer than either (the week benchmark's ETA said 18 s for a 6 s scan). The tail is
        fitted to the answers of the asked ones, once there are enough of them."""
        self._finished += 1
        self._waiting.discard(key)   # never served (unchanged, or its fetch failed): no answer time
        if self._first_end is None:
            self._first_end = self.clock()
        began = self._running.pop(key, None)
        if began is not None and worked:
            log_time = math.log(max(self.clock() - began, 1e-3))
            self._logs.append(log_time)
            if asked:
                self._asked_logs.append(log_time)

    def seconds_left(self, expected_total: int) -> float | None:
        """Seconds until the scan is over, or None before anything finished."""
        now = self.clock()
        elapsed = now - self.started_at
        if self._finished == 0 or elapsed <= 0:
            return None
        to_start = max(0, expected_total - self._started)
        if not to_start and not self._running and not self._waiting:
            return 0.0
        if self._typical is None or now - self._typical[0] >= REFIT_EVERY:
            self._typical = (now, math.exp(statistics.median(self._logs)) if self._logs else 0.0)
        typical = self._typical[1]
        starting = self._starting(to_start, now, elapsed)       # until the last one is served
        pending = to_start + len(self._waiting)                 # not served yet
        throughput = starting + (typical if pending else 0.0)
        if len(self._logs) < MIN_SAMPLES:
            return throughput
        since_fit = now - self._tail_end[0] if self._tail_end is not None else math.inf
        if since_fit >= REFIT_EVERY or (since_fit >= REFIT_MIN_INTERVAL
                                         and len(self._logs) >= self._tail_answers * (1 + REFIT_GROWTH) + 1):
            self._tail_end = (now, self._predict_tail(now, pending, starting))
            self._tail_answers = len(self._logs)
        # The fit extrapolates; what has been seen bounds it: a pending answer is not expected to take
        # more than TAIL_STRETCH times the longest one seen so far (answered, or still running).
        seen = max(math.exp(max(self._logs)), max((now - b for b in self._running.values()), default=0.0))
        return max(throughput, min(self._tail_end[1] - now, starting + TAIL_STRETCH * seen))

    def _starting(self, to_start: int, now: float, elapsed: float) -> float:
        """Seconds until the last conversation is served: slots free at the completion rate, and the
        budget lets the waiting ones and those still to start go (when it is known)."""
        starting = to_start / self._rate(now, elapsed)
        budget = self.budget_wait(to_start) if self.budget_wait is not None else None
        return max(starting, budget) if budget is not None else starting

    def _rate(self, now: float, elapsed: float) -> float:
        """Completions per second. Nothing finishes during the first answer time, so once answers come
        back steadily the rate is measured from the first one (that ramp would otherwise read as slow)."""
        assert self._first_end is not None
        since_first = now - self._first_end
        if self._finished > MIN_SAMPLES and since_first > 0.25 * elapsed:
            return (self._finished - 1) / since_first
        return self._finished / elapsed

    # -- the tail ---------------------------------------------------------------------------------------
    def _predict_tail(self, now: float, pending: int, throughput: float) -> float:
        ages = [max(now - began, 1e-3) for began in self._running.values()]
        logs = self._asked_logs if len(self._asked_logs) >= MIN_SAMPLES else self._logs
        # Running conversations count as "at least this long" once they are older than the median answer:
        # the quick answers come back first, and a fit to them alone would never see the slow ones coming.
        middle = statistics.median(logs)
        mu, sigma = censored_fit(logs, [math.log(a) for a in ages if math.log(a) > middle])
        # Few points stand for many (this runs on the event loop): the served ones by their ages, the ones
        # not served yet spread evenly over the throughput phase.
        ages, age_weight = _spread(sorted(ages), SAMPLE_POINTS)
        starts = [now + throughput * (i + 0.5) / SAMPLE_POINTS for i in range(SAMPLE_POINTS)] if pending else []
        weight = pending / SAMPLE_POINTS

        def expected_unfinished(t: float) -> float:
            """-log P(all done by t): the hazard of the pending answers, summed."""
            total = 0.0
            for age in ages:
                total -= age_weight * math.log(max(1e-12, 1.0 - _survival(age + t - now, mu, sigma) /
                                                   max(_survival(age, mu, sigma), 1e-12)))
            for start in starts:
                if t > start:
                    total -= weight * math.log(max(1e-12, 1.0 - _survival(t - start, mu, sigma)))
                else:
                    total += weight * 27.6               # not started yet: surely not done
            return total

        low, high = now, now + max(1.0, math.exp(mu + 6 * sigma)) + throughput
        for _ in range(30):                              # the median of the slowest one's end: P = 1/2
            middle = (low + high) / 2
            if expected_unfinished(middle) > -math.log(ALL_DONE_CHANCE):
                low = middle
            else:
                high = middle
        return high


def _truncated_moments(mu: float, sigma: float, c: float) -> tuple[float, float]:
    """E[X] and E[X^2] of X ~ N(mu, sigma^2) given X > c."""
    alpha = (c - mu) / sigma
    mills = _NORMAL.pdf(alpha) / max(1.0 - _NORMAL.cdf(alpha), 1e-12)     # the inverse Mills ratio
    mean = mu + sigma * mills
    return mean, sigma * sigma * (1 + alpha * mills - mills * mills) + mean * mean


def _spread(values: list[float], points: int) -> tuple[list[float], float]:
    """At most `points` of the sorted `values`, evenly spaced, and how many values each stands for."""
    if len(values) <= points:
        return values, 1.0
    step = len(values) / points
    return [values[int(i * step)] for i in range(points)], step


def _survival(seconds: float, mu: float, sigma: float) -> float:
    """P(an answer takes longer than `seconds`)."""
    if seconds <= 0:
        return 1.0
    return 1.0 - _NORMAL.cdf((math.log(seconds) - mu) / sigma) if sigma > 0 else float(seconds < math.exp(mu))


def censored_fit(exact: list[float], censored: list[float], rounds: int = 200,
                 tolerance: float = 1e-3) -> tuple[float, float]:
    """(mu, sigma) of a normal (EM) from `exact` values and values only known to be above `censored`.

    Iterates until mu and sigma move less than `tolerance`: with most values censored (early in a scan
    that started everything at once) EM creeps, and a fixed dozen rounds stopped half-way (the ETA then
    promised a third of the real time)."""
    mu = statistics.fmean(exact)
    sigma = max(statistics.pstdev(exact), 0.05)
    if not censored:
        return mu, sigma
    for _ in range(rounds):
        first = second = 0.0
        for c in censored:
            mean, square = _truncated_moments(mu, sigma, c)
            first += mean
            second += square
        n = len(exact) + len(censored)
        new_mu = (sum(exact) + first) / n
        variance = (sum(x * x for x in exact) + second) / n - new_mu * new_mu
        new_sigma = max(math.sqrt(max(variance, 0.0)), 0.05)
        converged = abs(new_mu - mu) < tolerance and abs(new_sigma - sigma) < tolerance
        mu, sigma = new_mu, new_sigma
        if converged:
            break
    return mu, sigma
