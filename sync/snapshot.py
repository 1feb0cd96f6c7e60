"""The snapshot: the learner's progress as plain JSON, written by every run but a dry run.

`build_snapshot` is pure; `write_snapshot` writes atomically (temp file, fsync, rename), so a reader
never sees half a file. `docs/snapshot.schema.json` is generated from `Snapshot` and checked in.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from sync.checklist import Checklist
from sync.errors import StateError
from sync.model import ItemState, Status
from sync.private_files import write_private_file
from sync.progress import Tally, build_item_order, build_progress

SNAPSHOT_FILE = "snapshot.json"
SCHEMA_VERSION = 2  # 2: percents are whole numbers rounded down


class SnapshotItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    title: str
    level: str | None
    category: str | None
    order: float | None
    status: Status
    done: bool
    done_at: date | None
    notes: str
    evidence: str | None
    page_id: str
    url: str
    custom: bool
    retired: bool


class Progress(BaseModel):
    """Done over total of the items that count (see `sync.progress`); percent rounded down."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    done: int
    total: int
    percent: int
    in_progress: int = 0
    skipped: int = 0

    @field_validator("percent", mode="before")
    @classmethod
    def _whole_percent(cls, value: Any) -> Any:
        """A snapshot of schema 1 held a percent such as 66.7: it reads as 66."""
        return int(value) if isinstance(value, float) else value

    @classmethod
    def of(cls, counted: Tally) -> Progress:
        return cls(
            done=counted.done,
            total=counted.total,
            percent=counted.percent,
            in_progress=counted.in_progress,
            skipped=counted.skipped,
        )


class GroupProgress(Progress):
    name: str


class Snapshot(BaseModel):
    """`snapshot.json`: one file a learner (or another tool) can read without dsprogress."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    synced_at: datetime
    checklist_title: str
    checklist_version: int
    database_id: str | None
    data_source_id: str | None
    database_url: str | None
    items: list[SnapshotItem]
    progress: Progress
    levels: list[GroupProgress]
    categories: list[GroupProgress]


def build_snapshot(
    checklist: Checklist,
    items: Mapping[str, ItemState],
    *,
    synced_at: datetime,
    database_id: str | None,
    data_source_id: str | None,
    database_url: str | None,
) -> Snapshot:
    """Items in checklist order (the learner's own items last), with progress per group."""
    order = build_item_order(checklist, items)
    snapshot_items = [
        SnapshotItem(
            key=s.key,
            title=s.title,
            level=s.level,
            category=s.category,
            order=s.order,
            status=s.status,
            done=s.status == "done",
            done_at=s.done_on,
            notes=s.notes,
            evidence=s.evidence,
            page_id=s.page_id,
            url=s.url,
            custom=s.custom,
            retired=s.retired,
        )
        for s in sorted(items.values(), key=lambda state: order[state.key])
    ]
    report = build_progress(checklist, items)
    levels = [
        GroupProgress(name=g.name, **Progress.of(g.tally).model_dump()) for g in report.levels
    ]
    categories = [
        GroupProgress(name=f"{level.name} / {c.name}", **Progress.of(c.tally).model_dump())
        for level in report.levels
        for c in level.categories
    ]
    return Snapshot(
        synced_at=synced_at,
        checklist_title=checklist.title,
        checklist_version=checklist.version,
        database_id=database_id,
        data_source_id=data_source_id,
        database_url=database_url,
        items=snapshot_items,
        progress=Progress.of(report.overall),
        levels=levels,
        categories=categories,
    )


def write_snapshot(snapshot: Snapshot, state_dir: Path) -> Path:
    """Write `snapshot.json` atomically: a reader sees the old file or the new one, never half.

    Called after the state is committed, so a failure here (a full disk, a read-only or
    immutable file, a folder owned by another user or deleted during the run) loses nothing:
    it is a StateError saying so, and the next successful run writes the snapshot again.
    """
    path = state_dir / SNAPSHOT_FILE
    data = snapshot.model_dump_json(indent=2) + "\n"
    try:
        write_private_file(path, data, prefix=".snapshot-", suffix=".json")
    except OSError as exc:
        raise snapshot_write_error(path, exc) from exc
    return path


def snapshot_write_error(path: Path, exc: OSError) -> StateError:
    """The StateError for a snapshot that could not be written, with the fix for its cause."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        fix = "Free some disk space"
    elif exc.errno == errno.ENOENT:
        fix = f"The folder {path.parent} was removed during the run: let the next run recreate it"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = (
            f"Make {path.parent} and {path.name} writable by you (check the owner, "
            "`chattr -i` on an immutable file, a read-only disk)"
        )
    else:
        fix = "Fix the folder, or set DSPROGRESS_STATE_DIR to a folder you can write to"
    return StateError(
        f"cannot write the snapshot {path}: {reason}; nothing is lost: the state is committed",
        hint=f"{fix}, then run `dsprogress sync`: it writes the snapshot again.",
    )


def load_snapshot(state_dir: Path) -> Snapshot | None:
    """The last snapshot, or None before the first pull."""
    path = state_dir / SNAPSHOT_FILE
    try:
        raw = path.read_bytes()  # pydantic reports bytes that are not UTF-8 as a problem
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return Snapshot.model_validate_json(raw)
    except ValidationError as exc:
        raise StateError(
            f"{path} is not a valid snapshot ({exc.error_count()} problems)",
            hint="Run `dsprogress pull` to write a fresh one.",
        ) from exc


def build_json_schema() -> str:
    """The JSON Schema of snapshot.json, as checked in at docs/snapshot.schema.json."""
    schema = Snapshot.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dsprogress snapshot"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
