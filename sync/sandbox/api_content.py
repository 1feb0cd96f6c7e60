"""Endpoints: blocks (children, retrieve, delete) and page Markdown."""

from __future__ import annotations

from sync.sandbox.blocks import (
    check_after,
    check_total,
    parse_blocks,
    store_blocks,
    trash_content,
)
from sync.sandbox.ids import JSON
from sync.sandbox.markdown import parse_markdown, render_markdown
from sync.sandbox.objects import block_object, list_object, visible_children
from sync.sandbox.query import paginate
from sync.sandbox.routing import Request, Route
from sync.sandbox.store import Workspace
from sync.sandbox.validate import (
    MISSING,
    invalid,
    require_object,
    require_str,
    validation,
)


def blocks_retrieve(request: Request) -> JSON:
    kind, record = request.ws.lookup_container(request.params["block_id"], databases=True)
    return block_object(request.ws, kind, record)


def blocks_delete(request: Request) -> JSON:
    """DELETE /v1/blocks/{id}: moves a block, a page or a database to the trash, answers the
    block (a page as child_page, a database as child_database)."""
    ws = request.ws
    kind, record = ws.lookup_container(request.params["block_id"], databases=True)
    ws.check_editable(kind, record)
    record["in_trash"] = True
    ws.touch(record, request.actor)
    return block_object(ws, kind, record)


def children_list(request: Request) -> JSON:
    ws = request.ws
    _, container = ws.lookup_container(request.params["block_id"])
    children = [
        {"id": record["id"], "kind": kind, "record": record}
        for kind, record in visible_children(ws, container)
    ]
    chunk, next_cursor, has_more = paginate(
        children,
        request.query_value("start_cursor") or MISSING,
        request.query_page_size(),
        opaque=False,
    )
    results = [block_object(ws, item["kind"], item["record"]) for item in chunk]
    return list_object(results, next_cursor, has_more, "block")


def children_append(request: Request) -> JSON:
    """PATCH /v1/blocks/{id}/children: ≤ 100 blocks, at the end or `after` a sibling."""
    ws, body = request.ws, request.body
    kind, container = ws.lookup_container(request.params["block_id"])
    ws.check_editable(kind, container)
    if "children" not in body:
        raise invalid("body.children", "defined", MISSING)
    if body.get("position") is not None:
        raise validation("The sandbox does not support `position`; use `after`.")
    specs = parse_blocks(body["children"], "body.children")
    check_total(specs, "body.children")
    after = check_after(ws, container, body["after"], "body.after") if body.get("after") else None
    records = store_blocks(ws, kind, container, specs, request.actor, after=after)
    shown = [("block", record) for record in records]
    if after is not None and records:
        # Recorded: an append `after` a block answers the new blocks and every sibling after them.
        siblings = visible_children(ws, container)
        last = next(i for i, (_, r) in enumerate(siblings) if r["id"] == records[-1]["id"])
        shown += siblings[last + 1 :]
    results = [block_object(ws, child_kind, record) for child_kind, record in shown]
    return list_object(results, None, False, "block")


def _page_markdown(ws: Workspace, page: JSON) -> JSON:
    markdown, unknown = render_markdown(ws, page)
    return {
        "object": "page_markdown",
        "id": page["id"],
        "markdown": markdown,
        "truncated": False,
        "unknown_block_ids": unknown,
    }


def markdown_retrieve(request: Request) -> JSON:
    page = request.ws.lookup("page", request.params["page_id"], "page_id")
    return _page_markdown(request.ws, page)


def _insert_after_anchor(ws: Workspace, page: JSON, selection: str) -> str:
    """The top-level block an ellipsis selection (`start text...end text`) points at."""
    start = selection.split("...", 1)[0].strip()
    for kind, record in visible_children(ws, page):
        if kind != "block":
            continue
        text, _ = render_markdown(ws, page, {"children": [record["id"]]})
        if start and start in text:
            return str(record["id"])
    raise validation(f"Could not find the text to insert after: {selection}")


def markdown_update(request: Request) -> JSON:
    """PATCH /v1/pages/{id}/markdown: `replace_content` or `insert_content` (end, start, after)."""
    ws, body = request.ws, request.body
    page = ws.lookup("page", request.params["page_id"], "page_id")
    ws.check_editable("page", page)
    command = body.get("type", MISSING)
    if command not in ("replace_content", "insert_content"):
        if command in ("update_content", "replace_content_range"):
            raise validation(f"The sandbox does not support {command}; use replace_content.")
        raise invalid("body.type", '`"replace_content"` or `"insert_content"`', command)
    details = require_object(body.get(command, MISSING), f"body.{command}")
    if command == "replace_content":
        text = require_str(details.get("new_str", MISSING), "body.replace_content.new_str")
        specs = parse_blocks(parse_markdown(text), "body.replace_content.new_str")
        check_total(specs, "body.replace_content.new_str")
        trash_content(ws, page, request.actor)
        store_blocks(ws, "page", page, specs, request.actor)
        return _page_markdown(ws, page)
    text = require_str(details.get("content", MISSING), "body.insert_content.content")
    specs = parse_blocks(parse_markdown(text), "body.insert_content.content")
    check_total(specs, "body.insert_content.content")
    after = None
    if details.get("after") is not None:
        after = _insert_after_anchor(
            ws, page, require_str(details["after"], "body.insert_content.after")
        )
    position = details.get("position")
    at_start = isinstance(position, dict) and position.get("type") == "start"
    store_blocks(ws, "page", page, specs, request.actor, after=after, at_start=at_start)
    return _page_markdown(ws, page)


ROUTES = [
    Route("GET", "/v1/blocks/{block_id}", blocks_retrieve),
    Route("DELETE", "/v1/blocks/{block_id}", blocks_delete, write=True),
    Route("GET", "/v1/blocks/{block_id}/children", children_list),
    Route("PATCH", "/v1/blocks/{block_id}/children", children_append, write=True),
    Route("GET", "/v1/pages/{page_id}/markdown", markdown_retrieve),
    Route("PATCH", "/v1/pages/{page_id}/markdown", markdown_update, write=True),
]
