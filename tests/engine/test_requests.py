"""How many requests a run makes: counted by the sandbox, independent of the machine's speed."""

from __future__ import annotations

from collections import Counter

from sync.notion.cockpit import WIDGETS
from sync.store import open_store
from tests.engine.conftest import World


def requests_by_route(world: World) -> Counter[str]:
    entries = world.control.requests()["entries"]
    return Counter(f"{e['method']} {e['route']}" for e in entries)


def test_a_first_push_creates_and_reads_the_schema_once_and_no_rows(world: World) -> None:
    world.control.reset_requests()
    world.sync("push")
    with open_store(world.state_dir) as store:
        views = store.get_json_meta("views")
    assert views
    assert requests_by_route(world) == {
        "GET /v1/blocks/{id}/children": 1,  # is there a checklist database under the page yet?
        "POST /v1/databases": 1,
        # the mark: the Progress dashboard's id right after it is made, then its widgets' ids
        # with the new columns' property ids and the tabs' ids
        "PATCH /v1/databases/{id}": 2,
        "GET /v1/data_sources/{id}": 1,  # the property ids the views need; the run reuses it
        "POST /v1/views": len(views) + 1 + len(WIDGETS),  # tabs, the dashboard, its widgets
        "POST /v1/pages": len(world.checklist.items),
    }
