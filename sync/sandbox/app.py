"""The sandbox application: one Notion API request in, one outcome out (no sockets here).

Order of checks for `/v1/...`: faults (latency, then error/drop), rate limits (429: the token
bucket, then the window budgets per token and per workspace), Notion-Version (400
missing_version, or validation_error for a version the sandbox does not speak), token (401),
route (400 invalid_request_url), body (400 invalid_json), then the endpoint; the answer follows
the request's Notion-Version (`sync.sandbox.versions`). Every request is logged with its
templated route and final status.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sync.sandbox import api_content, api_databases, api_pages
from sync.sandbox.faults import GARBAGE_BODIES, FaultRule, FaultSet, RateLimiter
from sync.sandbox.ids import JSON, new_id
from sync.sandbox.limits import DEFAULT_MAX_QUERY_RESULTS, WindowBudgets
from sync.sandbox.requestlog import RequestLog
from sync.sandbox.richtext import mentions_resolved_by
from sync.sandbox.routing import Request, Route, log_route_for, match_route
from sync.sandbox.store import Workspace
from sync.sandbox.validate import (
    NotionError,
    invalid,
    invalid_json,
    invalid_request_url,
    missing_version,
    rate_limited,
    server_error,
    unauthorized,
)
from sync.sandbox.versions import check_version, has_archived, refuse_archived, without_archived

log = logging.getLogger("dsprogress.sandbox")

ROUTES: list[Route] = [*api_pages.ROUTES, *api_databases.ROUTES, *api_content.ROUTES]


@dataclass
class Outcome:
    """An HTTP answer with its JSON body already encoded; `status` None means: close the
    connection without answering."""

    status: int | None
    data: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def encoded(status: int, body: JSON, headers: dict[str, str] | None = None) -> Outcome:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return Outcome(status, data, dict(headers or {}))

    @staticmethod
    def drop() -> Outcome:
        return Outcome(None)


def error_outcome(error: NotionError) -> Outcome:
    request_id = new_id()
    headers = {"x-notion-request-id": request_id, **error.headers}
    return Outcome.encoded(error.status, error.body(request_id), headers)


def garbage_outcome(rule: FaultRule) -> Outcome:
    """A 200 whose body is not what Notion sends (a proxy's page, empty, truncated, ...)."""
    html = rule.body == "html"
    content_type = "text/html; charset=utf-8" if html else "application/json; charset=utf-8"
    return Outcome(200, GARBAGE_BODIES[rule.body], {"Content-Type": content_type})


def ok_outcome(body: JSON) -> Outcome:
    """A 200 answer; call it while holding the workspace lock (objects share stored data)."""
    request_id = new_id()
    return Outcome.encoded(
        200, {**body, "request_id": request_id}, {"x-notion-request-id": request_id}
    )


MAX_BODY_DEPTH = 64  # far deeper than any Notion request; the handlers recurse on some parts


def nesting_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (iteratively: no recursion limit)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_body(method: str, raw: bytes) -> JSON:
    if method in ("GET", "DELETE", "HEAD") or not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid_json() from None
    if nesting_depth(body) > MAX_BODY_DEPTH:
        raise invalid_json()
    if not isinstance(body, dict):
        raise invalid("body", "an object", body)
    return body


class SandboxApp:
    """Workspace + faults + rate limiter + request log, behind `handle_api`."""

    def __init__(
        self,
        *,
        token: str,
        integration_name: str,
        data_path: Path | None,
        rate_limit: float | None,
        burst: int | None,
        seed: int | None,
    ) -> None:
        self.token = token
        self.extra_tokens: set[str] = set()  # more connections of the same workspace (control)
        self.ws = Workspace(integration_name=integration_name, data_path=data_path, seed=seed)
        self.faults = FaultSet(seed)
        self.limiter = RateLimiter(rate_limit, burst)
        self.budgets = WindowBudgets()
        self.max_query_results = DEFAULT_MAX_QUERY_RESULTS
        self.log = RequestLog()

    def handle_api(
        self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes
    ) -> Outcome:
        parts = urlsplit(target)
        path = parts.path
        found = match_route(ROUTES, method, path)
        route_name = found[0].log_route if found else log_route_for(ROUTES, path)
        decision = self.faults.decide(method, route_name)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000)
        rule = decision.rule
        if rule is not None and rule.kind == "error":
            outcome = error_outcome(rule.error())
        elif rule is not None and rule.kind == "drop":
            outcome = Outcome.drop()
        elif rule is not None and rule.kind == "garbage":
            outcome = garbage_outcome(rule)
        else:
            query = parse_qs(parts.query, keep_blank_values=True)
            outcome = self._process(method, path, query, headers, raw_body, found)
            outcome = self._after_apply(rule, outcome)
        self.log.record(
            method=method,
            route=route_name,
            path=path,
            status=outcome.status,
            fault=rule.kind if rule is not None else None,
            latency_ms=decision.latency_ms,
        )
        return outcome

    @staticmethod
    def _after_apply(rule: FaultRule | None, outcome: Outcome) -> Outcome:
        if rule is None:
            return outcome
        if rule.kind == "apply_then_fail":
            return error_outcome(rule.error())
        if rule.kind == "apply_then_drop":
            return Outcome.drop()
        if rule.kind == "apply_then_garbage":
            return garbage_outcome(rule)
        return outcome

    def _check_headers(self, headers: Mapping[str, str]) -> str:
        """The request's Notion-Version, once its limits, version and token pass."""
        authorization = headers.get("authorization", "")
        retry_after = self.limiter.acquire(authorization)
        if retry_after is not None:
            raise rate_limited(retry_after)
        refusal = self.budgets.acquire(authorization)
        if refusal is not None:
            raise rate_limited(refusal.retry_after, refusal.reason)
        version = headers.get("notion-version")
        if not version:
            raise missing_version()
        if authorization not in {f"Bearer {t}" for t in (self.token, *self.extra_tokens)}:
            raise unauthorized()
        check_version(version)
        return version

    def _process(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        raw_body: bytes,
        found: tuple[Route, dict[str, str]] | None,
    ) -> Outcome:
        try:
            version = self._check_headers(headers)
            if found is None:
                raise invalid_request_url()
            route, params = found
            body = parse_body(method, raw_body)
            refuse_archived(version, body)
            ws = self.ws
            with ws.lock, mentions_resolved_by(ws.mention_target):
                request = Request(
                    ws,
                    method,
                    path,
                    params,
                    query,
                    body,
                    ws.bot_id,
                    version,
                    self.max_query_results,
                )
                result = route.handler(request)
                if route.write:
                    ws.save()
                if not has_archived(version):
                    result = without_archived(result)
                return ok_outcome(result)
        except NotionError as error:
            return error_outcome(error)
        except Exception:
            log.exception("sandbox: unexpected error in %s %s", method, path)
            return error_outcome(server_error(500))
