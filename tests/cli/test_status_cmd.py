"""`dsprogress status`: the bars, the last sync time and this week's completions, as text and JSON.

The state and snapshot are written directly (no Notion): three items done, one of them this week.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sync.checklist_files import load_checklist
from sync.model import ItemState, TickEvent
from sync.snapshot import build_snapshot, write_snapshot
from sync.store import open_store

ROOT = Path(__file__).resolve().parent.parent.parent


def run_status(*args: str, cwd: Path, state_dir: Path) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    env = {
        **base,
        "DSPROGRESS_STATE_DIR": str(state_dir),
        "DSPROGRESS_TIMEZONE": "UTC",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "120",
    }
    return subprocess.run(
        [sys.executable, "-m", "sync", "status", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def make_state(state_dir: Path) -> tuple[str, str]:
    """Three items done (one this week, two long ago); returns (this week's title, an old one)."""
    checklist = load_checklist()
    now = datetime.now(timezone.utc)
    long_ago = now - timedelta(days=60)
    ordered = checklist.ordered_items()
    items: dict[str, ItemState] = {}
    events: list[TickEvent] = []
    for index, entry in enumerate(ordered):
        done = index < 3
        items[entry.key] = ItemState(
            key=entry.key,
            page_id=f"page-{index}",
            title=entry.title,
            level=entry.level,
            category=entry.category,
            order=entry.order,
            status="done" if done else "not_started",
            done_on=date(2026, 1, 1) if done else None,
        )
        events.append(
            TickEvent(
                entry.key, entry.title, entry.level, entry.category, None, "not_started", long_ago
            )
        )
        if done:
            when = now if index == 0 else long_ago + timedelta(hours=index)
            events.append(
                TickEvent(
                    entry.key, entry.title, entry.level, entry.category, "not_started", "done", when
                )
            )
    with open_store(state_dir) as store:
        run_id = store.start_run("sync", now)
        with store.transaction():
            store.replace_items(list(items.values()))
            store.append_ticks(events, run_id)
            store.finish_run(run_id, ok=True, finished_at=now)
    snapshot = build_snapshot(
        checklist,
        items,
        synced_at=now,
        database_id="db",
        data_source_id="ds",
        database_url="https://www.notion.so/checklist",
    )
    write_snapshot(snapshot, state_dir)
    return ordered[0].title, ordered[1].title


def test_status_shows_bars_last_sync_and_this_week(tmp_path: Path) -> None:
    this_week, old = make_state(tmp_path / "state")
    result = run_status(cwd=tmp_path, state_dir=tmp_path / "state")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    total = len(load_checklist().items)
    assert "Overall: " in out and f" 3/{total} " in out
    assert "█" in out and "░" in out
    for level in load_checklist().level_names():
        assert level in out
    assert "Last sync: " in out and "UTC" in out
    assert "This week: 1 done" in out
    assert f"✓ {this_week}" in out and f"✓ {old}" not in out
    assert "Notion: https://www.notion.so/checklist" in out


def test_status_json(tmp_path: Path) -> None:
    this_week, _ = make_state(tmp_path / "state")
    result = run_status("--json", cwd=tmp_path, state_dir=tmp_path / "state")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "synced_at",
        "last_successful_sync",
        "database_url",
        "progress",
        "levels",
        "categories",
        "this_week",
    }
    assert data["progress"]["done"] == 3
    assert data["last_successful_sync"] is not None
    assert [e["title"] for e in data["this_week"]] == [this_week]
    assert data["this_week"][0]["completed_on"] == data["synced_at"][:10]  # ticked "now"
    assert {level["name"] for level in data["levels"]} >= set(load_checklist().level_names())


def test_status_before_the_first_sync(tmp_path: Path) -> None:
    result = run_status(cwd=tmp_path, state_dir=tmp_path / "state")
    assert result.returncode == 10
    assert result.stderr.startswith("Error: no snapshot yet")
    assert "dsprogress init" in result.stderr
    assert "Traceback" not in result.stderr
