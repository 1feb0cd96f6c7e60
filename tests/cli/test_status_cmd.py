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


def run_status(
    *args: str, cwd: Path, state_dir: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    env = {
        **base,
        "DSPROGRESS_STATE_DIR": str(state_dir),
        "DSPROGRESS_TIMEZONE": "UTC",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "120",
        **extra,
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
    """Three items done (one this week, two long ago), the fourth in progress for ten days;
    returns (this week's title, an old one)."""
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
            status="done" if done else ("in_progress" if index == 3 else "not_started"),
            done_on=date(2026, 1, 1) if done else None,
            in_progress_since=now - timedelta(days=10, hours=1) if index == 3 else None,
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
    assert out.splitlines()[1].startswith("Overall ") and f" 3/{total} " in out
    assert "█" in out and "░" in out
    for level in load_checklist().level_names():
        assert level in out
    assert "Last sync: " in out and "UTC" in out
    assert "This week: 1 done" in out
    assert f"✓ {this_week}" in out and f"✓ {old}" not in out
    assert "Notion: https://www.notion.so/checklist" in out
    ordered = load_checklist().ordered_items()
    assert "In progress: 1" in out and f"◐ {ordered[3].title} (Entry, for 10 days, since " in out
    next_up = out[out.index("Next up") :].splitlines()[1:4]
    assert [line.split(". ", 1)[1].rsplit(" (", 1)[0] for line in next_up] == [
        item.title for item in ordered[4:7]
    ]


def test_status_fits_50_columns_with_whole_bars(tmp_path: Path) -> None:
    make_state(tmp_path / "state")
    result = run_status(cwd=tmp_path, state_dir=tmp_path / "state", COLUMNS="50")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    bars = [line for line in lines if "░" in line or "█" in line]
    assert len(bars) >= 8
    assert all(len(line) <= 50 and line.endswith("%") for line in bars), "\n".join(bars)
    assert all(len(line) <= 50 for line in lines if not line.startswith("Notion:"))
    assert not any("…" in line for line in bars)  # neither bars nor names cut short


def test_status_bars_are_coloured_unless_no_color(tmp_path: Path) -> None:
    make_state(tmp_path / "state")
    state = tmp_path / "state"
    coloured = run_status(cwd=tmp_path, state_dir=state, FORCE_COLOR="1", TERM="xterm-256color")
    assert "\x1b[32m█" in coloured.stdout
    plain = run_status(
        cwd=tmp_path, state_dir=state, FORCE_COLOR="1", TERM="xterm-256color", NO_COLOR="1"
    )
    assert "█" in plain.stdout and "\x1b[32m" not in plain.stdout and "\x1b[90m" not in plain.stdout


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
        "in_progress",
        "next_up",
        "this_week",
        "done_by_week",
        "trashed_rows_noticed_until",
    }
    # The Progress dashboard's line: done items by the week of their Done on (a Thursday).
    assert data["done_by_week"] == [{"week_of": "2025-12-29", "done": 3}]
    assert data["trashed_rows_noticed_until"] is None  # no rows cached: nothing to say
    assert [item["title"] for item in data["in_progress"]] == [
        load_checklist().ordered_items()[3].title
    ]
    assert len(data["next_up"]) == 3
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
