"""How a run reads the database rows: everything, only what changed, or nothing.

A full read asks for every row and replaces the state's copy (rows missing from it are gone:
trashed in Notion). A delta read asks only for rows whose `last_edited_time` is on or after the
watermark minus `OVERLAP` (Notion rounds those times down to the minute) and merges them onto the
copy, de-duplicated by page id: a row missing from a delta is unchanged, not gone. The watermark is
Notion's clock (the Date of its answer just before the read), never this machine's.

`plan_read`, `build_*`, `merge_rows` and `writes_unread` are pure; `fetch_*` talk to Notion (and
the state), `write_run_rows` to the state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sync.actions import CreatePage, Plan
from sync.checklist import Checklist
from sync.model import RemoteRow
from sync.notion.mapping import Columns, parse_row

if TYPE_CHECKING:  # `status` reads the rule below without loading the HTTP stack
    from sync.notion.adapter import NotionAdapter
    from sync.store import Store

ReadKind = Literal["full", "delta", "none"]
OVERLAP = timedelta(minutes=2)  # more than Notion's one-minute rounding, plus a long read
ONE_PAGE = 100
"""Rows Notion returns in one query answer. While the state's copy (the last full read, plus the
rows since created) fits in one, a full read costs the one request a delta costs, so a pull
always reads everything: rows moved to the Trash are noticed at once."""
KEYS_PER_LOOKUP = 50


@dataclass(frozen=True)
class RowsRead:
    """The rows a run works from, and what the read costs and leaves for the next one."""

    kind: ReadKind
    rows: dict[str, RemoteRow]  # by page id: every row the run knows of
    read: tuple[RemoteRow, ...]  # the rows Notion returned this run
    watermark: datetime | None


def build_checklist_fingerprint(checklist: Checklist) -> str:
    """Changes whenever anything a push writes from the checklist changes."""
    return hashlib.sha256(checklist.model_dump_json().encode()).hexdigest()


def plan_read(
    *,
    mode: str,
    full_requested: bool,
    cached_rows: int,
    watermark: datetime | None,
    last_full_read: datetime | None,
    full_read_interval: float,
    now: datetime,
    columns_changed: bool,
    checklist_changed: bool,
) -> ReadKind:
    """Which read this run needs. A push of an unchanged checklist reads nothing; a pull reads
    everything when asked, when the state has no copy, when the columns changed, while the
    table fits in one page (`ONE_PAGE`), or when the last full read is older than the interval
    (that is how rows trashed in Notion are noticed in a bigger table)."""
    if full_requested or cached_rows == 0 or watermark is None or columns_changed:
        return "full"
    if mode == "push":
        return "delta" if checklist_changed else "none"
    if cached_rows <= ONE_PAGE:
        return "full"
    if last_full_read is None or (now - last_full_read).total_seconds() >= full_read_interval:
        return "full"
    return "delta"


def describe_trash_check(cached_rows: int, last_full_read: datetime | None) -> datetime | None:
    """Up to when rows trashed in Notion have been noticed: the last full read, in a table of
    more than one page (None for a one-page table, whose every pull reads everything)."""
    return None if cached_rows <= ONE_PAGE else last_full_read


def build_since_filter(watermark: datetime) -> dict[str, Any]:
    since = (watermark - OVERLAP).isoformat()
    return {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since}}


def build_keys_filter(key_column: str, keys: Sequence[str]) -> dict[str, Any]:
    return {"or": [{"property": key_column, "rich_text": {"equals": key}} for key in keys]}


def merge_rows(base: Mapping[str, RemoteRow], newer: Iterable[RemoteRow]) -> dict[str, RemoteRow]:
    """`base` with each newer row in place of the one with its page id (the last one wins)."""
    merged = dict(base)
    for row in newer:
        merged[row.page_id] = row
    return merged


def fetch_rows(
    notion: NotionAdapter,
    data_source_id: str,
    columns: Columns,
    kind: ReadKind,
    cached: Mapping[str, RemoteRow],
    watermark: datetime | None,
) -> RowsRead:
    """Read as planned; each answer's rows are parsed as they arrive."""
    if kind == "none":
        return RowsRead(kind, dict(cached), (), watermark)
    before = notion.server_time  # Notion's clock before the read: edits after it come next time
    filter_ = build_since_filter(watermark) if kind == "delta" and watermark else None
    pages = notion.iter_rows(data_source_id, filter_, columns=columns)
    read = tuple(parse_row(page, columns) for page in pages)
    edited = [row.last_edited_time for row in read if row.last_edited_time is not None]
    mark = before or max(edited, default=watermark)
    return RowsRead(kind, merge_rows(cached if kind == "delta" else {}, read), read, mark)


