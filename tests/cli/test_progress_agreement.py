"""`status --json`, `snapshot.json` and `digest --format json` agree on done counts and this
week's completions, for the states that made them disagree: ticked, unticked and re-ticked in one
week, an own item added ticked, a backdated Done on, a rebuilt done item without Done on."""

from __future__ import annotations

from pathlib import Path

from sync.snapshot import build_snapshot, write_snapshot

from ..digest.scenarios import CHECKLIST_YAML, Learner
from .agreement import assert_numbers_agree


def test_status_snapshot_and_digest_tell_the_same_numbers(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(CHECKLIST_YAML, encoding="utf-8")
    me = Learner(state_dir, "Europe/Berlin")
    me.pull("2026-11-09 18:00", {"entry.data.images": "done"})  # rebuilt, no Done on: a baseline
    me.pull("2026-11-18 18:00", {"entry.data.audio": "done"})
    me.pull("2026-11-24 19:00", {"entry.data.text": "done", "entry.nets.dense": "done"})
    me.pull("2026-11-25 19:00", {"entry.data.text": "not_started", "entry.nets.dense": "skipped"})
    me.pull("2026-11-26 19:00", {"entry.data.text": "done"})  # re-ticked: counts once
    me.add_own("custom.zz", "A Kaggle competition", "done")  # added already ticked
    me.add_own("custom.aa", "Blog post", "done")  # own items list by title, not by key
    me.pull(
        "2026-11-27 19:00",
        {"entry.nets.cnn": "done", "intermediate.training.schedules": "in_progress"},
        done_on={"entry.nets.cnn": "2026-11-19"},  # done last week, ticked today
    )
    now = me.at("2026-11-28 12:00")
    snapshot = build_snapshot(
        me.checklist,
        me.items,
        synced_at=now,
        database_id="db",
        data_source_id="ds",
        database_url=None,
    )
    write_snapshot(snapshot, state_dir)
    me.close()

    completions = assert_numbers_agree(state_dir, checklist, "Europe/Berlin", now)
    assert completions == [
        ("entry.data.text", "2026-11-26"),
        ("custom.zz", "2026-11-27"),
        ("custom.aa", "2026-11-27"),
    ]
    assert (snapshot.progress.done, snapshot.progress.total) == (6, 11)  # 12 items, 1 skipped
