"""`history --week` and the digest speak of the same week: a completion backdated with Done on
shows in the history of the week it counts for, with both its dates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync.cli import cli, digest_cmd

from .scenarios import CHECKLIST_YAML, Learner, backdated_done_on


@pytest.fixture
def learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Learner:
    me, _, now = backdated_done_on(tmp_path / "state")
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(CHECKLIST_YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSPROGRESS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DSPROGRESS_CHECKLIST", str(checklist))
    monkeypatch.setenv("DSPROGRESS_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("COLUMNS", "200")
    frozen = me.at(now)
    monkeypatch.setattr(digest_cmd, "utc_now", lambda: frozen)
    return me


def digest_titles(week: str) -> set[str]:
    numbers = json.loads(CliRunner().invoke(cli, ["digest", "--week", week, "--json"]).output)
    return {c["item"]["title"] for c in numbers["completions"]}


def history_lines(week: str) -> list[str]:
    result = CliRunner().invoke(cli, ["history", "--week", week])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_a_backdated_completion_is_in_the_history_of_the_week_it_counts_for(
    learner: Learner,
) -> None:
    # Ticked on Tue 24 Nov (W48) with Done on Thu 19 Nov (W47): the digest counts it in W47.
    assert "Dense networks" in digest_titles("2026-W47")
    assert "Dense networks" not in digest_titles("2026-W48")
    w47 = history_lines("2026-W47")
    [dense] = [line for line in w47 if "Dense networks" in line]
    assert dense.startswith("2026-11-24 09:00  ✓ done")  # when the sync saw it
    assert dense.endswith(", done on 2026-11-19")  # the day it counts for
    assert "seen at" in w47[0] and "done on" in w47[0]
    # The week it was seen in lists it too (it was seen then), with the same two dates.
    [seen] = [line for line in history_lines("2026-W48") if "Dense networks" in line]
    assert seen == dense
    # Every completion the digest counts in a week is in that week's history.
    for week in ("2026-W46", "2026-W47", "2026-W48"):
        listed = "\n".join(history_lines(week))
        assert all(title in listed for title in digest_titles(week)), week


def test_a_completion_seen_on_its_day_shows_that_day() -> None:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from sync.cli.history_cmd import render_event_line
    from sync.model import TickEvent

    seen = datetime(2026, 11, 26, 19, 0, tzinfo=timezone.utc)
    event = TickEvent("k", "CNNs", "Entry", "Nets", "not_started", "done", seen, None)
    line = render_event_line(event, ZoneInfo("Europe/Berlin"))
    assert line == "2026-11-26 20:00  ✓ done         CNNs (Entry), done on 2026-11-26"
