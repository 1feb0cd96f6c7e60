"""Endpoints: databases, data sources (retrieve, update, query) and views."""

from __future__ import annotations

from typing import Any

from sync.sandbox.api_pages import property_filter
from sync.sandbox.charts import (
    check_chart,
    check_placement,
    check_refusal,
    place_widget,
    remove_widget,
)
from sync.sandbox.ids import JSON
from sync.sandbox.layout import check_not_linked
from sync.sandbox.limits import QueryPage, cap_query_page, incomplete_status
from sync.sandbox.objects import (
    data_source_object,
    database_object,
    list_object,
    page_object,
    view_object,
)
from sync.sandbox.query import (
    Predicate,
    build_filter,
    find_property,
    paginate,
    paginate_newest_first,
    sort_pages,
)
from sync.sandbox.routing import Request, Route
from sync.sandbox.schema import (
    create_data_source,
    create_database,
    new_view,
    update_data_source,
    update_database,
)
from sync.sandbox.store import Workspace
from sync.sandbox.validate import (
    MISSING,
    invalid,
    page_size,
    require_object,
    require_str,
    validation,
)
from sync.sandbox.versions import title_only_by_default

VIEW_TYPES = (
    "table",
    "board",
    "calendar",
    "timeline",
    "gallery",
    "list",
    "form",
    "chart",
    "map",
    "dashboard",
)


def databases_create(request: Request) -> JSON:
    return database_object(request.ws, create_database(request.ws, request.body, request.actor))


def databases_retrieve(request: Request) -> JSON:
    database = request.ws.lookup("database", request.params["database_id"], "database_id")
    check_not_linked(database)
    return database_object(request.ws, database)


def databases_update(request: Request) -> JSON:
    database = request.ws.lookup("database", request.params["database_id"], "database_id")
    check_not_linked(database)
    update_database(request.ws, database, request.body, request.actor)
    return database_object(request.ws, database)


def data_sources_create(request: Request) -> JSON:
    return data_source_object(
        request.ws, create_data_source(request.ws, request.body, request.actor)
    )


def data_sources_retrieve(request: Request) -> JSON:
    source = request.ws.lookup("data source", request.params["data_source_id"], "data_source_id")
    return data_source_object(request.ws, source)


def data_sources_update(request: Request) -> JSON:
    source = request.ws.lookup("data source", request.params["data_source_id"], "data_source_id")
    update_data_source(request.ws, source, request.body, request.actor)
    return data_source_object(request.ws, source)


def data_sources_query(request: Request) -> JSON:
    ws, body = request.ws, request.body
    source = ws.lookup("data source", request.params["data_source_id"], "data_source_id")
    size = page_size(body.get("page_size", MISSING), "body.page_size")
    keep = _kept_rows(ws, source, body.get("filter"))
    cursor = body.get("start_cursor", MISSING)
    sorts = body.get("sorts", MISSING)
    if sorts is MISSING or sorts is None:
        # The default order is the creation order reversed: no sort, only this page's rows read.
        found = QueryPage(*paginate_newest_first(ws, source["row_ids"], keep, cursor, size))

        def ordered_ids() -> list[str]:
            return [i for i in reversed(source["row_ids"]) if keep(ws.pages[i])]
    else:
        pages = [page for page in (ws.pages[i] for i in source["row_ids"]) if keep(page)]
        ordered = sort_pages(source, pages, sorts)
        found = QueryPage(*paginate(ordered, cursor, size, opaque=True))

        def ordered_ids() -> list[str]:
            return [page["id"] for page in ordered]

    found = cap_query_page(found, ordered_ids, len(source["row_ids"]), request.max_results)
    only = property_filter(request, found.chunk[0]) if found.chunk else None
    if only is None and title_only_by_default(request.version):
        only = {"title"}
    results = [page_object(ws, page, only) for page in found.chunk]
    answer = list_object(results, found.next_cursor, found.has_more, "page_or_data_source")
    if found.incomplete:
        answer["request_status"] = incomplete_status()
    return answer


def _kept_rows(ws: Workspace, source: JSON, raw_filter: Any) -> Predicate:
    """Which rows a query returns: not trashed, and matching its filter if it has one."""
    if raw_filter is None:
        return lambda page: not page["in_trash"]
    predicate = build_filter(ws, source, raw_filter)
    return lambda page: not page["in_trash"] and predicate(page)


def _check_view_parts(request: Request, source: JSON, view_type: str) -> JSON:
    body = request.body
    if body.get("filter") is not None:
        build_filter(request.ws, source, body["filter"])
    if body.get("sorts") is not None:
        sort_pages(source, [], body["sorts"])
    configuration: JSON = {"type": view_type}
    if view_type == "dashboard":
        if body.get("configuration") is not None:
            raise validation("Dashboard views do not take a configuration.")
        return {"type": "dashboard", "rows": []}
    if body.get("configuration") is not None:
        given = require_object(body["configuration"], "body.configuration")
        if given.get("type", view_type) != view_type:
            raise invalid("body.configuration.type", f"`{view_type}`", given.get("type"))
        if view_type == "chart":
            check_chart(source, given)
        group_by = given.get("group_by")
        if isinstance(group_by, dict) and "property_id" in group_by:
            property_id = require_str(
                group_by["property_id"], "body.configuration.group_by.property_id"
            )
            if find_property(source, property_id) is None:
                raise validation(f"Could not find property with name or id: {property_id}")
        configuration.update(given)
        configuration["type"] = view_type
    return configuration


