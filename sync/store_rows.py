"""The state's copy of the database rows, so that a pull can ask Notion only for what changed.

`RowCache` is mixed into `sync.store.Store`: one row a page, as last read or written, with the
columns it was parsed under. A delta read is merged onto it; a full read replaces it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Protocol

from sync.model import RemoteRow

_DAYS = ("done_on",)
_MOMENTS = ("last_edited_time", "created_time")


def _encode(row: RemoteRow) -> str:
    data = asdict(row)
    for name in (*_DAYS, *_MOMENTS):
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    return json.dumps(data, sort_keys=True)


def _decode(text: str) -> RemoteRow:
    data: dict[str, Any] = json.loads(text)
    for name in _DAYS:
        data[name] = date.fromisoformat(data[name]) if data[name] else None
    for name in _MOMENTS:
        data[name] = datetime.fromisoformat(data[name]) if data[name] else None
    return RemoteRow(**data)


class _Statements(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor: ...


class RowCache:
    """Methods of the store for the cached rows (table `remote_rows`)."""

    _db: _Statements

    def load_remote_rows(self) -> dict[str, RemoteRow]:
        """The cached rows by page id (empty when none were ever read)."""
        rows = self._db.execute("SELECT data FROM remote_rows").fetchall()
        cached = (_decode(str(row[0])) for row in rows)
        return {row.page_id: row for row in cached}

    def count_remote_rows(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM remote_rows").fetchone()[0])

    def write_remote_rows(
        self, changed: Iterable[RemoteRow], gone: Iterable[str] = (), *, replace: bool = False
    ) -> None:
        """Store `changed` rows and forget the `gone` page ids; with `replace`, forget every
        other row first (after a full read). Call inside a transaction."""
        if replace:
            self._db.execute("DELETE FROM remote_rows")
        self._db.executemany(
            "INSERT INTO remote_rows (page_id, data) VALUES (?, ?) "
            "ON CONFLICT(page_id) DO UPDATE SET data = excluded.data",
            [(row.page_id, _encode(row)) for row in changed],
        )
        # last: a row read this run and then trashed by it is gone
        self._db.executemany("DELETE FROM remote_rows WHERE page_id = ?", [(p,) for p in gone])
