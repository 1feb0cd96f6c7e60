"""Block content: validating appended blocks, storing them, trashing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.sandbox.ids import JSON, new_id
from sync.sandbox.richtext import parse_rich_text
from sync.sandbox.store import Workspace
from sync.sandbox.validate import (
    MAX_ARRAY_ITEMS,
    invalid,
    require_bool,
    require_list,
    require_object,
    require_str,
    too_long,
    validation,
)

TEXT_BLOCKS = (
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "toggle",
    "quote",
    "callout",
)
OTHER_BLOCKS = ("divider", "code", "bookmark", "equation", "table_of_contents", "breadcrumb")
BLOCK_TYPES = TEXT_BLOCKS + OTHER_BLOCKS
# Types Notion has that the sandbox refuses with a clear message.
UNSUPPORTED_BLOCKS = (
    "image",
    "video",
    "audio",
    "file",
    "pdf",
    "embed",
    "table",
    "table_row",
    "column_list",
    "column",
    "synced_block",
    "link_to_page",
    "template",
    "child_page",
    "child_database",
    "heading_4",
    "tab",
)
MAX_NESTING = 2
DEFAULT_CALLOUT_ICON: JSON = {"type": "emoji", "emoji": "💡"}


@dataclass
class BlockSpec:
    """A validated block, not yet stored."""

    kind: str
    payload: JSON
    children: list[BlockSpec] = field(default_factory=list)


def _block_kind(block: JSON, path: str) -> str:
    if "type" in block:
        kind = require_str(block["type"], f"{path}.type")
    else:
        kinds = [k for k in block if k in BLOCK_TYPES or k in UNSUPPORTED_BLOCKS]
        if len(kinds) != 1:
            raise invalid(path, "a block object with exactly one block type", block)
        kind = kinds[0]
    if kind in UNSUPPORTED_BLOCKS:
        raise validation(f"The sandbox does not support {kind} blocks ({path}).")
    if kind not in BLOCK_TYPES:
        raise invalid(f"{path}.type", "a block type", kind)
    return kind


def _text_payload(kind: str, body: JSON, path: str) -> JSON:
    rich_text = parse_rich_text(body.get("rich_text", []), f"{path}.rich_text")
    color = require_str(body.get("color", "default"), f"{path}.color")
    if kind == "paragraph":
        return {"rich_text": rich_text, "icon": None, "color": color}
    if kind.startswith("heading_"):
        toggleable = require_bool(body.get("is_toggleable", False), f"{path}.is_toggleable")
        return {"rich_text": rich_text, "is_toggleable": toggleable, "color": color}
    if kind == "to_do":
        checked = require_bool(body.get("checked", False), f"{path}.checked")
        return {"rich_text": rich_text, "checked": checked, "color": color}
    if kind == "callout":
        icon = body.get("icon") or dict(DEFAULT_CALLOUT_ICON)
        return {
            "rich_text": rich_text,
            "icon": require_object(icon, f"{path}.icon"),
            "color": color,
        }
    return {"rich_text": rich_text, "color": color}


def _other_payload(kind: str, body: JSON, path: str) -> JSON:
    if kind in ("divider", "breadcrumb"):
        return {}
    if kind == "table_of_contents":
        return {"color": require_str(body.get("color", "default"), f"{path}.color")}
    if kind == "equation":
        return {"expression": require_str(body.get("expression"), f"{path}.expression")}
    caption = parse_rich_text(body.get("caption", []), f"{path}.caption")
    if kind == "bookmark":
        return {"caption": caption, "url": require_str(body.get("url"), f"{path}.url")}
    rich_text = parse_rich_text(body.get("rich_text", []), f"{path}.rich_text")
    language = require_str(body.get("language", "plain text"), f"{path}.language")
    return {"caption": caption, "rich_text": rich_text, "language": language}


def parse_blocks(raw: Any, path: str, depth: int = 1) -> list[BlockSpec]:
    """Validate a request's `children` array (≤ 100 blocks, nesting ≤ 2 levels)."""
    items = require_list(raw, path, limit=MAX_ARRAY_ITEMS)
    specs: list[BlockSpec] = []
    for index, item in enumerate(items):
        ipath = f"{path}[{index}]"
        block = require_object(item, ipath)
        kind = _block_kind(block, ipath)
        body = require_object(block.get(kind, {}), f"{ipath}.{kind}")
        bpath = f"{ipath}.{kind}"
        if kind in TEXT_BLOCKS:
            payload = _text_payload(kind, body, bpath)
        else:
            payload = _other_payload(kind, body, bpath)
        children: list[BlockSpec] = []
        nested = body.get("children", block.get("children"))
        if nested:
            if kind not in TEXT_BLOCKS:
                raise validation(
                    f"body failed validation: {bpath}.children is not allowed for {kind}."
                )
            if depth >= MAX_NESTING:
                raise validation(
                    f"body failed validation: {bpath}.children exceeds the maximum nesting of "
                    f"{MAX_NESTING} levels in one request."
                )
            children = parse_blocks(nested, f"{bpath}.children", depth + 1)
        specs.append(BlockSpec(kind, payload, children))
    return specs


def count_blocks(specs: list[BlockSpec]) -> int:
    return sum(1 + count_blocks(spec.children) for spec in specs)


def store_blocks(
    ws: Workspace,
    container_kind: str,
    container: JSON,
    specs: list[BlockSpec],
    actor: str,
    *,
    after: str | None = None,
    at_start: bool = False,
) -> list[JSON]:
    """Store blocks under a page or block, at the end, at the start or after a sibling."""
    if container_kind == "page":
        parent: JSON = {"type": "page_id", "page_id": container["id"]}
    else:
        parent = {"type": "block_id", "block_id": container["id"]}
    now = ws.now()
    records: list[JSON] = []
    for spec in specs:
        record: JSON = {
            "id": new_id(),
            "parent": parent,
            "type": spec.kind,
            "payload": spec.payload,
            "created_time": now,
            "last_edited_time": now,
            "created_by": actor,
            "last_edited_by": actor,
            "in_trash": False,
            "children": [],
        }
        ws.blocks[record["id"]] = record
        store_blocks(ws, "block", record, spec.children, actor)
        records.append(record)
    new_ids = [r["id"] for r in records]
    siblings: list[str] = container["children"]
    if after is not None:
        position = siblings.index(after) + 1
        siblings[position:position] = new_ids
    elif at_start:
        siblings[0:0] = new_ids
    else:
        siblings.extend(new_ids)
    if records:
        ws.touch(container, actor)
    return records


def check_after(ws: Workspace, container: JSON, raw: Any, path: str) -> str:
    """The `after` block id of an append: it must be a child of the container."""
    from sync.sandbox.ids import normalize_id

    block_id = normalize_id(require_str(raw, path))
    if block_id is None or block_id not in container["children"]:
        raise invalid(path, "the id of a child block of the parent", raw)
    return block_id


def trash_content(ws: Workspace, container: JSON, actor: str) -> None:
    """Remove every content block of a page (child pages and databases stay)."""
    kept: list[str] = []
    for child_id in container["children"]:
        block = ws.blocks.get(child_id)
        if block is None:
            kept.append(child_id)
            continue
        block["in_trash"] = True
        ws.touch(block, actor)
    container["children"] = kept
    ws.touch(container, actor)


def check_total(specs: list[BlockSpec], path: str) -> None:
    total = count_blocks(specs)
    if total > 1000:
        raise too_long(path, 1000, total)
