"""Eight weeks, two state folders, one database: the weekly promise kept on both machines.

A travelled clock (time-machine) moves the tool and the sandbox together from Monday 5 October
2026 through Berlin's clock change (Sunday 25 October) to the end of November. Each week the
learner ticks, unticks, skips and sets Done on in Notion; a laptop and a runner sync; midway the
laptop's state folder is lost. Every Sunday night, on both machines, `digest --format json`,
`status --json` and `snapshot.json` agree with each other and with Notion's rows; every Monday
both machines run the daemon's tick (a sync, then the digest if due), and each week's digest is
sent once (the Notion page), whichever machine gets there first.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from notion_client import Client

from sync.checklist import Checklist
from sync.checklist_files import bundled_checklist_path, load_checklist
from sync.daemon import Ticker
from sync.sandbox import SandboxServer
from sync.weeks import week_containing
from tests.cli.agreement import assert_numbers_agree
from tests.digest.test_notion_channel import digest_pages

from .conftest import World, key_of

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_MONDAY = date(2026, 10, 5)  # 2026-W41; the clocks go back on Sunday 25 October (W43)
WEEKS = 8


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


class Machines:
    """The laptop and the runner: two state folders on the same sandbox database."""

    def __init__(self, sandbox: SandboxServer, tmp: Path, checklist: Checklist) -> None:
        self.sandbox = sandbox
        self.checklist = checklist
        self.laptop = World(sandbox, tmp / "laptop")
        self.runner = World(sandbox, tmp / "runner")
        for world in (self.laptop, self.runner):
            world.checklist = checklist

    def settings(self, world: World) -> Any:
        return world.settings(
            DSPROGRESS_TIMEZONE="Europe/Berlin",
            DSPROGRESS_DIGEST_NOTION="true",
            DSPROGRESS_DIGEST_SCHEDULE="mon 08:00",
        )

    def sync(self, world: World) -> None:
        world.sync(settings=self.settings(world))

    def page(self, key: str) -> str:
        return str(self.laptop_or_runner().page_of(key)["id"])

    def laptop_or_runner(self) -> World:
        return self.runner if (self.runner.state_dir / "state.sqlite3").exists() else self.laptop

    def notion_done(self) -> set[str]:
        rows = self.laptop_or_runner().rows()
        return {key_of(p) for p in rows if p["properties"]["Done"]["checkbox"]}


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(at(FIRST_MONDAY, 9), tick=True) as traveller:
        yield traveller


def learner_acts(machines: Machines, keys: list[str], week: int, monday: date) -> None:
    """What the learner does in Notion during week `week` (Tuesday to Thursday)."""
    control = machines.sandbox.control
    control.tick(machines.page(keys[2 * week]))
    control.tick(machines.page(keys[2 * week + 1]))
    if week == 1:  # changed their mind about last week's first item
        control.tick(machines.page(keys[0]), False)
    if week == 2:  # not planning to learn this one
        control.set_select(machines.page(keys[20]), "Status", "Skipped")
    if week == 5:  # ticked now, done last Friday
        page = machines.page(keys[30])
        control.tick(page)
        control.set_date(page, "Done on", (monday - timedelta(days=3)).isoformat())


def expected_this_week(
    keys: list[str], week: int, monday: date, redate_week: int | None
) -> list[tuple[str, str]]:
    """The week's completions as the learner made them: (key, the day they count for)."""
    tuesday = (monday + timedelta(days=1)).isoformat()
    first = monday.isoformat() if week == redate_week else tuesday  # re-dated to Monday
    return sorted([(keys[2 * week], first), (keys[2 * week + 1], tuesday)])


def check_sunday(
    machines: Machines, now: datetime, expected: list[tuple[str, str]], done: set[str]
) -> None:
    """Both machines: digest JSON, status --json and snapshot.json agree, with Notion too, and
    say what the learner did."""
    checklist = bundled_checklist_path()
    assert machines.notion_done() == done
    rows = {key_of(page): page for page in machines.laptop_or_runner().rows()}
    for key, day in expected:  # Notion holds the learner's dates
        assert rows[key]["properties"]["Done on"]["date"]["start"] == day, key
    for name, world in (("laptop", machines.laptop), ("runner", machines.runner)):
        listed = assert_numbers_agree(world.state_dir, checklist, "Europe/Berlin", now)
        assert sorted(listed) == expected, (name, now)
        shown = {key for key, item in world.snapshot_items().items() if item.done}
        assert shown == done, name


