"""Which database a run works on: the configured one, the recorded one, or a new one.

Creating the database records its ids at once (its own transaction), so a crash right after can
never lead to a second database; the views are added best effort.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from sync.checklist import Checklist
from sync.config import Settings
from sync.errors import DsprogressError, NotionNotFoundError, NotionUnavailableError
from sync.notion.adapter import AmbiguousWriteError, NotionAdapter
from sync.notion.mapping import build_database_schema, resolve_columns
from sync.notion.views import (
    NEXT_UP_FILTER_VERSION,
    NEXT_UP_NAME,
    build_next_up_filter,
    build_view_bodies,
)
from sync.store import Store

log = logging.getLogger("dsprogress.engine")
DATABASE_ICON = "🎓"


@dataclass(frozen=True)
class Target:
    database_id: str | None
    data_source_id: str | None
    database_url: str | None
    created: bool = False
    # The data source's properties when this run created it and already read them (for the
    # views), so the run needs no second schema read.
    properties: dict[str, Any] | None = None


def resolve_target(
    settings: Settings, store: Store, notion: NotionAdapter, checklist: Checklist, dry_run: bool
) -> Target:
    recorded_db = store.get_meta("database_id")
    recorded_ds = store.get_meta("data_source_id")
    configured = settings.notion_database_id
    if configured and configured != recorded_db:
        try:
            database = notion.fetch_database(configured)
        except NotionNotFoundError as exc:
            raise NotionNotFoundError(
                f"NOTION_DATABASE_ID {configured} does not exist or is not shared with your "
                "integration",
                hint="Open the database in Notion, ... menu -> Connections -> add your "
                "integration; and use the database's own URL (the part before ?v=).",
            ) from exc
        sources = database.get("data_sources") or []
        if not sources:
            raise NotionNotFoundError(f"database {configured} has no data source")
        target = Target(configured, str(sources[0]["id"]), str(database.get("url", "")))
        if not dry_run:
            _record_target(store, target)
        return target
    if recorded_db and recorded_ds:
        target = Target(recorded_db, recorded_ds, store.get_meta("database_url"))
        if not dry_run:
            _upgrade_next_up(notion, store, target)
        return target
    if dry_run:
        return Target(None, None, None, created=True)
    parent = settings.notion_parent_page_id
    assert parent is not None  # require_notion checked it
    schema = build_database_schema(checklist.level_names(), checklist.category_names())
    try:
        database = notion.create_database(parent, checklist.title, DATABASE_ICON, schema)
    except NotionNotFoundError as exc:
        raise NotionNotFoundError(
            f"the parent page {parent} (NOTION_PARENT_PAGE_ID) does not exist or is not shared "
            "with your integration"
        ) from exc
    except AmbiguousWriteError as exc:
        raise NotionUnavailableError(
            "creating the checklist database failed midway",
            hint="Look under your parent page in Notion: delete a half-created "
            "database there if you see one, then run the command again.",
        ) from exc
    target = Target(
        str(database["id"]),
        str(database["data_sources"][0]["id"]),
        str(database.get("url", "")),
        created=True,
    )
    _record_target(store, target)
    log.info("created database %s", target.database_id)
    properties = _add_views(notion, store, target, checklist)
    store.set_meta("next_up_filter", NEXT_UP_FILTER_VERSION)
    return replace(target, properties=properties)


def _add_views(
    notion: NotionAdapter, store: Store, target: Target, checklist: Checklist
) -> dict[str, Any] | None:
    """Create the board, table and Next up views: best effort, never fails the push.
    Returns the data source's properties it read for them (None if that read failed)."""
    assert target.database_id is not None and target.data_source_id is not None
    created: list[dict[str, str]] = []
    properties: dict[str, Any] | None = None
    try:
        properties = dict(notion.fetch_data_source(target.data_source_id).get("properties", {}))
        ids = resolve_columns(properties, {}).ids
        levels = [(level.name, level.icon) for level in checklist.levels]
        for body in build_view_bodies(target.database_id, target.data_source_id, ids, levels):
            view = notion.create_view(body)
            created.append({"name": str(body["name"]), "view_id": str(view.get("id", ""))})
    except (DsprogressError, AmbiguousWriteError) as exc:
        log.warning(
            "views: created %d, then gave up (%s); the database works without them",
            len(created),
            exc,
        )
    store.set_json_meta("views", created)
    return properties


def _upgrade_next_up(notion: NotionAdapter, store: Store, target: Target) -> None:
    """Give an older database's Next up view the current filter (once; best effort)."""
    if store.get_meta("next_up_filter") == NEXT_UP_FILTER_VERSION:
        return
    ids: dict[str, str] = store.get_json_meta("column_ids") or {}
    views = store.get_json_meta("views") or []
    try:
        for view in views:
            if view.get("name") == NEXT_UP_NAME and view.get("view_id") and "status" in ids:
                body = {"filter": build_next_up_filter(ids)}
                notion.update_view(str(view["view_id"]), body)
    except (DsprogressError, AmbiguousWriteError) as exc:
        log.warning("views: could not update the Next up view (%s); it still works", exc)
        return
    with store.transaction():
        store.set_meta("next_up_filter", NEXT_UP_FILTER_VERSION)


def _record_target(store: Store, target: Target) -> None:
    with store.transaction():
        store.set_meta("database_id", target.database_id)
        store.set_meta("data_source_id", target.data_source_id)
        store.set_meta("database_url", target.database_url)
