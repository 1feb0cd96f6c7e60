"""The snapshot: built purely from the state, written atomically, its JSON Schema checked in."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from sync.checklist_files import load_checklist
from sync.errors import StateError
from sync.model import ItemState
from sync.snapshot import (
    SNAPSHOT_FILE,
    build_json_schema,
    build_snapshot,
    load_snapshot,
    write_snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def states() -> dict[str, ItemState]:
    checklist = load_checklist()
    items = {}
    for index, entry in enumerate(checklist.ordered_items()):
        status = (
            "done"
            if index < 3
            else "in_progress"
            if index == 3
            else "skipped"
            if index == 4
            else "not_started"
        )
        items[entry.key] = ItemState(
            key=entry.key,
            page_id=f"page-{index}",
            title=entry.title,
            level=entry.level,
            category=entry.category,
            order=entry.order,
            status=status,  # type: ignore[arg-type]
            done_on=date(2026, 11, 20) if status == "done" else None,
        )
    items["custom.kaggle"] = ItemState(
        key="custom.kaggle",
        page_id="own",
        title="Kaggle",
        level=None,
        category=None,
        order=None,
        status="done",
        custom=True,
    )
    items["entry.old.thing"] = ItemState(
        key="entry.old.thing",
        page_id="old",
        title="Old",
        level="Entry",
        category="General",
        order=9,
        status="done",
        retired=True,
    )
    return items


def build() -> object:
    return build_snapshot(
        load_checklist(),
        states(),
        synced_at=AT,
        database_id="db",
        data_source_id="ds",
        database_url="https://www.notion.so/db",
    )


def test_progress_counts_own_items_but_not_retired_or_skipped_ones() -> None:
    snapshot = build()
    total = len(load_checklist().items) + 1 - 1  # plus the own item, less the skipped one
    assert (snapshot.progress.done, snapshot.progress.total) == (4, total)  # type: ignore[attr-defined]
    assert snapshot.progress.in_progress == 1  # type: ignore[attr-defined]
    assert snapshot.progress.skipped == 1  # type: ignore[attr-defined]


def test_items_come_in_checklist_order_with_own_items_last() -> None:
    keys = [i.key for i in build().items]  # type: ignore[attr-defined]
    ordered = [i.key for i in load_checklist().ordered_items()]
    assert keys[: len(ordered)] == ordered
    assert set(keys[len(ordered) :]) == {"custom.kaggle", "entry.old.thing"}


def test_levels_are_in_order_and_own_items_get_a_group() -> None:
    names = [g.name for g in build().levels]  # type: ignore[attr-defined]
    assert names == ["Entry", "Intermediate", "Advanced", "Your own items"]


def test_written_snapshot_validates_against_the_checked_in_schema(tmp_path: Path) -> None:
    path = write_snapshot(build(), tmp_path)  # type: ignore[arg-type]
    schema = json.loads((ROOT / "docs" / "snapshot.schema.json").read_text())
    jsonschema.validate(json.loads(path.read_text()), schema)
    assert load_snapshot(tmp_path) == build()


def test_the_checked_in_schema_is_generated_from_the_model() -> None:
    assert (ROOT / "docs" / "snapshot.schema.json").read_text() == build_json_schema(), (
        "regenerate with: python -c 'from sync.snapshot import build_json_schema; "
        'print(build_json_schema(), end="")\' > docs/snapshot.schema.json'
    )


def test_a_failed_write_keeps_the_old_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot(build(), tmp_path)  # type: ignore[arg-type]
    before = (tmp_path / SNAPSHOT_FILE).read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StateError, match="disk full; nothing is lost: the state is committed"):
        write_snapshot(build(), tmp_path)  # type: ignore[arg-type]
    assert (tmp_path / SNAPSHOT_FILE).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [SNAPSHOT_FILE]


def test_a_damaged_snapshot_is_reported_not_crashed_on(tmp_path: Path) -> None:
    (tmp_path / SNAPSHOT_FILE).write_text('{"schema_version": 1}')
    with pytest.raises(StateError, match="not a valid snapshot"):
        load_snapshot(tmp_path)
    assert load_snapshot(tmp_path / "nothing-here") is None


def test_percents_are_whole_and_rounded_down() -> None:
    snapshot = build()
    for group in [snapshot.progress, *snapshot.levels, *snapshot.categories]:  # type: ignore[attr-defined]
        assert group.percent == (100 * group.done // group.total if group.total else 0)
    assert isinstance(snapshot.progress.percent, int)  # type: ignore[attr-defined]


def test_a_snapshot_of_schema_1_with_fractional_percents_still_reads(tmp_path: Path) -> None:
    data = json.loads(build().model_dump_json())  # type: ignore[attr-defined]
    data["schema_version"] = 1
    data["progress"]["percent"] = 66.7
    (tmp_path / SNAPSHOT_FILE).write_text(json.dumps(data))
    loaded = load_snapshot(tmp_path)
    assert loaded is not None and loaded.progress.percent == 66
