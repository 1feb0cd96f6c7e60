"""The read-only sync of one learner: Notion's rows into the learner's state folder in the
mentor's state (`<state>/cohort/<database_id>/`), and nothing ever written to Notion.

It is the read path of a learner's own pull and nothing else: the database check
(`fetch_live_target`: the database and its data source, which are also the schema), the rows
(`sync.row_reads`: a delta read with the incremental filter, a full read daily), and every row
through `sync.reconcile` into the history. The planner is not called, so no column is added, no
Done on filled, no Key repaired and no view made: a pass costs 3 requests when nothing changed.

Rows the learner's own tool has not given a Key yet (or whose Key is not one of ours) are left
out until it has. Two rows with one Key: the one the learner's tool keeps (the earliest
`created_time`, then the lowest page id) is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sync.checklist import KEY_PATTERN
from sync.discovery import LiveTarget, fetch_live_target
from sync.model import ItemState, RemoteRow, TickEvent
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import resolve_columns
from sync.reconcile import reconcile_gone, reconcile_row
from sync.row_reads import fetch_run_rows, write_run_rows
from sync.store import Store, open_store

RUN_KIND = "cohort"
UNREACHABLE_META: Final = "cohort_unreachable"
OPTIONS_META: Final = "cohort_options"  # the Level and Category options, in the schema's order


@dataclass(frozen=True)
class LearnerRead:
    """What one pass did for one learner."""

    database_id: str
    read: str  # "full" or "delta"
    rows_read: int
    events: int


def learner_folder(cohort_dir: Path, database_id: str) -> Path:
    return cohort_dir / database_id.replace("-", "")


def build_options(properties: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, list[str]]:
    """The option names of the Level and Category columns, in the order the schema lists them
    (the learner's tool made them in checklist order)."""
    options: dict[str, list[str]] = {}
    for field in ("level", "category"):
        column = properties.get(names.get(field, ""), {})
        select = column.get("select") if isinstance(column, Mapping) else None
        entries = select.get("options", []) if isinstance(select, Mapping) else []
        options[field] = [str(o.get("name")) for o in entries if isinstance(o, Mapping)]
    return options


def pick_rows(rows: Iterable[RemoteRow]) -> dict[str, RemoteRow]:
    """One row per Key: the one the learner's own tool keeps (earliest created, lowest page id).
    Keyless rows and Keys that are not ours are left out."""
    by_key: dict[str, RemoteRow] = {}
    for row in sorted(rows, key=_created_order):
        if row.key and KEY_PATTERN.match(row.key) and row.key not in by_key:
            by_key[row.key] = row
    return by_key


def _created_order(row: RemoteRow) -> tuple[str, str]:
    return (row.created_time.isoformat() if row.created_time else "", row.page_id)


def reconcile_rows(
    rows: Mapping[str, RemoteRow],
    state: Mapping[str, ItemState],
    *,
    at: datetime,
    window_start: datetime | None,
) -> tuple[dict[str, ItemState], list[TickEvent]]:
    """Every Key's row through `reconcile_row`; Keys no row holds any more end their history.
    A learner's checklist is whatever is not retired: the mentor never judges a Key by a
    checklist of their own."""
    rebuilt = window_start is None
    items: dict[str, ItemState] = {}
    events: list[TickEvent] = []
    for key, row in rows.items():
        seen = reconcile_row(
            key,
            row,
            state.get(key),
            at=at,
            window_start=window_start,
            rebuilt=rebuilt,
            in_checklist=True,
        )
        items[key] = seen.state
        events.extend(seen.events)
    for key, before in state.items():
        if key not in rows:
            events.extend(reconcile_gone(key, before, at=at, window_start=window_start))
    return items, events


def read_learner(
    notion: NotionAdapter,
    store: Store,
    database_id: str,
    data_source_id: str,
    *,
    now: datetime,
    full: bool,
    full_read_interval: float,
    live: LiveTarget | None = None,
) -> LearnerRead:
    """One read-only pass over one learner's database, committed to `store`; `live` is the
    database and data source as discovery just read them (else they are read now). Raises
    DatabaseGoneError (trashed, unshared) or another DsprogressError (a broken database)."""
    live = live or fetch_live_target(notion, database_id, data_source_id)
    properties = live.source.get("properties") or {}
    recorded = store.get_json_meta("column_ids") or (live.mark.column_ids if live.mark else {})
    columns = resolve_columns(properties, recorded)
    # Which rows to read has one owner, the learner's own sync's (`row_reads.fetch_run_rows`).
    read = fetch_run_rows(
        notion,
        store,
        data_source_id,
        columns,
        created=False,
        mode="pull",
        full_requested=full,
        full_read_interval=full_read_interval,
        now=now,
        checklist=None,
    )
    window_start = store.last_observation()
    items, events = reconcile_rows(
        pick_rows(read.rows.values()), store.load_items(), at=now, window_start=window_start
    )
    run_id = store.start_run(RUN_KIND, now)
    with store.transaction():
        write_run_rows(store, read, [], [], now=now, checklist=None)
        store.replace_items(list(items.values()))
        store.append_ticks(events, run_id)
        store.set_json_meta("column_ids", columns.ids)
        store.set_json_meta(OPTIONS_META, build_options(properties, columns.names))
        store.set_meta("database_id", database_id)
        store.set_meta("database_url", str(live.database.get("url", "")))
        store.set_meta(UNREACHABLE_META, None)
        store.finish_run(run_id, ok=True, finished_at=now, counts={"events": len(events)})
    return LearnerRead(database_id, read.kind, len(read.read), len(events))


def record_unreachable(folder: Path, reason: str, now: datetime) -> None:
    """Say in the learner's state why the last pass could not read them (the state is kept)."""
    with open_store(folder) as store:
        store.set_json_meta(UNREACHABLE_META, {"reason": reason, "at": now.isoformat()})
