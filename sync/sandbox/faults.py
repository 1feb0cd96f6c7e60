"""Fault injection rules and the per-token rate limiter.

A rule matches a method (or `*`) and a templated route (`/v1/pages/{id}`, a prefix ending in `*`,
or `*`), fires for the next `times` matching requests or with `probability` (a seeded RNG), and
does one of:

- `error`: answer `status` with Notion's error body, without touching the workspace;
- `latency`: wait `latency_ms` before handling (combines with other rules);
- `drop`: close the connection without any response, without touching the workspace;
- `apply_then_fail`: perform the request for real, then answer `status`;
- `apply_then_drop`: perform the request for real, then close the connection;
- `garbage`: answer 200 with a body that is not the JSON Notion sends (`body`: `html`, the
  default, a proxy's error page; `empty`; `truncated` JSON; `null_results`, a list answer
  whose `results` is null), without touching the workspace;
- `apply_then_garbage`: perform the request for real, then answer such a body.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync.sandbox.ids import JSON
from sync.sandbox.routing import template_name
from sync.sandbox.validate import SERVER_ERRORS, NotionError, server_error

KINDS = (
    "error",
    "latency",
    "drop",
    "apply_then_fail",
    "apply_then_drop",
    "garbage",
    "apply_then_garbage",
)
GARBAGE_BODIES: dict[str, bytes] = {
    "html": b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>",
    "empty": b"",
    "truncated": b'{"object": "list", "results": [{"object": "page", "id": "',
    "null_results": b'{"object": "list", "results": null, "has_more": false}',
}
_RULE_KEYS = {
    "kind",
    "method",
    "route",
    "status",
    "code",
    "message",
    "retry_after",
    "latency_ms",
    "times",
    "probability",
    "seed",
    "body",
}
DEFAULT_BURST = 10


class FaultRuleError(ValueError):
    """A fault rule given to the control endpoint or the CLI is malformed."""


@dataclass
class FaultRule:
    rule_id: str
    kind: str
    method: str = "*"
    route: str = "*"
    status: int | None = None
    code: str | None = None
    message: str | None = None
    retry_after: int = 1
    latency_ms: int = 0
    times: int | None = 1
    probability: float | None = None
    seed: int = 0
    body: str = "html"
    hits: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, route: str) -> bool:
        if self.method not in ("*", method):
            return False
        if self.route == "*":
            return True
        if self.route.endswith("*"):
            return route.startswith(self.route[:-1])
        return template_name(self.route) == route

    def fire(self) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.probability is not None and self.rng.random() >= self.probability:
            return False
        if self.times is not None:
            self.times -= 1
        self.hits += 1
        return True

    def error(self) -> NotionError:
        status = self.status or 500
        error = server_error(status, code=self.code, message=self.message)
        if status in (429, 529):  # Notion: both carry Retry-After
            error.headers["Retry-After"] = str(max(1, self.retry_after))
        return error

    def to_json(self) -> JSON:
        return {
            "id": self.rule_id,
            "kind": self.kind,
            "method": self.method,
            "route": self.route,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "retry_after": self.retry_after,
            "latency_ms": self.latency_ms,
            "remaining": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "body": self.body,
            "hits": self.hits,
        }


def _int(raw: JSON, key: str, default: int | None, minimum: int) -> int | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FaultRuleError(f"{key} must be a whole number ≥ {minimum}, got {value!r}.")
    return value


def parse_rule(raw: Any, *, rule_id: str, default_seed: int) -> FaultRule:
    """A rule from its JSON form (see the module docstring and docs/sandbox.md)."""
    if not isinstance(raw, dict):
        raise FaultRuleError("A fault rule must be a JSON object.")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise FaultRuleError(f"Unknown fault rule keys: {', '.join(sorted(unknown))}.")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise FaultRuleError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}.")
    method = str(raw.get("method", "*")).upper()
    route = raw.get("route", "*")
    if not isinstance(route, str) or not (route == "*" or route.startswith("/")):
        raise FaultRuleError(
            f"route must be '*' or a path such as /v1/pages/{{id}}, got {route!r}."
        )
    status = _int(raw, "status", 500 if kind in ("error", "apply_then_fail") else None, 100)
    if status is not None and status not in SERVER_ERRORS:
        allowed = ", ".join(str(s) for s in SERVER_ERRORS)
        raise FaultRuleError(f"status must be one of {allowed}, got {status}.")
    probability = raw.get("probability")
    if probability is not None:
        if (
            isinstance(probability, bool)
            or not isinstance(probability, (int, float))
            or not 0 <= probability <= 1
        ):
            raise FaultRuleError(f"probability must be a number from 0 to 1, got {probability!r}.")
        probability = float(probability)
    # Without `times`: once, unless a probability is given (then: every matching request).
    times = _int(raw, "times", None if probability is not None else 1, 1)
    seed = _int(raw, "seed", None, 0)
    body = raw.get("body", "html")
    if body not in GARBAGE_BODIES:
        raise FaultRuleError(f"body must be one of {', '.join(GARBAGE_BODIES)}, got {body!r}.")
    for key in ("code", "message"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise FaultRuleError(f"{key} must be a string.")
    rule = FaultRule(
        rule_id=rule_id,
        kind=kind,
        method=method,
        route=route,
        status=status,
        code=raw.get("code"),
        message=raw.get("message"),
        retry_after=_int(raw, "retry_after", 1, 1) or 1,
        latency_ms=_int(raw, "latency_ms", 0, 0) or 0,
        times=times,
        probability=probability,
        seed=default_seed if seed is None else seed,
        body=body,
    )
    rule.rng = random.Random(rule.seed)
    return rule


@dataclass
class Decision:
    """What the faults do to one request: a delay, and at most one other rule."""

    latency_ms: int = 0
    rule: FaultRule | None = None
    fired: list[str] = field(default_factory=list)


class FaultSet:
    """The active rules, in the order they were added; thread-safe."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._counter = 0
        self._seeds = random.Random(seed)

    def add(self, raw: Any) -> FaultRule:
        with self._lock:
            self._counter += 1
            rule = parse_rule(
                raw, rule_id=f"fault-{self._counter}", default_seed=self._seeds.randrange(2**31)
            )
            self._rules.append(rule)
            return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.rule_id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def to_json(self) -> list[JSON]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def decide(self, method: str, route: str) -> Decision:
        decision = Decision()
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, route):
                    continue
                if rule.kind == "latency":
                    if rule.fire():
                        decision.latency_ms += rule.latency_ms
                        decision.fired.append(rule.rule_id)
                elif decision.rule is None and rule.fire():
                    decision.rule = rule
                    decision.fired.append(rule.rule_id)
        return decision


class RateLimiter:
    """A token bucket per token: `rate` requests a second on average, bursts of `burst`."""

    def __init__(
        self,
        rate: float | None,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self.rate: float | None = None
        self.burst = DEFAULT_BURST
        self.configure(rate, burst)

    def configure(self, rate: float | None, burst: int | None = None) -> None:
        with self._lock:
            self.rate = float(rate) if rate else None
            self.burst = max(1, burst if burst is not None else DEFAULT_BURST)
            self._buckets = {}

    def acquire(self, key: str) -> int | None:
        """None when the request may pass; otherwise the Retry-After in whole seconds (≥ 1)."""
        with self._lock:
            if self.rate is None:
                return None
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0 - 1e-9:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))

    def to_json(self) -> JSON:
        return {"rate_limit": self.rate, "burst": self.burst}
