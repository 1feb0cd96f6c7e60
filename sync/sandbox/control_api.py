"""The control endpoint under `/__sandbox/`: request log, faults, the learner, clock, reset.

Loopback clients only; no token; not rate limited; not in the request log. The learner acts as a
person user, so `last_edited_by` shows a person, as after an edit in the Notion app.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sync.sandbox.app import Outcome, SandboxApp
from sync.sandbox.charts import chart_series
from sync.sandbox.cohort import make_cohort
from sync.sandbox.control_learner import (
    learner_add_linked_database,
    learner_add_row,
    learner_move_into_columns,
    learner_purge_database,
    learner_update_page,
    learner_update_schema,
)
from sync.sandbox.faults import FaultRuleError
from sync.sandbox.ids import JSON, iso_now
from sync.sandbox.limits import DEFAULT_MAX_QUERY_RESULTS
from sync.sandbox.objects import block_object, database_object, page_object
from sync.sandbox.richtext import mentions_resolved_by
from sync.sandbox.routing import compile_template
from sync.sandbox.validate import NotionError

ControlHandler = Callable[[SandboxApp, dict[str, str], dict[str, list[str]], JSON], JSON]

MAX_CLOCK_OFFSET = 100 * 366 * 86400.0  # seconds: every date stays printable


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _error(status: int, code: str, message: str) -> Outcome:
    return Outcome.encoded(
        status, {"object": "error", "status": status, "code": code, "message": message}
    )


def health(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    return {
        "ok": True,
        "root_page_id": ws.root_page_id,
        "unshared_page_id": ws.unshared_page_id,
        "integration": {"id": ws.bot_id, "name": ws.integration_name},
        "learner_id": ws.person_id,
        "now": iso_now(ws.now()),
        **app.limiter.to_json(),
    }


def get_requests(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    return app.log.snapshot()


def clear_requests(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    app.log.clear()
    return app.log.snapshot()


def list_faults(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    return {"faults": app.faults.to_json()}


def add_fault(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    return app.faults.add(body).to_json()


def clear_faults(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    app.faults.clear()
    return {"faults": []}


def remove_fault(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    if not app.faults.remove(params["rule_id"]):
        raise NotionError(404, "object_not_found", f"No fault rule {params['rule_id']}.")
    return {"faults": app.faults.to_json()}


def cohort(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    return make_cohort(app.ws, body)


def all_pages(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    source = ws.lookup("data source", params["data_source_id"], "data_source_id", shared_only=False)
    include_trashed = query.get("include_trashed", ["0"])[-1].lower() in ("1", "true", "yes")
    pages = [ws.pages[i] for i in source["row_ids"]]
    results = [page_object(ws, p) for p in pages if include_trashed or not p["in_trash"]]
    return {"object": "list", "results": results, "count": len(results)}


def get_page(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    return page_object(ws, ws.lookup("page", params["page_id"], "page_id", shared_only=False))


def open_object(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    """What a link to a sandbox id opens (app.notion.com knows no sandbox id): a page, or a
    database with the rows of its data sources, as JSON."""
    ws = app.ws
    kind, record = ws.lookup_container(params["object_id"], shared_only=False, databases=True)
    if kind == "page":
        return page_object(ws, record)
    if kind != "database":
        return block_object(ws, kind, record)
    result = database_object(ws, record)
    rows = [
        page_object(ws, ws.pages[row])
        for source_id in record["data_source_ids"]
        if source_id in ws.data_sources
        for row in ws.data_sources[source_id]["row_ids"]
        if not ws.pages[row]["in_trash"]
    ]
    return {**result, "rows": rows}


def view_chart(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    """The series a chart view shows now: labels and values, after the view's filter."""
    ws = app.ws
    view = ws.lookup("view", params["view_id"], "view_id", shared_only=False)
    return {"view_id": view["id"], "name": view["name"], **chart_series(ws, view)}