def fetch_rows_by_keys(
    notion: NotionAdapter, data_source_id: str, columns: Columns, keys: Sequence[str]
) -> list[RemoteRow]:
    """The rows holding any of `keys` (another machine may have just created them)."""
    found: list[RemoteRow] = []
    key_column = columns.names["key"]
    for start in range(0, len(keys), KEYS_PER_LOOKUP):
        filter_ = build_keys_filter(key_column, keys[start : start + KEYS_PER_LOOKUP])
        rows = notion.iter_rows(data_source_id, filter_, columns=columns)
        found += [parse_row(page, columns) for page in rows]
    return found


def fetch_rows_to_create(
    notion: NotionAdapter, data_source_id: str, columns: Columns, plan: Plan
) -> list[RemoteRow]:
    """Without a full read, the rows holding a key the plan would create: another machine may
    have created it since."""
    creates = [a.key for a in plan.notion_actions if isinstance(a, CreatePage)]
    return fetch_rows_by_keys(notion, data_source_id, columns, creates) if creates else []


def writes_unread(plan: Plan, read: RowsRead) -> bool:
    """Whether the plan writes to a page this run did not read (known from the state's copy).
    Such a page may be gone since (another machine trashes duplicates): every row is read again
    before writing to it."""
    seen = {row.page_id for row in read.read}
    pages = (getattr(action, "page_id", None) for action in plan.notion_actions)
    return any(page_id is not None and page_id not in seen for page_id in pages)


def fetch_run_rows(
    notion: NotionAdapter,
    store: Store,
    data_source_id: str | None,
    columns: Columns,
    *,
    created: bool,
    mode: str,
    full_requested: bool,
    full_read_interval: float,
    now: datetime,
    checklist: Checklist | None,
) -> RowsRead:
    """The rows a run starts from: read as `plan_read` decides, onto the state's copy.
    `checklist` is what a push writes (None for a read that writes nothing: a mentor's)."""
    if data_source_id is None:
        return RowsRead("none", {}, (), None)
    if created:  # a database this run created has no rows yet: nothing to read
        return RowsRead("full", {}, (), notion.server_time)
    cached = store.load_remote_rows()
    watermark = parse_moment(store.get_meta("rows_watermark"))
    kind = plan_read(
        mode=mode,
        full_requested=full_requested,
        cached_rows=len(cached),
        watermark=watermark,
        last_full_read=parse_moment(store.get_meta("last_full_read")),
        full_read_interval=full_read_interval,
        now=now,
        columns_changed=not columns.names.get("key")
        or columns.ids != (store.get_json_meta("column_ids") or {}),
        checklist_changed=checklist is not None
        and store.get_meta("checklist_fingerprint") != build_checklist_fingerprint(checklist),
    )
    return fetch_rows(notion, data_source_id, columns, kind, cached, watermark)


def write_run_rows(
    store: Store,
    read: RowsRead,
    written: Iterable[RemoteRow],
    trashed: Iterable[str],
    *,
    now: datetime,
    checklist: Checklist | None,
) -> None:
    """Keep the state's copy of the rows: what was read, then what the run wrote over it.
    `checklist` is the one the rows now reflect (None after a pull alone). Call in a
    transaction."""
    gone = set(trashed)
    if read.kind == "full":
        kept = {page_id: row for page_id, row in read.rows.items() if page_id not in gone}
        store.write_remote_rows(merge_rows(kept, written).values(), replace=True)
        store.set_meta("last_full_read", now.isoformat())
    else:
        store.write_remote_rows([*read.read, *written], gone)
    if read.watermark is not None:
        store.set_meta("rows_watermark", read.watermark.isoformat())
    if checklist is not None:
        store.set_meta("checklist_fingerprint", build_checklist_fingerprint(checklist))


def fetch_pending_creates(
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
        for page in notion.find_rows_by_key(data_source_id, columns, key):
            row = parse_row(page, columns)
            if row.page_id not in ids:
                ids.add(row.page_id)
                found.append(row)
    return found


def parse_moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
