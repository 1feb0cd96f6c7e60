"""The SQLite state: migrations, append-only history, transactions, deliveries."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

import sync.store_file
from sync.errors import StateError
from sync.model import ItemState, RemoteRow, TickEvent
from sync.store import SCHEMA_VERSION, STATE_FILE, open_store

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def item(key: str, status: str = "not_started") -> ItemState:
    return ItemState(
        key=key,
        page_id=f"p-{key}",
        title=key.title(),
        level="Entry",
        category="Networks",
        order=1,
        status=status,
    )  # type: ignore[arg-type]


def event(key: str, to: str, at: datetime, frm: str | None = "not_started") -> TickEvent:
    return TickEvent(
        key=key,
        title=key,
        level="Entry",
        category="Networks",
        from_status=frm,
        to_status=to,
        observed_at=at,
    )  # type: ignore[arg-type]


def test_a_new_state_is_created_at_the_current_schema_version(tmp_path: Path) -> None:
    with open_store(tmp_path / "state"):
        pass
    db = sqlite3.connect(tmp_path / "state" / STATE_FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_state_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    with open_store(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / STATE_FILE)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StateError, match="newer dsprogress"):
        open_store(tmp_path)


def test_a_corrupt_state_file_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError):
        open_store(tmp_path)


def test_items_round_trip(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        with store.transaction():
            store.replace_items([item("a", "done"), item("b")])
        assert store.load_items()["a"].status == "done"
        with store.transaction():
            store.replace_items([item("b", "in_progress")])
        assert list(store.load_items()) == ["b"]


def test_history_is_append_only(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.append_ticks([event("a", "done", T0)], run_id=None)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store._db.execute("DELETE FROM tick_history")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store._db.execute("UPDATE tick_history SET to_status = 'skipped'")
        assert len(store.load_history()) == 1


def test_history_window_is_half_open(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.append_ticks(
            [event("a", "done", T0), event("b", "done", T0 + timedelta(days=7))], run_id=None
        )
        week = store.load_history(since=T0, until=T0 + timedelta(days=7))
        assert [e.key for e in week] == ["a"]


def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        with store.transaction():
            store.replace_items([item("a")])
        with pytest.raises(RuntimeError), store.transaction():
            store.replace_items([item("b")])
            store.append_ticks([event("b", "done", T0)], run_id=None)
            raise RuntimeError("crash midway")
        assert list(store.load_items()) == ["a"]
        assert store.load_history() == []


def test_runs_and_last_successful_pull(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        ok = store.start_run("sync", T0)
        store.finish_run(ok, ok=True, finished_at=T0 + timedelta(seconds=3), counts={"tick": 2})
        failed = store.start_run("pull", T0 + timedelta(hours=1))
        store.finish_run(failed, ok=False, finished_at=T0 + timedelta(hours=1), error="down")
        assert store.last_successful_pull() == T0 + timedelta(seconds=3)
        runs = store.load_runs()
        assert [(r.kind, r.ok, r.counts) for r in runs] == [
            ("sync", True, {"tick": 2}),
            ("pull", False, {}),
        ]


def test_deliveries_remember_sent_and_failed(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.record_delivery("2026-W48", "email", ok=False, at=T0, error="refused")
        store.record_delivery("2026-W48", "email", ok=True, at=T0 + timedelta(hours=1))
        delivery = store.get_delivery("2026-W48", "email")
        assert delivery is not None
        assert (delivery.status, delivery.attempts, delivery.sent_at) == (
            "sent",
            2,
            T0 + timedelta(hours=1),
        )
        assert store.get_delivery("2026-W48", "slack") is None


def test_an_unwritable_state_dir_is_a_state_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateError, match="cannot use the state folder") as caught:
        open_store(blocker / "state")
    assert "DSPROGRESS_STATE_DIR" in caught.value.hint


def test_two_processes_opening_a_new_state_at_once_both_succeed(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, pathlib; from sync.store import open_store; "
        "open_store(pathlib.Path(sys.argv[1])).close()"
    )
    for attempt in range(5):
        folder = tmp_path / f"race-{attempt}"
        runs = [
            subprocess.Popen([sys.executable, "-c", code, str(folder)], stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        for run in runs:
            _, err = run.communicate(timeout=60)
            assert run.returncode == 0, err.decode()


def test_a_malformed_state_file_is_moved_aside_with_its_wal_when_asked(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILE
    path.write_bytes(b"not sqlite at all" * 10)
    Path(f"{path}-wal").write_bytes(b"wal")
    Path(f"{path}-shm").write_bytes(b"shm")
    with pytest.raises(StateError) as refused:
        open_store(tmp_path)
    assert "dsprogress sync" in refused.value.hint and path.exists()  # untouched without asking
    with open_store(tmp_path, move_aside_malformed=True) as store:
        moved = store.moved_aside
        assert moved is not None and store.load_items() == {}
    assert moved.name.startswith(f"{STATE_FILE}.corrupt-")
    assert moved.read_bytes() == b"not sqlite at all" * 10
    assert Path(f"{moved}-wal").read_bytes() == b"wal"
    assert Path(f"{moved}-shm").read_bytes() == b"shm"


def test_a_newer_or_locked_state_is_never_moved_aside(tmp_path: Path) -> None:
    with open_store(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / STATE_FILE)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer dsprogress"):
        open_store(tmp_path, move_aside_malformed=True)
    assert list(tmp_path.glob("*.corrupt-*")) == []


def test_a_state_file_that_is_a_folder_is_an_error_with_its_fix(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).mkdir()  # root cannot open a folder as a file either
    (tmp_path / STATE_FILE / "kept.txt").write_text("mine\n")
    with pytest.raises(StateError, match="is a folder") as caught:
        open_store(tmp_path, move_aside_malformed=True)
    assert caught.value.hint is not None and "Move that folder" in caught.value.hint
    assert (tmp_path / STATE_FILE / "kept.txt").read_text() == "mine\n"
    assert list(tmp_path.glob("*.corrupt-*")) == []


def test_a_state_file_locked_by_another_program_is_an_error_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(tmp_path) as store, store.transaction():
        store.replace_items([item("a.b", "done")])
    other = sqlite3.connect(tmp_path / STATE_FILE, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")  # as an SQLite browser holding it open
    other.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(sync.store_file, "BUSY_TIMEOUT_SECONDS", 0.05)
    try:
        with pytest.raises(StateError, match="locked by another program") as caught:
            open_store(tmp_path, move_aside_malformed=True)
        assert caught.value.hint is not None and "Close the program" in caught.value.hint
        assert list(tmp_path.glob("*.corrupt-*")) == []
    finally:
        other.rollback()
        other.close()
    with open_store(tmp_path) as store:
        assert list(store.load_items()) == ["a.b"]


def test_forgetting_the_database_keeps_the_history(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        with store.transaction():
            store.set_meta("database_id", "db-1")
            store.set_json_meta("column_ids", {"key": "k"})
            store.replace_items([item("a.b", "done")])
            store.append_ticks([event("a.b", "done", T0)], None)
            store.write_remote_rows([RemoteRow(page_id="p-1", url="", key="a.b", title="A")])
            store.set_meta("rows_watermark", T0.isoformat())
        store.forget_database()
        assert store.get_meta("database_id") is None and store.get_json_meta("column_ids") is None
        assert store.load_items() == {} and store.load_remote_rows() == {}
        assert store.get_meta("rows_watermark") is None
        assert [e.key for e in store.load_history()] == ["a.b"]


def test_a_full_database_is_a_state_error_and_the_transaction_is_rolled_back(
    tmp_path: Path,
) -> None:
    with open_store(tmp_path) as store:
        with store.transaction():
            store.replace_items([item("a")])
        # SQLite's own "database or disk is full", as on a full disk, without needing one
        raw = sqlite3.connect(tmp_path / STATE_FILE)
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        raw.close()
        store._db._db.execute(f"PRAGMA max_page_count = {pages + 1}")  # type: ignore[attr-defined]
        many = [item(f"k{i:05d}") for i in range(2000)]
        with pytest.raises(StateError) as caught, store.transaction():
            store.replace_items(many)
        assert caught.value.message.startswith("cannot write the state database")
        assert "database or disk is full" in caught.value.message
        assert "nothing was lost" in caught.value.hint
        assert list(store.load_items()) == ["a"]


def test_errors_are_redacted_on_their_way_into_the_state(tmp_path: Path) -> None:
    from sync.logs import register_secret_url

    url = "https://hooks.slack.com/services/T000/B000/storesecrettoken12345"
    register_secret_url(url)
    with open_store(tmp_path) as store:
        store.record_delivery(
            "2026-W48", "slack", ok=False, at=T0, error="404 /T000/B000/storesecrettoken12345"
        )
        run = store.start_run("sync", T0)
        store.finish_run(run, ok=False, finished_at=T0, error=f"failed posting to {url}")
        delivery = store.get_delivery("2026-W48", "slack")
        assert delivery is not None and "storesecrettoken12345" not in str(delivery.last_error)
        assert "storesecrettoken12345" not in str(store.load_runs()[-1])


def test_the_rows_copy_round_trips_and_a_row_trashed_after_being_read_is_forgotten(
    tmp_path: Path,
) -> None:
    row = RemoteRow(
        page_id="p-1",
        url="https://example.org/p-1",
        key="a.b",
        title="A",
        order=2.0,
        done=True,
        done_on=date(2026, 1, 2),
        last_edited_time=T0,
        created_time=T0,
    )
    other = RemoteRow(page_id="p-2", url="", key="a.c", title="C")
    with open_store(tmp_path) as store:
        with store.transaction():
            store.write_remote_rows([row, other])
        assert store.load_remote_rows() == {"p-1": row, "p-2": other}
        with store.transaction():
            store.write_remote_rows([other], gone=["p-2"])
        assert store.load_remote_rows() == {"p-1": row}
        with store.transaction():
            store.write_remote_rows([other], replace=True)
        assert store.load_remote_rows() == {"p-2": other}


def test_a_weeks_digest_page_is_remembered_under_its_own_key(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert store.get_digest_page("2026-W47") is None
        store.set_digest_page("2026-W47", "page-47")
        store.set_digest_page("2026-W48", "page-48")
        assert store.get_digest_page("2026-W47") == "page-47"
        store.set_digest_page("2026-W47", None)
        assert store.get_digest_page("2026-W47") is None
        assert store.get_digest_page("2026-W48") == "page-48"
    with open_store(tmp_path) as store:  # what the accessor wrote is the key older states hold
        row = store._db.execute("SELECT value FROM meta WHERE name = 'digest_page.2026-W48'")
        assert row.fetchone()[0] == "page-48"
