"""Which database a run works on: the configured one, the recorded one, the one found under the
parent page, or a new one.

| NOTION_DATABASE_ID | recorded in the state | outcome                                           |
| set                | the same, or none     | that database (checked; recorded)                 |
| set                | another one           | that database; the state forgets the other one's  |
|                    |                       |   ids and rows (history kept) and rebuilds        |
| unset              | yes                   | the recorded database (checked)                   |
| unset              | no                    | discovery under the parent page:                  |
|                    |                       |   one of ours  -> adopt it and record it          |
|                    |                       |   several      -> halt, listing their URLs        |
|                    |                       |   none         -> create one, with the mark       |

"Checked" means the database and data source objects are read on every run: one in the Trash or
gone is a halt (`DatabaseGoneError`) before anything is written. A database create whose answer is
lost is not retried: the mark it carries lets the next run's discovery find it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sync.checklist import Checklist
from sync.config import Settings
from sync.discovery import (
    LiveTarget,
    build_several_found_error,
    fetch_live_target,
    find_checklist_databases,
    pick_data_source,
)
from sync.errors import (
    ConfigError,
    DatabaseGoneError,
    DsprogressError,
    NotionNotFoundError,
    NotionRequestError,
    NotionUnavailableError,
)
from sync.notion.adapter import AmbiguousWriteError, NotionAdapter
from sync.notion.mapping import build_database_schema, resolve_columns
from sync.notion.mark import Mark, build_description, parse_mark
from sync.notion.versions import is_in_trash
from sync.notion.views import (
    VIEWS_VERSION,
    build_view_bodies,
)
from sync.store import Store
from sync.view_upgrades import upgrade_views

log = logging.getLogger("dsprogress.engine")
DATABASE_ICON = "🎓"


@dataclass(frozen=True)
class Target:
    database_id: str | None
    data_source_id: str | None
    database_url: str | None
    created: bool = False
    # The data source's properties when this run already read them (the live check, discovery,
    # or the views of a database it created), so the run needs no second schema read.
    properties: dict[str, Any] | None = None
    found: bool = False  # adopted by discovery under the parent page
    live: LiveTarget | None = None  # the objects as read this run (None for a new database)
    # The database the state belonged to when NOTION_DATABASE_ID names another one.
    switched_from: str | None = None
    cockpit_added: bool = False  # this run added the Progress dashboard (sync.cockpit_sync)

    @property
    def mark(self) -> Mark | None:
        return self.live.mark if self.live is not None else None


def choose_database_id(configured: str | None, recorded: str | None) -> str | None:
    """The one rule for which database a run uses, known without Notion: NOTION_DATABASE_ID when
    set, else the one recorded in the state; None when a sync would discover or create one.

    Read-only (it writes nothing and creates nothing). Callers: `resolve_target` (the sync, which
    then checks, switches, discovers or creates), doctor's database check, and the digest
    (`digest.sent_weeks.load_sent_weeks`, `digest.deliver`'s Notion summary).
    """
    return configured or recorded


def resolve_target(
    settings: Settings, store: Store, notion: NotionAdapter, checklist: Checklist, dry_run: bool
) -> Target:
    recorded_db = store.get_meta("database_id")
    recorded_ds = store.get_meta("data_source_id")
    chosen = choose_database_id(settings.notion_database_id, recorded_db)
    if chosen is not None and chosen != recorded_db:  # NOTION_DATABASE_ID names another one
        target = _configured_target(notion, chosen)
        if recorded_db is not None:
            # The state is another database's cache: Notion holds the truth, so the state starts
            # over on this one (as init's start-over does) and rebuilds from its rows.
            target = replace(target, switched_from=recorded_db)
            log.info(
                "NOTION_DATABASE_ID names another database than %s: starting over", recorded_db
            )
        if not dry_run:
            if target.switched_from is not None:
                store.forget_database()
            _record_target(store, target)
        return target
    if recorded_db and recorded_ds:
        live = fetch_live_target(notion, recorded_db, recorded_ds)
        url = _url(live, store.get_meta("database_url"))
        target = _from_live(recorded_db, recorded_ds, url, live)
        if not dry_run:
            upgrade_views(notion, store, target.mark.views if target.mark else ())
        return target
    parent = settings.notion_parent_page_id
    assert parent is not None  # require_notion checked it
    found = _discover(notion, parent)
    if found is not None:
        if not dry_run:
            _record_target(store, found)
        log.info("found the checklist database %s under the parent page", found.database_id)
        return found
    if dry_run:
        return Target(None, None, None, created=True)
    target = _create(notion, parent, checklist)
    _record_target(store, target)
    log.info("created database %s", target.database_id)
    properties = _add_views(notion, store, target, checklist)
    store.set_meta("next_up_filter", VIEWS_VERSION)
    return replace(target, properties=properties)


def _from_live(
    database_id: str, data_source_id: str, url: str | None, live: LiveTarget, *, found: bool = False
) -> Target:
    """A target read this run: its schema comes along, so the run reads it only once."""
    properties = dict(live.source.get("properties") or {})
    return Target(database_id, data_source_id, url, found=found, live=live, properties=properties)


def _url(live: LiveTarget, fallback: str | None) -> str | None:
    return str(live.database.get("url") or fallback or "") or None


def _configured_target(notion: NotionAdapter, configured: str) -> Target:
    try:
        database = notion.fetch_database(configured)
    except (NotionNotFoundError, NotionRequestError) as exc:
        # Notion answers a page id here with 404 (or 400 "is a page"): say which.
        if _is_page(notion, configured):
            raise ConfigError(
                f"NOTION_DATABASE_ID {configured} is a page, not a database",
                hint="To create the database under that page, set NOTION_PARENT_PAGE_ID to "
                "it and leave NOTION_DATABASE_ID empty; to use an existing database, set "
                "NOTION_DATABASE_ID to the database's URL (the part before ?v=).",
            ) from exc
        if isinstance(exc, NotionRequestError):
            raise
        raise NotionNotFoundError(
            f"NOTION_DATABASE_ID {configured} does not exist or your token cannot see it",
            hint="Use the database's own link (the part before ?v=). With an internal "
            "connection, also add it to the database's page (... menu -> Connections).",
        ) from exc
    if is_in_trash(database):
        raise DatabaseGoneError(
            f"the database {configured} (NOTION_DATABASE_ID) is in Notion's Trash; nothing was "
            "written"
        )
    data_source_id = pick_data_source(notion, database)
    if data_source_id is None:
        raise NotionNotFoundError(f"database {configured} has no data source")
    live = fetch_live_target(notion, configured, data_source_id)
    return _from_live(configured, data_source_id, _url(live, None), live)


def _discover(notion: NotionAdapter, parent: str) -> Target | None:
    try:
        found = find_checklist_databases(notion, parent)
    except NotionNotFoundError as exc:
        raise NotionNotFoundError(
            f"the parent page {parent} (NOTION_PARENT_PAGE_ID) does not exist or your token "
            "cannot see it"
        ) from exc
    if len(found) > 1:
        raise build_several_found_error(found)
    if not found:
        return None
    (one,) = found
    live = LiveTarget(one.database, one.source, one.mark)
    return _from_live(one.database_id, one.data_source_id, one.url or None, live, found=True)


def _create(notion: NotionAdapter, parent: str, checklist: Checklist) -> Target:
    schema = build_database_schema(checklist.level_names(), checklist.category_names())
    try:
        database = notion.create_database(
            parent,
            checklist.title,
            DATABASE_ICON,
            schema,
            description=build_description(None, mark=Mark()),
        )
    except NotionNotFoundError as exc:
        raise NotionNotFoundError(
            f"the parent page {parent} (NOTION_PARENT_PAGE_ID) does not exist or your token "
            "cannot see it"
        ) from exc
    except AmbiguousWriteError as exc:
        raise NotionUnavailableError(
            "creating the checklist database failed midway; nothing else was written",
            hint="Run the command again: if Notion did create the database, the next run finds "
            "it under your parent page and uses it (there is nothing to clean up).",
        ) from exc
    return Target(
        str(database["id"]),
        str(database["data_sources"][0]["id"]),
        str(database.get("url", "")),
        created=True,
    )


def write_mark_columns(
    notion: NotionAdapter, target: Target, column_ids: Mapping[str, str]
) -> None:
    """Keep the mark's data source and column ids current (best effort: the next run retries)."""
    if target.database_id is None or target.data_source_id is None:
        return
    mark = target.mark
    if (
        target.live is not None
        and mark is not None
        and mark.data_source_id == target.data_source_id
        and mark.column_ids == dict(column_ids)
    ):
        return
    try:
        # A database this run created holds only the mark it was created with: no need to read it.
        database = target.live.database if target.live else {}
        if not target.created and target.live is None:
            database = notion.fetch_database(target.database_id)
        base = parse_mark(database.get("description")) or Mark()
        new = base.with_columns(target.data_source_id, column_ids)
        description = build_description(database.get("description"), mark=new)
        notion.update_database(target.database_id, description=description)
    except DsprogressError as exc:
        log.warning("could not write the database's mark (%s); the next run tries again", exc)


def _is_page(notion: NotionAdapter, object_id: str) -> bool:
    """Whether `object_id` names a page the integration can see (a common NOTION_DATABASE_ID
    mistake: the page that holds the database instead of the database)."""
    try:
        notion.fetch_page(object_id)
    except NotionNotFoundError:
        return False
    return True


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


def _record_target(store: Store, target: Target) -> None:
    with store.transaction():
        store.set_meta("database_id", target.database_id)
        store.set_meta("data_source_id", target.data_source_id)
        store.set_meta("database_url", target.database_url)
