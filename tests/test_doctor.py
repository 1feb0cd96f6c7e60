"""`dsprogress doctor`: the pure schema check and repair, then the command against the sandbox on a
good setup and on each broken one (each fails its own check with its fix), `--fix` followed by a
sync that keeps every tick, and the digest channels (a real SMTP server, a local webhook)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sync.access import TokenInfo
from sync.doctor import check_schema
from sync.doctor_database import explain_not_found
from sync.doctor_local import TEST_SUBJECT
from sync.init_flow import InitChoices, run_init
from sync.model import FIELDS, ItemState
from sync.notion.adapter import NotionAdapter
from sync.notion.schema_check import build_restore_values, build_schema_repair
from sync.sandbox import SandboxServer
from sync.snapshot import load_snapshot
from sync.store import open_store

ROOT = Path(__file__).resolve().parent.parent


# -- pure: the schema ----------------------------------------------------------------------------
def schema(**changes: Any) -> dict[str, Any]:
    """Our columns as a data source returns them, with `changes` (None deletes a column)."""
    properties: dict[str, Any] = {
        spec.default_name: {"id": f"id-{spec.field}", "type": spec.type} for spec in FIELDS
    }
    for name, value in changes.items():
        name = name.replace("_", " ")
        if value is None:
            properties.pop(name)
        else:
            properties[name] = value
    return properties


RECORDED = {spec.field: f"id-{spec.field}" for spec in FIELDS}


def test_a_matching_schema_has_no_problems() -> None:
    report = check_schema(schema(), RECORDED)
    assert report.problems == () and report.broken == ()


def test_missing_and_retyped_columns_are_problems() -> None:
    report = check_schema(schema(Done=None, Order={"id": "x", "type": "rich_text"}), RECORDED)
    assert report.broken == ("done", "order")
    assert 'the column "Done" (checkbox) is missing' in report.problems
    assert 'the column "Order" is a rich_text property; dsprogress needs number' in report.problems


def test_renamed_and_own_columns_are_only_notes() -> None:
    properties = schema(Notes=None)
    properties["My notes"] = {"id": "id-notes", "type": "rich_text"}
    properties["Mood"] = {"id": "id-mood", "type": "select"}
    report = check_schema(properties, RECORDED)
    assert report.problems == ()
    assert '"Notes" is now called "My notes" (fine)' in report.notes
    assert "your own columns, left alone: Mood" in report.notes


def test_repair_adds_missing_columns_with_their_options() -> None:
    options = {"level": [{"name": "Entry", "color": "green"}]}
    repair = build_schema_repair(schema(Level=None, Done=None), RECORDED, options)
    assert repair.renames == {}
    assert repair.additions == {
        "Done": {"checkbox": {}},
        "Level": {"select": {"options": [{"name": "Entry", "color": "green"}]}},
    }
    assert repair.restore == ("done",)  # Level comes back from the checklist on the next push
    assert "level" not in repair.recorded_ids and "done" not in repair.recorded_ids


def test_repair_renames_a_retyped_column_aside_and_adds_ours() -> None:
    properties = schema(Done={"id": "new", "type": "rich_text"})
    properties["Done (old rich_text)"] = {"id": "taken", "type": "number"}
    repair = build_schema_repair(properties, RECORDED)
    assert repair.renames == {"new": {"name": "Done (old rich_text) 2"}}
    assert repair.additions == {"Done": {"checkbox": {}}}
    assert repair.restore == ("done",)


def test_repair_never_touches_the_learners_own_columns() -> None:
    properties = schema(Evidence=None)
    properties["Mood"] = {"id": "id-mood", "type": "select"}
    properties["Evidence link"] = {"id": "id-own", "type": "rich_text"}
    repair = build_schema_repair(properties, RECORDED)
    assert repair.renames == {}
    assert list(repair.additions) == ["Evidence"]


def test_repair_adopts_a_column_the_learner_recreated() -> None:
    properties = schema(Done={"id": "recreated", "type": "checkbox"})
    repair = build_schema_repair(properties, RECORDED)  # the recorded id is gone
    assert repair.empty and repair.restore == ()


def test_restore_values_come_from_the_state() -> None:
    item = ItemState(
        key="k",
        page_id="p",
        title="T",
        level="Entry",
        category="General",
        order=1,
        status="done",
        done_on=date(2026, 11, 20),
        notes="n",
    )
    fields = ("done", "status", "done_on", "notes", "evidence")
    assert build_restore_values(item, fields) == {
        "done": True,
        "status": "Done",
        "done_on": date(2026, 11, 20),
        "notes": "n",
    }
    fresh = ItemState("k", "p", "T", None, None, None, "not_started")
    assert build_restore_values(fresh, fields) == {}


def test_not_found_is_explained_by_token_kind() -> None:
    integration = TokenInfo("integration", "Checklist", "Home")
    detail, fix = explain_not_found("the page", "abc", "NOTION_PARENT_PAGE_ID", integration, 3)
    assert "not shared" in detail and "or does not exist" in detail
    assert 'add "Checklist"' in fix
    detail, _ = explain_not_found("the page", "abc", "NOTION_PARENT_PAGE_ID", integration, 0)
    assert "connected to no page at all" in detail
    personal = TokenInfo("personal", "Ada", None)
    detail, fix = explain_not_found("the page", "abc", "NOTION_PARENT_PAGE_ID", personal, None)
    assert "does not exist" in detail and "Connections" not in fix


# -- against the sandbox -------------------------------------------------------------------------
@dataclass
class Setup:
    sandbox: SandboxServer
    cwd: Path
    state_dir: Path
    database_id: str
    data_source_id: str

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
        }
        return {**base, "DSPROGRESS_RATE_LIMIT": "0", "PYTHONPATH": str(ROOT), **extra}

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "sync", *args],
            cwd=self.cwd,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert self.sandbox.token not in result.stdout + result.stderr
        return result

    def doctor(self, *args: str, **extra: str) -> tuple[int, dict[str, str], str]:
        """Exit code, {check name: its printed block}, and all output."""
        result = self.run("doctor", *args, **extra)
        blocks: dict[str, str] = {}
        current = ""
        for line in result.stdout.splitlines():
            if line[:1] in ("✓", "✗", "–", "!"):
                current = line[2:].split("  ")[0].strip()
                blocks[current] = line
            elif current:
                blocks[current] += "\n" + line
        return result.returncode, blocks, result.stdout + result.stderr

    def rows(self) -> dict[str, dict[str, Any]]:
        with open_store(self.state_dir) as store:
            items = store.load_items()
        pages = {p["id"]: p for p in self.sandbox.control.pages(self.data_source_id)}
        return {key: pages[item.page_id] for key, item in items.items()}


@pytest.fixture
def setup(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """A working setup made by init: .env in tmp_path, state in tmp_path/state."""
    for name in list(os.environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DSPROGRESS_RATE_LIMIT", "0")
    state_dir = tmp_path / "state"
    choices = InitChoices(
        token=sandbox.token,
        parent_page_id=sandbox.root_page_id,
        base_url=sandbox.base_url,
        state_dir=state_dir,
        timezone="UTC",
    )
    run_init(choices, env_path=tmp_path / ".env")
    with open_store(state_dir) as store:
        database_id = store.get_meta("database_id")
        data_source_id = store.get_meta("data_source_id")
    assert database_id and data_source_id
    return Setup(sandbox, tmp_path, state_dir, database_id, data_source_id)


def tick(setup: Setup, *keys: str) -> None:
    with open_store(setup.state_dir) as store:
        items = store.load_items()
    for key in keys:
        setup.sandbox.control.tick(items[key].page_id)
    assert setup.run("sync").returncode == 0


def test_a_good_setup_passes(setup: Setup) -> None:
    code, blocks, output = setup.doctor()
    assert code == 0, output
    for name in ("configuration", "token", "parent page", "database", "schema", "state folder"):
        assert blocks[name].startswith("✓"), blocks[name]
    assert blocks["state and snapshot"].startswith("✓")
    assert blocks["time zone and schedule"].startswith("✓ time zone and schedule  UTC")
    assert blocks["digest channels"].startswith("–")


def test_an_internal_connection_is_told_of_the_free_block_limit_once(setup: Setup) -> None:
    code, blocks, output = setup.doctor()
    assert code == 0, output
    assert "1,000" in blocks["token"] and "personal access token" in blocks["token"]
    assert output.count("1,000") == 1


def test_json_report(setup: Setup) -> None:
    result = setup.run("doctor", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["ok"] is True
    assert [c["name"] for c in data["checks"]][:5] == [
        "configuration",
        "token",
        "parent page",
        "database",
        "schema",
    ]
    assert set(data["checks"][0]) == {
        "name",
        "ok",
        "skipped",
        "warning",
        "detail",
        "fix",
        "details",
    }


def test_doctor_says_which_database_a_sync_would_use_and_why(setup: Setup) -> None:
    _, blocks, _ = setup.doctor()
    assert "NOTION_DATABASE_ID" in blocks["database"]  # init wrote it
    url = setup.sandbox.workspace.databases[setup.database_id]["id"].replace("-", "")
    assert url in blocks["database"]
    # Another machine, before its first sync: no id in .env, no state.
    env_file = setup.cwd / ".env"
    env_file.write_text(
        "\n".join(
            line for line in env_file.read_text().splitlines() if "NOTION_DATABASE_ID" not in line
        )
    )
    code, blocks, output = setup.doctor(DSPROGRESS_STATE_DIR=str(setup.cwd / "elsewhere"))
    assert code == 0, output
    assert "found under the parent page by its mark" in blocks["database"]
    assert "a sync will use it" in blocks["database"]


def test_doctor_warns_about_other_checklist_databases_under_the_page(setup: Setup) -> None:
    from sync.notion.mapping import build_database_schema
    from tests.sandbox_fixtures import make_notion_client, text

    client = make_notion_client(setup.sandbox)
    try:
        other: Any = client.databases.create(
            parent={"type": "page_id", "page_id": setup.sandbox.root_page_id},
            title=text("Data Science checklist (old copy)"),
            initial_data_source={"properties": build_database_schema(["Entry"], ["General"])},
        )
    finally:
        client.close()
    code, blocks, output = setup.doctor()
    assert code == 0, output
    assert blocks["other databases"].startswith("!")
    assert other["url"] in blocks["other databases"]
    assert "fix:" in blocks["other databases"]


def test_doctor_on_a_database_in_the_trash(setup: Setup) -> None:
    from tests.sandbox_fixtures import make_notion_client

    client = make_notion_client(setup.sandbox)
    try:
        client.databases.update(setup.database_id, in_trash=True)
    finally:
        client.close()
    code, blocks, _ = setup.doctor()
    assert code == 12
    assert blocks["database"].startswith("✗") and "Trash" in blocks["database"]
    assert "dsprogress init" in blocks["database"]


def test_bad_token(setup: Setup) -> None:
    code, blocks, output = setup.doctor(NOTION_TOKEN="ntn_notavalidtoken12345")
    assert code == 12
    assert blocks["token"].startswith("✗ token") and "fix: Check NOTION_TOKEN" in blocks["token"]
    assert blocks["database"].startswith("–")  # cannot be checked without a token
    assert "ntn_notavalidtoken12345" not in output
    assert "checks failed (token)" in output


@pytest.mark.parametrize("which", ["unshared", "missing"])
def test_parent_page_not_shared_or_missing(setup: Setup, which: str) -> None:
    page_id = (
        setup.sandbox.unshared_page_id
        if which == "unshared"
        else "0badc0de-0000-4000-8000-000000000000"
    )
    code, blocks, _ = setup.doctor(NOTION_PARENT_PAGE_ID=page_id)
    assert code == 12
    block = blocks["parent page"]
    assert block.startswith("✗") and page_id in block
    assert "not shared" in block and "does not exist" in block
    assert "fix: Open it in Notion, ... (top right) -> Connections" in block


def test_database_id_that_is_a_view_id(setup: Setup) -> None:
    with NotionAdapter(setup.sandbox.token, setup.sandbox.base_url, rate_limit=0) as notion:
        view_id = notion.list_views(setup.database_id)[0]["id"]
    code, blocks, _ = setup.doctor(NOTION_DATABASE_ID=view_id)
    assert code == 12
    block = blocks["database"]
    assert "is a view id" in block and "?v=" in block
    assert f"fix: Set NOTION_DATABASE_ID={setup.database_id}" in block
    # The full link with its `?v=` part is fine: dsprogress reads the database id from it.
    hex_db, hex_view = setup.database_id.replace("-", ""), view_id.replace("-", "")
    link = f"https://www.notion.so/ws/{hex_db}?v={hex_view}"
    code, blocks, output = setup.doctor(NOTION_DATABASE_ID=link)
    assert code == 0, output
    assert blocks["database"].startswith("✓")


def test_database_id_that_is_a_data_source_or_a_page(setup: Setup) -> None:
    code, blocks, _ = setup.doctor(NOTION_DATABASE_ID=setup.data_source_id)
    assert code == 12 and "is a data source id" in blocks["database"]
    assert f"Set NOTION_DATABASE_ID={setup.database_id}" in blocks["database"]
    code, blocks, _ = setup.doctor(NOTION_DATABASE_ID=setup.sandbox.root_page_id)
    assert code == 12 and "is a page, not a database" in blocks["database"]
    assert "?v=" in blocks["database"]


@pytest.mark.parametrize(
    ("column", "change"),
    [
        ("Done", None),
        ("Notes", None),
        ("Level", None),
        ("Done", {"rich_text": {}}),
        ("Order", {"rich_text": {}}),
    ],
    ids=["Done deleted", "Notes deleted", "Level deleted", "Done retyped", "Order retyped"],
)
def test_schema_damage_fix_then_sync_keeps_every_tick(
    setup: Setup, column: str, change: dict[str, Any] | None
) -> None:
    keys = sorted(setup.rows())[:3]
    tick(setup, *keys)
    control = setup.sandbox.control
    with open_store(setup.state_dir) as store:
        page_id = store.load_items()[keys[0]].page_id
    control.set_text(page_id, "Notes", "my note")
    assert setup.run("sync").returncode == 0
    control.add_property(setup.data_source_id, "Mood", {"select": {}})  # the learner's own
    if change is None:
        control.delete_property(setup.data_source_id, column)
    else:
        control.retype_property(setup.data_source_id, column, change)

    code, blocks, _ = setup.doctor()
    assert code == 12
    assert blocks["schema"].startswith("✗ schema") and f'"{column}"' in blocks["schema"]
    assert "fix: Run `dsprogress doctor --fix`" in blocks["schema"]

    code, blocks, output = setup.doctor("--fix")
    assert code == 0, output
    assert blocks["schema"].startswith("✓ schema") and "repaired" in blocks["schema"]
    assert setup.doctor()[0] == 0

    sync = setup.run("sync")
    assert sync.returncode == 0, sync.stderr
    snapshot = load_snapshot(setup.state_dir)
    assert snapshot is not None
    assert {i.key for i in snapshot.items if i.done} == set(keys)
    assert next(i for i in snapshot.items if i.key == keys[0]).notes == "my note"
    rows = setup.rows()
    for key in keys:
        assert rows[key]["properties"]["Done"]["checkbox"] is True
    assert rows[keys[0]]["properties"]["Notes"]["rich_text"][0]["plain_text"] == "my note"
    properties = rows[keys[0]]["properties"]
    assert properties["Mood"]["type"] == "select"  # untouched
    if change is not None:
        assert f"{column} (old rich_text)" in properties  # renamed aside, values kept
    with open_store(setup.state_dir) as store:
        ticks = [
            e for e in store.load_history() if e.to_status != "done" and e.from_status == "done"
        ]
    assert ticks == []  # no tick was ever recorded as undone


def test_unwritable_state_dir(setup: Setup, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, blocks, _ = setup.doctor(DSPROGRESS_STATE_DIR=str(blocker / "state"))
    assert code == 12
    block = blocks["state folder"]
    assert block.startswith("✗ state folder") and "cannot write" in block
    assert "fix: Set DSPROGRESS_STATE_DIR" in block


def test_unreadable_snapshot(setup: Setup) -> None:
    (setup.state_dir / "snapshot.json").write_text("{not json")
    code, blocks, _ = setup.doctor()
    assert code == 12
    assert blocks["state and snapshot"].startswith("✗") and "fix:" in blocks["state and snapshot"]


def test_a_binary_snapshot_fails_its_check_and_every_other_check_still_runs(setup: Setup) -> None:
    (setup.state_dir / "snapshot.json").write_bytes(bytes(range(256)) * 8)
    code, blocks, _ = setup.doctor()
    assert code == 12
    assert blocks["state and snapshot"].startswith("✗ state and snapshot")
    assert "is not a valid snapshot" in blocks["state and snapshot"]
    assert all(block.startswith("✓") for name, block in blocks.items() if name == "token")
    assert {"configuration", "token", "database", "state folder"} <= set(blocks)
    status = setup.run("status")
    assert status.returncode == 10 and "is not a valid snapshot" in status.stderr


def test_a_broken_checklist_fails_the_doctor_as_it_would_fail_a_sync(setup: Setup) -> None:
    broken = setup.cwd / "mine.yaml"
    broken.write_text("title: Mine\nversion: 1\nlevels: []\nitems: []\n")
    code, blocks, _ = setup.doctor(DSPROGRESS_CHECKLIST=str(broken))
    assert code == 12
    assert blocks["checklist"].startswith("✗ checklist") and "problem" in blocks["checklist"]
    assert "fix: Fix the checklist file" in blocks["checklist"]
    assert setup.run("sync", DSPROGRESS_CHECKLIST=str(broken)).returncode == 4
    code, blocks, _ = setup.doctor()
    assert blocks["checklist"].startswith("✓ checklist")


def test_invalid_configuration(setup: Setup) -> None:
    code, blocks, output = setup.doctor(DSPROGRESS_TIMEZONE="Nowhere/Land")
    assert code == 12
    assert blocks["configuration"].startswith("✗ configuration")
    assert "DSPROGRESS_TIMEZONE" in blocks["configuration"] and "fix:" in blocks["configuration"]
    assert "need a valid configuration" in output


def test_missing_token_points_to_init(setup: Setup) -> None:
    (setup.cwd / ".env").write_text("")
    code, blocks, _ = setup.doctor(DSPROGRESS_STATE_DIR=str(setup.state_dir))
    assert code == 12
    assert "dsprogress init" in blocks["configuration"] and blocks["token"].startswith("✗")
    assert blocks["state folder"].startswith("✓")  # the local checks still run


# -- digest channels -----------------------------------------------------------------------------
class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_email_reachable_and_test_message(setup: Setup, smtp_server: tuple[int, _Inbox]) -> None:
    port, inbox = smtp_server
    smtp = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": "dsprogress@example.com",
        "SMTP_TO": "learner@example.com",
    }
    code, blocks, _ = setup.doctor(**smtp)
    assert code == 0 and "reachable" in blocks["digest: email"] and inbox.messages == []
    code, blocks, _ = setup.doctor("--send-test", **smtp)
    assert code == 0 and "test message sent" in blocks["digest: email"]
    assert len(inbox.messages) == 1 and TEST_SUBJECT.encode() in inbox.messages[0]
    code, blocks, _ = setup.doctor(**{**smtp, "SMTP_TO": ""})
    assert code == 12 and "SMTP_TO" in blocks["digest: email"]
    code, blocks, _ = setup.doctor(**{**smtp, "SMTP_PORT": str(_free_port())})
    assert code == 12 and "cannot connect" in blocks["digest: email"]


def test_webhook_test_message_never_shows_the_url(setup: Setup) -> None:
    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/webhooksecret42"
        code, blocks, output = setup.doctor("--send-test", DSPROGRESS_SLACK_WEBHOOK_URL=url)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, output
    assert "test message sent" in blocks["digest: Slack"]
    assert len(received) == 1 and TEST_SUBJECT in received[0].decode()
    assert "webhooksecret42" not in output
