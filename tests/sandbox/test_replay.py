"""Replay of real Notion traffic against the sandbox: the same requests must get the same answers.

The cassettes in `tests/data/notion/cassettes/` hold requests that the test suites of
notion-sdk-py and ultimate-notion sent to api.notion.com and the answers they got. Each
implemented request is sent again, over HTTP with the official SDK, to a sandbox holding the same
objects; the answers are compared key for key (`tests/sandbox/replay.py` says what may differ
and why). The count of identical answers may only go up: raise the floors when a fix makes more
requests agree, never lower them.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.sandbox import SandboxServer
from tests.sandbox.replay import (
    Exchange,
    IdMap,
    Outcome,
    Replayer,
    compare,
    implemented,
    load_cassettes,
)

CASSETTES = Path(__file__).resolve().parents[1] / "data" / "notion" / "cassettes"
SDK_REQUESTS = 332  # Notion API requests in all of notion-sdk-py's cassettes
SDK_KEPT = 313  # ... in the 68 cassettes kept here (the others only hold file uploads and emojis)
SDK_IMPLEMENTED = 287  # ... to an endpoint the sandbox has (no comments, templates, moves...)
SDK_FLOOR = 283  # identical answers; recorded in docs/sandbox.md
UN_IMPLEMENTED = 336  # ultimate-notion: requests in the 39 cassettes kept, to implemented endpoints
UN_FILTERED_QUERIES = 85  # ... of which data source queries with a filter
UN_FLOOR = 328  # identical answers; recorded in docs/sandbox.md


def replay(server: SandboxServer, cassettes: dict[str, list[Exchange]]) -> list[Outcome]:
    """Every cassette from a fresh workspace (the recorded tests each started from their page)."""
    outcomes: list[Outcome] = []
    with Replayer(server) as replayer:
        for exchanges in cassettes.values():
            replayer.begin(exchanges)
            outcomes += [replayer.replay(e) for e in exchanges if implemented(e)]
    return outcomes


@pytest.fixture(scope="module")
def sdk_cassettes() -> dict[str, list[Exchange]]:
    cassettes = load_cassettes(CASSETTES / "notion-sdk-py")
    assert cassettes, f"the vendored cassettes are missing from {CASSETTES}"
    return cassettes


@pytest.fixture(scope="module")
def sdk_outcomes(sdk_cassettes: dict[str, list[Exchange]]) -> Iterator[list[Outcome]]:
    with SandboxServer(rate_limit=None, port=0) as server:
        yield replay(server, sdk_cassettes)


@pytest.fixture(scope="module")
def un_outcomes() -> Iterator[list[Outcome]]:
    cassettes = load_cassettes(CASSETTES / "ultimate-notion")
    assert len(cassettes) == 39, f"the vendored cassettes are missing from {CASSETTES}"
    with SandboxServer(rate_limit=None, port=0) as server:
        yield replay(server, cassettes)


def test_the_vendored_cassettes_are_complete(sdk_cassettes: dict[str, list[Exchange]]) -> None:
    exchanges = [e for cassette in sdk_cassettes.values() for e in cassette]
    assert len(sdk_cassettes) == 68
    assert len(exchanges) == SDK_KEPT
    # More only when the sandbox gains an endpoint (then the floor can rise too).
    assert len([e for e in exchanges if implemented(e)]) >= SDK_IMPLEMENTED


def test_notion_sdk_requests_get_notions_answers(
    sdk_outcomes: list[Outcome], record_property: pytest.RecordProperty
) -> None:
    same = [o for o in sdk_outcomes if o.same]
    differing = [o for o in sdk_outcomes if not o.same]
    summary = (
        f"sandbox replay: {len(same)} of notion-sdk-py's {SDK_REQUESTS} recorded requests "
        f"answered identically ({SDK_REQUESTS - len(sdk_outcomes)} hit endpoints the sandbox "
        f"does not have, {len(differing)} differ; floor {SDK_FLOOR})"
    )
    record_property("sandbox replay", summary)
    report = "\n".join(f"{o.exchange.name}: {'; '.join(o.differences[:3])}" for o in differing)
    assert len(same) >= SDK_FLOOR, f"{summary}\n{report}"


def test_ultimate_notion_requests_get_notions_answers(
    un_outcomes: list[Outcome], record_property: pytest.RecordProperty
) -> None:
    same = [o for o in un_outcomes if o.same]
    queries = [
        o
        for o in un_outcomes
        if o.exchange.path.endswith("/query")
        and isinstance(o.exchange.body, dict)
        and o.exchange.body.get("filter")
    ]
    assert len(un_outcomes) >= UN_IMPLEMENTED and len(queries) == UN_FILTERED_QUERIES
    summary = (
        f"sandbox replay: {len(same)} of ultimate-notion's {len(un_outcomes)} replayed requests "
        f"answered identically, {len([q for q in queries if q.same])} of its "
        f"{UN_FILTERED_QUERIES} filtered queries (floor {UN_FLOOR})"
    )
    record_property("sandbox replay", summary)
    report = "\n".join(
        f"{o.exchange.name}: {'; '.join(o.differences[:3])}" for o in un_outcomes if not o.same
    )
    assert len(same) >= UN_FLOOR, f"{summary}\n{report}"


def test_the_comparison_reports_each_kind_of_difference(
    sdk_cassettes: dict[str, list[Exchange]], sandbox: SandboxServer
) -> None:
    """The replay's yardstick itself: a copy of a recorded answer is identical; each change a
    sandbox could get wrong is reported (keys, types, values, parent ids, timestamp rounding)."""
    created = sdk_cassettes["test_pages_create"][0].answer
    parent_id = created["parent"]["page_id"]
    with Replayer(sandbox) as replayer:

        def differences(ours: dict[str, Any]) -> list[str]:
            replayer.ids = IdMap()
            replayer.ids.bind(parent_id, parent_id)  # bound when the request was sent
            found: list[str] = []
            compare(created, ours, "$", replayer, found)
            return found

        assert differences(copy.deepcopy(created)) == []
        changes: list[Callable[[dict[str, Any]], object]] = [
            lambda page: page.pop("is_locked"),
            lambda page: page.update(in_trash=True),
            lambda page: page.update(cover={}),
            lambda page: page["parent"].update(page_id=str(uuid.uuid4())),
            lambda page: page.update(created_time="2026-07-04T09:08:41.000Z"),
            lambda page: page["properties"]["title"]["title"][0].update(plain_text="Other"),
            lambda page: page.update(url=page["url"].replace("app.notion.com/p", "www.notion.so")),
        ]
        for change in changes:
            ours = copy.deepcopy(created)
            change(ours)
            assert differences(ours), ours
