"""Cohort mode over HTTP against the sandbox: discovery, a read-only sync, the grid, the digest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sync.checklist import Checklist
from sync.cli import main
from sync.cohort.deliver import deliver_cohort_digest
from sync.cohort.digest import FORMATS, CohortDigest, render_cohort_digest
from sync.cohort.run import cohort_dir, load_cohort_grid
from sync.engine import run_sync
from sync.notion.adapter import NotionAdapter
from sync.store import open_store
from sync.weeks import build_week_window, last_complete_week, week_containing
from tests.cohort.conftest import Cohort
from tests.engine.conftest import ITEMS, key_of, small_checklist
from tests.sandbox_fixtures import make_notion_client


def write_checklist(folder: Path, checklist: Checklist) -> Path:
    """The checklist as a YAML file the learner's own `status` reads (DSPROGRESS_CHECKLIST)."""
    path = folder / "hers.yaml"
    path.write_text(yaml.safe_dump(checklist.model_dump(mode="json"), sort_keys=False))
    return path


def run_cli(args: list[str], env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    with pytest.raises(SystemExit) as exited:
        main(args)
    return int(exited.value.code or 0)


def mentor_env(cohort: Cohort) -> dict[str, str]:
    return {
        "NOTION_TOKEN": cohort.sandbox.token,
        "NOTION_BASE_URL": cohort.sandbox.base_url,
        "DSPROGRESS_COHORT_PAGE": cohort.page_id,
        "DSPROGRESS_STATE_DIR": str(cohort.state_dir),
        "DSPROGRESS_RATE_LIMIT": "0",
        "DSPROGRESS_TIMEZONE": "UTC",
    }


def test_discovery_finds_every_learner_by_the_mark_and_names_them_by_their_page(
    cohort: Cohort,
) -> None:
    cohort.make(4, in_columns=2)  # learners 2 and 4 stand in columns, their databases too
    client = make_notion_client(cohort.sandbox)
    top = client.blocks.children.list(block_id=cohort.page_id)["results"]
    assert [b["type"] for b in top].count("column_list") == 2
    report = cohort.sync()
    assert report.discovered
    names = sorted(o.learner.name for o in report.outcomes)
    assert names == ["Learner 001", "Learner 002", "Learner 003", "Learner 004"]
    assert {o.learner.database_id for o in report.outcomes} == {
        entry["database_id"] for entry in cohort.learners
    }
    for entry in cohort.learners:  # a state folder per learner, under the mentor's
        assert (cohort_dir(cohort.settings()) / entry["database_id"].replace("-", "")).is_dir()
    again = cohort.sync()
    assert not again.discovered  # discovery has its own (daily) schedule
    assert cohort.sync(rediscover=True).discovered


def test_a_sync_writes_nothing_and_costs_three_requests_a_learner_when_nothing_changed(
    cohort: Cohort,
) -> None:
    cohort.make(5, seed=3)
    cohort.control.reset_requests()
    cohort.sync()
    assert cohort.writes() == []
    cohort.control.reset_requests()
    report = cohort.sync()
    assert cohort.writes() == []
    assert report.requests <= 3 * 5
    assert cohort.control.requests()["total"] == report.requests
    # Each learner's table fits in one page: read whole, for the cost of a delta (an emptied
    # table is noticed at once), as the learner's own sync does.
    assert {o.read for o in report.outcomes} == {"full"}


def test_a_tick_in_notion_shows_in_the_grid_and_its_history_without_any_write(
    cohort: Cohort,
) -> None:
    cohort.make(2, seed=5)
    cohort.sync()
    learner = cohort.learners[0]
    rows = cohort.control.pages(learner["data_source_id"])
    open_row = next(p for p in rows if not p["properties"]["Done"]["checkbox"])
    cohort.control.reset_requests()
    cohort.control.tick(open_row["id"])
    cohort.sync()
    assert cohort.writes() == []
    settings = cohort.settings()
    now = cohort.now()
    window = build_week_window(week_containing(now, settings.zone), settings.zone)
    grid = load_cohort_grid(settings, now=now, window=window)
    row = next(n for n in grid.learners if n.database_id == learner["database_id"])
    assert key_of(open_row) in {c.key for c in row.completed}
    page = cohort.control.page(open_row["id"])
    assert page["properties"]["Done on"]["date"] is None  # the mentor fills no date


def test_an_unreachable_learner_is_marked_the_others_read_and_the_run_exits_14(
    cohort: Cohort, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort.make(3, seed=7)
    cohort.sync()
    gone = cohort.learners[1]
    cohort.control.purge_database(gone["database_id"])
    code = run_cli(["cohort", "sync"], mentor_env(cohort), monkeypatch)
    assert code == 14
    err = capsys.readouterr().err
    assert "1 of 3 learners could not be read" in err and "Learner 002" in err
    capsys.readouterr()
    assert run_cli(["cohort", "status", "--json"], mentor_env(cohort), monkeypatch) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {entry["name"]: entry for entry in data["learners"]}
    assert by_name["Learner 002"]["reachable"] is False
    assert by_name["Learner 001"]["reachable"] and by_name["Learner 003"]["reachable"]
    assert data["unreachable"][0]["name"] == "Learner 002"


def test_status_json_has_an_entry_per_learner_with_the_promised_fields(
    cohort: Cohort, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort.make(6, seed=11)
    assert run_cli(["cohort", "sync"], mentor_env(cohort), monkeypatch) == 0
    capsys.readouterr()
    assert run_cli(["cohort", "status", "--json"], mentor_env(cohort), monkeypatch) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["learners"]) == 6
    for entry in data["learners"]:
        for name in (
            "name",
            "database_id",
            "reachable",
            "done",
            "total",
            "percent",
            "levels",
            "done_this_week",
            "last_activity",
            "stalled",
            "behind",
        ):
            assert name in entry
        for level in entry["levels"]:
            assert level["percent"] == (
                100 * level["done"] // level["total"] if level["total"] else 0
            )
    percents = sorted(e["percent"] for e in data["learners"])
    assert data["median_percent"] == (percents[2] + percents[3]) / 2
    assert {e["name"] for e in data["learners"] if e["behind"]} == {
        e["name"] for e in data["learners"] if e["percent"] < data["median_percent"]
    }
    assert run_cli(["cohort", "status"], mentor_env(cohort), monkeypatch) == 0
    assert "Learner 001" in capsys.readouterr().out


def test_a_learners_grid_row_equals_their_own_status_json(
    cohort: Cohort,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cohort.make(1, seed=2)  # the cohort page, with one learner made by the fixture
    # A second learner uses the real tool: their own page under the cohort page, their own sync.
    client = make_notion_client(cohort.sandbox)
    page = client.pages.create(
        parent={"page_id": cohort.page_id},
        properties={"title": {"title": [{"type": "text", "text": {"content": "Ada"}}]}},
    )
    own_state = tmp_path / "ada"
    env = {
        "NOTION_TOKEN": cohort.sandbox.token,
        "NOTION_BASE_URL": cohort.sandbox.base_url,
        "NOTION_PARENT_PAGE_ID": page["id"],
        "DSPROGRESS_STATE_DIR": str(own_state),
        "DSPROGRESS_RATE_LIMIT": "0",
        "DSPROGRESS_TIMEZONE": "UTC",
    }
    from sync.config import load_settings

    learner_settings = load_settings(None, **env)
    run_sync(learner_settings, cohort.checklist, mode="sync")
    with open_store(own_state) as store:
        source = store.get_meta("data_source_id")
    assert source is not None
    rows = {key_of(p): p for p in cohort.control.pages(source)}
    cohort.control.tick(rows["entry.networks.dense"]["id"])
    cohort.control.tick(rows["advanced.general.rl"]["id"])
    cohort.control.set_select(rows["entry.networks.cnn"]["id"], "Status", "In progress")
    cohort.control.set_select(rows["entry.general.callbacks"]["id"], "Status", "Skipped")
    cohort.control.add_row(source, "My own project", {"Done": {"checkbox": True}})
    run_sync(learner_settings, cohort.checklist, mode="sync")
    run_sync(learner_settings, cohort.checklist, mode="sync")  # the own item gets its Key
    # Ada's checklist is her own: one item left it (retired), one came in under a new level.
    hers = small_checklist(
        [i for i in ITEMS if i[0] != "entry.networks.rnn"]
        + [("advanced.general.mlops", "MLOps", "Advanced", "General", 2)]
    )
    run_sync(learner_settings, hers, mode="sync")
    monkeypatch.setenv("DSPROGRESS_CHECKLIST", str(write_checklist(tmp_path, hers)))
    assert run_cli(["status", "--json"], env, monkeypatch) == 0
    own = json.loads(capsys.readouterr().out)
    # 5 items, one retired, one new, one skipped (not counted), one of her own
    assert own["progress"]["total"] == 5 and own["progress"]["skipped"] == 1
    cohort.control.reset_requests()
    assert run_cli(["cohort", "sync"], mentor_env(cohort), monkeypatch) == 0
    assert cohort.writes() == []
    capsys.readouterr()
    assert run_cli(["cohort", "status", "--json"], mentor_env(cohort), monkeypatch) == 0
    grid = json.loads(capsys.readouterr().out)
    (ada,) = [e for e in grid["learners"] if e["name"] == "Ada"]
    for name in ("done", "total", "percent", "in_progress", "skipped"):
        assert ada[name] == own["progress"][name], name
    assert ada["levels"] == own["levels"]
    assert ada["done_this_week"] == len(own["this_week"])


def test_the_digest_renders_in_each_format_and_is_sent_once_a_week(cohort: Cohort) -> None:
    cohort.make(3, seed=13)
    cohort.sync()
    settings = cohort.settings()
    now = cohort.now()
    week = last_complete_week(now, settings.zone, settings.week_start)
    window = build_week_window(week, settings.zone, settings.week_start)
    grid = load_cohort_grid(settings, now=now, window=window)
    digest = CohortDigest(grid, window, now, 7, include_notes=False)
    rendered = {fmt: render_cohort_digest(digest, fmt) for fmt in FORMATS}
    assert "# Cohort digest" in rendered["md"] and "Learner 001" in rendered["md"]
    assert "Cohort digest" in rendered["text"] and "#" not in rendered["text"].split("\n")[0]
    assert (
        "<table" in rendered["html"] and 'aria-label="Learner 001: completions' in rendered["html"]
    )
    data = json.loads(rendered["json"])
    assert data["week"] == str(week) and len(data["learners"]) == 3
    assert "notes on" not in rendered["md"]  # Notes are left out unless included
    folder = cohort_dir(settings)
    with open_store(folder) as store:
        first = deliver_cohort_digest(
            digest, settings, store, folder, channels_to_send=["file"], now=now
        )
        second = deliver_cohort_digest(
            digest, settings, store, folder, channels_to_send=["file"], now=now
        )
    assert [r.outcome for r in first.results] == ["sent"]
    assert [r.outcome for r in second.results] == ["already_sent"]
    assert (folder / "digests" / f"{week}.html").is_file()


def test_notes_and_evidence_appear_only_when_included(cohort: Cohort) -> None:
    cohort.make(8, seed=17)
    cohort.sync()
    settings = cohort.settings()
    now = cohort.now()
    shown = []
    for include in (False, True):
        for back in range(0, 9):
            week = last_complete_week(now, settings.zone).shift(-back)
            window = build_week_window(week, settings.zone)
            grid = load_cohort_grid(settings, now=now, window=window, include_notes=include)
            text = render_cohort_digest(CohortDigest(grid, window, now, 7, include), "md")
            shown.append((include, "notes on" in text))
    assert not any(found for include, found in shown if not include)
    assert any(found for include, found in shown if include)


def test_without_a_cohort_page_the_commands_say_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_cli(["cohort", "sync"], {"DSPROGRESS_STATE_DIR": tmp_path}, monkeypatch)
    assert code == 3
    err = capsys.readouterr().err
    assert "the cohort is not configured" in err and "DSPROGRESS_COHORT_PAGE" in err


def test_status_before_any_cohort_sync_says_to_run_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_cli(["cohort", "status"], {"DSPROGRESS_STATE_DIR": tmp_path}, monkeypatch)
    assert code == 10
    assert "cohort sync" in capsys.readouterr().err


def test_a_failed_cohort_channel_exits_11_and_is_retried_next_time(
    cohort: Cohort, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort.make(2, seed=19)
    env = mentor_env(cohort)
    assert run_cli(["cohort", "sync"], env, monkeypatch) == 0
    env["DSPROGRESS_SLACK_WEBHOOK_URL"] = "http://127.0.0.1:9/services/T0/B0/nothing-listens"
    capsys.readouterr()
    assert run_cli(["cohort", "digest", "--send"], env, monkeypatch) == 11
    captured = capsys.readouterr()
    assert "file: sent" in captured.out and "slack: failed" in captured.out
    assert "the cohort digest failed on 1 channel(s)" in captured.err
    assert "nothing-listens" not in captured.out + captured.err  # the webhook is a secret
    assert run_cli(["cohort", "digest", "--send", "--channel", "file"], env, monkeypatch) == 0
    assert "file: already sent" in capsys.readouterr().out


def test_a_trashed_and_a_refused_learner_are_unreachable_until_they_come_back(
    cohort: Cohort,
) -> None:
    cohort.make(4, seed=23)
    cohort.sync()
    client = make_notion_client(cohort.sandbox)
    trashed = cohort.learners[2]
    client.databases.update(database_id=trashed["database_id"], in_trash=True)
    # Notion fails every attempt at the first learner's rows (6 tries, no waiting here).
    cohort.control.add_fault(
        "error", method="POST", route="/v1/data_sources/{id}/query", status=500, times=6
    )
    cohort.control.reset_requests()
    settings = cohort.settings()
    adapter = NotionAdapter(
        cohort.sandbox.token, cohort.sandbox.base_url, rate_limit=0, sleep=lambda _: None
    )
    with adapter:
        report = cohort.sync(adapter=adapter)
    assert cohort.writes() == []
    reasons = {o.learner.name: o.reason for o in report.outcomes}
    assert reasons["Learner 001"] is not None
    assert reasons["Learner 003"] is not None and "Trash" in reasons["Learner 003"]
    assert reasons["Learner 002"] is None and reasons["Learner 004"] is None
    now = cohort.now()
    window = build_week_window(week_containing(now, settings.zone), settings.zone)
    grid = load_cohort_grid(settings, now=now, window=window)
    assert [n.name for n in grid.learners if not n.reachable] == ["Learner 001", "Learner 003"]
    assert grid.median_percent is not None
    # Their last numbers are kept; the median counts only those read.
    kept = {n.name: n.overall.total for n in grid.learners}
    assert kept["Learner 001"] > 0 and kept["Learner 003"] > 0
    client.databases.update(database_id=trashed["database_id"], in_trash=False)
    assert cohort.sync().unreachable == []
    grid = load_cohort_grid(settings, now=now, window=window)
    assert all(n.reachable for n in grid.learners)


def test_the_notion_channel_writes_a_page_under_the_cohort_page_and_nothing_else(
    cohort: Cohort,
) -> None:
    cohort.make(2, seed=29)
    cohort.sync()
    settings = cohort.settings(DSPROGRESS_DIGEST_NOTION="true")
    now = cohort.now()
    week = last_complete_week(now, settings.zone, settings.week_start)
    window = build_week_window(week, settings.zone, settings.week_start)
    digest = CohortDigest(load_cohort_grid(settings, now=now, window=window), window, now, 7, False)
    cohort.control.reset_requests()
    folder = cohort_dir(settings)
    with open_store(folder) as store:
        report = deliver_cohort_digest(
            digest, settings, store, folder, channels_to_send=["notion"], now=now
        )
    assert [r.outcome for r in report.results] == ["sent"]
    client = make_notion_client(cohort.sandbox)
    children = client.blocks.children.list(block_id=cohort.page_id)["results"]
    titles = [b["child_page"]["title"] for b in children if b["type"] == "child_page"]
    assert f"Weekly digest {week}" in titles
    ids = [e[name] for e in cohort.learners for name in ("page_id", "database_id")]
    learner_things = {i.replace("-", "") for i in ids}
    writes = cohort.writes()
    assert writes  # the page was made and filled
    for entry in writes:
        path = entry["path"].replace("-", "")
        assert not any(thing in path for thing in learner_things), entry


def test_a_pass_reports_its_progress_learner_by_learner(cohort: Cohort) -> None:
    cohort.make(3, seed=31)
    seen: list[tuple[int, int, str]] = []
    cohort.sync(progress=lambda done, total, step: seen.append((done, total, step)))
    assert seen == [
        (1, 3, "discover"),
        (2, 3, "discover"),
        (3, 3, "discover"),
        (1, 3, "read"),
        (2, 3, "read"),
        (3, 3, "read"),
    ]
