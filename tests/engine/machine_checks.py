"""The state machine's checks: Notion, each state folder and its history against the model."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from sync.store import open_store
from tests.engine.conftest import World, key_of
from tests.engine.machine_model import CUSTOM, Known, Page, Prediction, status_of
from tests.engine.machine_races import base_value


def plain(items: list[dict[str, Any]]) -> str:
    return "".join(item["plain_text"] for item in items)


@dataclass
class Folder:
    """A state folder and what the model says it holds."""

    world: World
    state: dict[str, Known] = field(default_factory=dict)
    seen_events: int = 0
    replay: dict[str, str] = field(default_factory=dict)  # the history replayed: key -> status
    used_keys: set[str] = field(default_factory=set)  # every key its history has seen
    synced_titles: dict[str, str] = field(default_factory=dict)
    tracking: bool = False  # has had a successful run


def check_notion(
    world: World,
    model_pages: Mapping[str, Page],
    titles: Mapping[str, str],
    mode: str,
    expected: Prediction,
    halted: bool,
) -> None:
    """Every row in Notion holds what the model says; one row per checklist key after a push."""
    pages = {p["id"]: p for p in world.rows(include_trashed=True)}
    assert set(pages) == set(model_pages), "rows appeared or vanished"
    for page_id, model in model_pages.items():
        props = pages[page_id]["properties"]
        status = props["Status"]["select"]
        day = props["Done on"]["date"]
        actual = {
            "trashed": pages[page_id]["in_trash"],
            "key": key_of(pages[page_id]) or None,
            "title": plain(props["Name"]["title"]),
            "done": props["Done"]["checkbox"],
            "status_option": status["name"] if status else None,
            "notes": plain(props["Notes"]["rich_text"]),
            "done_on": day["start"] if day else None,
            "retired": props["Retired"]["checkbox"],
            "base": base_value(props),
        }
        wanted = {name: getattr(model, name) for name in actual}
        assert actual == wanted, f"{page_id} ({model.key}) in Notion: {actual}, model {wanted}"
    if halted:
        return
    live = [p for p in model_pages.values() if not p.trashed]
    for page in live:  # own rows are adopted with a custom key, unknown Keys left alone
        if page.page_id not in expected.unknown:
            assert page.key is not None and (page.key.startswith(CUSTOM) or not page.own)
    if mode in ("push", "sync"):
        for key in titles:  # one row per checklist key, more only when kept on purpose
            rows = [p for p in live if p.key == key]
            assert len(rows) == 1 or (rows and key in expected.conflicts), (key, rows)


def check_state_and_history(
    world: World,
    folder: Folder,
    model_pages: Mapping[str, Page],
    ticks: list[tuple[str, str | None, str]],
    unobserved: set[str],
    halted: bool,
    uncertain: Set[str] = frozenset(),
) -> None:
    """The folder's state is the model's; replaying its history ends at its state; every done
    item in the snapshot has the event that made it done; snapshot, state and Notion agree."""
    with open_store(folder.world.state_dir) as store:
        items = store.load_items()
        history = store.load_history()
    assert {k: (s.page_id, s.status) for k, s in items.items()} == {
        k: (s.page_id, s.status) for k, s in folder.state.items()
    }
    for key, item in items.items():
        custom = key.startswith(CUSTOM)
        removed = not custom and key not in folder.synced_titles
        retired = model_pages[item.page_id].retired or removed
        assert item.custom == custom, key
        if not halted:  # a halted run keeps the last run's flags while another machine moves on
            assert item.retired == retired, key
        tool = folder.state[key].tool_date
        assert (item.tool_done_on.isoformat() if item.tool_done_on else None) == tool, key
    new = [(e.key, e.from_status, e.to_status) for e in history[folder.seen_events :]]
    new = [t for t in new if t[0] not in uncertain]  # a run an edit in flight met (its row's)
    ticks = [t for t in ticks if t[0] not in uncertain]
    assert sorted(new, key=str) == sorted(ticks, key=str), "tick events differ from the model"
    for seen in history[folder.seen_events :]:
        if seen.from_status is not None:
            assert seen.from_status == folder.replay.get(seen.key), (
                f"history jumps for {seen.key}: {folder.replay.get(seen.key)} then "
                f"{seen.from_status} -> {seen.to_status}"
            )
        folder.replay[seen.key] = seen.to_status
        folder.used_keys.add(seen.key)
    folder.seen_events = len(history)
    for key, item in items.items():
        assert folder.replay.get(key) == item.status, (
            f"replaying the history of {key} ends at {folder.replay.get(key)}, the state says "
            f"{item.status}"
        )
    if halted:  # the snapshot is the last run's; Notion has moved on
        return
    snapshot = folder.world.snapshot_items() if folder.tracking else {}
    notion = {p["id"]: p for p in world.rows()}
    for key, item in snapshot.items():
        if item.done:  # the history holds the event that made it done
            made_done = [e for e in history if e.key == key and e.to_status == "done"]
            assert made_done and folder.replay[key] == "done", key
        if item.page_id in unobserved:
            continue
        props = notion[item.page_id]["properties"]
        option = props["Status"]["select"]
        derived = status_of(props["Done"]["checkbox"], option and option["name"])
        assert item.status == derived == items[key].status, (key, item.status, derived)
    assert set(snapshot) == (set(items) if folder.tracking else set())
