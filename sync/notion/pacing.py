"""Client-side pacing and the retry policy that sits on top of the SDK (whose retries are off).

The pacer spaces requests so a normal run never meets a 429. The policy decides, per failure,
whether a call may be repeated and how long to wait (honouring Retry-After).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})


class Pacer:
    """Keeps the average request rate at or below `rate` per second (0 = no pacing).

    A small burst is allowed (`burst` requests back to back), like Notion's own limiter.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._updated = clock()
        self._lock = threading.Lock()
        self.waited = 0.0

    def wait(self) -> None:
        if self.rate <= 0:
            return
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens < 1:
                delay = (1 - self._tokens) / self.rate
                self._sleep(delay)
                self.waited += delay
                self._tokens = 1.0
                self._updated = self._clock()
            self._tokens -= 1

    def pause(self, seconds: float) -> None:
        """Notion asked us to wait (Retry-After): empty the bucket for that long."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0)
        self._sleep(seconds)
        self.waited += seconds


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed call."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt number `attempt + 1` (attempt counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
