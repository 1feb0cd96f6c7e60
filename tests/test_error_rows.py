"""Errors of docs/errors.md that no behaviour test elsewhere provokes: each is provoked here for
real (the sandbox, a real SMTP server, real files), and must be a clean `DsprogressError`."""

from __future__ import annotations

import asyncio
import http.server
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from sync.access import fetch_parent_page
from sync.checklist_files import load_checklist
from sync.config import check_env_file, load_settings
from sync.digest import channels
from sync.errors import (
    ChecklistError,
    ChecksFailedError,
    ConfigError,
    DeliveryError,
    NotionAuthError,
    NotionNotFoundError,
    NotionRequestError,
    NotionUnavailableError,
    StateError,
)
from sync.init_flow import InitChoices, run_init, write_env_file
from sync.notion.adapter import NotionAdapter
from sync.notion.pacing import RetryPolicy
from sync.sandbox import SandboxServer
from sync.snapshot import load_snapshot

FAST = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def adapter(sandbox: SandboxServer) -> Iterator[NotionAdapter]:
    with NotionAdapter(sandbox.token, sandbox.base_url, rate_limit=0, policy=FAST) as notion:
        yield notion


def a_file(tmp_path: Path) -> Path:
    """A regular file: a path under it cannot be created, whoever runs the test (root too)."""
    path = tmp_path / "a-file"
    path.write_text("not a folder\n")
    return path


# -- configuration (exit 3) -----------------------------------------------------------------------
def test_init_non_interactive_without_token_or_page_names_both(tmp_path: Path) -> None:
    from sync.cli.setup_cmd import init

    result = CliRunner().invoke(init, ["--non-interactive"], catch_exceptions=True)
    assert isinstance(result.exception, ConfigError)
    assert result.exception.message.startswith("init --non-interactive needs --token")


def test_init_refuses_a_database_option_that_is_not_an_id(sandbox: SandboxServer) -> None:
    from sync.cli.setup_cmd import init

    args = ["--non-interactive", "--token", sandbox.token, "--base-url", sandbox.base_url]
    result = CliRunner().invoke(init, [*args, "--database", "not-an-id"])
    assert isinstance(result.exception, ConfigError)
    assert result.exception.message.startswith("--database is not a Notion id")


def test_init_refuses_an_unknown_time_zone(sandbox: SandboxServer) -> None:
    from sync.cli.setup_cmd import init

    args = ["--non-interactive", "--token", sandbox.token, "--base-url", sandbox.base_url]
    result = CliRunner().invoke(
        init, [*args, "--parent", sandbox.root_page_id, "--timezone", "Mars/Olympus"]
    )
    assert isinstance(result.exception, ConfigError)
    assert result.exception.message == "'Mars/Olympus' is not an IANA time zone"


def test_a_parent_page_that_is_not_an_id_is_refused(adapter: NotionAdapter) -> None:
    with pytest.raises(ConfigError, match=r"^the page 'my page' is not a Notion id or URL"):
        fetch_parent_page(adapter, "my page", None)


def test_a_parent_page_that_is_a_database_row_is_refused(
    adapter: NotionAdapter, sandbox: SandboxServer
) -> None:
    database = adapter.create_database(sandbox.root_page_id, "Tasks", None, {"Name": {"title": {}}})
    row = adapter.create_row(database["data_sources"][0]["id"], {})
    with pytest.raises(ConfigError, match="is a row of a database, not a page"):
        fetch_parent_page(adapter, row["id"], None)


def test_a_parent_page_that_is_missing_or_trashed_is_not_found(
    adapter: NotionAdapter, sandbox: SandboxServer
) -> None:
    with pytest.raises(NotionNotFoundError, match="does not exist or is not shared with your"):
        fetch_parent_page(adapter, sandbox.unshared_page_id, None)
    page = adapter.create_child_page(sandbox.root_page_id, "Old notes")
    adapter.update_row(page["id"], in_trash=True)
    with pytest.raises(NotionNotFoundError, match="is in Notion's Trash") as caught:
        fetch_parent_page(adapter, page["id"], None)
    assert caught.value.exit_code == 6


def test_init_without_a_page_or_database_is_refused(tmp_path: Path) -> None:
    choices = InitChoices("ntn_abcdefghijklmnop", None, None, "https://api.notion.com", None, None)
    with pytest.raises(ConfigError, match="no parent page and no database chosen"):
        run_init(choices, env_path=tmp_path / ".env", first_sync=False)