def views_create(request: Request) -> JSON:
    ws, body = request.ws, request.body
    source = ws.lookup("data source", body.get("data_source_id", MISSING), "body.data_source_id")
    database = ws.databases[source["database_id"]]
    dashboard: JSON | None = None
    if body.get("database_id") is not None and body.get("view_id") is not None:
        raise validation("body.database_id and body.view_id are mutually exclusive.")
    if body.get("view_id") is not None:
        dashboard = ws.lookup("view", body["view_id"], "body.view_id")
        if dashboard["type"] != "dashboard":
            raise validation(f"View {dashboard['id']} is not a dashboard view.")
        database = ws.databases[dashboard["database_id"]]
    elif body.get("database_id") is not None:
        given = ws.lookup("database", body["database_id"], "body.database_id")
        if given["id"] != database["id"]:
            raise validation("The data source does not belong to the given database.")
    name = require_str(body.get("name", MISSING), "body.name")
    view_type = body.get("type", MISSING)
    if view_type not in VIEW_TYPES:
        raise invalid("body.type", "one of " + ", ".join(f"`{t}`" for t in VIEW_TYPES), view_type)
    if view_type == "dashboard" and dashboard is not None:
        raise validation("A dashboard cannot be a widget of another dashboard.")
    placement = check_placement(body.get("placement"), dashboard) if dashboard else None
    if view_type in ("chart", "dashboard"):
        check_refusal(ws, view_type)
    configuration = _check_view_parts(request, source, view_type)
    view = new_view(ws, database, source, request.actor, name=name, view_type=view_type)
    if dashboard is not None and placement is not None:
        view["dashboard_view_id"] = dashboard["id"]
        place_widget(dashboard, view["id"], *placement)
    view["filter"] = body.get("filter")
    view["sorts"] = body.get("sorts")
    view["quick_filters"] = body.get("quick_filters")
    view["configuration"] = configuration
    return view_object(view)


def views_list(request: Request) -> JSON:
    ws = request.ws
    database_raw = request.query_value("database_id")
    source_raw = request.query_value("data_source_id")
    if database_raw is None and source_raw is None:
        raise validation(
            "query failed validation: query.database_id or query.data_source_id should be defined."
        )
    views = sorted(ws.views.values(), key=lambda view: view["seq"])
    if database_raw is not None:
        database = ws.lookup("database", database_raw, "database_id")
        views = [
            v
            for v in views
            if v["database_id"] == database["id"] and not v.get("dashboard_view_id")
        ]
    if source_raw is not None:
        source = ws.lookup("data source", source_raw, "data_source_id")
        views = [v for v in views if v["data_source_id"] == source["id"]]
    chunk, next_cursor, has_more = paginate(
        views,
        request.query_value("start_cursor") or MISSING,
        request.query_page_size(),
        opaque=False,
    )
    return list_object(
        [{"object": "view", "id": v["id"]} for v in chunk], next_cursor, has_more, "view"
    )


def views_retrieve(request: Request) -> JSON:
    return view_object(request.ws.lookup("view", request.params["view_id"], "view_id"))


def views_delete(request: Request) -> JSON:
    """DELETE /v1/views/{id}: the view is gone; the answer is its reference (as recorded)."""
    view = request.ws.lookup("view", request.params["view_id"], "view_id")
    ws = request.ws
    ws.check_editable("database", ws.databases[view["database_id"]])
    del ws.views[view["id"]]
    if view.get("dashboard_view_id") in ws.views:
        remove_widget(ws.views[view["dashboard_view_id"]], view["id"])
    for widget_id in [
        v["id"] for v in ws.views.values() if v.get("dashboard_view_id") == view["id"]
    ]:
        del ws.views[widget_id]
    return {
        "object": "view",
        "id": view["id"],
        "parent": {"type": "database_id", "database_id": view["database_id"]},
        "type": view["type"],
    }


def views_update(request: Request) -> JSON:
    """Only the fields sent change; `null` clears a filter, sorts or quick filters. A view keeps
    its type and its data source."""
    ws, body = request.ws, request.body
    view = ws.lookup("view", request.params["view_id"], "view_id")
    ws.check_editable("database", ws.databases[view["database_id"]])
    source = ws.data_sources[view["data_source_id"]]
    configuration = _check_view_parts(request, source, view["type"])
    if "name" in body:
        view["name"] = require_str(body["name"], "body.name")
    for part in ("filter", "sorts", "quick_filters"):
        if part in body:
            view[part] = body[part]
    if body.get("configuration") is not None:
        view["configuration"] = configuration
    view["last_edited_time"] = ws.now()
    view["last_edited_by"] = request.actor
    return view_object(view)


ROUTES = [
    Route("POST", "/v1/databases", databases_create, write=True),
    Route("GET", "/v1/databases/{database_id}", databases_retrieve),
    Route("PATCH", "/v1/databases/{database_id}", databases_update, write=True),
    Route("POST", "/v1/data_sources", data_sources_create, write=True),
    Route("GET", "/v1/data_sources/{data_source_id}", data_sources_retrieve),
    Route("PATCH", "/v1/data_sources/{data_source_id}", data_sources_update, write=True),
    Route("POST", "/v1/data_sources/{data_source_id}/query", data_sources_query),
    Route("POST", "/v1/views", views_create, write=True),
    Route("GET", "/v1/views", views_list),
    Route("GET", "/v1/views/{view_id}", views_retrieve),
    Route("DELETE", "/v1/views/{view_id}", views_delete, write=True),
    Route("PATCH", "/v1/views/{view_id}", views_update, write=True),
]
