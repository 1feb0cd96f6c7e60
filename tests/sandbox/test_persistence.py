"""The --data file: the whole workspace persists, written atomically after each write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from notion_client import APIResponseError

from sync.sandbox import SandboxServer
from sync.sandbox import store as store_module
from sync.sandbox.store import DataFileError
from tests.sandbox_fixtures import create_checklist_database, make_notion_client, plain, text


def test_the_workspace_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "state" / "workspace.json"
    with SandboxServer(rate_limit=None, data_path=data) as first:
        notion = make_notion_client(first)
        db = create_checklist_database(notion, first.root_page_id)
        page = notion.pages.create(
            parent={"data_source_id": db.data_source_id},
            properties={
                "Key": {"rich_text": text("py.pandas")},
                "Status": {"select": {"name": "New"}},
            },
        )
        first.control.tick(page["id"])
        first.control.advance_clock(120)
        root, unshared, token = first.root_page_id, first.unshared_page_id, first.token
        before = notion.pages.retrieve(page["id"])
    assert json.loads(data.read_text(encoding="utf-8"))["format"] == "dsprogress-sandbox/1"
    assert [p.name for p in data.parent.iterdir()] == ["workspace.json"]
    with SandboxServer(rate_limit=None, data_path=data, token=token) as second:
        assert (second.root_page_id, second.unshared_page_id) == (root, unshared)
        notion = make_notion_client(second)
        after = notion.pages.retrieve(page["id"])
        assert {k: v for k, v in after.items() if k != "request_id"} == {
            k: v for k, v in before.items() if k != "request_id"
        }
        assert plain(after["properties"]["Key"]) == "py.pandas"
        assert after["properties"]["Done"]["checkbox"] is True
        assert second.workspace.state["clock_offset"] == 120.0
        notion.pages.create(parent={"data_source_id": db.data_source_id}, properties={})
        assert len(second.control.pages(db.data_source_id)) == 2


def test_reads_do_not_rewrite_the_file(tmp_path: Path) -> None:
    data = tmp_path / "workspace.json"
    with SandboxServer(rate_limit=None, data_path=data) as server:
        notion = make_notion_client(server)
        notion.pages.create(parent={"page_id": server.root_page_id}, properties={})
        stamp = data.stat().st_mtime_ns
        os.utime(data, ns=(stamp - 10_000_000_000, stamp - 10_000_000_000))
        notion.search()
        notion.users.me()
        assert data.stat().st_mtime_ns == stamp - 10_000_000_000


def test_a_failed_write_leaves_the_previous_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "workspace.json"
    with SandboxServer(rate_limit=None, data_path=data) as server:
        notion = make_notion_client(server, retry=False)
        notion.pages.create(
            parent={"page_id": server.root_page_id}, properties={"title": text("kept")}
        )
        saved = data.read_text(encoding="utf-8")

        def broken_replace(src: object, dst: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(store_module.os, "replace", broken_replace)
        with pytest.raises(APIResponseError) as caught:
            notion.pages.create(parent={"page_id": server.root_page_id}, properties={})
        assert caught.value.status == 500
        assert data.read_text(encoding="utf-8") == saved
        json.loads(saved)


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "workspace.json"
    data.write_text('{"something": "else"}', encoding="utf-8")
    with pytest.raises(DataFileError, match="not a sandbox state file"):
        SandboxServer(data_path=data)
    data.write_text("not json", encoding="utf-8")
    with pytest.raises(DataFileError, match="cannot be read"):
        SandboxServer(data_path=data)
