"""Databases, data sources and their schemas: creation and changes.

A retype gives the property a NEW property id (as the recordings show: a date turned rich_text
changed from `aX%5BW` to `dTkt`); the values are converted through their text.
"""

from __future__ import annotations

import copy
from typing import Any

from sync.sandbox.ids import JSON, new_id, new_property_id
from sync.sandbox.pages import parse_icon
from sync.sandbox.query import find_property
from sync.sandbox.richtext import parse_rich_text, text_items
from sync.sandbox.store import Workspace
from sync.sandbox.validate import (
    MISSING,
    archived,
    invalid,
    require_bool,
    require_object,
    require_str,
    validation,
)
from sync.sandbox.values import (
    SUPPORTED_TYPES,
    UNSUPPORTED_TYPES,
    PendingOptions,
    build_config,
    convert_value,
    schema_type,
)

UNTITLED_DATABASE = "New database"


def _title_entry(name: str) -> JSON:
    return {"id": "title", "name": name, "type": "title", "description": None, "config": {}}


def _entry_name(entry: JSON, default: str, path: str) -> str:
    name = require_str(entry.get("name", default), f"{path}.name")
    if not name.strip():
        raise invalid(f"{path}.name", "a non-empty string", name)
    return name


def _check_unique_names(schema: dict[str, JSON]) -> None:
    seen: set[str] = set()
    for prop in schema.values():
        if prop["name"] in seen:
            raise validation(f"Property names must be unique: {prop['name']} is used twice.")
        seen.add(prop["name"])


def parse_initial_schema(ws: Workspace, raw: Any, path: str) -> dict[str, JSON]:
    """The schema of a new data source; without properties it gets a `Name` title."""
    if raw is MISSING or raw is None:
        return {"title": _title_entry("Name")}
    given = require_object(raw, path)
    schema: dict[str, JSON] = {}
    for key, value in given.items():
        kpath = f"{path}.{key}"
        entry = require_object(value, kpath)
        kind = schema_type(entry, kpath)
        if kind == "title" and "title" in schema:
            raise validation("A data source can only have one title property.")
        property_id = "title" if kind == "title" else new_property_id(ws.rng, set(schema))
        schema[property_id] = {
            "id": property_id,
            "name": _entry_name(entry, key, kpath),
            "type": kind,
            "description": entry.get("description"),
            "config": build_config(kind, entry.get(kind), kpath),
        }
    if "title" not in schema:
        names = {p["name"] for p in schema.values()}
        schema["title"] = _title_entry("Name" if "Name" not in names else "Title")
    _check_unique_names(schema)
    return schema


def new_view(
    ws: Workspace, database: JSON, data_source: JSON, actor: str, *, name: str, view_type: str
) -> JSON:
    now = ws.now()
    view: JSON = {
        "id": new_id(),
        "database_id": database["id"],
        "data_source_id": data_source["id"],
        "name": name,
        "type": view_type,
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "filter": None,
        "sorts": None,
        "quick_filters": None,
        "configuration": {"type": view_type},
        "seq": ws.next_seq(),
    }
    ws.views[view["id"]] = view
    return view


def new_data_source(
    ws: Workspace,
    database: JSON,
    title: list[JSON],
    schema: dict[str, JSON],
    icon: JSON | None,
    actor: str,
) -> JSON:
    now = ws.now()
    data_source: JSON = {
        "id": new_id(),
        "database_id": database["id"],
        "title": copy.deepcopy(title),
        "icon": icon,
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "in_trash": False,
        "properties": schema,
        "row_ids": [],
        "seq": ws.next_seq(),
    }
    ws.data_sources[data_source["id"]] = data_source
    database["data_source_ids"].append(data_source["id"])
    return data_source


def create_database(ws: Workspace, body: JSON, actor: str) -> JSON:
    """POST /v1/databases: a database under a page, its first data source and a default view."""
    parent = require_object(body.get("parent", MISSING), "body.parent")
    if "page_id" not in parent:
        raise invalid("body.parent.page_id", "defined", MISSING)
    page = ws.lookup("page", parent["page_id"], "body.parent.page_id")
    ws.check_editable("page", page)
    source_title = parse_rich_text(body.get("title", []), "body.title")
    # Recorded: a database created without a title is called "New database" (its data source
    # keeps an empty title).
    title = source_title or text_items(UNTITLED_DATABASE)
    description = parse_rich_text(body.get("description", []), "body.description")
    is_inline = require_bool(body.get("is_inline", False), "body.is_inline")
    icon = parse_icon(body.get("icon"), "body.icon")
    initial = body.get("initial_data_source")
    raw_properties: Any = MISSING
    if initial is not None:
        raw_properties = require_object(initial, "body.initial_data_source").get(
            "properties", MISSING
        )
    schema = parse_initial_schema(ws, raw_properties, "body.initial_data_source.properties")
    now = ws.now()
    database: JSON = {
        "id": new_id(),
        "parent": {"type": "page_id", "page_id": page["id"]},
        "title": title,
        "description": description,
        "icon": icon,
        "is_inline": is_inline,
        "in_trash": False,
        "is_locked": False,
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "data_source_ids": [],
    }
    ws.databases[database["id"]] = database
    page["children"].append(database["id"])
    data_source = new_data_source(ws, database, source_title, schema, None, actor)
    new_view(ws, database, data_source, actor, name="Default view", view_type="table")
    return database


