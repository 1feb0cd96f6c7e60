"""run_sync: gather -> plan -> check -> apply -> commit -> report. Nothing else lives here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sync.actions import CreatePage, Mode, Plan, TrashDuplicate, TrashPage
from sync.apply import Applier
from sync.checklist import Checklist
from sync.cockpit_sync import add_cockpit
from sync.config import Settings, require_notion
from sync.errors import (
    SafetyHaltError,
)
from sync.lock import hold_sync_lock
from sync.model import FIELDS, RemoteRow, TickEvent
from sync.notion.adapter import NotionAdapter, RetryCallback
from sync.notion.mapping import (
    Columns,
    parse_row,
    resolve_columns,
)
from sync.plan import plan_sync
from sync.plan_check import check_plan, find_lost_learner_columns
from sync.row_reads import (
    RowsRead,
    fetch_rows,
    fetch_rows_by_keys,
    fetch_run_rows,
    merge_rows,
    write_run_rows,
)
from sync.snapshot import build_snapshot, write_snapshot
from sync.store import Store, open_store
from sync.target import resolve_target, write_mark_columns

log = logging.getLogger("dsprogress.engine")
DATABASE_ICON = "🎓"
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class SyncReport:
    """What a run did (or, with --dry-run, would do)."""

    mode: Mode
    dry_run: bool
    plan: Plan
    database_id: str | None
    database_url: str | None
    created_database: bool = False
    found_database: bool = False  # adopted from under the parent page (a new or rebuilt state)
    switched_from: str | None = None  # the database the state followed before NOTION_DATABASE_ID
    state_moved_aside: Path | None = None  # where a malformed state file went
    applied: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    read: str = "none"  # how the rows were read: "full", "delta" (edited since the last) or "none"
    rows_read: int = 0  # rows Notion returned
    duration: float = 0.0
    snapshot_path: Path | None = None
    late_ticks: list[TickEvent] = field(default_factory=list)  # seen in our writes' answers
    cockpit_added: bool = False  # the Progress dashboard was added to the database

    def counts(self) -> dict[str, int]:
        verbs = (
            "create",
            "update",
            "adopt",
            "restore-key",
            "migrate",
            "retire",
            "trash",
            "fill-done-on",
            "align",
            "tick",
            "heal",
            "trash-duplicate",
            "duplicate",
            "unknown-key",
        )
        counts = {verb: self.plan.count(verb) for verb in verbs}
        counts["tick"] += len(self.late_ticks)
        return counts


def describe_action(action: Any) -> dict[str, Any]:
    """A JSON-ready description of a plan action (stable keys, no secrets)."""
    data: dict[str, Any] = {"action": action.verb}
    for name, value in vars(action).items():
        if name == "event":
            value = {
                "key": value.key,
                "from": value.from_status,
                "to": value.to_status,
                "title": value.title,
            }
        elif isinstance(value, Mapping):
            value = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in value.items()}
        elif isinstance(value, (date, datetime)):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        data[name] = value
    return data


def run_sync(
    settings: Settings,
    checklist: Checklist,
    *,
    mode: Mode,
    dry_run: bool = False,
    force: bool = False,
    prune: bool = False,
    confirm_prune: Callable[[list[TrashPage]], bool] | None = None,
    adapter: NotionAdapter | None = None,
    now: datetime | None = None,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[float], None] | None = None,
    on_retry: RetryCallback | None = None,
    full: bool = False,
) -> SyncReport:
    """One push, pull or sync. Raises a DsprogressError on anything the user must fix.

    `progress`, `on_wait` (waiting for another sync's lock) and `on_retry` (before a retry of a
    failed request) let a command show what the run is doing.
    """
    token = require_notion(settings)
    own_adapter = adapter is None
    notion = adapter or NotionAdapter(
        token, settings.notion_base_url, rate_limit=settings.rate_limit, on_retry=on_retry
    )
    store = open_store(settings.state_dir, move_aside_malformed=not dry_run)
    started = time.monotonic()
    options = _RunOptions(
        mode,
        dry_run,
        force,
        prune,
        confirm_prune,
        now or datetime.now(timezone.utc),
        progress,
        full,
    )
    try:
        if dry_run:
            report = _run(settings, checklist, store, notion, options)
        else:
            with (
                hold_sync_lock(settings.state_dir, settings.lock_timeout, on_wait),
                _recorded_run(store, options, notion) as run_id,
            ):
                report = _run(settings, checklist, store, notion, options, run_id)
        report.state_moved_aside = store.moved_aside
        report.requests = notion.requests
        report.retries = notion.retries
        report.duration = round(time.monotonic() - started, 3)
        return report
    finally:
        store.close()
        if own_adapter:
            notion.close()


@dataclass(frozen=True)
class _RunOptions:
    mode: Mode
    dry_run: bool
    force: bool
    prune: bool
    confirm_prune: Callable[[list[TrashPage]], bool] | None
    now: datetime
    progress: ProgressCallback | None
    full: bool = False  # read every row, whatever the interval


@contextmanager
def _recorded_run(store: Store, options: _RunOptions, notion: NotionAdapter) -> Iterator[int]:
    """Record the run in the state; a run that raises is recorded as failed, with its error."""
    run_id = store.start_run(options.mode, options.now)
    try:
        yield run_id
    except BaseException as exc:
        store.finish_run(
            run_id,
            ok=False,
            finished_at=datetime.now(timezone.utc),
            error=f"{type(exc).__name__}: {exc}"[:500],
            counts={"requests": notion.requests},
        )
        raise


def _run(
    settings: Settings,
    checklist: Checklist,
    store: Store,
    notion: NotionAdapter,
    options: _RunOptions,
    run_id: int | None = None,
) -> SyncReport:
    mode, dry_run, now = options.mode, options.dry_run, options.now
    today = now.astimezone(settings.zone).date()
    # -- gather --------------------------------------------------------------------------------
    target = resolve_target(settings, store, notion, checklist, dry_run)
    # A switched database's ids and rows are forgotten (a dry run only pretends they are).
    forgotten = target.switched_from is not None
    recorded_ids: dict[str, str] = (None if forgotten else store.get_json_meta("column_ids")) or (
        target.mark.column_ids if target.mark else {}
    )
    if target.data_source_id is None:
        columns = Columns(names={s.field: s.default_name for s in FIELDS})
    else:
        properties = target.properties
        if properties is None:
            properties = notion.fetch_data_source(target.data_source_id).get("properties", {})
        columns = resolve_columns(properties, recorded_ids)
    # Rows are read even when the Key column is gone: the planner gives them their Keys back.
    read = fetch_run_rows(
        notion,
        store,
        target.data_source_id,
        columns,
        created=target.created,
        mode=mode,
        # the halts --force passes need a full read; so does a switched database
        full_requested=options.full or options.force or forgotten,
        full_read_interval=settings.full_read_interval,
        now=now,
        checklist=checklist,
    )
    landed: list[RemoteRow] = []
    if target.data_source_id is not None and columns.names.get("key"):
        landed = _fetch_pending_creates(
            store, notion, target.data_source_id, columns, list(read.rows.values())
        )
        read = replace(read, rows=merge_rows(read.rows, landed), read=(*read.read, *landed))
    state = {} if forgotten else store.load_items()
    # -- plan and check ------------------------------------------------------------------------
    last_run = store.last_observation()
    used_keys = store.load_used_keys()

    def make_plan(rows: list[RemoteRow]) -> Plan:
        return plan_sync(
            checklist,
            rows,
            state,
            mode=mode,
            now=now,
            today=today,
            last_run=last_run,
            tracking=last_run is not None,
            missing_columns=columns.missing,
            prune=options.prune,
            used_keys=used_keys,
        )

    rows = list(read.rows.values())
    plan = make_plan(rows)
    creates = [a.key for a in plan.notion_actions if isinstance(a, CreatePage)]
    if creates and read.kind != "full" and target.data_source_id is not None:
        # Without a full read, look the keys up before creating: another machine may have.
        found = fetch_rows_by_keys(notion, target.data_source_id, columns, creates)
        if found:
            read = replace(read, rows=merge_rows(read.rows, found), read=(*read.read, *found))
            rows = list(read.rows.values())
            plan = make_plan(rows)
    if read.kind != "full" and target.data_source_id is not None and _writes_unread(plan, read):
        # A page known only from the state's copy may be gone since (another machine trashes
        # duplicates): read every row before writing to it.
        read = fetch_rows(notion, target.data_source_id, columns, "full", {}, read.watermark)
        read = replace(read, rows=merge_rows(read.rows, landed), read=(*read.read, *landed))
        rows = list(read.rows.values())
        plan = make_plan(rows)
    halts = check_plan(
        plan,
        remote_row_count=len(rows),
        remembered=len(state),
        retire_threshold=settings.retire_threshold,
        retyped=columns.retyped,
        lost_learner_columns=find_lost_learner_columns(columns.missing, state),
        force=options.force,
    )
    if halts:
        first, *others = halts
        raise SafetyHaltError(
            f"{first.reason}; nothing was written",
            first.hint,
            details=[h.reason for h in others],
        )
    report = SyncReport(
        mode=mode,
        dry_run=dry_run,
        plan=plan,
        database_id=target.database_id,
        database_url=target.database_url,
        created_database=target.created,
        found_database=target.found,
        switched_from=target.switched_from,
        read=read.kind,
        rows_read=len(read.read),
    )
    if dry_run:
        return report
    trash = [a for a in plan.notion_actions if isinstance(a, TrashPage)]
    if trash and (options.confirm_prune is None or not options.confirm_prune(trash)):
        raise SafetyHaltError(
            f"{len(trash)} retired pages would be moved to Notion's Trash; nothing was written",
            "Rerun `dsprogress push --prune --yes` to confirm.",
        )
    # -- apply ---------------------------------------------------------------------------------
    target = add_cockpit(settings, notion, store, target, columns.ids)  # once per database
    report.cockpit_added = target.cockpit_added
    assert target.data_source_id is not None
    creates = sorted(a.key for a in plan.notion_actions if isinstance(a, CreatePage))
    if creates:  # write-ahead: a later run looks for these by Key before creating them again
        pending = set(store.get_json_meta("pending_creates") or ()) | set(creates)
        with store.transaction():
            store.set_json_meta("pending_creates", sorted(pending))
    applier = Applier(
        notion,
        target.data_source_id,
        columns,
        plan.rows,
        plan.states,
        state,
        now=now,
        window_start=last_run,
        in_checklist=lambda key: checklist.item(key) is not None,
    )
    total = len(plan.notion_actions)
    for index, action in enumerate(plan.notion_actions, start=1):
        applier.apply(action)
        report.applied.append(describe_action(action))
        if options.progress is not None:
            options.progress(index, total, action.verb)
    # Once: the derived writes (Status, Done on) for changes the learner made during our writes.
    for action in applier.follow_ups(today):
        applier.apply(action)
        report.applied.append(describe_action(action))
    report.late_ticks = list(applier.events)
    write_mark_columns(notion, target, applier.columns.ids)
    # -- commit --------------------------------------------------------------------------------
    items = {key: applier.states[key] for key in applier.rows}
    events = [t.event for t in plan.ticks] + applier.events
    written = [row for key, row in applier.rows.items() if plan.rows.get(key) is not row]
    trashed = [a.page_id for a in plan.notion_actions if isinstance(a, (TrashPage, TrashDuplicate))]
    with store.transaction():
        write_run_rows(
            store,
            read,
            written,
            trashed,
            now=now,
            checklist=checklist if mode in ("push", "sync") else None,
        )
        store.replace_items(list(items.values()))
        store.append_ticks(events, run_id)
        store.set_meta("pending_creates", None)
        store.set_json_meta("column_ids", applier.columns.ids)
        store.set_meta("checklist_version", str(checklist.version))
        if run_id is not None:
            store.finish_run(
                run_id,
                ok=True,
                finished_at=datetime.now(timezone.utc),
                counts={**report.counts(), "requests": notion.requests},
            )
    snapshot = build_snapshot(
        checklist,
        items,
        synced_at=now,
        database_id=target.database_id,
        data_source_id=target.data_source_id,
        database_url=target.database_url,
    )
    report.snapshot_path = write_snapshot(snapshot, settings.state_dir)
    return report


def _writes_unread(plan: Plan, read: RowsRead) -> bool:
    """Whether the plan writes to a page this run did not read (known from the state's copy)."""
    seen = {row.page_id for row in read.read}
    pages = (getattr(action, "page_id", None) for action in plan.notion_actions)
    return any(page_id is not None and page_id not in seen for page_id in pages)


def _fetch_pending_creates(
    store: Store,
    notion: NotionAdapter,
    data_source_id: str,
    columns: Columns,
    rows: list[RemoteRow],
) -> list[RemoteRow]:
    """Rows that creates recorded before a crash may have made, looked up by Key when the query
    did not show them (a create still in flight lands late)."""
    pending = store.get_json_meta("pending_creates") or []
    seen = {row.key for row in rows}
    ids = {row.page_id for row in rows}
    found: list[RemoteRow] = []
    for key in pending:
        if key in seen:
            continue
        for page in notion.find_rows_by_key(data_source_id, columns.names["key"], key):
            row = parse_row(page, columns)
            if row.page_id not in ids:
                ids.add(row.page_id)
                found.append(row)
    return found
