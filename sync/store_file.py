"""The state file: its schema (versioned migrations, PRAGMA user_version), its opening, and its
recovery when it is damaged or locked; and the connection every statement of the store goes
through. `sync.store.Store` is the state's tables on top of it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, get_args

from sync.errors import StateError
from sync.private_files import make_private_dir, make_private_file

STATE_FILE = "state.sqlite3"

# What the state records of the checklist database: forgotten when a run switches databases
# (`sync.store.Store.forget_database`); the history, runs and deliveries stay.
DatabaseMetaKey = Literal[
    "database_id",
    "data_source_id",
    "database_url",
    "column_ids",
    "views",
    "next_up_filter",
    "pending_creates",
    "rows_watermark",
    "last_full_read",
    "checklist_fingerprint",
]
DATABASE_META: tuple[DatabaseMetaKey, ...] = get_args(DatabaseMetaKey)
# Every metadata key of the state: a misspelt key is a type error (mypy), not a silent None. A
# week's digest page (`digest_page.<week>`) is `sync.store.Store.get_digest_page`.
MetaKey = Literal[
    DatabaseMetaKey,
    "progress_url",
    "checklist_version",
    "cockpit_pending",
    "cohort_roster",
    "cohort_unreachable",
    "cohort_options",
]
DIGEST_PAGE_PREFIX = "digest_page."

_MIGRATIONS: tuple[str, ...] = (
    # version 1
    """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE items (
        key TEXT PRIMARY KEY,
        page_id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        level TEXT,
        category TEXT,
        sort_order REAL,
        status TEXT NOT NULL,
        done_on TEXT,
        notes TEXT NOT NULL DEFAULT '',
        evidence TEXT,
        url TEXT NOT NULL DEFAULT '',
        custom INTEGER NOT NULL DEFAULT 0,
        retired INTEGER NOT NULL DEFAULT 0,
        in_progress_since TEXT
    );
    CREATE TABLE tick_history (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        title TEXT NOT NULL,
        level TEXT,
        category TEXT,
        from_status TEXT,
        to_status TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        window_start TEXT,
        edited_hint TEXT,
        run_id INTEGER
    );
    CREATE INDEX tick_history_observed ON tick_history (observed_at);
    CREATE TRIGGER tick_history_no_update BEFORE UPDATE ON tick_history
        BEGIN SELECT RAISE(ABORT, 'tick history is append-only'); END;
    CREATE TRIGGER tick_history_no_delete BEFORE DELETE ON tick_history
        BEGIN SELECT RAISE(ABORT, 'tick history is append-only'); END;
    CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        ok INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        counts TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE deliveries (
        week TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (week, channel)
    );
    """,
    # version 2: the learner's completion date and the rebuilt mark on history events
    """
    ALTER TABLE tick_history ADD COLUMN done_on TEXT;
    ALTER TABLE tick_history ADD COLUMN rebuilt INTEGER NOT NULL DEFAULT 0;
    """,
    # version 3: Done and Status as last observed, and the Done on value the tool wrote
    """
    ALTER TABLE items ADD COLUMN done_raw INTEGER;
    ALTER TABLE items ADD COLUMN status_raw TEXT;
    ALTER TABLE items ADD COLUMN tool_done_on TEXT;
    """,
    # version 4: the rows as last read, so a pull can ask only for rows edited since
    """
    CREATE TABLE remote_rows (page_id TEXT PRIMARY KEY, data TEXT NOT NULL);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


class StateConnection:
    """The state database's connection, through which every statement goes: a write the disk
    refuses (full, read-only, gone) is a StateError, not a crash. SQLite rolls the statement
    (and `transaction()` the whole transaction) back, so the state stays as it was; every tick
    is still in Notion, and the next run that can write records it."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._translated():
            return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        with self._translated():
            return self._db.executemany(sql, rows)

    def commit(self) -> None:
        with self._translated():
            self._db.commit()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise StateError(
                f"cannot write the state database {self._path}: {exc}",
                hint="Free some disk space, or make DSPROGRESS_STATE_DIR writable, then run again: "
                "nothing was lost (every tick is still in Notion; the next run records it).",
            ) from exc


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{path} was written by a newer dsprogress (state version {version}, "
            f"this one knows {SCHEMA_VERSION})",
            hint="Upgrade dsprogress (pip install -U dsprogress) or point DSPROGRESS_STATE_DIR "
            "elsewhere.",
        )
    for number in range(version, SCHEMA_VERSION):
        db.execute("BEGIN IMMEDIATE")
        # Another process may have migrated while we waited for the write lock: look again.
        if int(db.execute("PRAGMA user_version").fetchone()[0]) > number:
            db.execute("COMMIT")
            continue
        try:
            for statement in _MIGRATIONS[number].split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


# SQLite's answers for a file that is not (or no longer) a database; others (locked, read-only,
# permissions) are not damage and stay errors with their fix.
_MALFORMED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def check_malformed(exc: sqlite3.Error) -> bool:
    """True when SQLite says the state file is damaged or not a database at all."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    return name.startswith(_MALFORMED) or "malformed" in str(exc) or "not a database" in str(exc)