def refuse_charts(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    """`{"refuse": true, "types"?: ["chart", "dashboard"], "message"?: str}`: creating a view of
    those types (both by default) then answers 400 validation_error with the message."""
    refuse = body.get("refuse")
    if not isinstance(refuse, bool):
        raise NotionError(400, "validation_error", "refuse must be true or false.")
    types = body.get("types") or ["chart", "dashboard"]
    if not isinstance(types, list) or not set(types) <= {"chart", "dashboard"}:
        raise NotionError(400, "validation_error", "types must list `chart` and/or `dashboard`.")
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise NotionError(400, "validation_error", "message must be a string.")
    app.ws.state["refuse_views"] = sorted(types) if refuse else []
    app.ws.state["refuse_message"] = message
    return {"refuse": refuse, "types": app.ws.state["refuse_views"], "message": message}


def clock(app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON) -> JSON:
    ws = app.ws
    if "advance_seconds" in body:
        seconds = body["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise NotionError(400, "validation_error", "advance_seconds must be a number.")
        offset = float(ws.state["clock_offset"]) + float(seconds)
        if not math.isfinite(seconds) or abs(offset) > MAX_CLOCK_OFFSET:
            raise NotionError(
                400,
                "validation_error",
                "advance_seconds must be a finite number that keeps the clock within 100 years "
                "of now.",
            )
        ws.advance_clock(float(seconds))
    return {"now": iso_now(ws.now()), "offset_seconds": ws.state["clock_offset"]}


def rate_limit(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    if body:
        rate = body.get("rate_limit")
        burst = body.get("burst")
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 0
        ):
            raise NotionError(400, "validation_error", "rate_limit must be a number ≥ 0 or null.")
        if burst is not None and (
            isinstance(burst, bool) or not isinstance(burst, int) or burst < 1
        ):
            raise NotionError(400, "validation_error", "burst must be a whole number ≥ 1 or null.")
        app.limiter.configure(rate, burst)
    return app.limiter.to_json()


def _count(body: JSON, name: str, *, positive: bool = True) -> Any:
    value = body.get(name)
    low = 1 if positive else 0
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or value < low
    ):
        raise NotionError(400, "validation_error", f"{name} must be a number ≥ {low} or null.")
    return value


def limits(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    """Notion's newer limits: window budgets per token and per workspace (429 with a reason),
    and the most rows one data-source query returns (`max_query_results`, default 10,000)."""
    if body:
        per_token = _count(body, "requests_per_window")
        per_workspace = _count(body, "workspace_requests_per_window")
        window = _count(body, "window_seconds")
        workspace_window = _count(body, "workspace_window_seconds")
        cap = _count(body, "max_query_results")
        app.budgets.configure(
            None if per_token is None else int(per_token),
            None if per_workspace is None else int(per_workspace),
            window,
            workspace_window,
        )
        app.max_query_results = DEFAULT_MAX_QUERY_RESULTS if cap is None else int(cap)
    return {**app.budgets.to_json(), "max_query_results": app.max_query_results}


def tokens(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    """Another connection of the same workspace: its own token, its own window budget."""
    token = body.get("token")
    if not isinstance(token, str) or len(token) < 8 or not token.isprintable() or " " in token:
        raise NotionError(400, "validation_error", "token must be a string of 8+ characters.")
    app.extra_tokens.add(token)
    return {"tokens": 1 + len(app.extra_tokens)}


def reset(app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON) -> JSON:
    app.ws.reset()
    app.faults.clear()
    app.log.clear()
    app.limiter.configure(app.limiter.rate, app.limiter.burst)
    budgets = app.budgets
    budgets.configure(
        budgets.per_token, budgets.per_workspace, budgets.window, budgets.workspace_window
    )
    return health(app, params, query, body)


@dataclass(frozen=True)
class ControlRoute:
    method: str
    template: str
    handler: ControlHandler
    write: bool = False

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = compile_template(self.template).match(path)
        return dict(found.groupdict()) if found else None


CONTROL_ROUTES = [
    ControlRoute("GET", "/__sandbox/health", health),
    ControlRoute("GET", "/__sandbox/requests", get_requests),
    ControlRoute("DELETE", "/__sandbox/requests", clear_requests),
    ControlRoute("GET", "/__sandbox/faults", list_faults),
    ControlRoute("POST", "/__sandbox/faults", add_fault),
    ControlRoute("DELETE", "/__sandbox/faults", clear_faults),
    ControlRoute("DELETE", "/__sandbox/faults/{rule_id}", remove_fault),
    ControlRoute("POST", "/__sandbox/learner/pages/{page_id}", learner_update_page, write=True),
    ControlRoute(
        "POST",
        "/__sandbox/learner/data_sources/{data_source_id}/pages",
        learner_add_row,
        write=True,
    ),
    ControlRoute(
        "PATCH",
        "/__sandbox/learner/data_sources/{data_source_id}",
        learner_update_schema,
        write=True,
    ),
    ControlRoute(
        "POST",
        "/__sandbox/learner/databases/{database_id}/columns",
        learner_move_into_columns,
        write=True,
    ),
    ControlRoute(
        "POST",
        "/__sandbox/learner/pages/{page_id}/linked_databases",
        learner_add_linked_database,
        write=True,
    ),
    ControlRoute(
        "DELETE", "/__sandbox/learner/databases/{database_id}", learner_purge_database, write=True
    ),
    ControlRoute("POST", "/__sandbox/cohort", cohort, write=True),
    ControlRoute("GET", "/__sandbox/data_sources/{data_source_id}/pages", all_pages),
    ControlRoute("GET", "/__sandbox/pages/{page_id}", get_page),
    ControlRoute("GET", "/__sandbox/open/{object_id}", open_object),
    ControlRoute("GET", "/__sandbox/views/{view_id}/chart", view_chart),
    ControlRoute("POST", "/__sandbox/views/refuse", refuse_charts, write=True),
    ControlRoute("GET", "/__sandbox/clock", clock),
    ControlRoute("POST", "/__sandbox/clock", clock, write=True),
    ControlRoute("GET", "/__sandbox/rate_limit", rate_limit),
    ControlRoute("POST", "/__sandbox/rate_limit", rate_limit),
    ControlRoute("GET", "/__sandbox/limits", limits),
    ControlRoute("POST", "/__sandbox/limits", limits),
    ControlRoute("POST", "/__sandbox/tokens", tokens),
    ControlRoute("POST", "/__sandbox/reset", reset, write=True),
]


def handle_control(
    app: SandboxApp, method: str, target: str, raw_body: bytes, client_host: str
) -> Outcome:
    """Answer one control request (JSON in, JSON out)."""
    if not is_loopback(client_host):
        return _error(
            403, "forbidden", "The sandbox control endpoint answers loopback clients only."
        )
    parts = urlsplit(target)
    for route in CONTROL_ROUTES:
        params = route.match(method, parts.path)
        if params is not None:
            break
    else:
        return _error(404, "not_found", f"No control endpoint {method} {parts.path}.")
    try:
        body = json.loads(raw_body.decode("utf-8")) if raw_body.strip() else {}
    except (UnicodeDecodeError, ValueError) as exc:
        return _error(400, "invalid_json", f"Error parsing JSON body: {exc}")
    if not isinstance(body, dict):
        return _error(400, "invalid_json", "The body must be a JSON object.")
    try:
        lookup = functools.partial(app.ws.mention_target, shared_only=False)
        with app.ws.lock, mentions_resolved_by(lookup):
            result = route.handler(app, params, parse_qs(parts.query), body)
            if route.write:
                app.ws.save()
            return Outcome.encoded(200, result)
    except FaultRuleError as exc:
        return _error(400, "invalid_fault", str(exc))
    except NotionError as error:
        return _error(error.status, error.code, error.message)
