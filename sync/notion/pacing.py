"""Client-side pacing and the retry policy that sits on top of the SDK (whose retries are off).

Notion's request limits (developers.notion.com, request-limits): each connection has a budget of
requests per 60-second window, and the workspace has a budget shared by every connection. A 429
says which one was exceeded in `additional_data.rate_limit_reason`, and its `Retry-After` is the
time to that window's reset (a minute at most for a connection, possibly longer for the
workspace); a 529 `service_overload` is handled the same way.

The pacer spaces requests so a normal run rarely meets a 429. Only the workspace's shared limit
lowers its steady rate (other connections are using the budget; waiting alone would collide
again), and the rate climbs back slowly as requests pass. The policy decides, per failure, how
long to wait: Retry-After in full plus a positive random jitter, so that two machines on one
token or one workspace do not retry at the same instant.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
RATE_LIMIT_STATUSES = frozenset({429, 529})
"""Answers that mean "slow down" rather than "failed": waited out, never counted as a failure."""


def is_shared_limit(reason: str | None) -> bool:
    """Whether a 429's `rate_limit_reason` names the workspace's limit, shared by every
    connection (any reason mentioning the workspace)."""
    return reason is not None and "workspace" in reason.lower()


class Pacer:
    """Keeps the average request rate at or below `rate` per second (0 = no pacing).

    A small burst is allowed (`burst` requests back to back). `slow_down` (the workspace's
    shared limit was met) halves the current rate, down to `rate * min_share`; every request
    after that wins back `rate / recovery` until the configured rate is reached again.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        min_share: float = 0.125,
        recovery: int = 60,
    ) -> None:
        self.rate = rate
        self.current = rate
        self.burst = max(1, burst)
        self.min_share = min_share
        self.recovery = max(1, recovery)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._updated = clock()
        self._lock = threading.Lock()
        self.waited = 0.0
        self.slowdowns = 0

    def wait(self) -> None:
        if self.rate <= 0:
            return
        with self._lock:
            rate = self.current
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * rate)
            self._updated = now
            if self._tokens < 1:
                delay = (1 - self._tokens) / rate
                self._sleep(delay)
                self.waited += delay
                self._tokens = 1.0
                self._updated = self._clock()
            self._tokens -= 1
            # Climb back slowly: the full rate again after `recovery` requests per halving.
            self.current = min(self.rate, rate + self.rate / self.recovery)

    def pause(self, seconds: float) -> None:
        """Notion asked us to wait (Retry-After): empty the bucket for that long."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0)
        self._sleep(seconds)
        self.waited += seconds

    def slow_down(self) -> None:
        """The workspace's shared limit was met: halve the steady rate (not below its floor)."""
        if self.rate <= 0:
            return
        with self._lock:
            lowered = max(self.rate * self.min_share, self.current / 2)
            if lowered < self.current:
                self.slowdowns += 1  # times the steady rate was actually lowered
            self.current = lowered


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed call.

    `max_attempts` bounds failures (5xx, timeouts, malformed answers); being told to slow down
    (429, 529) is not a failure, and a call waits that out up to `max_rate_limited` times.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_rate_limited: int = 20
    jitter: float = 1.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt number `attempt + 1` (attempt counts from 1)."""
        if retry_after is not None:
            return max(retry_after, 0.0) + self.spread(retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(ceiling / 2 + self.rng.uniform(0, ceiling / 2))

    def spread(self, retry_after: float) -> float:
        """A positive random jitter after Retry-After: up to `jitter` seconds plus a tenth of
        the wait, so that clients told the same reset time spread out after it."""
        if self.jitter <= 0:
            return 0.0
        return self.rng.uniform(0.05, 1.0) * (self.jitter + max(retry_after, 0.0) / 10)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
