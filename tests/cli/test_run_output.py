"""What a sync says while it runs and when it is done: waits and retries get their own line, the
summary speaks of items and titles, and --verbose/--quiet go before or after the command."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from sync.actions import AdoptRow, CreatePage, FillDoneOn, Plan, RecordTick, UpdatePage
from sync.cli.live import render_retry_line, render_wait_line
from sync.cli.report import build_summary, render_report_line
from sync.engine import SyncReport
from sync.lock import hold_sync_lock
from sync.model import TickEvent
from sync.sandbox import SandboxServer
from tests.test_init_flow import cli_env, run_cli

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def tick(key: str, title: str, before: str | None, after: str) -> RecordTick:
    event = TickEvent(key, title, "Entry", "Networks", before, after, NOW)  # type: ignore[arg-type]
    return RecordTick(event)


def report_of(*actions: object, ticks: tuple[RecordTick, ...] = ()) -> SyncReport:
    plan = Plan(mode="sync", notion_actions=tuple(actions), ticks=ticks)  # type: ignore[arg-type]
    return SyncReport(
        "sync", False, plan, "db", "https://www.notion.so/db", requests=7, duration=1.4
    )


def test_summary_tells_items_done_and_in_progress_by_title() -> None:
    report = report_of(
        AdoptRow("p9", "custom.kaggle", "Kaggle: Titanic"),
        FillDoneOn("p1", "entry.networks.dense", NOW.date()),
        ticks=(
            tick("entry.networks.dense", "Dense layers", "not_started", "done"),
            tick("entry.networks.cnn", "CNNs", "in_progress", "done"),
            tick("entry.networks.rnn", "RNNs", "not_started", "in_progress"),
            tick("custom.kaggle", "Kaggle: Titanic", None, "done"),
        ),
    )
    assert build_summary(report) == (
        "2 items done ('Dense layers', 'CNNs'), 1 in progress ('RNNs'), "
        "your own item 'Kaggle: Titanic' picked up, Done on filled in for 1 item"
    )
    assert render_report_line(report).startswith("Sync done: 2 items done")
    assert render_report_line(report).endswith("(7 requests, 1.4 s)")


def test_summary_of_a_first_sync_counts_items_added_not_first_sightings() -> None:
    creates = [CreatePage(f"k{i}", {"title": f"T{i}"}) for i in range(37)]
    ticks = tuple(tick(f"k{i}", f"T{i}", None, "not_started") for i in range(37))
    assert build_summary(report_of(*creates, ticks=ticks)) == "37 items added to Notion"


def test_summary_names_no_titles_beyond_three_and_says_no_changes_when_idle() -> None:
    ticks = tuple(tick(f"k{i}", f"T{i}", "not_started", "done") for i in range(4))
    assert build_summary(report_of(ticks=ticks)) == "4 items done"
    assert build_summary(report_of()) == "no changes"
    unticked = (tick("k", "T", "done", "not_started"), tick("j", "J", None, "done"))
    assert build_summary(report_of(UpdatePage("p", "k", {}), ticks=unticked)) == (
        "1 back to not started ('T'), 1 already done, 1 item updated from the checklist"
    )


def test_a_sync_waiting_for_another_says_so_then_gives_up(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token, DSPROGRESS_LOCK_TIMEOUT="1")
    env["NOTION_PARENT_PAGE_ID"] = sandbox.root_page_id
    with hold_sync_lock(tmp_path / "state", 0):
        result = run_cli("sync", cwd=tmp_path, env=env)
    assert result.returncode == 9, result.stderr
    assert "Waiting for another sync to finish (up to 1 s)" in result.stderr
    assert "another sync is already running" in result.stderr


def test_a_retried_request_gets_a_retrying_line(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    env["NOTION_PARENT_PAGE_ID"] = sandbox.root_page_id
    assert run_cli("push", cwd=tmp_path, env=env).returncode == 0
    route = "/v1/data_sources/{id}/query"
    sandbox.control.add_fault("error", method="POST", route=route, status=503, times=1)
    result = run_cli("sync", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Notion answered 503 service_unavailable; retrying in" in result.stderr
    assert "Sync done: no changes" in result.stdout


def test_verbose_and_quiet_go_after_the_command_too(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox, tmp_path)  # no token: a configuration error
    after = run_cli("sync", "--verbose", cwd=tmp_path, env=env)
    assert after.returncode == 3
    assert "Traceback" in after.stderr and "Error:" in after.stderr
    plain = run_cli("sync", cwd=tmp_path, env=env)
    assert plain.returncode == 3 and "Traceback" not in plain.stderr
    env["NOTION_TOKEN"] = sandbox.token
    env["NOTION_PARENT_PAGE_ID"] = sandbox.root_page_id
    quiet = run_cli("sync", "-q", cwd=tmp_path, env=env)
    assert quiet.returncode == 0, quiet.stderr
    told = quiet.stdout.splitlines()  # in the order it happened: the database, then the items
    assert told[0].startswith("Created the checklist database: http"), told
    assert told[1].startswith("Sync done: 37 items added") and "Snapshot:" not in quiet.stdout
    for args in (
        ["-v", "status"],
        ["status", "-v"],
        ["status", "--quiet"],
        ["checklist", "show", "-q"],
    ):
        assert run_cli(*args, cwd=tmp_path, env=env).returncode == 0


def test_retry_lines_say_what_failed_and_when_the_next_try_is() -> None:
    assert render_retry_line(2, "429 rate_limited") == (
        "Notion answered 429 rate_limited; retrying in 2.0 s…"
    )
    assert render_retry_line(30, "HTTP 502") == "Notion answered HTTP 502; retrying in 30 s…"
    assert render_retry_line(0.5, "timeout") == "Notion: timeout; retrying in 0.5 s…"
    assert render_wait_line(60) == "Waiting for another sync to finish (up to 60 s)…"


def test_a_sync_that_adds_the_progress_tab_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sync.cli.report import print_report

    report = report_of()
    report.cockpit_added = True
    print_report(report)
    lines = [line for line in capsys.readouterr().out.splitlines() if "Progress tab" in line]
    assert lines == ["Added the Progress tab (charts of your progress) to the checklist database."]
    report.cockpit_added = False
    print_report(report)
    assert "Progress tab" not in capsys.readouterr().out
