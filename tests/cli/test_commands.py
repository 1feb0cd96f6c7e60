"""The commands people expect: `open`, `history`, `checklist export`, `init --print-env-example`,
and init reading NOTION_BASE_URL from an existing .env."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from dotenv import dotenv_values

from sync.checklist_files import bundled_checklist_path, load_checklist
from sync.sandbox import SandboxServer
from sync.store import open_store
from tests.test_init_flow import cli_env, run_cli


def synced_env(sandbox: SandboxServer, tmp_path: Path) -> dict[str, str]:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    env["NOTION_PARENT_PAGE_ID"] = sandbox.root_page_id
    assert run_cli("sync", cwd=tmp_path, env=env).returncode == 0
    return env


def test_open_print_gives_the_database_url_without_a_request(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = synced_env(sandbox, tmp_path)
    with open_store(tmp_path / "state") as store:
        url = store.get_meta("database_url")
    database_hex = url.rsplit("/", 1)[1]
    opened = httpx.get(f"{sandbox.base_url}/__sandbox/open/{database_hex}", timeout=30).json()
    assert opened["object"] == "database" and len(opened["rows"]) == 37
    base_url = sandbox.base_url
    sandbox.stop()  # no network needed
    result = run_cli("open", "--print", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert url.startswith("https://app.notion.com/p/")  # what the sandbox answers, as Notion does
    # ... which exists only in real Notion: the link printed is the sandbox's own page for it
    assert result.stdout.strip() == f"{base_url}/__sandbox/open/{database_hex}"


def test_open_before_any_sync_says_how_to_make_the_database(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path)
    result = run_cli("open", "--print", cwd=tmp_path, env=env)
    assert result.returncode == 10
    assert (
        "no checklist database is known yet" in result.stderr and "dsprogress init" in result.stderr
    )
    env["NOTION_DATABASE_ID"] = "1a2b3c4d-1a2b-1a2b-1a2b-1a2b3c4d5e6f"
    named = run_cli("open", "--print", cwd=tmp_path, env=env)
    hex_id = "1a2b3c4d1a2b1a2b1a2b1a2b3c4d5e6f"
    assert named.stdout.strip() == f"{sandbox.base_url}/__sandbox/open/{hex_id}"  # a sandbox id
    del env["NOTION_BASE_URL"]
    in_notion = run_cli("open", "--print", cwd=tmp_path, env=env)
    assert in_notion.stdout.strip() == f"https://www.notion.so/{hex_id}"


def test_history_lists_changes_by_title_and_json_has_every_event(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = synced_env(sandbox, tmp_path)
    with open_store(tmp_path / "state") as store:
        data_source_id = store.get_meta("data_source_id")
    assert data_source_id is not None
    pages = {
        p["properties"]["Name"]["title"][0]["plain_text"]: p["id"]
        for p in sandbox.control.pages(data_source_id)
    }
    sandbox.control.tick(pages["Dense layers"])
    sandbox.control.set_select(pages["Transfer learning"], "Status", "In progress")
    assert run_cli("sync", cwd=tmp_path, env=env).returncode == 0

    result = run_cli("history", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2 changes")
    assert any("✓ done" in line and "Dense layers (Entry)" in line for line in lines)
    assert any("◐ in progress" in line and "Transfer learning" in line for line in lines)

    events = json.loads(run_cli("history", "--json", cwd=tmp_path, env=env).stdout)
    items = len(load_checklist().items)
    assert len(events) == items + 2  # every first sighting, then the two changes
    assert {e["to"] for e in events[-2:]} == {"done", "in_progress"}
    assert events[-1]["from"] == "not_started"


def test_history_of_a_week_without_changes_and_a_bad_week(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = synced_env(sandbox, tmp_path)
    result = run_cli("history", "--week", "2020-W10", cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert result.stdout.strip() == "No changes recorded in 2020-W10 (2–8 Mar)."
    bad = run_cli("history", "--week", "next", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "YYYY-Www" in bad.stderr


def test_history_without_state_asks_for_a_sync(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = run_cli("history", cwd=tmp_path, env=cli_env(sandbox, tmp_path))
    assert result.returncode == 10 and "no history yet" in result.stderr


def test_checklist_export_writes_the_bundled_copy_and_never_overwrites(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path)
    target = tmp_path / "mine" / "checklist.yaml"
    result = run_cli("checklist", "export", str(target), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == bundled_checklist_path().read_bytes()
    assert "DSPROGRESS_CHECKLIST=" in result.stdout
    target.write_text("mine")
    again = run_cli("checklist", "export", str(target), cwd=tmp_path, env=env)
    assert again.returncode == 3 and "already exists" in again.stderr
    assert target.read_text() == "mine"
    forced = run_cli("checklist", "export", str(target), "--force", cwd=tmp_path, env=env)
    assert forced.returncode == 0 and target.read_bytes() == bundled_checklist_path().read_bytes()
    valid = run_cli("checklist", "validate", str(target), cwd=tmp_path, env=env)
    assert valid.returncode == 0


def test_init_prints_the_env_example(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = run_cli("init", "--print-env-example", cwd=tmp_path, env=cli_env(sandbox, tmp_path))
    assert result.returncode == 0
    assert "NOTION_TOKEN=" in result.stdout and "DSPROGRESS_STATE_DIR=" in result.stdout
    assert not (tmp_path / ".env").exists()


def test_init_takes_notion_base_url_from_the_existing_env_file(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    del env["NOTION_BASE_URL"]
    (tmp_path / ".env").write_text(f"NOTION_BASE_URL={sandbox.base_url}\n")
    result = run_cli(
        "init",
        "--non-interactive",
        "--force",
        "--no-sync",
        "--parent",
        sandbox.root_page_id,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert dotenv_values(tmp_path / ".env")["NOTION_BASE_URL"] == sandbox.base_url


def test_a_bad_parent_gets_a_hint_about_the_page_link(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    result = run_cli("init", "--non-interactive", "--parent", "my page", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert "Copy link" in result.stderr and "environment" not in result.stderr