def monday_digests(machines: Machines, clock: time_machine.Traveller, monday: date) -> str:
    """The daemon's tick on both machines at Monday 08:00: each syncs, then sends if due."""
    clock.move_to(at(monday, 8, 0))
    week = str(week_containing(at(monday, 8), BERLIN).shift(-1))
    outcomes = []
    for world in (machines.laptop, machines.runner):
        clock.shift(timedelta(minutes=3))
        ticker = Ticker(machines.settings(world), lambda: machines.checklist)
        report = ticker.run_tick("digest")
        assert report.error is None, report.error
        assert report.digest is not None and report.digest.week == week
        outcomes.append({r.channel: r.outcome for r in report.digest.results})
    assert [o["file"] for o in outcomes] == ["sent", "sent"]  # each machine keeps its file
    assert sorted(o["notion"] for o in outcomes) == ["already_sent", "sent"], outcomes
    return week


@pytest.mark.slow
@pytest.mark.parametrize(
    "redate_week",
    [
        pytest.param(None, id="done-on-set-with-the-tick"),
        pytest.param(3, id="done-on-re-dated-after-the-tool-filled-it"),
    ],
)
def test_eight_weeks_on_two_machines_agree_every_week(
    sandbox: SandboxServer,
    notion: Client,
    tmp_path: Path,
    clock: time_machine.Traveller,
    redate_week: int | None,
) -> None:
    checklist = load_checklist()
    keys = [item.key for item in checklist.items]
    machines = Machines(sandbox, tmp_path, checklist)
    machines.sync(machines.laptop)  # Monday 5 October: the first push
    clock.shift(timedelta(minutes=5))
    machines.sync(machines.runner)
    sent: list[str] = []
    done: set[str] = set()
    for week in range(WEEKS):
        monday = FIRST_MONDAY + timedelta(weeks=week)
        clock.move_to(at(monday + timedelta(days=1), 19))
        learner_acts(machines, keys, week, monday)
        clock.shift(timedelta(minutes=10))
        machines.sync(machines.laptop)
        clock.move_to(at(monday + timedelta(days=2), 12))
        machines.sync(machines.runner)
        if week == redate_week:  # Thursday: re-dates a Done on the tool filled on Tuesday
            clock.move_to(at(monday + timedelta(days=3), 20))
            machines.sandbox.control.set_date(
                machines.page(keys[2 * week]), "Done on", monday.isoformat()
            )
            machines.sync(machines.laptop)
        if week == 4:  # Friday: the laptop's state folder is lost; it rebuilds from Notion
            clock.move_to(at(monday + timedelta(days=4), 10))
            shutil.rmtree(machines.laptop.state_dir)
            machines.sync(machines.laptop)
        clock.move_to(at(monday + timedelta(days=6), 21))
        machines.sync(machines.laptop)
        clock.shift(timedelta(minutes=5))
        machines.sync(machines.runner)
        done |= {keys[2 * week], keys[2 * week + 1]} | ({keys[30]} if week == 5 else set())
        done -= {keys[0]} if week == 1 else set()
        expected = expected_this_week(keys, week, monday, redate_week)
        check_sunday(machines, at(monday + timedelta(days=6), 21, 30), expected, done)
        sent.append(monday_digests(machines, clock, monday + timedelta(weeks=1)))
    assert len(set(sent)) == WEEKS and sent[0] == "2026-W41" and sent[-1] == "2026-W48"
    for week_label in sent:  # each week's digest went out once
        assert len(digest_pages(notion, sandbox.root_page_id, week_label)) == 1, week_label
    # The sandbox travelled with the tool: Notion's edit times are in the simulated weeks.
    edited = {page["last_edited_time"][:10] for page in machines.laptop.rows()}
    assert min(edited) >= "2026-10-05" and max(edited) < "2026-12-01", edited
    # The clock change happened in the middle: Berlin was UTC+2 on the first Monday, UTC+1 after.
    assert at(FIRST_MONDAY, 9).utcoffset() == timedelta(hours=2)
    assert at(FIRST_MONDAY + timedelta(weeks=WEEKS), 9).utcoffset() == timedelta(hours=1)
    assert datetime.now(timezone.utc) > at(FIRST_MONDAY + timedelta(weeks=WEEKS), 8)
