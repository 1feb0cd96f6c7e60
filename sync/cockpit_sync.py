"""The Progress dashboard in Notion: added once per database, recorded in its mark, restored only
by `doctor --fix`.

Once, across machines and crashes:
- A database whose mark names a dashboard (or Notion's refusal of one) gets nothing: a sync then
  costs no request here.
- Before creating the dashboard, the state records that it is about to (`cockpit_pending`), and
  after, which id Notion gave it. A run that finds that record for a dashboard the mark does not
  name deletes it (or, when the answer was lost, the unnamed Progress dashboards it lists) first.
- Right after creating it, the mark is read again: another machine's dashboard there wins and
  ours is deleted; otherwise ours is written into the mark before any widget is made.
- A widget or dashboard the learner deletes stays deleted: syncs never look at them.

Refused is fine: when Notion refuses the dashboard or a chart (a plan without it, a validation
message), the dashboard made so far is deleted, one warning says why, and the refusal goes into
the mark so no later sync (on any machine) retries or warns again. `doctor --fix` retries.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from sync.config import Settings
from sync.database_choice import Target
from sync.discovery import LiveTarget
from sync.errors import DsprogressError, NotionAuthError, NotionNotFoundError, NotionRequestError
from sync.notion.adapter import AmbiguousWriteError, NotionAdapter
from sync.notion.cockpit import (
    DASHBOARD_NAME,
    WIDGETS,
    Placement,
    build_dashboard_body,
    build_widget_body,
    can_build,
)
from sync.notion.mark import Cockpit, Mark, build_description, compact, parse_mark
from sync.store import Store

log = logging.getLogger("dsprogress.cockpit")
PENDING: Final = "cockpit_pending"  # state meta: {"database": id, "dashboard": id | None}
REFUSED_HINT = (
    "the checklist works without it; `dsprogress doctor --fix` tries again (after a plan "
    "change), DSPROGRESS_NOTION_COCKPIT=false stops adding it"
)


@dataclass(frozen=True)
class Where:
    database_id: str
    data_source_id: str
    column_ids: dict[str, str]
    week_starts_sunday: bool
    tabs: tuple[str, ...] = ()  # the ids of the tabs this machine made (the state's `views`)


def add_cockpit(
    settings: Settings,
    notion: NotionAdapter,
    store: Store,
    target: Target,
    column_ids: Mapping[str, str],
) -> Target:
    """Add the Progress dashboard to the run's database when its mark has none (best effort).
    Returns the target with the database as last written, so a later mark write keeps it."""
    if not settings.notion_cockpit or target.database_id is None:
        return target
    mark = target.mark if target.live is not None else Mark()
    if mark is None or target.data_source_id is None or not can_build(column_ids):
        return target
    if mark.cockpit is not None:
        _forget_pending(store, target.database_id, mark.cockpit)
        _record_url(store, target.database_url, mark.cockpit)
        return target
    where = Where(
        target.database_id,
        target.data_source_id,
        dict(column_ids),
        settings.week_start == "sun",
        tuple(str(v["view_id"]) for v in store.get_json_meta("views") or [] if v.get("view_id")),
    )
    try:
        _clear_orphans(notion, store, where, mark)
        database = build_cockpit(notion, store, where, fresh=target.created)
    except (DsprogressError, AmbiguousWriteError) as exc:
        log.warning("could not add the Progress dashboard (%s); the next sync tries again", exc)
        return target
    if database is None:
        return target
    live_mark = parse_mark(database.get("description"))
    if live_mark is not None and live_mark.cockpit is not None:
        _record_url(store, target.database_url, live_mark.cockpit)
    source = target.live.source if target.live is not None else {}
    added = (
        live_mark is not None and live_mark.cockpit is not None and not live_mark.cockpit.refused
    )
    return replace(target, live=LiveTarget(database, source, live_mark), cockpit_added=added)


def build_cockpit(
    notion: NotionAdapter,
    store: Store,
    where: Where,
    *,
    fresh: bool,
    replacing: Cockpit | None = None,
) -> dict[str, Any] | None:
    """Create the dashboard and its widgets, writing the mark after the dashboard and at the end.
    `fresh`: the database was created by this run (its description holds only the bare mark);
    `replacing`: what the mark says now and `doctor --fix` replaces (a refusal, a deleted tab).
    Returns the database as last written (None when another machine's dashboard came first)."""
    _set_pending(store, where.database_id, None)
    try:
        dashboard = notion.create_view(
            build_dashboard_body(where.database_id, where.data_source_id)
        )
    except (NotionRequestError, NotionAuthError) as exc:
        return _record_refusal(notion, where, None, str(exc), fresh=fresh)
    dashboard_id = str(dashboard["id"])
    _set_pending(store, where.database_id, dashboard_id)
    database = {} if fresh else notion.fetch_database(where.database_id)
    current = parse_mark(database.get("description")) or Mark()
    if current.cockpit is not None and current.cockpit != replacing:
        # another machine's came first: it wins
        _delete_view(notion, dashboard_id)
        _set_pending(store, where.database_id, None, done=True)
        return None
    cockpit = Cockpit(dashboard_id=compact(dashboard_id))
    database = _write_mark(notion, where, database, current.with_cockpit(cockpit))
    try:
        for name in WIDGETS:
            widget = notion.create_view(_widget_body(name, dashboard_id, where))
            cockpit = cockpit.with_widget(name, str(widget["id"]))
    except (NotionRequestError, NotionAuthError) as exc:
        _delete_view(notion, dashboard_id)
        return _record_refusal(notion, where, database, str(exc), fresh=False)
    except (DsprogressError, AmbiguousWriteError) as exc:
        # The tab is in the mark: no sync makes it again; the widgets made so far are recorded.
        log.warning(
            "the Progress tab was added with %d of its %d widgets (%s); "
            "`dsprogress doctor --fix` adds the others",
            len(cockpit.widgets),
            len(WIDGETS),
            exc,
        )
    current = parse_mark(database.get("description")) or Mark()
    database = _write_mark(notion, where, database, current.with_cockpit(cockpit))
    _set_pending(store, where.database_id, None, done=True)
    log.info("added the Progress dashboard to the checklist database")
    return database


def restore_widgets(
    notion: NotionAdapter, where: Where, cockpit: Cockpit, missing: list[str]
) -> Cockpit:
    """Create the `missing` widgets again in the (still present) dashboard, each in a new row."""
    assert cockpit.dashboard_id is not None
    for name in WIDGETS:
        if name in missing:
            body = _widget_body(name, cockpit.dashboard_id, where, Placement("new_row"))
            widget = notion.create_view(body)
            cockpit = cockpit.with_widget(name, str(widget["id"]))
    return cockpit


def write_cockpit_mark(
    notion: NotionAdapter, where: Where, cockpit: Cockpit | None
) -> dict[str, Any]:
    """Read the database and write `cockpit` into its mark (doctor --fix)."""
    database = notion.fetch_database(where.database_id)
    current = parse_mark(database.get("description")) or Mark()
    return _write_mark(notion, where, database, current.with_cockpit(cockpit))


def _widget_body(
    name: str, dashboard_id: str, where: Where, placement: Placement | None = None
) -> dict[str, Any]:
    return build_widget_body(
        name,
        dashboard_id,
        where.data_source_id,
        where.column_ids,
        week_starts_sunday=where.week_starts_sunday,
        placement=placement,
    )


def _write_mark(
    notion: NotionAdapter, where: Where, database: Mapping[str, Any], mark: Mark
) -> dict[str, Any]:
    if not mark.column_ids:
        mark = mark.with_columns(where.data_source_id, where.column_ids)
    if not mark.views and where.tabs:
        mark = mark.with_views(where.tabs)
    description = build_description(database.get("description"), mark=mark)
    return notion.update_database(where.database_id, description=description)


def _record_refusal(
    notion: NotionAdapter,
    where: Where,
    database: Mapping[str, Any] | None,
    reason: str,
    *,
    fresh: bool,
) -> dict[str, Any]:
    short = reason.split(": ", 1)[-1] if "Notion refused" in reason else reason
    log.warning("Notion refused the Progress dashboard (%s); %s", short, REFUSED_HINT)
    if database is None:
        database = {} if fresh else notion.fetch_database(where.database_id)
    current = parse_mark(database.get("description")) or Mark()
    return _write_mark(notion, where, database, current.with_cockpit(Cockpit(refused=short)))


def _delete_view(notion: NotionAdapter, view_id: str) -> None:
    with contextlib.suppress(NotionNotFoundError):  # already gone
        notion.delete_view(view_id)


def _set_pending(
    store: Store, database_id: str, dashboard_id: str | None, done: bool = False
) -> None:
    with store.transaction():
        store.set_json_meta(
            PENDING, None if done else {"database": database_id, "dashboard": dashboard_id}
        )


def _forget_pending(store: Store, database_id: str, cockpit: Cockpit) -> None:
    pending = store.get_json_meta(PENDING)
    if pending and pending.get("database") == database_id:
        made = pending.get("dashboard")
        if made is None or compact(str(made)) == cockpit.dashboard_id:
            _set_pending(store, database_id, None, done=True)


def _record_url(store: Store, database_url: str | None, cockpit: Cockpit) -> None:
    """The Progress tab's link, for the digest (`?v=` names a view of the database)."""
    url = None
    if database_url and cockpit.dashboard_id and cockpit.refused is None:
        url = f"{database_url.split('?', 1)[0]}?v={cockpit.dashboard_id}"
    if store.get_meta("progress_url") != url:
        with store.transaction():
            store.set_meta("progress_url", url)


def _clear_orphans(notion: NotionAdapter, store: Store, where: Where, mark: Mark) -> None:
    """A dashboard a crashed run made and did not get into the mark: delete it (by its id, or,
    when its answer was lost, every Progress dashboard of the database the mark does not name)."""
    pending = store.get_json_meta(PENDING)
    if not pending or pending.get("database") != where.database_id:
        return
    if pending.get("dashboard"):
        _delete_view(notion, str(pending["dashboard"]))
    else:
        named = set(mark.views)
        for ref in notion.list_views(where.database_id):
            view_id = str(ref.get("id", ""))
            if compact(view_id) in named:
                continue
            view = notion.fetch_view(view_id)
            if view.get("type") == "dashboard" and view.get("name") == DASHBOARD_NAME:
                _delete_view(notion, view_id)
    _set_pending(store, where.database_id, None, done=True)
