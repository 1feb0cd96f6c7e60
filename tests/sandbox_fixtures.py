"""Pytest fixtures for the local Notion sandbox (loaded by tests/conftest.py).

- `sandbox`: a fresh `SandboxServer` on a free loopback port, rate limit off, stopped afterwards.
- `notion`: the unmodified official `notion_client.Client` pointed at it (SDK retries on).
- `notion_no_retry`: the same with the SDK's own retries off, to see 429/5xx as they come.
- `sandbox_db`: a database under the root page with a checklist-like schema.
- `each_notion_version`: runs a test once per Notion-Version dsprogress speaks (the tool reads
  DSPROGRESS_NOTION_VERSION; the sandbox answers per version). A module opts in with
  `pytestmark = pytest.mark.usefixtures("each_notion_version")`.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from notion_client import Client

from sync.notion.versions import NOTION_VERSIONS
from sync.sandbox import SandboxServer

TEST_LOGGER = logging.getLogger("test-notion")
# One SSL context for every test client: building one per httpx.Client costs ~50 ms, and the
# sandbox speaks plain HTTP anyway.
_SSL_CONTEXT = ssl.create_default_context()

CHECKLIST_SCHEMA: dict[str, Any] = {
    "Name": {"title": {}},
    "Key": {"rich_text": {}},
    "Done": {"checkbox": {}},
    "Status": {
        "select": {
            "options": [
                {"name": "Todo", "color": "gray"},
                {"name": "Doing", "color": "blue"},
                {"name": "Done", "color": "green"},
            ]
        }
    },
    "Level": {"select": {"options": [{"name": "Beginner"}, {"name": "Advanced"}]}},
    "Hours": {"number": {"format": "number"}},
    "Done on": {"date": {}},
    "Evidence": {"url": {}},
    "Notes": {"rich_text": {}},
}


def make_notion_client(
    server: SandboxServer, *, retry: bool = True, token: str | None = None
) -> Client:
    """An official SDK client for the sandbox; `retry=False` turns the SDK's retries off.

    The SDK is used unmodified; it only gets an httpx client that shares an SSL context.
    """
    options: dict[str, Any] = {
        "auth": server.token if token is None else token,
        "base_url": server.base_url,
        "logger": TEST_LOGGER,
        "timeout_ms": 20_000,
    }
    if not retry:
        options["retry"] = False
    return Client(client=httpx.Client(verify=_SSL_CONTEXT), **options)


def raw_http(
    server: SandboxServer, *, token: str | None = None, version: bool = True
) -> httpx.Client:
    """A plain httpx client for the sandbox with the token and Notion-Version headers."""
    headers = {"Authorization": f"Bearer {server.token if token is None else token}"}
    if version:
        headers["Notion-Version"] = "2025-09-03"
    return httpx.Client(base_url=server.base_url, headers=headers, verify=_SSL_CONTEXT)


def text(content: str) -> list[dict[str, Any]]:
    """A request rich-text array with one text item."""
    return [{"type": "text", "text": {"content": content}}]


def plain(value: dict[str, Any]) -> str:
    """The plain text of a title or rich_text property value."""
    items = value.get(value["type"]) or []
    return "".join(item["plain_text"] for item in items)


@pytest.fixture(params=NOTION_VERSIONS)
def each_notion_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    version = str(request.param)
    monkeypatch.setenv("DSPROGRESS_NOTION_VERSION", version)
    return version


@dataclass(frozen=True)
class SandboxDatabase:
    database_id: str
    data_source_id: str
    property_ids: dict[str, str]


def create_checklist_database(
    notion: Client, parent_page_id: str, title: str = "DS Progress"
) -> SandboxDatabase:
    database = cast(
        dict[str, Any],
        notion.databases.create(
            parent={"type": "page_id", "page_id": parent_page_id},
            title=text(title),
            initial_data_source={"properties": CHECKLIST_SCHEMA},
        ),
    )
    data_source_id = database["data_sources"][0]["id"]
    source = cast(dict[str, Any], notion.data_sources.retrieve(data_source_id))
    schema = source["properties"]
    return SandboxDatabase(
        database_id=database["id"],
        data_source_id=data_source_id,
        property_ids={name: prop["id"] for name, prop in schema.items()},
    )


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(rate_limit=None, port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def notion(sandbox: SandboxServer) -> Iterator[Client]:
    client = make_notion_client(sandbox)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def notion_no_retry(sandbox: SandboxServer) -> Iterator[Client]:
    client = make_notion_client(sandbox, retry=False)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def sandbox_db(notion: Client, sandbox: SandboxServer) -> SandboxDatabase:
    return create_checklist_database(notion, sandbox.root_page_id)
