"""The log of Notion API requests the sandbox received (control requests are not logged)."""

from __future__ import annotations

import threading
from collections import Counter

from sync.sandbox.ids import JSON

MAX_ENTRIES = 10_000


class RequestLog:
    """Counts per `METHOD /route/{id}` plus the latest entries (at most 10,000 kept)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JSON] = []
        self._by_route: Counter[str] = Counter()
        self._total = 0

    def record(
        self,
        *,
        method: str,
        route: str,
        path: str,
        status: int | None,
        fault: str | None = None,
        latency_ms: int = 0,
    ) -> None:
        entry: JSON = {
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "fault": fault,
            "latency_ms": latency_ms,
        }
        with self._lock:
            self._total += 1
            entry["seq"] = self._total
            self._by_route[f"{method} {route}"] += 1
            self._entries.append(entry)
            if len(self._entries) > MAX_ENTRIES:
                del self._entries[: len(self._entries) - MAX_ENTRIES]

    def snapshot(self) -> JSON:
        with self._lock:
            return {
                "total": self._total,
                "by_route": dict(sorted(self._by_route.items())),
                "entries": [dict(e) for e in self._entries],
            }

    def clear(self) -> None:
        with self._lock:
            self._entries = []
            self._by_route = Counter()
            self._total = 0
