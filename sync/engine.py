"""run_sync: gather -> plan -> check -> apply -> commit -> snapshot, and the report of it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from sync.actions import CreatePage, Mode, Plan, TrashDuplicate, TrashPage
from sync.apply import Applier
from sync.checklist import Checklist
from sync.cockpit_sync import add_cockpit
from sync.config import Settings, require_notion
from sync.database_choice import Target, resolve_target, write_mark_columns
from sync.errors import SafetyHaltError
from sync.lock import hold_sync_lock
from sync.model import FIELDS, ItemState, RemoteRow
from sync.notion.adapter import NotionAdapter, RetryCallback
from sync.notion.mapping import Columns, resolve_columns
from sync.plan import plan_sync
from sync.plan_halts import check_plan, find_lost_learner_columns
from sync.row_reads import (
    RowsRead,
    fetch_pending_creates,
    fetch_rows,
    fetch_rows_to_create,
    fetch_run_rows,
    merge_rows,
    write_run_rows,
    writes_unread,
)
from sync.run_report import ProgressCallback, SyncReport, describe_action
from sync.snapshot import build_snapshot, write_snapshot
from sync.store import Store, open_store

log = logging.getLogger("dsprogress.engine")
__all__ = ["ProgressCallback", "SyncReport", "describe_action", "run_sync"]


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
        token,
        settings.notion_base_url,
        rate_limit=settings.rate_limit,
        notion_version=settings.notion_version,
        on_retry=on_retry,
    )
    store = open_store(settings.state_dir, move_aside_malformed=not dry_run)
    started = time.monotonic()
    options = _RunOptions(
        mode, dry_run, force, prune, confirm_prune, now or _clock(), progress, full
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
        error = f"{type(exc).__name__}: {exc}"[:500]
        counts = {"requests": notion.requests}
        store.finish_run(run_id, ok=False, finished_at=_clock(), error=error, counts=counts)
        raise


def _clock() -> datetime:
    """When a run finishes, as the runs table records it (the observations use `options.now`)."""
    return datetime.now(timezone.utc)


def _run(
    settings: Settings,
    checklist: Checklist,
    store: Store,
    notion: NotionAdapter,
    options: _RunOptions,
    run_id: int | None = None,
) -> SyncReport:
    """The route of one run: each step is a method of `_Steps`, in this order."""
    steps = _Steps(settings, checklist, store, notion, options)
    gathered = steps.gather()
    plan, gathered = steps.plan(gathered)
    steps.check(plan, gathered)
    report = SyncReport(
        mode=options.mode,
        dry_run=options.dry_run,
        plan=plan,
        database_id=gathered.target.database_id,
        database_url=gathered.target.database_url,
        created_database=gathered.target.created,
        found_database=gathered.target.found,
        switched_from=gathered.target.switched_from,
        read=gathered.read.kind,
        rows_read=len(gathered.read.read),
    )
    if options.dry_run:
        return report
    steps.confirm_prune(plan)
    target = add_cockpit(settings, notion, store, gathered.target, gathered.columns.ids)
    gathered, report.cockpit_added = replace(gathered, target=target), target.cockpit_added
    applier = steps.apply(plan, gathered, report)
    steps.commit(plan, gathered, applier, report, run_id)
    report.snapshot_path = steps.write_snapshot(gathered, applier)
    return report


@dataclass(frozen=True)
class _Gathered:
    """What a run starts from: the database, its columns, the rows and the state."""

    target: Target
    columns: Columns
    read: RowsRead
    landed: list[RemoteRow]  # rows of creates a crashed run recorded, found by Key
    state: dict[str, ItemState]
    last_run: datetime | None
    used_keys: frozenset[str]

    @property
    def rows(self) -> list[RemoteRow]:
        return list(self.read.rows.values())

    def with_rows(self, read: RowsRead) -> _Gathered:
        """The same run with `read` (plus the landed creates) as its rows."""
        rows = merge_rows(read.rows, self.landed)
        return replace(self, read=replace(read, rows=rows, read=(*read.read, *self.landed)))


class _Steps:
    """One run's steps, sharing its settings, checklist, state store, Notion adapter and options."""

    def __init__(
        self,
        settings: Settings,
        checklist: Checklist,
        store: Store,
        notion: NotionAdapter,
        options: _RunOptions,
    ) -> None:
        self.settings = settings
        self.checklist = checklist
        self.store = store
        self.notion = notion
        self.options = options

    def gather(self) -> _Gathered:
        """The database (`database_choice.py`), its columns, rows (`row_reads.py`), the state."""
        store, notion, options = self.store, self.notion, self.options
        target = resolve_target(self.settings, store, notion, self.checklist, options.dry_run)
        forgotten = target.switched_from is not None  # a dry run only pretends to forget
        recorded = None if forgotten else store.get_json_meta("column_ids")
        recorded_ids: dict[str, str] = recorded or (target.mark.column_ids if target.mark else {})
        if target.data_source_id is None:
            columns = Columns(names={s.field: s.default_name for s in FIELDS})
        else:
            properties = target.properties
            if properties is None:
                properties = notion.fetch_data_source(target.data_source_id).get("properties", {})
            columns = resolve_columns(properties, recorded_ids)
        # Rows are read even when the Key column is gone: the planner gives them their Keys back.
        read = fetch_run_rows(
            self.notion,
            self.store,
            target.data_source_id,
            columns,
            created=target.created,
            mode=self.options.mode,
            # the halts --force passes need a full read; so does a switched database
            full_requested=self.options.full or self.options.force or forgotten,
            full_read_interval=self.settings.full_read_interval,
            now=self.options.now,
            checklist=self.checklist,
        )
        landed: list[RemoteRow] = []
        if target.data_source_id is not None and columns.names.get("key"):
            landed = fetch_pending_creates(
                self.store, self.notion, target.data_source_id, columns, list(read.rows.values())
            )
        gathered = _Gathered(
            target=target,
            columns=columns,
            read=read,
            landed=landed,
            state={} if forgotten else self.store.load_items(),
            last_run=self.store.last_observation(),
            used_keys=frozenset(self.store.load_used_keys()),
        )
        return gathered.with_rows(read) if landed else gathered

    def plan(self, gathered: _Gathered) -> tuple[Plan, _Gathered]:
        """The plan (`plan.py`, pure), read again where the plan shows the rows it has are not
        enough: keys it would create (another machine may have), pages only the state knows."""

        def make_plan(g: _Gathered) -> Plan:
            return plan_sync(
                self.checklist,
                g.rows,
                g.state,
                mode=self.options.mode,
                now=self.options.now,
                today=self.options.now.astimezone(self.settings.zone).date(),
                last_run=g.last_run,
                tracking=g.last_run is not None,
                missing_columns=g.columns.missing,
                prune=self.options.prune,
                used_keys=g.used_keys,
            )

        plan = make_plan(gathered)
        data_source_id, columns, read = (
            gathered.target.data_source_id,
            gathered.columns,
            gathered.read,
        )
        if data_source_id is None or read.kind == "full":
            return plan, gathered
        found = fetch_rows_to_create(self.notion, data_source_id, columns, plan)
        if found:
            rows = merge_rows(read.rows, found)
            gathered = replace(gathered, read=replace(read, rows=rows, read=(*read.read, *found)))
            plan = make_plan(gathered)
        if writes_unread(plan, gathered.read):
            watermark = gathered.read.watermark
            full = fetch_rows(self.notion, data_source_id, columns, "full", {}, watermark)
            gathered = gathered.with_rows(full)
            plan = make_plan(gathered)
        return plan, gathered

    def check(self, plan: Plan, gathered: _Gathered) -> None:
        """The safety halts (`plan_halts.py`), before any write."""
        lost = find_lost_learner_columns(gathered.columns.missing, gathered.state)
        halts = check_plan(
            plan,
            remote_row_count=len(gathered.read.rows),
            remembered=len(gathered.state),
            retire_threshold=self.settings.retire_threshold,
            retyped=gathered.columns.retyped,
            lost_learner_columns=lost,
            force=self.options.force,
        )
        if halts:
            first, *others = halts
            raise SafetyHaltError(
                f"{first.reason}; nothing was written",
                first.hint,
                details=[h.reason for h in others],
            )

    def confirm_prune(self, plan: Plan) -> None:
        """`push --prune` trashes retired pages only once confirmed."""
        trash = [a for a in plan.notion_actions if isinstance(a, TrashPage)]
        if trash and (self.options.confirm_prune is None or not self.options.confirm_prune(trash)):
            raise SafetyHaltError(
                f"{len(trash)} retired pages would be moved to Notion's Trash; nothing was written",
                "Rerun `dsprogress push --prune --yes` to confirm.",
            )

    def apply(self, plan: Plan, gathered: _Gathered, report: SyncReport) -> Applier:
        """Each Notion action through the adapter (`apply.py`); every answer is observed."""
        assert gathered.target.data_source_id is not None
        creates = sorted(a.key for a in plan.notion_actions if isinstance(a, CreatePage))
        if creates:  # write-ahead: a later run looks for these by Key before creating them again
            pending = set(self.store.get_json_meta("pending_creates") or ()) | set(creates)
            with self.store.transaction():
                self.store.set_json_meta("pending_creates", sorted(pending))
        applier = Applier(
            self.notion,
            gathered.target.data_source_id,
            gathered.columns,
            plan.rows,
            plan.states,
            gathered.state,
            now=self.options.now,
            window_start=gathered.last_run,
            in_checklist=lambda key: self.checklist.item(key) is not None,
        )
        total = len(plan.notion_actions)
        for index, action in enumerate(plan.notion_actions, start=1):
            applier.apply(action)
            report.applied.append(describe_action(action))
            if self.options.progress is not None:
                self.options.progress(index, total, action.verb)
        # Once: the derived writes (Status, Done on) for changes the learner made during our writes.
        for action in applier.follow_ups(self.options.now.astimezone(self.settings.zone).date()):
            applier.apply(action)
            report.applied.append(describe_action(action))
        report.late_ticks = list(applier.events)
        write_mark_columns(self.notion, gathered.target, applier.columns.ids)
        return applier

    def commit(
        self,
        plan: Plan,
        gathered: _Gathered,
        applier: Applier,
        report: SyncReport,
        run_id: int | None,
    ) -> None:
        """One state transaction (`store.py`): the rows, the items, the history, the run."""
        items = {key: applier.states[key] for key in applier.rows}
        events = [t.event for t in plan.ticks] + applier.events
        written = [row for key, row in applier.rows.items() if plan.rows.get(key) is not row]
        trashing = (TrashPage, TrashDuplicate)
        trashed = [a.page_id for a in plan.notion_actions if isinstance(a, trashing)]
        with self.store.transaction():
            write_run_rows(
                self.store,
                gathered.read,
                written,
                trashed,
                now=self.options.now,
                checklist=self.checklist if self.options.mode in ("push", "sync") else None,
            )
            self.store.replace_items(list(items.values()))
            self.store.append_ticks(events, run_id)
            self.store.set_meta("pending_creates", None)
            self.store.set_json_meta("column_ids", applier.columns.ids)
            self.store.set_meta("checklist_version", str(self.checklist.version))
            if run_id is not None:
                self.store.finish_run(
                    run_id,
                    ok=True,
                    finished_at=_clock(),
                    counts={**report.counts(), "requests": self.notion.requests},
                )

    def write_snapshot(self, gathered: _Gathered, applier: Applier) -> Path:
        """The snapshot (`snapshot.py`), atomically, after the state is committed."""
        snapshot = build_snapshot(
            self.checklist,
            {key: applier.states[key] for key in applier.rows},
            synced_at=self.options.now,
            database_id=gathered.target.database_id,
            data_source_id=gathered.target.data_source_id,
            database_url=gathered.target.database_url,
        )
        return write_snapshot(snapshot, self.settings.state_dir)