def test_an_env_file_that_cannot_be_read_or_written_is_a_config_error(tmp_path: Path) -> None:
    folder = tmp_path / "dot-env-is-a-folder"
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"^cannot read .*: Is a directory"):
        check_env_file(folder)
    with pytest.raises(ConfigError, match=r"^cannot write .*: Not a directory") as caught:
        write_env_file(a_file(tmp_path) / ".env", "NOTION_TOKEN=x\n")
    assert caught.value.exit_code == 3


def test_an_env_file_that_is_not_utf8_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes("DSPROGRESS_TIMEZONE=Europe/Zürich\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"^cannot read .*\.env: not UTF-8 text \(byte 28\)"):
        load_settings(env)


# -- checklist (exit 4) ---------------------------------------------------------------------------
def test_a_checklist_that_is_not_utf8_is_a_checklist_error(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yaml"
    path.write_bytes(b"title: \xff\xfe\n")
    with pytest.raises(ChecklistError, match=r"not UTF-8 text \(byte 7\)"):
        load_checklist(path)


# -- Notion (exit 5, 6, 7) ------------------------------------------------------------------------
def test_a_403_is_a_missing_capability(adapter: NotionAdapter, sandbox: SandboxServer) -> None:
    sandbox.control.add_fault("error", status=403, route="/v1/users/me")
    with pytest.raises(NotionAuthError, match="the token lacks a capability while"):
        adapter.fetch_me()


def test_a_database_without_a_data_source_is_not_found(
    adapter: NotionAdapter, sandbox: SandboxServer, tmp_path: Path
) -> None:
    from sync.engine import run_sync

    database = adapter.create_database(
        sandbox.root_page_id, "Linked", None, {"Name": {"title": {}}}
    )
    sandbox.workspace.databases[database["id"]]["data_source_ids"] = []
    settings = load_settings(
        None,
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_DATABASE_ID=database["id"],
        DSPROGRESS_STATE_DIR=str(tmp_path / "s"),
        DSPROGRESS_RATE_LIMIT="0",
    )
    with pytest.raises(NotionNotFoundError, match=r"^database .* has no data source"):
        run_sync(settings, load_checklist(), mode="sync")


class _NotNotion(http.server.SimpleHTTPRequestHandler):
    """A real web server that is not Notion (a proxy, a wrong NOTION_BASE_URL): HTML 404s."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_web_server_that_is_not_notion_is_an_http_error_not_a_crash(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotNotion)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        notion = NotionAdapter("ntn_abcdefghijklmnop", base, rate_limit=0, policy=FAST)
        with notion, pytest.raises(NotionUnavailableError, match=r"^Notion answered HTTP 40\d"):
            notion.fetch_me()
    finally:
        server.shutdown()
        server.server_close()


def test_an_id_with_path_traversal_is_an_invalid_notion_id(adapter: NotionAdapter) -> None:
    with pytest.raises(NotionRequestError, match="invalid Notion id while reading page"):
        adapter.fetch_page("../users/me")


def test_a_database_create_that_may_have_landed_fails_midway(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    from sync.engine import run_sync

    sandbox.control.add_fault("drop", method="POST", route="/v1/databases")
    settings = load_settings(
        None,
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        DSPROGRESS_STATE_DIR=str(tmp_path / "s"),
        DSPROGRESS_RATE_LIMIT="0",
    )
    with pytest.raises(NotionUnavailableError, match="creating the checklist database failed"):
        run_sync(settings, load_checklist(), mode="sync")


# -- state (exit 10) ------------------------------------------------------------------------------
def test_init_with_a_state_folder_that_cannot_be_created_is_a_state_error(tmp_path: Path) -> None:
    state_dir = a_file(tmp_path) / "state"
    choices = InitChoices(
        "ntn_abcdefghijklmnop",
        "0123456789abcdef0123456789abcdef",
        None,
        "https://api.notion.com",
        state_dir,
        None,
    )
    with pytest.raises(StateError, match="cannot write to the state folder"):
        run_init(choices, env_path=tmp_path / ".env", first_sync=False)
    assert not (tmp_path / ".env").exists()  # nothing half-written


def test_a_snapshot_that_cannot_be_read_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").mkdir()
    with pytest.raises(StateError, match=r"^cannot read .*snapshot.json: Is a directory"):
        load_snapshot(tmp_path)


# -- delivery (exit 11) ---------------------------------------------------------------------------
class _RefusingRecipients:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 no such user here"


def test_refused_recipients_are_named(tmp_path: Path) -> None:
    from tests.digest.smtp import free_port

    port = free_port()
    controller = Controller(_RefusingRecipients(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        message = channels.build_email(
            subject="s",
            text="t",
            html="<p>t</p>",
            sender="a@example.org",
            recipients=["nobody@example.org"],
            now=datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc),
        )
        with pytest.raises(DeliveryError, match=r"refused the recipients nobody@example\.org"):
            channels.send_email(message, host="127.0.0.1", port=port, security="none")
    finally:
        controller.stop()
        asyncio.set_event_loop(None)


@responses.activate
def test_a_webhook_that_does_not_answer_in_time_is_a_delivery_error() -> None:
    url = "https://hooks.slack.com/services/T000/B000/secretslacktoken"
    responses.post(url, body=requests.Timeout("read timed out"))
    with pytest.raises(DeliveryError, match=r"^Slack webhook did not answer within \d+ s"):
        channels.send_slack(url, {"text": "hello"})


# -- doctor (exit 12) -----------------------------------------------------------------------------
def test_doctor_with_failed_checks_exits_12(tmp_path: Path) -> None:
    from sync.cli import cli

    result = CliRunner().invoke(
        cli, ["doctor"], env={"DSPROGRESS_STATE_DIR": str(a_file(tmp_path) / "s")}
    )
    assert isinstance(result.exception, ChecksFailedError)
    assert " checks failed (" in result.exception.message


class _NotionIgnoringSchemaChanges(NotionAdapter):
    """Notion accepting a schema change without applying it (another edit won the race)."""

    def update_data_source(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return self.fetch_data_source(data_source_id)


def test_a_schema_repair_that_does_not_take_is_reported(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    from sync.doctor import run_doctor
    from sync.engine import run_sync
    from sync.store import open_store

    settings = load_settings(
        None,
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        DSPROGRESS_STATE_DIR=str(tmp_path / "s"),
        DSPROGRESS_RATE_LIMIT="0",
    )
    run_sync(settings, load_checklist(), mode="sync")
    with open_store(settings.state_dir) as store:
        data_source_id = store.get_meta("data_source_id")
    assert data_source_id is not None
    sandbox.control.delete_property(data_source_id, "Level")
    notion = _NotionIgnoringSchemaChanges(sandbox.token, sandbox.base_url, rate_limit=0)
    with notion:
        results = run_doctor(settings, fix=True, adapter=notion)
    [schema] = [r for r in results if r.name == "schema"]
    assert not schema.ok
    assert schema.detail == "the schema still does not match after the repair"


def test_a_database_id_that_is_a_page_says_so(sandbox: SandboxServer, tmp_path: Path) -> None:
    from sync.engine import run_sync

    settings = load_settings(
        None,
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_DATABASE_ID=sandbox.root_page_id,
        DSPROGRESS_STATE_DIR=str(tmp_path / "s"),
        DSPROGRESS_RATE_LIMIT="0",
    )
    with pytest.raises(ConfigError, match=r"^NOTION_DATABASE_ID .* is a page, not a database") as e:
        run_sync(settings, load_checklist(), mode="sync")
    assert "NOTION_PARENT_PAGE_ID" in e.value.hint


def test_a_trashed_checklist_database_halts_the_sync(
    sandbox: SandboxServer, adapter: NotionAdapter, tmp_path: Path
) -> None:
    from sync.engine import run_sync
    from sync.errors import DatabaseGoneError
    from sync.store import open_store

    settings = load_settings(
        None,
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        DSPROGRESS_STATE_DIR=str(tmp_path / "s"),
        DSPROGRESS_RATE_LIMIT="0",
    )
    run_sync(settings, load_checklist(), mode="sync")
    with open_store(settings.state_dir) as store:
        database_id = store.get_meta("database_id")
    assert database_id is not None
    adapter._call(  # as the learner does in Notion: the database goes to the Trash
        "PATCH", f"databases/{database_id}", body={"in_trash": True}, repeatable=True, what="x"
    )
    with pytest.raises(DatabaseGoneError, match=r"is in Notion's Trash; nothing was written") as e:
        run_sync(settings, load_checklist(), mode="sync")
    assert e.value.exit_code == 13
