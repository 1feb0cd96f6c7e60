"""The Progress dashboard, over HTTP against the sandbox: made once with a new database, the same
numbers as `status --json`, once across state folders and interrupted runs, refused quietly."""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest

from sync.doctor import run_doctor
from sync.errors import SafetyHaltError
from sync.notion.cockpit import DASHBOARD_NAME, TITLES, WIDGETS
from sync.notion.mark import Mark, parse_mark
from sync.notion.views import TOOL_FIELDS
from sync.progress import OWN_ITEMS
from sync.sandbox import SandboxServer
from sync.store import open_store
from tests.cli.agreement import read_numbers
from tests.engine.conftest import ITEMS, World, small_checklist, small_checklist_text
from tests.sandbox_fixtures import raw_http

NO_LEVEL = "No Level"  # the column Notion makes for rows without a Level: the own items


def database_id(world: World) -> str:
    with open_store(world.state_dir) as store:
        value = store.get_meta("database_id")
    assert value is not None
    return value


def read_mark(world: World) -> Mark:
    with raw_http(world.sandbox) as http:
        database = http.get(f"/v1/databases/{database_id(world)}").json()
    mark = parse_mark(database["description"])
    assert mark is not None
    return mark


def views_of(sandbox: SandboxServer, database: str) -> list[dict[str, Any]]:
    """Every tab of the database, as `GET /v1/views/{id}` answers it."""
    with raw_http(sandbox) as http:
        refs = http.get("/v1/views", params={"database_id": database}).json()["results"]
        return [http.get(f"/v1/views/{ref['id']}").json() for ref in refs]


def dashboards(world: World) -> list[dict[str, Any]]:
    return [
        v
        for v in views_of(world.sandbox, database_id(world))
        if v["type"] == "dashboard" and v["name"] == DASHBOARD_NAME
    ]


def test_a_new_database_gets_the_progress_tab_with_its_widgets(world: World) -> None:
    world.sync("push")
    (dashboard,) = dashboards(world)
    assert dashboard["data_source_id"] is None
    rows = dashboard["configuration"]["rows"]
    assert [len(row["widgets"]) for row in rows] == [2, 1, 1]  # overall | levels; weekly; next
    assert [w["width"] for w in rows[0]["widgets"]] == [6, 6]
    mark = read_mark(world)
    assert mark.cockpit is not None and mark.cockpit.refused is None
    assert set(mark.cockpit.widgets) == set(WIDGETS)
    placed = [w["view_id"].replace("-", "") for row in rows for w in row["widgets"]]
    assert placed == [mark.cockpit.widgets[name] for name in WIDGETS]
    # Every view the tool made is in the mark: the tabs too.
    with open_store(world.state_dir) as store:
        tabs = [v["view_id"].replace("-", "") for v in store.get_json_meta("views")]
    assert list(mark.views) == tabs
    assert mark.column_ids and mark.data_source_id  # the columns are still recorded
    # The digest links to the tab: the database's link naming the dashboard view.
    with open_store(world.state_dir) as store:
        url, link = store.get_meta("database_url"), store.get_meta("progress_url")
    assert link == f"{url}?v={mark.cockpit.dashboard_id}"


def test_the_next_up_widget_hides_the_tools_own_columns(world: World) -> None:
    world.sync("push")
    mark = read_mark(world)
    assert mark.cockpit is not None
    with raw_http(world.sandbox) as http:
        widget = http.get(f"/v1/views/{mark.cockpit.widgets['next_up']}").json()
    assert widget["type"] == "list"
    assert widget["name"] == TITLES["next_up"]
    hidden = {p["property_id"] for p in widget["configuration"]["properties"] if not p["visible"]}
    tool_columns = {mark.column_ids[f] for f in TOOL_FIELDS if f in mark.column_ids}
    assert hidden == tool_columns and {mark.column_ids["key"], mark.column_ids["retired"]} <= hidden


