"""One state, three readers: `status --json`, `snapshot.json` and `digest --format json` must tell
the same done counts and the same completions this week (the numbers all come from
`sync.progress`). `assert_numbers_agree` runs the real commands in-process with a frozen clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from sync.cli import cli, digest_cmd, status_cmd
from sync.snapshot import SNAPSHOT_FILE
from sync.weeks import week_containing


@contextlib.contextmanager
def _inside(folder: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def read_numbers(
    state_dir: Path, checklist: Path, zone: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(status --json, snapshot.json, digest --format json for the week of `now`)."""
    env: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    env.update(
        DSPROGRESS_STATE_DIR=str(state_dir),
        DSPROGRESS_CHECKLIST=str(checklist),
        DSPROGRESS_TIMEZONE=zone,
    )
    week = str(week_containing(now, ZoneInfo(zone)))
    runner = CliRunner()
    with (
        mock.patch.object(status_cmd, "utc_now", lambda: now),
        mock.patch.object(digest_cmd, "utc_now", lambda: now),
        tempfile.TemporaryDirectory() as empty,
        _inside(empty),  # no stray .env
    ):
        status = runner.invoke(cli, ["status", "--json"], env=env)
        assert status.exit_code == 0, status.output
        digest = runner.invoke(cli, ["digest", "--week", week, "--format", "json"], env=env)
        assert digest.exit_code == 0, digest.output
    snapshot = json.loads((state_dir / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    return json.loads(status.output), snapshot, json.loads(digest.output)


def assert_numbers_agree(
    state_dir: Path, checklist: Path, zone: str, now: datetime
) -> list[tuple[str, str]]:
    """Check the three agree; return this week's completions as (key, ISO day), in order."""
    status, snapshot, digest = read_numbers(state_dir, checklist, zone, now)
    overall = (snapshot["progress"]["done"], snapshot["progress"]["total"])
    assert (status["progress"]["done"], status["progress"]["total"]) == overall
    assert (digest["overall"]["done"], digest["overall"]["total"]) == overall
    assert status["progress"]["percent"] == snapshot["progress"]["percent"]
    assert digest["overall"]["percent"] == snapshot["progress"]["percent"]
    assert digest["skipped"] == snapshot["progress"]["skipped"]

    levels = {g["name"]: (g["done"], g["total"], g["percent"]) for g in snapshot["levels"]}
    assert {g["name"]: (g["done"], g["total"], g["percent"]) for g in status["levels"]} == levels
    shown = {
        lv["name"]: (lv["progress"]["done"], lv["progress"]["total"], lv["progress"]["percent"])
        for lv in digest["levels"]
    }
    assert shown == {name: numbers for name, numbers in levels.items() if numbers[1]}

    done_items = {item["key"] for item in snapshot["items"] if item["done"]}
    listed = [(entry["key"], entry["completed_on"]) for entry in status["this_week"]]
    in_digest = [(c["item"]["key"], c["completed_on"]) for c in digest["completions"]]
    assert listed == in_digest
    assert {key for key, _ in listed} <= done_items
    assert status["progress"]["skipped"] == digest["skipped"]
    assert_lists_agree(status, digest, ZoneInfo(zone))
    return listed


def _local_day(moment: str | None, zone: ZoneInfo) -> str | None:
    return datetime.fromisoformat(moment).astimezone(zone).date().isoformat() if moment else None


def assert_lists_agree(status: dict[str, Any], digest: dict[str, Any], zone: ZoneInfo) -> None:
    """In progress (with since and notes) and Next up: the same items, in the same order."""
    started = [(s["key"], _local_day(s["since"], zone), s["notes"]) for s in status["in_progress"]]
    in_digest = [(p["item"]["key"], p["since"], p["notes"]) for p in digest["in_progress"]]
    assert started == in_digest
    assert [n["key"] for n in status["next_up"]] == [n["item"]["key"] for n in digest["next_up"]]
