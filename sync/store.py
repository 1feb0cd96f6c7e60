"""The SQLite state store: key <-> page ids, last seen states, tick history, runs, deliveries.

Every write of a sync happens inside one transaction, so a crash never leaves half a state. The
tick history is append-only. The file itself (schema migrations, opening, recovery) is
`sync.store_file`; the cached rows are `sync.store_rows`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, cast

from sync.logs import redact
from sync.model import ItemState, RunRecord, Status, TickEvent
from sync.store_file import (
    DATABASE_META,
    DIGEST_PAGE_PREFIX,
    MetaKey,
    StateConnection,
    open_state_file,
)
from sync.store_file import SCHEMA_VERSION as SCHEMA_VERSION
from sync.store_file import STATE_FILE as STATE_FILE
from sync.store_rows import RowCache


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat()


def _parse_ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _parse_day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


@dataclass(frozen=True)
class Delivery:
    week: str
    channel: str
    status: str  # "sent", "partial" (a week sent before it ended) or "failed"
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class Store(RowCache):
    """A connection to the state database. Use `open_store()`; close it when done."""

    _db: StateConnection

    def __init__(
        self, connection: sqlite3.Connection, path: Path, moved_aside: Path | None = None
    ) -> None:
        self._db = StateConnection(connection, path)
        self.path = path
        self.moved_aside = moved_aside  # where a malformed state file was moved, this opening

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # SQLite itself rolls back after a full disk
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- meta ----------------------------------------------------------------------------------
    def get_meta(self, name: MetaKey) -> str | None:
        return self._get_meta(name)

    def set_meta(self, name: MetaKey, value: str | None) -> None:
        self._set_meta(name, value)

    def get_json_meta(self, name: MetaKey) -> Any:
        raw = self.get_meta(name)
        return None if raw is None else json.loads(raw)

    def set_json_meta(self, name: MetaKey, value: Any) -> None:
        self.set_meta(name, json.dumps(value, sort_keys=True))

    def get_digest_page(self, week: str) -> str | None:
        """The Notion page the digest of `week` was written to (`digest_page.<week>`), or None."""
        return self._get_meta(f"{DIGEST_PAGE_PREFIX}{week}")

    def set_digest_page(self, week: str, page_id: str | None) -> None:
        self._set_meta(f"{DIGEST_PAGE_PREFIX}{week}", page_id)

    def _get_meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, name: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM meta WHERE name = ?", (name,))
        else:
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def forget_database(self) -> None:
        """Start over on a new database: drop what belongs to the old one (its ids, columns, views,
        pending creates and rows); the history, runs and deliveries stay."""
        with self.transaction():
            for name in DATABASE_META:
                self.set_meta(name, None)
            self.replace_items([])
            self.write_remote_rows([], replace=True)

    # -- items ---------------------------------------------------------------------------------
    def load_items(self) -> dict[str, ItemState]:
        rows = self._db.execute("SELECT * FROM items ORDER BY key").fetchall()
        return {row["key"]: _item_from_row(row) for row in rows}

    def replace_items(self, items: Sequence[ItemState]) -> None:
        """Make the items table hold exactly `items` (call inside a transaction)."""
        self._db.execute("DELETE FROM items")
        self._db.executemany(
            "INSERT INTO items (key, page_id, title, level, category, sort_order, status, done_on,"
            " notes, evidence, url, custom, retired, in_progress_since, done_raw, status_raw,"
            " tool_done_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i.key,
                    i.page_id,
                    i.title,
                    i.level,
                    i.category,
                    i.order,
                    i.status,
                    i.done_on.isoformat() if i.done_on else None,
                    i.notes,
                    i.evidence,
                    i.url,
                    int(i.custom),
                    int(i.retired),
                    _ts(i.in_progress_since),
                    None if i.done_raw is None else int(i.done_raw),
                    i.status_raw,
                    i.tool_done_on.isoformat() if i.tool_done_on else None,
                )
                for i in items
            ],
        )

    # -- tick history (append-only) ------------------------------------------------------------
    def append_ticks(self, events: Sequence[TickEvent], run_id: int | None) -> None:
        self._db.executemany(
            "INSERT INTO tick_history (key, title, level, category, from_status, to_status,"
            " observed_at, window_start, edited_hint, run_id, done_on, rebuilt)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.key,
                    e.title,
                    e.level,
                    e.category,
                    e.from_status,
                    e.to_status,
                    _ts(e.observed_at),
                    _ts(e.window_start),
                    _ts(e.edited_hint),
                    run_id,
                    e.done_on.isoformat() if e.done_on else None,
                    int(e.rebuilt),
                )
                for e in events
            ],
        )

    def load_history(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[TickEvent]:
        """Tick events in the order they were observed, optionally within [since, until)."""
        query = "SELECT * FROM tick_history WHERE 1 = 1"
        params: list[str] = []
        if since is not None:
            query += " AND observed_at >= ?"
            params.append(cast(str, _ts(since)))
        if until is not None:
            query += " AND observed_at < ?"
            params.append(cast(str, _ts(until)))
        rows = self._db.execute(query + " ORDER BY event_id", params).fetchall()
        return [
            TickEvent(
                key=row["key"],
                title=row["title"],
                level=row["level"],
                category=row["category"],
                from_status=cast("Status | None", row["from_status"]),
                to_status=cast(Status, row["to_status"]),
                observed_at=cast(datetime, _parse_ts(row["observed_at"])),
                window_start=_parse_ts(row["window_start"]),
                edited_hint=_parse_ts(row["edited_hint"]),
                done_on=_parse_day(row["done_on"]),
                rebuilt=bool(row["rebuilt"]),
            )
            for row in rows
        ]

    def load_used_keys(self) -> set[str]:
        """Every key the history has ever seen."""
        rows = self._db.execute("SELECT DISTINCT key FROM tick_history").fetchall()
        return {str(row[0]) for row in rows}

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, kind: str, started_at: datetime) -> int:
        cursor = self._db.execute(
            "INSERT INTO runs (kind, started_at) VALUES (?, ?)", (kind, _ts(started_at))
        )
        self._db.commit()
        return int(cast(int, cursor.lastrowid))

    def finish_run(
        self,
        run_id: int,
        *,
        ok: bool,
        finished_at: datetime,
        counts: dict[str, int] | None = None,
        error: str | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE runs SET finished_at = ?, ok = ?, error = ?, counts = ? WHERE run_id = ?",
            (_ts(finished_at), int(ok), _redacted(error), json.dumps(counts or {}), run_id),
        )
        if not self._db.in_transaction:
            self._db.commit()

    def load_runs(self, since: datetime | None = None) -> list[RunRecord]:
        query = "SELECT * FROM runs"
        params: list[str] = []
        if since is not None:
            query += " WHERE started_at >= ?"
            params.append(cast(str, _ts(since)))
        rows = self._db.execute(query + " ORDER BY run_id", params).fetchall()
        return [
            RunRecord(
                run_id=row["run_id"],
                kind=row["kind"],
                started_at=cast(datetime, _parse_ts(row["started_at"])),
                finished_at=_parse_ts(row["finished_at"]),
                ok=bool(row["ok"]),
                error=_redacted(row["error"]),  # also a row an older version wrote
                counts=json.loads(row["counts"]),
            )
            for row in rows
        ]

    def last_successful_pull(self) -> datetime | None:
        """When the last run that read Notion's rows finished successfully."""
        row = self._db.execute(
            "SELECT finished_at FROM runs WHERE ok = 1 AND kind IN ('pull', 'sync')"
            " ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else _parse_ts(row[0])

    def last_observation(self) -> datetime | None:
        """When the last successful run (any kind: every run reads Notion's rows) finished; None
        when this state folder has never tracked the database (a new, lost or rebuilt state)."""
        row = self._db.execute(
            "SELECT finished_at FROM runs WHERE ok = 1 ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else _parse_ts(row[0])

    # -- digest deliveries ---------------------------------------------------------------------
    def get_delivery(self, week: str, channel: str) -> Delivery | None:
        row = self._db.execute(
            "SELECT * FROM deliveries WHERE week = ? AND channel = ?", (week, channel)
        ).fetchone()
        if row is None:
            return None
        return Delivery(
            week=row["week"],
            channel=row["channel"],
            status=row["status"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            sent_at=_parse_ts(row["sent_at"]),
        )

    def record_delivery(
        self,
        week: str,
        channel: str,
        *,
        ok: bool,
        at: datetime,
        error: str | None = None,
        partial: bool = False,
    ) -> None:
        """`partial`: the week had not ended; its complete digest is still to be sent."""
        self._db.execute(
            "INSERT INTO deliveries (week, channel, status, attempts, last_error, sent_at,"
            " updated_at) VALUES (?, ?, ?, 1, ?, ?, ?)"
            " ON CONFLICT(week, channel) DO UPDATE SET status = excluded.status,"
            " attempts = deliveries.attempts + 1, last_error = excluded.last_error,"
            " sent_at = COALESCE(excluded.sent_at, deliveries.sent_at),"
            " updated_at = excluded.updated_at",
            (
                week,
                channel,
                ("partial" if partial else "sent") if ok else "failed",
                _redacted(error),
                _ts(at) if ok else None,
                _ts(at),
            ),
        )
        if not self._db.in_transaction:
            self._db.commit()


def _item_from_row(row: sqlite3.Row) -> ItemState:
    return ItemState(
        key=row["key"],
        page_id=row["page_id"],
        title=row["title"],
        level=row["level"],
        category=row["category"],
        order=row["sort_order"],
        status=cast(Status, row["status"]),
        done_on=_parse_day(row["done_on"]),
        notes=row["notes"],
        evidence=row["evidence"],
        url=row["url"],
        custom=bool(row["custom"]),
        retired=bool(row["retired"]),
        in_progress_since=_parse_ts(row["in_progress_since"]),
        done_raw=None if row["done_raw"] is None else bool(row["done_raw"]),
        status_raw=row["status_raw"],
        tool_done_on=_parse_day(row["tool_done_on"]),
    )


def _redacted(text: str | None) -> str | None:
    """Error texts reach the state's tables only through the one redaction."""
    return None if text is None else redact(text)


def open_store(state_dir: Path, *, move_aside_malformed: bool = False) -> Store:
    """Open (creating and migrating as needed) the state database in `state_dir`.

    With `move_aside_malformed` (a sync, which rebuilds the state from Notion), a damaged file is
    moved aside and a new one is started; `Store.moved_aside` says where it went. Without it, a
    damaged file is a StateError whose hint says that a sync repairs it (`sync.store_file`).
    """
    db, path, moved = open_state_file(state_dir, move_aside_malformed=move_aside_malformed)
    return Store(db, path, moved)
