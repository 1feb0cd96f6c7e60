"""`SandboxControl`: a small client of the sandbox's `/__sandbox/` control endpoint (httpx).

It plays the learner in the Notion app (tick, edit, add rows, trash, change the schema), injects
faults, reads the request log and moves the sandbox clock. Values are Notion property values.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

JSON = dict[str, Any]


class SandboxControlError(Exception):
    """The control endpoint refused a request; `status` and `body` say why."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"sandbox control: {status}: {message}")
        self.status = status
        self.body = body


def _text(text: str) -> list[JSON]:
    return [{"type": "text", "text": {"content": text}}] if text else []


class SandboxControl:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        # Plain HTTP on loopback: no TLS context to build, no proxy settings from the environment.
        self._http = httpx.Client(
            base_url=f"{self.base_url}/__sandbox", timeout=timeout, verify=False, trust_env=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(
        self, method: str, path: str, body: JSON | None = None, params: JSON | None = None
    ) -> Any:
        response = self._http.request(method, path, json=body, params=params)
        payload = response.json() if response.content else None
        if response.status_code >= 400:
            raise SandboxControlError(response.status_code, payload)
        return payload

    # -- server ---------------------------------------------------------------------------
    def health(self) -> JSON:
        result: JSON = self._call("GET", "/health")
        return result

    def reset(self) -> JSON:
        """A fresh workspace (same root/unshared page ids and token); faults and log cleared."""
        result: JSON = self._call("POST", "/reset")
        return result

    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> JSON:
        result: JSON = self._call("POST", "/rate_limit", {"rate_limit": rate, "burst": burst})
        return result

    def set_limits(
        self,
        *,
        requests_per_window: int | None = None,
        workspace_requests_per_window: int | None = None,
        window_seconds: float | None = None,
        workspace_window_seconds: float | None = None,
        max_query_results: int | None = None,
    ) -> JSON:
        """Notion's window budgets (per token, per workspace) and the query result cap; None
        turns a budget off (the cap back to 10,000). Answers the settings and the 429 counts."""
        body = {
            "requests_per_window": requests_per_window,
            "workspace_requests_per_window": workspace_requests_per_window,
            "window_seconds": window_seconds,
            "workspace_window_seconds": workspace_window_seconds,
            "max_query_results": max_query_results,
        }
        result: JSON = self._call("POST", "/limits", body)
        return result

    def limits(self) -> JSON:
        result: JSON = self._call("GET", "/limits")
        return result

    def add_token(self, token: str) -> None:
        """Another connection (its own token) on the same workspace."""
        self._call("POST", "/tokens", {"token": token})

    def advance_clock(self, seconds: float) -> str:
        """Move the sandbox's "now" forward; returns the new now (ISO 8601)."""
        return str(self._call("POST", "/clock", {"advance_seconds": seconds})["now"])

    # -- views ----------------------------------------------------------------------------
    def chart(self, view_id: str) -> JSON:
        """What a chart view shows now: `{"labels": [...], "values": [...], ...}`."""
        result: JSON = self._call("GET", f"/views/{view_id}/chart")
        return result

    def refuse_charts(
        self,
        refuse: bool = True,
        message: str | None = None,
        types: tuple[str, ...] = ("chart", "dashboard"),
    ) -> JSON:
        """Make creating chart and/or dashboard views answer 400 (a plan without them)."""
        body = {"refuse": refuse, "message": message, "types": list(types)}
        result: JSON = self._call("POST", "/views/refuse", body)
        return result

    # -- request log ----------------------------------------------------------------------
    def requests(self) -> JSON:
        result: JSON = self._call("GET", "/requests")
        return result

    def reset_requests(self) -> None:
        self._call("DELETE", "/requests")

    def request_count(
        self, route: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        """Requests so far, optionally for one route (`/v1/pages/{id}` or `PATCH /v1/pages/{id}`),
        method and status."""
        if route is not None and " " in route:
            method, route = route.split(" ", 1)
        entries = self.requests()["entries"]
        return sum(
            1
            for entry in entries
            if (route is None or entry["route"] == route)
            and (method is None or entry["method"] == method.upper())
            and (status is None or entry["status"] == status)
        )

    # -- faults ---------------------------------------------------------------------------
    def add_fault(
        self,
        kind: str,
        *,
        method: str = "*",
        route: str = "*",
        status: int | None = None,
        times: int | None = None,
        probability: float | None = None,
        latency_ms: int | None = None,
        retry_after: int | None = None,
        seed: int | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> JSON:
        """Add a rule; by default it fires once (`times=1`) unless `probability` is given."""
        rule: JSON = {"kind": kind, "method": method, "route": route}
        optional = {
            "status": status,
            "times": times,
            "probability": probability,
            "latency_ms": latency_ms,
            "retry_after": retry_after,
            "seed": seed,
            "code": code,
            "message": message,
        }
        rule.update({key: value for key, value in optional.items() if value is not None})
        return self.add_fault_rule(rule)

    def add_fault_rule(self, rule: JSON) -> JSON:
        """Add a rule given in its JSON form (as `--fault` takes it); returns it with its id."""
        result: JSON = self._call("POST", "/faults", rule)
        return result

    def faults(self) -> list[JSON]:
        return list(self._call("GET", "/faults")["faults"])

    def remove_fault(self, rule_id: str) -> None:
        self._call("DELETE", f"/faults/{rule_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- the learner, in the Notion app ---------------------------------------------------
    def update_page(self, page_id: str, properties: JSON | None = None, **extra: Any) -> JSON:
        body: JSON = dict(extra)
        if properties is not None:
            body["properties"] = properties
        result: JSON = self._call("POST", f"/learner/pages/{page_id}", body)
        return result

    def set_property(self, page_id: str, name: str, value_json: JSON) -> JSON:
        """Set one property to a Notion property value, e.g. `{"checkbox": True}`."""
        return self.update_page(page_id, {name: value_json})

    def tick(self, page_id: str, done: bool = True, prop: str = "Done") -> JSON:
        return self.set_property(page_id, prop, {"checkbox": done})

    def set_select(self, page_id: str, prop: str, name: str | None) -> JSON:
        return self.set_property(page_id, prop, {"select": {"name": name} if name else None})

    def set_text(self, page_id: str, prop: str, text: str) -> JSON:
        return self.set_property(page_id, prop, {"rich_text": _text(text)})

    def set_url(self, page_id: str, prop: str, url: str | None) -> JSON:
        return self.set_property(page_id, prop, {"url": url})

    def set_number(self, page_id: str, prop: str, number: float | None) -> JSON:
        return self.set_property(page_id, prop, {"number": number})

    def set_date(self, page_id: str, prop: str, start: str | None, end: str | None = None) -> JSON:
        value = {"start": start, "end": end} if start else None
        return self.set_property(page_id, prop, {"date": value})

    def set_title(self, page_id: str, text: str) -> JSON:
        """The title property's id is always `title`, whatever its name."""
        return self.set_property(page_id, "title", {"title": _text(text)})

    def add_row(self, data_source_id: str, title: str, properties: JSON | None = None) -> str:
        """Create a row as the learner (e.g. without our Key); returns its page id."""
        values: JSON = {"title": {"title": _text(title)}}
        values.update(properties or {})
        page = self._call(
            "POST", f"/learner/data_sources/{data_source_id}/pages", {"properties": values}
        )
        return str(page["id"])

    def trash(self, page_id: str) -> JSON:
        return self.update_page(page_id, in_trash=True)

    def restore(self, page_id: str) -> JSON:
        return self.update_page(page_id, in_trash=False)

    def page(self, page_id: str) -> JSON:
        """A page as the learner sees it (no sharing check)."""
        result: JSON = self._call("GET", f"/pages/{page_id}")
        return result

    def pages(self, data_source_id: str, include_trashed: bool = False) -> list[JSON]:
        """Every row of a data source, oldest first, with its properties."""
        params = {"include_trashed": "1" if include_trashed else "0"}
        return list(
            self._call("GET", f"/data_sources/{data_source_id}/pages", params=params)["results"]
        )

    # -- a cohort of learners (sync/sandbox/cohort.py) ------------------------------------------
    def make_cohort(
        self,
        learners: int,
        items: list[JSON],
        *,
        seed: int = 0,
        levels: list[str] | None = None,
        categories: list[str] | None = None,
        in_columns: int | None = None,
    ) -> JSON:
        """A cohort page with `learners` learners' pages and checklist databases, random ticks,
        dates, skips and own items; returns its page id and each learner's ids."""
        body: JSON = {"learners": learners, "items": items, "seed": seed}
        if levels is not None:
            body["levels"] = levels
        if categories is not None:
            body["categories"] = categories
        if in_columns is not None:
            body["in_columns"] = in_columns
        result: JSON = self._call("POST", "/cohort", body)
        return result

    # -- the learner changes the page's layout ---------------------------------------------
    def move_into_columns(self, database_id: str) -> JSON:
        """Drag the database into the first of two new columns; returns the column_list block."""
        result: JSON = self._call("POST", f"/learner/databases/{database_id}/columns", {})
        return result

    def add_linked_database(self, page_id: str, database_id: str) -> str:
        """Add a linked database (a view of `database_id`) to the page; returns its id."""
        block = self._call(
            "POST", f"/learner/pages/{page_id}/linked_databases", {"database_id": database_id}
        )
        return str(block["id"])

    def purge_database(self, database_id: str) -> None:
        """Delete the database forever (as from Notion's Trash): it answers 404 from then on."""
        self._call("DELETE", f"/learner/databases/{database_id}")

    # -- the learner changes the schema ---------------------------------------------------
    def update_schema(self, data_source_id: str, properties: JSON) -> JSON:
        result: JSON = self._call(
            "PATCH", f"/learner/data_sources/{data_source_id}", {"properties": properties}
        )
        return result

    def add_property(self, data_source_id: str, name: str, type_config: JSON) -> JSON:
        return self.update_schema(data_source_id, {name: type_config})

    def rename_property(self, data_source_id: str, old: str, new: str) -> JSON:
        return self.update_schema(data_source_id, {old: {"name": new}})

    def delete_property(self, data_source_id: str, name: str) -> JSON:
        return self.update_schema(data_source_id, {name: None})

    def retype_property(self, data_source_id: str, name: str, type_config: JSON) -> JSON:
        """`type_config` like `{"rich_text": {}}`; the property gets a new id, values convert."""
        return self.update_schema(data_source_id, {name: type_config})