def move_aside(path: Path, when: datetime) -> Path:
    """Move a damaged state file, with its -wal and -shm files, to `<name>.corrupt-<time>`."""
    stamp = when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(target.with_name(target.name + suffix))
    path.replace(target)
    return target


_HEADER = b"SQLite format 3\x00"


def check_header(path: Path) -> bool:
    """False when the file has content that is not an SQLite database. Looked at before SQLite
    opens it, since closing SQLite's connection to such a file would discard its -wal file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_HEADER))
    except FileNotFoundError:
        return True
    return not head or head == _HEADER


# How long an opening waits for another program's lock on the state file before giving up.
BUSY_TIMEOUT_SECONDS = 30.0


def check_locked(exc: sqlite3.Error) -> bool:
    """True when SQLite gave up waiting for another connection's lock on the state file."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)


def _connect(path: Path) -> sqlite3.Connection:
    if not check_header(path):
        raise sqlite3.DatabaseError("file is not a database")
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        db.row_factory = sqlite3.Row
        _enter_wal(db)
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db, path)
        db.execute("SELECT count(*) FROM meta").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _enter_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL. Two processes creating a new state at once: SQLite answers "locked" to one
    of them at once, without waiting (the busy timeout does not cover a journal-mode change), so
    wait here, as long as the busy timeout, before calling it locked."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not check_locked(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def open_state_file(
    state_dir: Path, *, move_aside_malformed: bool = False
) -> tuple[sqlite3.Connection, Path, Path | None]:
    """Open (creating and migrating as needed) the state database in `state_dir`.

    With `move_aside_malformed` (a sync, which rebuilds the state from Notion), a damaged file is
    moved aside (`move_aside`) and a new one is started. Returns the connection, the file's path
    and where a damaged file was moved (None when none was). Without `move_aside_malformed`, a
    damaged file is a StateError whose hint says that a sync repairs it.
    """
    path = state_dir / STATE_FILE
    moved: Path | None = None
    if path.is_dir():  # never moved aside: it is not ours to move
        raise StateError(
            f"the state file {path} is a folder",
            hint="Move that folder out of the way (or set DSPROGRESS_STATE_DIR to another "
            "folder); the next sync rebuilds the state from Notion.",
        )
    try:
        make_private_dir(state_dir)
        make_private_file(path)  # before SQLite creates it with the umask's mode
        try:
            db = _connect(path)
        except sqlite3.DatabaseError as exc:
            if not (move_aside_malformed and check_malformed(exc)):
                raise
            moved = move_aside(path, datetime.now(timezone.utc))
            make_private_file(path)
            db = _connect(path)
    except sqlite3.OperationalError as exc:  # cannot open or write: the folder, not the file
        if check_locked(exc):
            raise StateError(
                f"the state database {path} is locked by another program",
                hint="Close the program that holds it open (an SQLite browser, a backup tool), "
                "then run again.",
            ) from exc
        raise StateError(
            f"cannot use the state folder {state_dir}: {exc}",
            hint="Set DSPROGRESS_STATE_DIR to a folder you can write to.",
        ) from exc
    except sqlite3.DatabaseError as exc:
        hint = None
        if check_malformed(exc):
            hint = (
                "Run `dsprogress sync`: it moves the damaged file aside (it is kept) and "
                "rebuilds the state from Notion."
            )
        raise StateError(f"cannot open the state database {path}: {exc}", hint=hint) from exc
    except OSError as exc:
        raise StateError(
            f"cannot use the state folder {state_dir}: {exc.strerror or exc}",
            hint="Set DSPROGRESS_STATE_DIR to a folder you can write to.",
        ) from exc
    return db, path, moved
