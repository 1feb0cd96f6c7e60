"""What a learner does to a page's layout in the Notion app, which the API cannot do: drag a
database into a column, add a linked database (a view of another database), and delete a
database forever from the Trash.

A database in a column shows as a `child_database` block inside a `column` inside a `column_list`
(each with `has_children`), and its parent becomes the column block. A linked database shows as a
`child_database` block like any other, but retrieving it fails as on Notion ("... is a linked
database"). A database deleted forever answers 404 like an id that never existed.
"""

from __future__ import annotations

from sync.sandbox.ids import JSON, new_id
from sync.sandbox.richtext import text_items
from sync.sandbox.store import Workspace
from sync.sandbox.validate import NotionError, validation

COLUMN_NOTE = "A column beside the checklist"


def linked_database_error(database_id: str) -> NotionError:
    return validation(
        f"Database with ID {database_id} is a linked database. Database retrievals do not "
        "support linked databases."
    )


def check_not_linked(database: JSON) -> None:
    if database.get("linked_to"):
        raise linked_database_error(database["id"])


def _new_block(ws: Workspace, kind: str, parent: JSON, payload: JSON, actor: str) -> JSON:
    now = ws.now()
    block: JSON = {
        "id": new_id(),
        "parent": parent,
        "type": kind,
        "payload": payload,
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "in_trash": False,
        "children": [],
    }
    ws.blocks[block["id"]] = block
    return block


def _container_of(ws: Workspace, record: JSON) -> JSON:
    parent = record["parent"]
    if parent["type"] == "page_id":
        return ws.pages[parent["page_id"]]
    return ws.blocks[parent["block_id"]]


def move_into_columns(ws: Workspace, database: JSON, actor: str) -> JSON:
    """Put the database in the first of two new columns where it stood; returns the list block."""
    container = _container_of(ws, database)
    position = container["children"].index(database["id"])
    column_list = _new_block(ws, "column_list", dict(database["parent"]), {}, actor)
    columns = []
    for _ in range(2):
        parent = {"type": "block_id", "block_id": column_list["id"]}
        # Recorded: columns of equal width carry no `width_ratio` (`"column": {}`).
        column = _new_block(ws, "column", parent, {}, actor)
        column_list["children"].append(column["id"])
        columns.append(column)
    note = _new_block(
        ws,
        "paragraph",
        {"type": "block_id", "block_id": columns[1]["id"]},
        {"rich_text": text_items(COLUMN_NOTE), "icon": None, "color": "default"},
        actor,
    )
    columns[1]["children"].append(note["id"])
    columns[0]["children"].append(database["id"])
    database["parent"] = {"type": "block_id", "block_id": columns[0]["id"]}
    container["children"][position] = column_list["id"]
    ws.touch(container, actor)
    return column_list


def add_linked_database(ws: Workspace, page: JSON, source: JSON, actor: str) -> JSON:
    """A linked database (a view of `source`) at the end of the page."""
    now = ws.now()
    linked: JSON = {
        "id": new_id(),
        "parent": {"type": "page_id", "page_id": page["id"]},
        "title": source["title"],
        "description": [],
        "icon": None,
        "is_inline": True,
        "in_trash": False,
        "is_locked": False,
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "data_source_ids": [],
        "linked_to": source["id"],
    }
    ws.databases[linked["id"]] = linked
    page["children"].append(linked["id"])
    ws.touch(page, actor)
    return linked


def purge_database(ws: Workspace, database: JSON) -> None:
    """Delete a database forever: it, its data sources, rows and views are gone (404)."""
    container = _container_of(ws, database)
    if database["id"] in container["children"]:
        container["children"].remove(database["id"])
    for source_id in database["data_source_ids"]:
        source = ws.data_sources.pop(source_id, None)
        for page_id in (source or {}).get("row_ids", []):
            ws.pages.pop(page_id, None)
    for view_id in [v for v, view in ws.views.items() if view["database_id"] == database["id"]]:
        del ws.views[view_id]
    del ws.databases[database["id"]]
