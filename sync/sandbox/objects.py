"""Notion objects built from the workspace's records, with the keys and JSON types of the API.

The objects share lists and dicts with the stored records: they are serialized while the
workspace lock is held (see `app.ok_outcome`), so no copies are needed. `request_id` is added to
top-level responses only, never here.
"""

from __future__ import annotations

from typing import Any

from sync.sandbox.ids import (
    JSON,
    database_url,
    minute_time,
    ms_time,
    page_url,
    view_url,
)
from sync.sandbox.richtext import plain_text
from sync.sandbox.store import Workspace
from sync.sandbox.values import render_schema_entry, render_value


def user_ref(user_id: str) -> JSON:
    return {"object": "user", "id": user_id}


def page_title(page: JSON) -> str:
    """The title property always has the id `title`, for rows and plain pages alike."""
    return plain_text(page["values"].get("title"))


def page_properties(ws: Workspace, page: JSON, only: set[str] | None = None) -> JSON:
    parent = page["parent"]
    if parent["type"] != "data_source_id":
        if only is not None and "title" not in only:
            return {}
        return {"title": {"id": "title", "type": "title", "title": page["values"].get("title", [])}}
    data_source = ws.data_sources[parent["data_source_id"]]
    properties: JSON = {}
    for property_id, prop in data_source["properties"].items():
        if only is not None and property_id not in only:
            continue
        stored = page["values"].get(property_id)
        properties[prop["name"]] = render_value(prop, stored, page, ws.user_in_value)
    return properties


def page_object(ws: Workspace, page: JSON, only: set[str] | None = None) -> JSON:
    return {
        "object": "page",
        "id": page["id"],
        "created_time": minute_time(page["created_time"]),
        "last_edited_time": minute_time(page["last_edited_time"]),
        "created_by": user_ref(page["created_by"]),
        "last_edited_by": user_ref(page["last_edited_by"]),
        "cover": page["cover"],
        "icon": page["icon"],
        "parent": dict(page["parent"]),
        "in_trash": page["in_trash"],
        "is_archived": False,
        "is_locked": page["is_locked"],
        "properties": page_properties(ws, page, only),
        "url": page_url(page_title(page), page["id"]),
        "public_url": None,
        "archived": page["in_trash"],
    }


def data_source_name(data_source: JSON) -> str:
    return plain_text(data_source["title"])


def database_object(ws: Workspace, database: JSON) -> JSON:
    sources = [ws.data_sources[i] for i in database["data_source_ids"] if i in ws.data_sources]
    return {
        "object": "database",
        "id": database["id"],
        "title": database["title"],
        "description": database["description"],
        "parent": dict(database["parent"]),
        "is_inline": database["is_inline"],
        "in_trash": database["in_trash"],
        "is_locked": database["is_locked"],
        "created_time": ms_time(database["created_time"]),
        "last_edited_time": ms_time(database["last_edited_time"]),
        "data_sources": [
            # An untitled data source goes by its database's title (recorded: "New database").
            {"id": s["id"], "name": data_source_name(s) or plain_text(database["title"])}
            for s in sources
            if not s["in_trash"]
        ],
        "icon": database["icon"],
        "cover": None,
        "url": database_url(database["id"]),
        "public_url": None,
        "archived": database["in_trash"],
    }


def data_source_object(ws: Workspace, data_source: JSON) -> JSON:
    database = ws.databases[data_source["database_id"]]
    return {
        "object": "data_source",
        "id": data_source["id"],
        "cover": None,
        "icon": data_source["icon"],
        "created_time": minute_time(data_source["created_time"]),
        "created_by": user_ref(data_source["created_by"]),
        "last_edited_by": user_ref(data_source["last_edited_by"]),
        "last_edited_time": minute_time(data_source["last_edited_time"]),
        "title": data_source["title"],
        "description": database["description"],  # recorded: the database's, kept in step
        "is_inline": database["is_inline"],
        "properties": {
            prop["name"]: render_schema_entry(prop) for prop in data_source["properties"].values()
        },
        "parent": {"type": "database_id", "database_id": database["id"]},
        "database_parent": dict(database["parent"]),
        "url": database_url(database["id"]),
        "public_url": None,
        "in_trash": data_source["in_trash"],
        "archived": data_source["in_trash"],
    }


def _block_envelope(
    record: JSON, parent: JSON, has_children: bool, kind: str, payload: Any
) -> JSON:
    return {
        "object": "block",
        "id": record["id"],
        "parent": dict(parent),
        "created_time": minute_time(record["created_time"]),
        "last_edited_time": minute_time(record["last_edited_time"]),
        "created_by": user_ref(record["created_by"]),
        "last_edited_by": user_ref(record["last_edited_by"]),
        "has_children": has_children,
        "in_trash": record["in_trash"],
        "type": kind,
        kind: payload,
        "archived": record["in_trash"],
    }


def visible_children(ws: Workspace, container: JSON) -> list[tuple[str, JSON]]:
    """The children of a page or block, in order, without those in the trash."""
    children: list[tuple[str, JSON]] = []
    for child_id in container.get("children", []):
        for kind, table in (("block", ws.blocks), ("page", ws.pages), ("database", ws.databases)):
            record = table.get(child_id)
            if record is not None:
                if not record["in_trash"]:
                    children.append((kind, record))
                break
    return children


def block_object(ws: Workspace, kind: str, record: JSON) -> JSON:
    """A block; a child page or database shows as a child_page / child_database block."""
    if kind == "page":
        has_children = bool(visible_children(ws, record))
        payload: Any = {"title": page_title(record)}
        return _block_envelope(record, record["parent"], has_children, "child_page", payload)
    if kind == "database":
        payload = {"title": plain_text(record["title"])}
        return _block_envelope(record, record["parent"], False, "child_database", payload)
    has_children = bool(visible_children(ws, record))
    payload = record["payload"]
    return _block_envelope(record, record["parent"], has_children, record["type"], payload)


def view_object(view: JSON) -> JSON:
    answer = {
        "object": "view",
        "id": view["id"],
        "parent": {"type": "database_id", "database_id": view["database_id"]},
        # A dashboard is not scoped to a data source (`null` in answers).
        "data_source_id": None if view["type"] == "dashboard" else view["data_source_id"],
        "name": view["name"],
        "type": view["type"],
        "created_time": ms_time(view["created_time"]),
        "created_by": user_ref(view["created_by"]),
        "last_edited_time": ms_time(view["last_edited_time"]),
        "last_edited_by": user_ref(view["last_edited_by"]),
        "url": view_url(view["database_id"], view["id"]),
        "filter": view["filter"],
        "sorts": view["sorts"],
        "quick_filters": view["quick_filters"],
        "configuration": view["configuration"],
    }
    if view.get("dashboard_view_id"):
        answer["dashboard_view_id"] = view["dashboard_view_id"]
    return answer


def list_object(results: list[JSON], next_cursor: str | None, has_more: bool, kind: str) -> JSON:
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": has_more,
        "type": kind,
        kind: {},
    }