def test_every_chart_shows_what_status_json_says(world: World, tmp_path: Path) -> None:
    world.sync()
    last_week = datetime.now(timezone.utc).date() - timedelta(days=7)
    dense = world.page_of("entry.networks.dense")["id"]
    world.control.tick(dense)
    world.control.set_date(dense, "Done on", last_week.isoformat())
    world.control.tick(world.page_of("entry.networks.rnn")["id"])  # retired below
    world.control.set_select(world.page_of("entry.general.callbacks")["id"], "Status", "Skipped")
    world.control.add_row(world.data_source_id, "Kaggle: Titanic", {"Done": {"checkbox": True}})
    world.control.add_row(world.data_source_id, "Read a paper", None)
    world.control.add_row(world.data_source_id, "Write a blog post", None)
    kept = [item for item in ITEMS if item[0] != "entry.networks.rnn"]
    world.checklist = small_checklist(kept, version=2)
    world.sync()
    assert world.page_of("entry.networks.rnn")["properties"]["Retired"]["checkbox"] is True
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(small_checklist_text(kept, version=2), encoding="utf-8")
    status, _, _ = read_numbers(world.state_dir, checklist, "UTC", datetime.now(timezone.utc))

    mark = read_mark(world)
    assert mark.cockpit is not None
    charts = {name: world.control.chart(mark.cockpit.widgets[name]) for name in WIDGETS[:3]}
    # Overall: Notion shows the exact share; status rounds down.
    (overall,) = charts["overall"]["values"]
    assert math.floor(overall) == status["progress"]["percent"] == 33  # 2 of 6
    # Per level: the own items are the rows without a Level.
    levels = charts["levels"]
    shown = {
        (OWN_ITEMS if label == NO_LEVEL else label): math.floor(value)
        for label, value in zip(levels["labels"], levels["values"], strict=True)
    }
    assert shown == {g["name"]: g["percent"] for g in status["levels"]}
    assert shown == {"Entry": 50, "Advanced": 0, OWN_ITEMS: 33}
    # By week: the line adds up the done rows by the week of their Done on.
    weekly = charts["weekly"]
    series = status["done_by_week"]
    assert weekly["labels"] == [w["week_of"] for w in series]
    assert weekly["values"] == list(accumulate(float(w["done"]) for w in series))
    assert [w["done"] for w in series] == [1, 1]  # last week's dense; this week's Titanic


def test_a_no_op_sync_costs_three_requests_and_a_second_state_folder_adds_nothing(
    world: World, tmp_path: Path
) -> None:
    world.sync("push")
    world.control.reset_requests()
    assert world.sync().requests == 3
    other = World(world.sandbox, tmp_path / "other-state")
    other.sync(settings=other.settings(NOTION_DATABASE_ID=database_id(world)))
    assert world.control.request_count("POST /v1/views") == 0
    assert len(dashboards(world)) == 1
    links = []
    for folder in (world.state_dir, other.state_dir):  # both digests link to the same tab
        with open_store(folder) as store:
            links.append(store.get_meta("progress_url"))
    assert links[0] and links[0] == links[1]


def test_an_existing_database_gets_it_once_for_a_few_requests(world: World) -> None:
    world.sync("push", settings=world.settings(DSPROGRESS_NOTION_COCKPIT="false"))
    assert dashboards(world) == [] and read_mark(world).cockpit is None
    world.control.reset_requests()
    assert world.sync().cockpit_added  # the sync's report says so, in one line
    entries = world.control.requests()["entries"]
    assert [f"{e['method']} {e['route']}" for e in entries] == [
        "GET /v1/databases/{id}",  # a no-op sync's three requests: the database,
        "GET /v1/data_sources/{id}",  # its schema,
        "POST /v1/data_sources/{id}/query",  # and the rows edited since the last sync;
        "POST /v1/views",  # then, once: the dashboard,
        "GET /v1/databases/{id}",  # the mark, read again: has another machine added one?
        "PATCH /v1/databases/{id}",  # the dashboard's id into the mark, before any widget
        *["POST /v1/views"] * len(WIDGETS),
        "PATCH /v1/databases/{id}",  # the widgets' ids
    ]
    world.control.reset_requests()
    again = world.sync()
    assert again.requests == 3 and not again.cockpit_added
    assert len(dashboards(world)) == 1


