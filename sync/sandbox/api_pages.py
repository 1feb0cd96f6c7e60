"""Endpoints: users, search, pages."""

from __future__ import annotations

from urllib.parse import quote

from sync.sandbox.ids import JSON, normalize_id
from sync.sandbox.objects import (
    data_source_name,
    data_source_object,
    list_object,
    page_object,
    page_title,
)
from sync.sandbox.pages import create_page, update_page
from sync.sandbox.query import paginate
from sync.sandbox.routing import Request, Route
from sync.sandbox.validate import (
    MISSING,
    invalid,
    invalid_id,
    optional_object,
    page_size,
    require_str,
    user_not_found,
)
from sync.sandbox.versions import title_only_by_default


def users_me(request: Request) -> JSON:
    return request.ws.user_object(request.ws.bot_id)


def users_list(request: Request) -> JSON:
    ws = request.ws
    users = [ws.user_object(ws.person_id), ws.user_object(ws.bot_id)]
    return list_object(users, None, False, "user")


def users_retrieve(request: Request) -> JSON:
    ws = request.ws
    raw = request.params["user_id"]
    user_id = normalize_id(raw)
    if user_id is None:
        raise invalid_id("user_id", raw)
    if user_id not in (ws.bot_id, ws.person_id):
        raise user_not_found(user_id, ws.bot_id)
    return ws.user_object(user_id)


def _matches(title: str, query: str) -> bool:
    """Notion's search is fuzzy: any word of the query found in the title is a match."""
    words = query.casefold().split()
    return not words or any(word in title.casefold() for word in words)


def search(request: Request) -> JSON:
    ws, body = request.ws, request.body
    query = require_str(body.get("query", ""), "body.query")
    wanted = None
    search_filter = optional_object(body, "filter", "body")
    if search_filter is not None:
        wanted = search_filter.get("value")
        if search_filter.get("property") != "object" or wanted not in ("page", "data_source"):
            raise invalid("body.filter.value", '`"page"` or `"data_source"`', wanted)
    sort = optional_object(body, "sort", "body")
    ascending = sort is not None and sort.get("direction") == "ascending"
    if sort is not None and sort.get("direction") not in ("ascending", "descending"):
        raise invalid(
            "body.sort.direction", '`"ascending"` or `"descending"`', sort.get("direction")
        )
    candidates: list[tuple[str, str, JSON, str]] = []
    if wanted in (None, "page"):
        candidates += [("page", "page", p, page_title(p)) for p in ws.pages.values()]
    if wanted in (None, "data_source"):
        sources = ws.data_sources.values()
        candidates += [("data_source", "data source", s, data_source_name(s)) for s in sources]
    found = [
        {"id": record["id"], "kind": kind, "record": record}
        for kind, table_kind, record, title in candidates
        if ws.is_shared(table_kind, record)
        and not ws.in_trash(table_kind, record)
        and _matches(title, query)
    ]
    found.sort(
        key=lambda item: (item["record"]["last_edited_time"], item["record"]["seq"]),
        reverse=not ascending,
    )
    items = found
    size = page_size(body.get("page_size", MISSING), "body.page_size")
    chunk, next_cursor, has_more = paginate(
        items, body.get("start_cursor", MISSING), size, opaque=True
    )
    only = {"title"} if title_only_by_default(request.version) else None
    results = [
        page_object(ws, item["record"], only)
        if item["kind"] == "page"
        else data_source_object(ws, item["record"])
        for item in chunk
    ]
    return list_object(results, next_cursor, has_more, "page_or_data_source")


def pages_create(request: Request) -> JSON:
    page = create_page(request.ws, request.body, request.actor)
    return page_object(request.ws, page)


def property_filter(request: Request, page: JSON) -> set[str] | None:
    """`filter_properties` (repeated query parameter): property ids, or names, to return."""
    raw = request.query.get("filter_properties", []) + request.query.get("filter_properties[]", [])
    if not raw:
        return None
    parent = page["parent"]
    if parent["type"] != "data_source_id":
        return {"title"} if "title" in raw else set()
    schema = request.ws.data_sources[parent["data_source_id"]]["properties"]
    wanted: set[str] = set()
    for value in raw:
        for property_id, prop in schema.items():
            if value in (property_id, prop["name"]) or quote(value, safe="") == property_id:
                wanted.add(property_id)
    return wanted


def pages_retrieve(request: Request) -> JSON:
    page = request.ws.lookup("page", request.params["page_id"], "page_id")
    return page_object(request.ws, page, property_filter(request, page))


def pages_update(request: Request) -> JSON:
    page = request.ws.lookup("page", request.params["page_id"], "page_id")
    update_page(request.ws, page, request.body, request.actor)
    return page_object(request.ws, page)


ROUTES = [
    Route("GET", "/v1/users/me", users_me),
    Route("GET", "/v1/users", users_list),
    Route("GET", "/v1/users/{user_id}", users_retrieve),
    Route("POST", "/v1/search", search),
    Route("POST", "/v1/pages", pages_create, write=True),
    Route("GET", "/v1/pages/{page_id}", pages_retrieve),
    Route("PATCH", "/v1/pages/{page_id}", pages_update, write=True),
]
