"""Golden learners with skipped, in-progress (with a note), backdated and own items: `status` at
50, 80 and 100 columns and `digest --week <this week>` in every format, byte for byte; and the
two agree on every number and every list (`agreement.assert_numbers_agree`).

Regenerate after an intended change with `DSPROGRESS_UPDATE_GOLDEN=1`, then read the diff of
`tests/cli/golden/` before committing it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from rich.console import Console

from sync.cli import cli, digest_cmd, status_cmd
from sync.snapshot import build_snapshot, write_snapshot
from sync.weeks import week_containing

from ..digest.scenarios import CHECKLIST_YAML, Learner
from .agreement import _inside, assert_numbers_agree

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DSPROGRESS_UPDATE_GOLDEN") == "1"
ZONE = "Europe/Berlin"
WIDTHS = (50, 80, 100)
FORMATS = {"md": "md", "text": "txt", "html": "html", "json": "json"}


def first_week(me: Learner) -> str:
    """The issue's learner: a fresh state this week; an item ticked today with a Done on ten
    days back (it counts before this week), one ticked this week, one skipped, one in progress
    with a note, and own items (one done, one in progress)."""
    me.pull(
        "2026-12-01 19:00",
        {"entry.data.images": "done", "entry.data.text": "in_progress"},
        done_on={"entry.data.images": "2026-11-21"},
    )
    me.edit("entry.data.text", notes="Tokenised IMDB;\n  stuck on padding.")
    me.add_own("custom.blog", "Write a blog post about MNIST", "in_progress")
    me.add_own("custom.kaggle", "A Kaggle competition", "done")
    me.pull("2026-12-03 20:00", {"entry.data.audio": "done", "entry.nets.dense": "skipped"})
    return "2026-12-06 18:00"


def later_week(me: Learner) -> str:
    """Tracked for weeks: a backdated tick (Done on in last week), a re-ticked item, a skipped
    item, items in progress for weeks and since today, an own item done this week."""
    me.pull("2026-11-09 18:00", {"entry.data.images": "done"})
    me.pull("2026-11-17 18:00", {"intermediate.training.schedules": "in_progress"})
    me.edit("intermediate.training.schedules", notes="Cosine beats step so far.")
    me.pull("2026-11-25 18:00", {"entry.data.text": "done"})
    me.pull("2026-12-01 19:00", {"entry.nets.dense": "skipped", "entry.data.text": "not_started"})
    me.pull("2026-12-02 19:00", {"entry.data.text": "done"})
    me.add_own("custom.talk", "Give a talk at the meetup", "done")
    me.pull(
        "2026-12-04 19:00",
        {"entry.data.audio": "done"},
        done_on={"entry.data.audio": "2026-11-27"},
    )
    me.pull("2026-12-06 09:00", {"entry.nets.cnn": "in_progress"})
    return "2026-12-06 18:00"


LEARNERS: dict[str, Callable[[Learner], str]] = {"first": first_week, "later": later_week}


def _compare(name: str, text: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(text, encoding="utf-8", newline="")
    assert golden.exists(), f"missing {golden}; run with DSPROGRESS_UPDATE_GOLDEN=1"
    assert text == golden.read_bytes().decode("utf-8"), f"{name} differs"


def _world(tmp_path: Path, learner: str) -> tuple[dict[str, str | None], datetime]:
    state_dir = tmp_path / "state"
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(CHECKLIST_YAML, encoding="utf-8")
    me = Learner(state_dir, ZONE)
    now = me.at(LEARNERS[learner](me))
    snapshot = build_snapshot(
        me.checklist, me.items, synced_at=me.last_pull or now, database_id="db",
        data_source_id="ds", database_url="https://www.notion.so/0123456789abcdef0123456789abcdef",
    )  # fmt: skip
    write_snapshot(snapshot, state_dir)
    me.close()
    env: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    env.update(
        DSPROGRESS_STATE_DIR=str(state_dir),
        DSPROGRESS_CHECKLIST=str(checklist),
        DSPROGRESS_TIMEZONE=ZONE,
    )
    return env, now


def _run(env: dict[str, str | None], now: datetime, args: list[str], width: int = 80) -> str:
    screen = io.StringIO()
    console = Console(file=screen, width=width, color_system=None, highlight=False, soft_wrap=True)
    with (
        mock.patch.object(status_cmd, "utc_now", lambda: now),
        mock.patch.object(digest_cmd, "utc_now", lambda: now),
        mock.patch.object(status_cmd, "console", console),
        _inside(str(Path(env["DSPROGRESS_STATE_DIR"] or ".").parent)),
    ):
        result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    return screen.getvalue() + result.output


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_status_at_50_80_and_100_columns(learner: str, tmp_path: Path) -> None:
    env, now = _world(tmp_path, learner)
    for width in WIDTHS:
        screen = _run(env, now, ["status"], width)
        _compare(f"{learner}.status.{width}.txt", screen)
        long = [line for line in screen.splitlines() if len(line) > width]
        assert all(line.startswith("Notion: ") for line in long), long


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_digest_of_this_week_in_every_format(learner: str, tmp_path: Path) -> None:
    env, now = _world(tmp_path, learner)
    week = str(week_containing(now, ZoneInfo(ZONE)))
    for fmt, extension in FORMATS.items():
        rendered = _run(env, now, ["digest", "--week", week, "--format", fmt])
        _compare(f"{learner}.digest.{extension}", rendered)


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_status_and_digest_agree_on_every_number_and_list(learner: str, tmp_path: Path) -> None:
    env, now = _world(tmp_path, learner)
    state_dir = Path(env["DSPROGRESS_STATE_DIR"] or "")
    completions = assert_numbers_agree(
        state_dir, Path(env["DSPROGRESS_CHECKLIST"] or ""), ZONE, now
    )
    assert completions  # each learner completes something this week
    screen = _run(env, now, ["status"], 100)
    text = _run(env, now, ["digest", "--week", str(week_containing(now, ZoneInfo(ZONE)))])
    assert "1 skipped item not counted." in screen and "1 skipped item not counted." in text