def test_the_setting_off_leaves_an_existing_cockpit_alone(world: World) -> None:
    world.sync("push")
    world.control.reset_requests()
    world.sync(settings=world.settings(DSPROGRESS_NOTION_COCKPIT="false"))
    assert world.control.request_count("DELETE /v1/views/{id}") == 0
    assert len(dashboards(world)) == 1


def test_a_kill_between_the_dashboard_and_the_mark_leaves_one_progress_tab_after_two_syncs(
    world: World, tmp_path: Path
) -> None:
    world.sync("push", settings=world.settings(DSPROGRESS_NOTION_COCKPIT="false"))
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(small_checklist_text(), encoding="utf-8")
    # Every mark write is dropped: the sync is killed while it waits to retry the first one,
    # after Notion made the dashboard and before the mark names it.
    world.control.reset_requests()
    world.control.add_fault(
        "drop", method="PATCH", route="/v1/databases/{id}", probability=1.0, seed=1
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    env.update(
        NOTION_TOKEN=world.sandbox.token,
        NOTION_PARENT_PAGE_ID=world.sandbox.root_page_id,
        NOTION_BASE_URL=world.sandbox.base_url,
        DSPROGRESS_STATE_DIR=str(world.state_dir),
        DSPROGRESS_CHECKLIST=str(checklist),
        DSPROGRESS_RATE_LIMIT="0",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "sync", "sync"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while world.control.request_count("PATCH /v1/databases/{id}") < 1:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the sync never wrote the mark"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    world.control.clear_faults()
    assert len(dashboards(world)) == 1 and read_mark(world).cockpit is None
    world.sync()
    world.sync()
    (kept,) = dashboards(world)
    mark = read_mark(world)
    assert mark.cockpit is not None and mark.cockpit.dashboard_id == kept["id"].replace("-", "")
    assert set(mark.cockpit.widgets) == set(WIDGETS)


def test_a_dashboard_whose_answer_was_lost_is_found_and_replaced_once(world: World) -> None:
    world.sync("push", settings=world.settings(DSPROGRESS_NOTION_COCKPIT="false"))
    world.control.add_fault("apply_then_drop", method="POST", route="/v1/views")
    world.sync()
    assert len(dashboards(world)) == 1 and read_mark(world).cockpit is None
    world.sync()
    world.sync()
    (kept,) = dashboards(world)
    assert read_mark(world).cockpit.dashboard_id == kept["id"].replace("-", "")  # type: ignore[union-attr]


def test_a_refusing_notion_gives_one_warning_then_silence(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.control.refuse_charts(message="Charts are not available on your plan.")
    with caplog.at_level(logging.WARNING, logger="dsprogress"):
        world.sync("push")
        world.sync()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "Charts are not available on your plan." in warnings[0]
    assert "doctor --fix" in warnings[0]
    assert dashboards(world) == []
    mark = read_mark(world)
    assert mark.cockpit is not None and mark.cockpit.refused
    world.control.reset_requests()
    assert world.sync().requests == 3  # refused: no retry


def test_a_refused_chart_removes_the_dashboard_made_so_far(world: World) -> None:
    world.sync("push", settings=world.settings(DSPROGRESS_NOTION_COCKPIT="false"))
    # The dashboard is accepted, the first chart refused (a validation message).
    world.control.refuse_charts(message="Chart views are not supported.", types=("chart",))
    world.sync()
    assert dashboards(world) == []
    assert read_mark(world).cockpit.refused == "Chart views are not supported."  # type: ignore[union-attr]


def cockpit_check(world: World, *, fix: bool = False) -> Any:
    (result,) = [
        r
        for r in run_doctor(world.settings(), fix=fix, checklist=world.checklist)
        if r.name == "progress tab"
    ]
    return result


def exists(world: World, view_id: str) -> bool:
    with raw_http(world.sandbox) as http:
        return http.get(f"/v1/views/{view_id}").status_code == 200


def test_a_deleted_widget_stays_deleted_until_doctor_fix(world: World) -> None:
    world.sync("push")
    assert cockpit_check(world).detail == f"the Progress tab with its {len(WIDGETS)} widgets"
    levels = read_mark(world).cockpit.widgets["levels"]  # type: ignore[union-attr]
    with raw_http(world.sandbox) as http:  # the learner deletes a widget in Notion
        assert http.delete(f"/v1/views/{levels}").status_code == 200
    world.control.reset_requests()
    world.sync()
    world.sync()
    assert world.control.request_count("POST /v1/views") == 0 and not exists(world, levels)
    said = cockpit_check(world)
    assert said.warning and said.detail == f"missing from the Progress tab: {TITLES['levels']}"
    assert "doctor --fix" in (said.fix or "")
    fixed = cockpit_check(world, fix=True)
    assert fixed.ok and TITLES["levels"] in fixed.detail
    mark = read_mark(world)
    assert mark.cockpit is not None and exists(world, mark.cockpit.widgets["levels"])
    (dashboard,) = dashboards(world)
    assert sum(len(row["widgets"]) for row in dashboard["configuration"]["rows"]) == len(WIDGETS)
    assert cockpit_check(world).detail == f"the Progress tab with its {len(WIDGETS)} widgets"
    world.control.reset_requests()
    assert world.sync().requests == 3


def test_a_deleted_tab_is_restored_by_doctor_fix_only(world: World) -> None:
    world.sync("push")
    (dashboard,) = dashboards(world)
    with raw_http(world.sandbox) as http:
        assert http.delete(f"/v1/views/{dashboard['id']}").status_code == 200
    world.sync()
    assert dashboards(world) == []
    assert cockpit_check(world).detail == "missing from the Progress tab: the tab"
    assert cockpit_check(world, fix=True).detail == "restored the Progress tab"
    (restored,) = dashboards(world)
    assert read_mark(world).cockpit.dashboard_id == restored["id"].replace("-", "")  # type: ignore[union-attr]


def test_doctor_reports_a_refusal_and_fix_retries_it(world: World) -> None:
    world.control.refuse_charts(message="Charts are not on your plan.")
    world.sync("push")
    said = cockpit_check(world)
    assert said.warning and "Charts are not on your plan." in said.detail
    world.control.refuse_charts(False)  # the learner changed plans
    assert cockpit_check(world, fix=True).detail == "added the Progress tab"
    assert len(dashboards(world)) == 1
    mark = read_mark(world)
    assert mark.cockpit is not None and mark.cockpit.refused is None


def test_a_halted_sync_adds_no_progress_tab(world: World) -> None:
    world.sync("push", settings=world.settings(DSPROGRESS_NOTION_COCKPIT="false"))
    world.control.reset_requests()
    with pytest.raises(SafetyHaltError, match="nothing was written"):
        world.sync(checklist=small_checklist(ITEMS[:1], version=2))  # retires 4 of 5: halts
    assert world.control.request_count("POST /v1/views") == 0
    assert world.control.request_count("PATCH /v1/databases/{id}") == 0
    world.sync()
    assert len(dashboards(world)) == 1


def test_two_machines_adding_at_once_leave_one_progress_tab(world: World, tmp_path: Path) -> None:
    world.sync("push", settings=world.settings(DSPROGRESS_NOTION_COCKPIT="false"))
    other = World(world.sandbox, tmp_path / "other-state")
    settings = other.settings(NOTION_DATABASE_ID=database_id(world))
    other.sync(settings=settings.model_copy(update={"notion_cockpit": False}))
    world.control.reset_requests()
    # The first dashboard created waits 3 s in "Notion": meanwhile the other machine adds its own
    # cockpit and writes it into the mark.
    world.control.add_fault("latency", method="POST", route="/v1/views", latency_ms=3000)
    first = threading.Thread(target=world.sync)
    first.start()
    deadline = time.monotonic() + 30
    while world.control.request_count("POST /v1/data_sources/{id}/query") < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.3)
    other.sync(settings=settings)
    first.join(timeout=60)
    (kept,) = dashboards(world)
    mark = read_mark(world)
    assert mark.cockpit is not None and mark.cockpit.dashboard_id == kept["id"].replace("-", "")
    assert world.control.request_count("DELETE /v1/views/{id}") == 1  # the loser removed its own
