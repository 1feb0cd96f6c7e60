"""Creating and updating pages: shared by the API (as the bot) and the learner (as a person)."""

from __future__ import annotations

from typing import Any

from sync.sandbox.blocks import BlockSpec, check_total, parse_blocks, store_blocks
from sync.sandbox.ids import JSON
from sync.sandbox.markdown import parse_markdown
from sync.sandbox.query import find_property
from sync.sandbox.richtext import parse_rich_text
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
from sync.sandbox.values import PendingOptions, parse_value


def parse_icon(raw: Any, path: str) -> JSON | None:
    if raw is None:
        return None
    icon = require_object(raw, path)
    kind = icon.get("type") or ("emoji" if "emoji" in icon else "external")
    if kind == "emoji":
        return {"type": "emoji", "emoji": require_str(icon.get("emoji"), f"{path}.emoji")}
    if kind == "external":
        external = require_object(icon.get("external"), f"{path}.external")
        return {
            "type": "external",
            "external": {"url": require_str(external.get("url"), f"{path}.external.url")},
        }
    raise invalid(f"{path}.type", '`"emoji"` or `"external"`', kind)


def parse_cover(raw: Any, path: str) -> JSON | None:
    """A page cover: an external image (`{"type": "external", "external": {"url": ...}}`)."""
    if raw is None:
        return None
    cover = require_object(raw, path)
    if cover.get("type", "external") != "external":
        raise invalid(f"{path}.type", '`"external"`', cover.get("type"))
    external = require_object(cover.get("external"), f"{path}.external")
    url = require_str(external.get("url"), f"{path}.external.url")
    return {"type": "external", "external": {"url": url}}


def resolve_parent(ws: Workspace, raw: Any, *, shared_only: bool) -> tuple[JSON, JSON | None]:
    """The stored parent of a new page and its data source (None for a page parent)."""
    if raw is MISSING:
        raise invalid("body.parent", "defined", MISSING)
    parent = require_object(raw, "body.parent")
    if "data_source_id" in parent:
        data_source = ws.lookup(
            "data source",
            parent["data_source_id"],
            "body.parent.data_source_id",
            shared_only=shared_only,
        )
    elif "database_id" in parent:
        database = ws.lookup(
            "database", parent["database_id"], "body.parent.database_id", shared_only=shared_only
        )
        sources = [ws.data_sources[i] for i in database["data_source_ids"]]
        sources = [s for s in sources if not s["in_trash"]]
        if len(sources) != 1:
            raise validation(
                "Databases with multiple data sources are not supported in this API version: "
                "use a data_source_id parent."
            )
        data_source = sources[0]
    elif "page_id" in parent:
        page = ws.lookup("page", parent["page_id"], "body.parent.page_id", shared_only=shared_only)
        ws.check_editable("page", page)
        return {"type": "page_id", "page_id": page["id"]}, None
    else:
        raise invalid(
            "body.parent", "an object with a page_id, database_id or data_source_id", parent
        )
    ws.check_editable("data source", data_source)
    return (
        {
            "type": "data_source_id",
            "data_source_id": data_source["id"],
            "database_id": data_source["database_id"],
        },
        data_source,
    )


def parse_properties(
    data_source: JSON | None, raw: Any, path: str, pending: PendingOptions
) -> dict[str, Any]:
    """Request property values -> stored values keyed by property id (names or ids accepted)."""
    if raw is MISSING or raw is None:
        return {}
    given = require_object(raw, path)
    values: dict[str, Any] = {}
    for key, value in given.items():
        if data_source is None:
            if key != "title":
                raise validation(f"{key} is not a property that exists.")
            prop: JSON | None = {"id": "title", "name": "title", "type": "title", "config": {}}
        else:
            prop = find_property(data_source, key)
        if prop is None:
            raise validation(f"{key} is not a property that exists.")
        values[prop["id"]] = parse_value(prop, value, f"{path}.{key}", pending)
    return values


def _content_specs(body: JSON) -> tuple[list[BlockSpec], list[Any] | None]:
    """Blocks of a new page from `children` or `markdown`, and a title taken from a `# ` line."""
    if "markdown" in body and ("children" in body or "content" in body):
        raise validation(
            "body failed validation: markdown is mutually exclusive with children and content."
        )
    if "markdown" in body:
        blocks = parse_markdown(require_str(body["markdown"], "body.markdown"))
        heading_title = None
        if blocks and blocks[0]["type"] == "heading_1":
            heading_title = blocks.pop(0)["heading_1"]["rich_text"]
        specs = parse_blocks(blocks, "body.markdown")
        check_total(specs, "body.markdown")
        return specs, heading_title
    raw_children = body.get("children", body.get("content", []))
    specs = parse_blocks(raw_children if raw_children is not None else [], "body.children")
    check_total(specs, "body.children")
    return specs, None


def create_page(ws: Workspace, body: JSON, actor: str, *, shared_only: bool = True) -> JSON:
    parent, data_source = resolve_parent(ws, body.get("parent", MISSING), shared_only=shared_only)
    pending = PendingOptions()
    values = parse_properties(
        data_source, body.get("properties", MISSING), "body.properties", pending
    )
    icon = parse_icon(body.get("icon"), "body.icon")
    cover = parse_cover(body.get("cover"), "body.cover")
    specs, heading_title = _content_specs(body)
    if "title" not in values and heading_title is not None:
        values["title"] = parse_rich_text(heading_title, "body.markdown")
    if data_source is not None:
        pending.apply(data_source["properties"])
    page = ws.new_page(parent=parent, actor=actor, values=values, icon=icon)
    page["cover"] = cover
    store_blocks(ws, "page", page, specs, actor)
    return page


def update_page(ws: Workspace, page: JSON, body: JSON, actor: str) -> JSON:
    """PATCH semantics: only the properties sent change; `in_trash` (or its alias `archived`)
    trashes or restores. Any edit of a page in the trash is refused unless it restores it."""
    trash: bool | None = None
    for key in ("archived", "in_trash"):
        if body.get(key) is not None:
            trash = require_bool(body[key], f"body.{key}")
    if page["in_trash"] and trash is not False:
        raise archived()
    parent = page["parent"]
    data_source = None
    if parent["type"] == "data_source_id":
        data_source = ws.data_sources[parent["data_source_id"]]
    pending = PendingOptions()
    values = parse_properties(
        data_source, body.get("properties", MISSING), "body.properties", pending
    )
    icon = parse_icon(body.get("icon"), "body.icon") if "icon" in body else MISSING
    cover = parse_cover(body.get("cover"), "body.cover") if "cover" in body else MISSING
    locked = require_bool(body["is_locked"], "body.is_locked") if "is_locked" in body else None
    was_trashed = page["in_trash"]
    page["in_trash"] = False
    if ws.in_trash("page", page):
        page["in_trash"] = was_trashed
        raise archived()
    if data_source is not None:
        pending.apply(data_source["properties"])
    page["values"].update(values)
    if icon is not MISSING:
        page["icon"] = icon
    if cover is not MISSING:
        page["cover"] = cover
    if locked is not None:
        page["is_locked"] = locked
    page["in_trash"] = bool(trash)
    ws.touch(page, actor)
    return page
