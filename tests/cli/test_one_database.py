"""One database, found from anywhere: through the CLI against the sandbox.

A new, emptied or damaged state folder finds the learner's database under the parent page and
rebuilds from it; two checklist databases halt; a database in the Trash or gone halts with no
writes; init in a second folder reuses the database; a lost answer to a database create is found
by the next run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

from sync.links import shown_url
from sync.notion.mapping import build_database_schema
from sync.sandbox import SandboxServer
from sync.snapshot import load_snapshot
from sync.store import open_store

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = """
title: Small checklist
version: 1
levels:
  - name: Entry
    categories: [Networks]
items:
  - {key: entry.networks.dense, title: Dense layers, level: Entry, category: Networks, order: 1}
  - {key: entry.networks.cnn, title: CNNs, level: Entry, category: Networks, order: 2}
  - {key: entry.networks.rnn, title: RNNs, level: Entry, category: Networks, order: 3}
"""


class Machine:
    """One machine: its own folder, state folder and environment, on the shared sandbox."""

    def __init__(self, sandbox: SandboxServer, folder: Path, **extra: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.sandbox = sandbox
        self.folder = folder
        self.state_dir = folder / "state"
        checklist = folder / "checklist.yaml"
        checklist.write_text(CHECKLIST)
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
        }
        self.env = {
            **base,
            "NOTION_TOKEN": sandbox.token,
            "NOTION_PARENT_PAGE_ID": sandbox.root_page_id,
            "NOTION_BASE_URL": sandbox.base_url,
            "DSPROGRESS_STATE_DIR": str(self.state_dir),
            "DSPROGRESS_CHECKLIST": str(checklist),
            "DSPROGRESS_RATE_LIMIT": "0",
            "DSPROGRESS_TIMEZONE": "UTC",
            "PYTHONPATH": str(ROOT),
            **extra,
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "sync", *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert self.sandbox.token not in result.stdout + result.stderr
        return result

    def meta(self, name: str) -> str | None:
        with open_store(self.state_dir) as store:
            return store.get_meta(name)

    def done_keys(self) -> set[str]:
        snapshot = load_snapshot(self.state_dir)
        assert snapshot is not None
        return {item.key for item in snapshot.items if item.done}


def databases_under_root(sandbox: SandboxServer) -> list[dict[str, Any]]:
    ws = sandbox.workspace
    return [
        d
        for d in ws.databases.values()
        if not d["in_trash"] and not d.get("linked_to") and ws.is_shared("database", d)
    ]


def key_of(page: dict[str, Any]) -> str:
    return "".join(t["plain_text"] for t in page["properties"]["Key"]["rich_text"])


def first_machine(sandbox: SandboxServer, tmp_path: Path) -> Machine:
    """A laptop that set everything up and ticked two items."""
    laptop = Machine(sandbox, tmp_path / "laptop")
    result = laptop.run("sync")
    assert result.returncode == 0, result.stderr
    data_source_id = laptop.meta("data_source_id")
    assert data_source_id is not None
    for page in sandbox.control.pages(data_source_id):
        if key_of(page) in ("entry.networks.dense", "entry.networks.cnn"):
            sandbox.control.tick(page["id"])
    assert laptop.run("sync").returncode == 0
    assert laptop.done_keys() == {"entry.networks.dense", "entry.networks.cnn"}
    return laptop


def create_legacy_database(sandbox: SandboxServer, title: str = "Small checklist") -> str:
    """A checklist database as versions before the mark made them; returns its URL."""
    from tests.sandbox_fixtures import make_notion_client, text

    client = make_notion_client(sandbox)
    try:
        database: Any = client.databases.create(
            parent={"type": "page_id", "page_id": sandbox.root_page_id},
            title=text(title),
            initial_data_source={"properties": build_database_schema(["Entry"], ["Networks"])},
        )
    finally:
        client.close()
    return str(database["url"])


def writes(sandbox: SandboxServer) -> list[str]:
    return [
        f"{e['method']} {e['route']}"
        for e in sandbox.control.requests()["entries"]
        if e["method"] in ("POST", "PATCH", "DELETE") and not e["route"].endswith("/query")
    ]


def test_a_new_state_folder_finds_the_database_and_rebuilds_its_ticks(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    runner = Machine(sandbox, tmp_path / "runner")
    sandbox.control.reset_requests()
    result = runner.run("sync")
    assert result.returncode == 0, result.stderr
    url = shown_url(laptop.meta("database_url"), sandbox.base_url)  # the sandbox's own link
    assert f"Found your checklist database: {url}" in result.stdout
    assert result.stdout.index("Found your checklist") < result.stdout.index("Sync done")
    assert writes(sandbox) == []  # nothing created, nothing rewritten
    assert len(databases_under_root(sandbox)) == 1
    assert runner.meta("database_id") == laptop.meta("database_id")
    assert runner.done_keys() == {"entry.networks.dense", "entry.networks.cnn"}
    # Both machines go on working on the one database.
    assert laptop.run("sync").returncode == 0
    assert runner.run("sync").returncode == 0
    assert len(databases_under_root(sandbox)) == 1


@pytest.mark.parametrize("content", [b"", b"this is not a database" * 100])
def test_an_emptied_or_damaged_state_file_is_moved_aside_and_rebuilt(
    sandbox: SandboxServer, tmp_path: Path, content: bytes
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    state_file = laptop.state_dir / "state.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{state_file}{suffix}").unlink(missing_ok=True)
    state_file.write_bytes(content)
    if content:
        Path(f"{state_file}-wal").write_bytes(b"old wal")
    result = laptop.run("sync")
    assert result.returncode == 0, result.stderr
    assert len(databases_under_root(sandbox)) == 1
    assert laptop.done_keys() == {"entry.networks.dense", "entry.networks.cnn"}
    aside = sorted(laptop.state_dir.glob("state.sqlite3.corrupt-*"))
    if content:
        assert "moved it to" in result.stderr and "rebuilt the state from Notion" in result.stderr
        assert [p.read_bytes() for p in aside if not p.name.endswith("-wal")] == [content]
        assert any(p.name.endswith("-wal") and p.read_bytes() == b"old wal" for p in aside)
    else:
        assert aside == []  # an empty file is a new, empty database: nothing to move
    # The rebuilt history dates the done items as done before tracking (no Done on set by the
    # learner: the tool's own fill is not a completion date it can trust more than "before").
    with open_store(laptop.state_dir) as store:
        history = store.load_history()
    assert {e.key for e in history if e.rebuilt} == {
        "entry.networks.dense",
        "entry.networks.cnn",
        "entry.networks.rnn",
    }


def test_status_on_a_damaged_state_file_says_a_sync_repairs_it(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    (laptop.state_dir / "state.sqlite3").write_bytes(b"garbage" * 50)
    (laptop.state_dir / "state.sqlite3-wal").unlink(missing_ok=True)
    result = laptop.run("doctor")
    assert "dsprogress sync" in result.stdout + result.stderr


def test_two_checklist_databases_under_the_page_halt_with_both_urls(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    # An earlier version, on another machine, made a second one (without the mark).
    second_url = create_legacy_database(sandbox)
    other = Machine(sandbox, tmp_path / "other")
    sandbox.control.reset_requests()
    result = other.run("sync")
    assert result.returncode == 8
    assert "found 2 checklist databases" in result.stderr
    assert str(laptop.meta("database_url")) in result.stderr
    assert second_url in result.stderr
    assert "NOTION_DATABASE_ID" in result.stderr
    assert writes(sandbox) == []
    # Choosing one settles it.
    other.env["NOTION_DATABASE_ID"] = str(laptop.meta("database_id"))
    chosen = other.run("sync")
    assert chosen.returncode == 0, chosen.stderr
    assert other.done_keys() == {"entry.networks.dense", "entry.networks.cnn"}


def _trash_database(sandbox: SandboxServer, laptop: Machine, form: str) -> None:
    from tests.sandbox_fixtures import make_notion_client

    database_id = str(laptop.meta("database_id"))
    data_source_id = str(laptop.meta("data_source_id"))
    client = make_notion_client(sandbox)
    try:
        if form == "database in the Trash":
            client.databases.update(database_id, in_trash=True)
        elif form == "data source in the Trash":
            client.request(
                path=f"data_sources/{data_source_id}", method="PATCH", body={"in_trash": True}
            )
        else:
            sandbox.control.purge_database(database_id)
    finally:
        client.close()


@pytest.mark.parametrize(
    "form", ["database in the Trash", "data source in the Trash", "deleted forever"]
)
def test_a_database_gone_halts_with_no_writes_and_the_snapshot_untouched(
    sandbox: SandboxServer, tmp_path: Path, form: str
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    snapshot = (laptop.state_dir / "snapshot.json").read_bytes()
    _trash_database(sandbox, laptop, form)
    sandbox.control.reset_requests()
    for command in ("sync", "pull", "push"):
        result = laptop.run(command)
        assert result.returncode == 13, result.stderr
        assert "nothing was written" in result.stderr
        assert "Trash" in result.stderr and "dsprogress init" in result.stderr
    assert writes(sandbox) == []
    assert (laptop.state_dir / "snapshot.json").read_bytes() == snapshot
    assert len([d for d in sandbox.workspace.databases.values() if not d["in_trash"]]) <= 1


def test_init_in_a_second_folder_reuses_the_database_and_writes_its_id(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    second = Machine(sandbox, tmp_path / "second")
    env = {k: v for k, v in second.env.items() if k != "NOTION_PARENT_PAGE_ID"}
    second.env = env
    result = second.run("init", "--non-interactive", "--parent", sandbox.root_page_id)
    assert result.returncode == 0, result.stderr
    url = shown_url(laptop.meta("database_url"), sandbox.base_url)  # the sandbox's own link
    assert f"Found your checklist database: {url}" in result.stdout
    values = dotenv_values(second.folder / ".env")
    assert values["NOTION_DATABASE_ID"] == laptop.meta("database_id")
    assert len(databases_under_root(sandbox)) == 1
    assert second.done_keys() == {"entry.networks.dense", "entry.networks.cnn"}


def test_init_in_a_fresh_workspace_writes_the_new_database_id(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    machine = Machine(sandbox, tmp_path / "m")
    machine.env.pop("NOTION_PARENT_PAGE_ID")
    result = machine.run("init", "--non-interactive", "--parent", sandbox.root_page_id)
    assert result.returncode == 0, result.stderr
    values = dotenv_values(machine.folder / ".env")
    assert values["NOTION_DATABASE_ID"] == machine.meta("database_id") is not None


def test_a_lost_answer_to_the_database_create_is_adopted_by_the_next_run(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    machine = Machine(sandbox, tmp_path / "m")
    sandbox.control.add_fault(
        "apply_then_fail", method="POST", route="/v1/databases", status=502, times=1
    )
    failed = machine.run("sync")
    assert failed.returncode == 7
    assert "the next run finds it" in failed.stderr
    assert len(databases_under_root(sandbox)) == 1  # Notion did create it
    again = machine.run("sync")
    assert again.returncode == 0, again.stderr
    assert "Found your checklist database" in again.stdout
    assert len(databases_under_root(sandbox)) == 1
    data_source_id = machine.meta("data_source_id")
    assert data_source_id is not None
    assert len(sandbox.control.pages(data_source_id)) == 3


def test_init_starts_over_after_the_database_went_to_the_trash(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    old_database = laptop.meta("database_id")
    _trash_database(sandbox, laptop, "database in the Trash")
    assert laptop.run("sync").returncode == 13
    laptop.env.pop("NOTION_PARENT_PAGE_ID")
    result = laptop.run("init", "--non-interactive", "--parent", sandbox.root_page_id)
    assert result.returncode == 0, result.stderr
    new_database = laptop.meta("database_id")
    assert new_database not in (None, old_database)
    assert dotenv_values(laptop.folder / ".env")["NOTION_DATABASE_ID"] == new_database
    assert len(databases_under_root(sandbox)) == 1
    data_source_id = laptop.meta("data_source_id")
    assert data_source_id is not None
    assert len(sandbox.control.pages(data_source_id)) == 3
    assert laptop.run("sync").returncode == 0


def test_switching_notion_database_id_by_hand_rebuilds_the_state_from_the_new_database(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    old_database, old_source = laptop.meta("database_id"), laptop.meta("data_source_id")
    assert old_source is not None
    old_pages = sandbox.control.pages(old_source)
    with open_store(laptop.state_dir) as store:
        history_before = store.load_history()
    # A second checklist database, used from another machine, where only RNNs is ticked.
    create_legacy_database(sandbox, title="Second try")
    second = next(d for d in databases_under_root(sandbox) if d["id"] != old_database)
    other = Machine(sandbox, tmp_path / "other", NOTION_DATABASE_ID=second["id"])
    assert other.run("sync").returncode == 0
    second_source = other.meta("data_source_id")
    assert second_source is not None
    for page in sandbox.control.pages(second_source):
        if key_of(page) == "entry.networks.rnn":
            sandbox.control.tick(page["id"])
    # The laptop is pointed at it by hand: Notion holds the truth, the state follows.
    laptop.env["NOTION_DATABASE_ID"] = second["id"]
    result = laptop.run("sync")
    assert result.returncode == 0, result.stderr
    assert "the state folder now follows" in result.stdout
    assert str(old_database) in result.stdout
    assert laptop.meta("database_id") == second["id"]
    assert laptop.meta("data_source_id") == second_source
    assert laptop.done_keys() == {"entry.networks.rnn"}
    assert len(sandbox.control.pages(second_source)) == 3  # nothing created twice
    assert sandbox.control.pages(old_source) == old_pages  # the old database is left alone
    with open_store(laptop.state_dir) as store:
        assert store.load_history()[: len(history_before)] == history_before  # history kept
        assert set(store.load_items()) == {
            "entry.networks.dense",
            "entry.networks.cnn",
            "entry.networks.rnn",
        }
    again = laptop.run("sync")
    assert again.returncode == 0 and "now follows" not in again.stdout


def test_switching_to_an_empty_database_by_hand_fills_it_instead_of_halting(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    create_legacy_database(sandbox, title="Fresh start")
    (empty,) = [d for d in databases_under_root(sandbox) if d["id"] != laptop.meta("database_id")]
    laptop.env["NOTION_DATABASE_ID"] = empty["id"]
    preview = laptop.run("sync", "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "would follow" in preview.stdout
    assert laptop.meta("database_id") != empty["id"]  # a dry run forgets nothing
    result = laptop.run("sync")
    assert result.returncode == 0, result.stderr
    assert "now follows" in result.stdout
    data_source_id = laptop.meta("data_source_id")
    assert data_source_id is not None
    assert len(sandbox.control.pages(data_source_id)) == 3
    assert laptop.done_keys() == set()


def test_a_new_state_folder_on_a_database_whose_key_column_was_deleted_gives_the_keys_back(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    laptop = first_machine(sandbox, tmp_path)
    data_source_id = laptop.meta("data_source_id")
    assert data_source_id is not None
    before = {p["id"]: key_of(p) for p in sandbox.control.pages(data_source_id)}
    # The learner deleted the Key column and added a row of their own; a new machine arrives.
    sandbox.control.delete_property(data_source_id, "Key")
    from tests.sandbox_fixtures import make_notion_client, text

    client = make_notion_client(sandbox)
    try:
        own: Any = client.pages.create(
            parent={"type": "data_source_id", "data_source_id": data_source_id},
            properties={"Name": {"title": text("Read the Keras book")}},
        )
    finally:
        client.close()
    runner = Machine(sandbox, tmp_path / "runner")
    result = runner.run("sync")
    assert result.returncode == 0, result.stderr
    pages = sandbox.control.pages(data_source_id)
    assert len(pages) == 4  # nothing created twice
    after = {p["id"]: key_of(p) for p in pages}
    assert {page: after[page] for page in before} == before  # each row got its own Key back
    assert after[own["id"]].startswith("custom.")
    assert runner.done_keys() == {"entry.networks.dense", "entry.networks.cnn"}
    assert "custom.read-the-keras-book" in {
        item.key for item in (load_snapshot(runner.state_dir) or pytest.fail()).items
    }
    # The first machine agrees, and both settle.
    assert laptop.run("sync").returncode == 0
    assert laptop.done_keys() == {"entry.networks.dense", "entry.networks.cnn"}
    assert len(sandbox.control.pages(data_source_id)) == 4
