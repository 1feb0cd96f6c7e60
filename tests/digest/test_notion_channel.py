"""The Notion channel against the local sandbox, through the real adapter and notion-client."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from notion_client import Client

from sync.cli import cli, digest_cmd
from sync.digest.channels import digest_page_title
from sync.digest.deliver import run_weekly_digest
from sync.notion.mapping import plain_text
from sync.notion.mark import parse_mark
from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import SandboxDatabase, plain

from .scenarios import CHECKLIST_YAML, Learner, first_week, make_settings, normal_week

pytestmark = pytest.mark.usefixtures("each_notion_version")  # sync, push, pull under each


def digest_pages(notion: Client, parent_page_id: str, week: str) -> list[dict[str, Any]]:
    found = cast(
        dict[str, Any],
        notion.search(
            query=digest_page_title(week), filter={"property": "object", "value": "page"}
        ),
    )
    return [
        page
        for page in found["results"]
        if page["parent"].get("page_id") == parent_page_id
        and plain(page["properties"]["title"]) == digest_page_title(week)
        and not page.get("in_trash")
    ]


@pytest.fixture
def learner(tmp_path: Path) -> Learner:
    me, _, _ = normal_week(tmp_path)
    return me


def test_the_digest_page_is_created_once_under_the_parent(
    learner: Learner, sandbox: SandboxServer, notion: Client, sandbox_db: SandboxDatabase
) -> None:
    settings = make_settings(
        learner.store.path.parent,
        DSPROGRESS_DIGEST_NOTION="true",
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        NOTION_DATABASE_ID=sandbox_db.database_id,
        DSPROGRESS_RATE_LIMIT=0,
    )
    now = learner.at("2026-11-30 08:00")
    report = run_weekly_digest(settings, learner.store, learner.checklist, now, channel="notion")
    [result] = report.results
    assert result.outcome == "sent", result.describe()
    [page] = digest_pages(notion, sandbox.root_page_id, "2026-W48")
    assert result.detail == page["url"]
    answer = notion.request(path=f"pages/{page['id']}/markdown", method="GET")
    content = cast(dict[str, Any], answer)["markdown"]
    assert "3 items done this week" in content and "Dense networks" in content
    database = cast(dict[str, Any], notion.databases.retrieve(sandbox_db.database_id))
    summary = "".join(part["plain_text"] for part in database["description"]).split("\n")[0]
    assert summary == "Last sync Sat 28 Nov 2026 10:00 · 6/10 done (60%) · weekly digest 2026-W48"

    again = run_weekly_digest(settings, learner.store, learner.checklist, now, channel="notion")
    assert again.results[0].outcome == "already_sent"
    forced = run_weekly_digest(
        settings, learner.store, learner.checklist, now, channel="notion", force=True
    )
    assert forced.results[0].outcome == "sent"
    assert len(digest_pages(notion, sandbox.root_page_id, "2026-W48")) == 1  # refilled, not copied


def test_a_lost_page_id_is_found_again_by_search(
    learner: Learner, sandbox: SandboxServer, notion: Client
) -> None:
    settings = make_settings(
        learner.store.path.parent,
        DSPROGRESS_DIGEST_NOTION="true",
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        DSPROGRESS_RATE_LIMIT=0,
    )
    now = learner.at("2026-11-30 08:00")
    run_weekly_digest(settings, learner.store, learner.checklist, now, channel="notion")
    learner.store.set_meta("digest_page.2026-W48", None)  # as if the create had timed out
    run_weekly_digest(settings, learner.store, learner.checklist, now, channel="notion", force=True)
    assert len(digest_pages(notion, sandbox.root_page_id, "2026-W48")) == 1


def test_a_wrong_token_fails_only_the_notion_channel(
    learner: Learner, sandbox: SandboxServer
) -> None:
    settings = make_settings(
        learner.store.path.parent,
        DSPROGRESS_DIGEST_NOTION="true",
        NOTION_TOKEN="ntn_wrongtoken1234567890",
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        DSPROGRESS_RATE_LIMIT=0,
    )
    report = run_weekly_digest(
        settings, learner.store, learner.checklist, learner.at("2026-11-30 08:00")
    )
    outcomes = {r.channel: r.outcome for r in report.results}
    assert outcomes == {"file": "sent", "notion": "failed"}
    assert "ntn_wrongtoken" not in report.failed[0].detail


def test_a_second_machine_never_sends_a_week_again(
    learner: Learner,
    sandbox: SandboxServer,
    notion: Client,
    sandbox_db: SandboxDatabase,
    tmp_path: Path,
) -> None:
    shared = {
        "DSPROGRESS_DIGEST_NOTION": "true",
        "NOTION_TOKEN": sandbox.token,
        "NOTION_BASE_URL": sandbox.base_url,
        "NOTION_PARENT_PAGE_ID": sandbox.root_page_id,
        "NOTION_DATABASE_ID": sandbox_db.database_id,
        "DSPROGRESS_RATE_LIMIT": 0,
    }
    now = learner.at("2026-11-30 08:00")
    laptop = make_settings(learner.store.path.parent, **shared)
    first = run_weekly_digest(laptop, learner.store, learner.checklist, now)
    assert {r.channel: r.outcome for r in first.results} == {"file": "sent", "notion": "sent"}
    database = cast(dict[str, Any], notion.databases.retrieve(sandbox_db.database_id))
    mark = parse_mark(database["description"])
    assert mark is not None and mark.digests == {"notion": "2026-W48"}
    assert "weekly digest 2026-W48" in plain_text(database["description"])  # both kept

    # A rebuilt (or second) machine: its own state knows nothing of the delivery.
    other, _, _ = normal_week(tmp_path / "runner")
    runner = make_settings(other.store.path.parent, **shared)
    second = run_weekly_digest(runner, other.store, other.checklist, now)
    outcomes = {r.channel: (r.outcome, r.detail) for r in second.results}
    assert outcomes["notion"] == ("already_sent", "by another machine (recorded in Notion)")
    assert outcomes["file"][0] == "sent"  # a local file: each machine keeps its own
    assert len(digest_pages(notion, sandbox.root_page_id, "2026-W48")) == 1


def test_a_first_week_send_leaves_the_complete_week_to_the_schedule(
    sandbox: SandboxServer,
    notion: Client,
    sandbox_db: SandboxDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Day one: `digest --send` sends the week so far (partial, local record only); on Monday
    the scheduled digest still delivers the complete week, and Notion's mark records it."""
    me, week, monday = first_week(tmp_path / "state")
    shared = {
        "DSPROGRESS_STATE_DIR": str(tmp_path / "state"),
        "DSPROGRESS_TIMEZONE": "Europe/Berlin",
        "DSPROGRESS_DIGEST_NOTION": "true",
        "NOTION_TOKEN": sandbox.token,
        "NOTION_BASE_URL": sandbox.base_url,
        "NOTION_PARENT_PAGE_ID": sandbox.root_page_id,
        "NOTION_DATABASE_ID": sandbox_db.database_id,
        "DSPROGRESS_RATE_LIMIT": "0",
    }
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(CHECKLIST_YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name, value in {**shared, "DSPROGRESS_CHECKLIST": str(checklist)}.items():
        monkeypatch.setenv(name, value)
    day_one = me.at("2026-11-24 21:00")  # two hours after the first pull, a Tuesday
    monkeypatch.setattr(digest_cmd, "utc_now", lambda: day_one)

    first = CliRunner().invoke(cli, ["digest", "--send"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == (
        f"{week} so far, a partial week (the complete week is sent after it ends):"
    )
    assert [me.store.get_delivery(week, c).status for c in ("file", "notion")] == [  # type: ignore[union-attr]
        "partial",
        "partial",
    ]
    database = cast(dict[str, Any], notion.databases.retrieve(sandbox_db.database_id))
    mark = parse_mark(database["description"])
    assert mark is None or "notion" not in mark.digests  # the mark records complete weeks only
    again = CliRunner().invoke(cli, ["digest", "--send", "--json"])
    answer = json.loads(again.output)
    assert answer["partial"] is True
    assert {r["outcome"] for r in answer["results"]} == {"already_sent"}

    # The scheduled run on Monday: the complete week goes out on every channel.
    settings = make_settings(tmp_path / "state", **shared)
    scheduled = run_weekly_digest(settings, me.store, me.checklist, me.at(monday))
    assert scheduled.week == week and not scheduled.partial
    assert {r.channel: r.outcome for r in scheduled.results} == {"file": "sent", "notion": "sent"}
    assert me.store.get_delivery(week, "notion").status == "sent"  # type: ignore[union-attr]
    database = cast(dict[str, Any], notion.databases.retrieve(sandbox_db.database_id))
    mark = parse_mark(database["description"])
    assert mark is not None and mark.digests == {"notion": week}
    [page] = digest_pages(notion, sandbox.root_page_id, week)  # the same page, refilled
    answer = notion.request(path=f"pages/{page['id']}/markdown", method="GET")
    assert "Generated Mon 30 Nov 2026 08:00" in cast(dict[str, Any], answer)["markdown"]
    later = run_weekly_digest(settings, me.store, me.checklist, me.at(monday) + timedelta(days=1))
    assert {r.outcome for r in later.results} == {"already_sent"}