def create_data_source(ws: Workspace, body: JSON, actor: str) -> JSON:
    """POST /v1/data_sources: another data source in an existing database."""
    parent = require_object(body.get("parent", MISSING), "body.parent")
    database = ws.lookup("database", parent.get("database_id", MISSING), "body.parent.database_id")
    ws.check_editable("database", database)
    title = parse_rich_text(body.get("title", []), "body.title")
    schema = parse_initial_schema(ws, body.get("properties", MISSING), "body.properties")
    icon = parse_icon(body.get("icon"), "body.icon")
    return new_data_source(ws, database, title, schema, icon, actor)


def _has_type(entry: JSON) -> bool:
    return "type" in entry or any(k in SUPPORTED_TYPES or k in UNSUPPORTED_TYPES for k in entry)


def _add_property(ws: Workspace, work: dict[str, JSON], key: str, entry: JSON, kpath: str) -> None:
    """A property the patch names that does not exist yet: it needs a type (not a second title)."""
    if not _has_type(entry):
        raise validation(f"{key} is not a property that exists.")
    kind = schema_type(entry, kpath)
    if kind == "title":
        raise validation("A data source can only have one title property.")
    property_id = new_property_id(ws.rng, set(work))
    work[property_id] = {
        "id": property_id,
        "name": _entry_name(entry, key, kpath),
        "type": kind,
        "description": entry.get("description"),
        "config": build_config(kind, entry.get(kind), kpath),
    }


def patch_schema(ws: Workspace, data_source: JSON, raw: Any, path: str) -> None:
    """Add, rename (keyed by name or id), retype and delete (`null`) properties, all or nothing."""
    changes = require_object(raw, path)
    work: dict[str, JSON] = copy.deepcopy(data_source["properties"])
    retypes: list[tuple[JSON, JSON]] = []
    for key, change in changes.items():
        kpath = f"{path}.{key}"
        prop = find_property({"properties": work}, key)
        if change is None:
            if prop is None:
                raise validation(f"{key} is not a property that exists.")
            if prop["type"] == "title":
                raise validation("The title property cannot be deleted.")
            del work[prop["id"]]
            continue
        entry = require_object(change, kpath)
        if prop is None:
            _add_property(ws, work, key, entry, kpath)
            continue
        if _has_type(entry):
            kind = schema_type(entry, kpath)
            if kind == prop["type"]:
                prop["config"] = build_config(kind, entry.get(kind), kpath, existing=prop["config"])
            elif "title" in (kind, prop["type"]):
                raise validation("The type of the title property cannot be changed.")
            else:
                retyped = {
                    "id": new_property_id(ws.rng, set(work)),
                    "name": prop["name"],
                    "type": kind,
                    "description": prop.get("description"),
                    "config": build_config(kind, entry.get(kind), kpath),
                }
                work = {
                    (retyped["id"] if k == prop["id"] else k): (retyped if k == prop["id"] else v)
                    for k, v in work.items()
                }
                retypes.append((prop, retyped))
                prop = retyped
        if "name" in entry:
            prop["name"] = _entry_name(entry, key, kpath)
        if "description" in entry:
            prop["description"] = entry["description"]
    _check_unique_names(work)
    pending = PendingOptions()
    for page_id in data_source["row_ids"]:
        values = ws.pages[page_id]["values"]
        for old, new in retypes:
            values[new["id"]] = convert_value(old, new, values.pop(old["id"], None), pending)
    for property_id in list(data_source["properties"]):
        if property_id not in work:
            for page_id in data_source["row_ids"]:
                ws.pages[page_id]["values"].pop(property_id, None)
    pending.apply(work)
    data_source["properties"] = work


def update_data_source(ws: Workspace, data_source: JSON, body: JSON, actor: str) -> None:
    """PATCH /v1/data_sources/{id}: title, icon, properties, in_trash / archived."""
    trash: bool | None = None
    for key in ("archived", "in_trash"):
        if body.get(key) is not None:
            trash = require_bool(body[key], f"body.{key}")
    if data_source["in_trash"] and trash is not False:
        raise archived()
    title = parse_rich_text(body["title"], "body.title") if "title" in body else None
    icon = parse_icon(body.get("icon"), "body.icon") if "icon" in body else MISSING
    if body.get("properties") is not None:
        patch_schema(ws, data_source, body["properties"], "body.properties")
    if title is not None:
        data_source["title"] = title
        database = ws.databases[data_source["database_id"]]
        live = [i for i in database["data_source_ids"] if not ws.data_sources[i]["in_trash"]]
        if live == [data_source["id"]]:
            # Recorded: renaming the only data source renames its database too.
            database["title"] = copy.deepcopy(title) or text_items(UNTITLED_DATABASE)
    if icon is not MISSING:
        data_source["icon"] = icon
    if trash is not None:
        data_source["in_trash"] = trash
    ws.touch(data_source, actor)


def update_database(ws: Workspace, database: JSON, body: JSON, actor: str) -> None:
    """PATCH /v1/databases/{id}: title, description, icon, is_inline, is_locked, in_trash."""
    trash = (
        require_bool(body["in_trash"], "body.in_trash")
        if body.get("in_trash") is not None
        else None
    )
    if database["in_trash"] and trash is not False:
        raise archived()
    updates: JSON = {}
    for key in ("title", "description"):
        if key in body:
            updates[key] = parse_rich_text(body[key], f"body.{key}")
    for key in ("is_inline", "is_locked"):
        if key in body:
            updates[key] = require_bool(body[key], f"body.{key}")
    if "icon" in body:
        updates["icon"] = parse_icon(body["icon"], "body.icon")
    if trash is not None:
        updates["in_trash"] = trash
    database.update(updates)
    database["last_edited_time"] = ws.now()
    database["last_edited_by"] = actor
