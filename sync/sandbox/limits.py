"""Notion's newer request limits as the sandbox models them (developers.notion.com, request-limits):
a budget of requests per connection (token) per fixed window, and a budget shared by every
connection of the workspace. A request over either is answered 429 `rate_limited` with
`Retry-After` (whole seconds to the window's reset) and `additional_data.rate_limit_reason`
naming the limit. Both budgets are off (None) unless the control endpoint sets them.

The reason strings are the sandbox's own: Notion's page says the field names which limit was
exceeded but the stored copy of it does not list the values (see docs/sandbox.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sync.sandbox.ids import JSON

CONNECTION_REASON = "connection_rate_limit"
WORKSPACE_REASON = "workspace_rate_limit"
DEFAULT_WINDOW = 60.0
DEFAULT_MAX_QUERY_RESULTS = 10_000  # rows one data-source query returns at most


@dataclass(frozen=True)
class Refusal:
    retry_after: int
    reason: str


class WindowBudgets:
    """Fixed windows: `per_token` requests per token, `per_workspace` for all tokens together."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.per_token: int | None = None
        self.per_workspace: int | None = None
        self.window = DEFAULT_WINDOW
        self.workspace_window = DEFAULT_WINDOW
        self._token_counts: dict[str, tuple[int, int]] = {}  # token -> (window index, count)
        self._workspace_count: tuple[int, int] = (-1, 0)
        self.refused: dict[str, int] = {}  # reason -> 429s answered

    def configure(
        self,
        per_token: int | None,
        per_workspace: int | None,
        window: float | None = None,
        workspace_window: float | None = None,
    ) -> None:
        with self._lock:
            self.per_token = per_token
            self.per_workspace = per_workspace
            self.window = float(window or DEFAULT_WINDOW)
            self.workspace_window = float(workspace_window or self.window)
            self._token_counts = {}
            self._workspace_count = (-1, 0)
            self.refused = {}

    def acquire(self, token: str) -> Refusal | None:
        """None when the request may pass (and is counted); else why and for how long not."""
        with self._lock:
            now = self._clock()
            refusal = self._check_workspace(now) or self._check_token(token, now)
            if refusal is not None:
                self.refused[refusal.reason] = self.refused.get(refusal.reason, 0) + 1
                return refusal
            if self.per_workspace is not None:
                index, count = self._workspace_count
                self._workspace_count = (index, count + 1)
            if self.per_token is not None:
                index, count = self._token_counts[token]
                self._token_counts[token] = (index, count + 1)
            return None

    def _check_workspace(self, now: float) -> Refusal | None:
        if self.per_workspace is None:
            return None
        index = math.floor(now / self.workspace_window)
        if self._workspace_count[0] != index:
            self._workspace_count = (index, 0)
        if self._workspace_count[1] < self.per_workspace:
            return None
        reset = (index + 1) * self.workspace_window - now
        return Refusal(max(1, math.ceil(reset)), WORKSPACE_REASON)

    def _check_token(self, token: str, now: float) -> Refusal | None:
        if self.per_token is None:
            return None
        index = math.floor(now / self.window)
        if self._token_counts.get(token, (-1, 0))[0] != index:
            self._token_counts[token] = (index, 0)
        if self._token_counts[token][1] < self.per_token:
            return None
        reset = (index + 1) * self.window - now
        return Refusal(max(1, math.ceil(reset)), CONNECTION_REASON)

    def to_json(self) -> JSON:
        return {
            "requests_per_window": self.per_token,
            "workspace_requests_per_window": self.per_workspace,
            "window_seconds": self.window,
            "workspace_window_seconds": self.workspace_window,
            "refused": dict(self.refused),
        }


@dataclass
class QueryPage:
    """One answer of a data-source query, cut at the query's result cap when it passes it."""

    chunk: list[JSON]
    next_cursor: str | None
    has_more: bool
    incomplete: bool = False


def cap_query_page(
    page: QueryPage, ordered_ids: Callable[[], list[str]], total_rows: int, max_results: int
) -> QueryPage:
    """Notion returns at most `max_results` rows for one query (over all its pages); past that it
    answers `has_more: false` with `request_status.type: "incomplete"`.

    `ordered_ids()` lists every row the query returns, in its order (called only when the
    data source holds more than `max_results` rows, so an ordinary query costs nothing more).
    """
    if total_rows <= max_results or not page.chunk:
        return page
    order = ordered_ids()
    before = order.index(page.chunk[0]["id"])
    allowed = max(0, max_results - before)
    if len(page.chunk) < allowed or (len(page.chunk) == allowed and not page.has_more):
        return page
    if len(order) <= max_results:
        return page
    return QueryPage(page.chunk[:allowed], None, False, incomplete=True)


def incomplete_status() -> JSON:
    return {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
