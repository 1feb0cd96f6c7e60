"""The sandbox's learner: edits under `/__sandbox/learner/` made as a person user (so
`last_edited_by` shows a person, as after an edit in the Notion app), never limited to what the
token was shared."""

from __future__ import annotations

from sync.sandbox.app import SandboxApp
from sync.sandbox.ids import JSON
from sync.sandbox.layout import add_linked_database, move_into_columns, purge_database
from sync.sandbox.objects import block_object, data_source_object, page_object
from sync.sandbox.pages import create_page, update_page
from sync.sandbox.schema import update_data_source


def learner_update_page(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    page = ws.lookup("page", params["page_id"], "page_id", shared_only=False)
    update_page(ws, page, body, ws.person_id)
    return page_object(ws, page)


def learner_add_row(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    request = {**body, "parent": {"data_source_id": params["data_source_id"]}}
    page = create_page(ws, request, ws.person_id, shared_only=False)
    return page_object(ws, page)


def learner_update_schema(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    source = ws.lookup("data source", params["data_source_id"], "data_source_id", shared_only=False)
    update_data_source(ws, source, body, ws.person_id)
    return data_source_object(ws, source)


def learner_move_into_columns(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    database = ws.lookup("database", params["database_id"], "database_id", shared_only=False)
    column_list = move_into_columns(ws, database, ws.person_id)
    return block_object(ws, "block", column_list)


def learner_add_linked_database(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    page = ws.lookup("page", params["page_id"], "page_id", shared_only=False)
    source = ws.lookup("database", body.get("database_id"), "database_id", shared_only=False)
    return block_object(ws, "database", add_linked_database(ws, page, source, ws.person_id))


def learner_purge_database(
    app: SandboxApp, params: dict[str, str], query: dict[str, list[str]], body: JSON
) -> JSON:
    ws = app.ws
    database = ws.lookup("database", params["database_id"], "database_id", shared_only=False)
    purge_database(ws, database)
    return {"deleted": database["id"]}
