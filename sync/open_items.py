"""PURE: which open items `status` and the digest list: those in progress (longest first) and
Next up (the first checklist items not started yet). One owner for each list, so the two never
disagree; the counting and the history they read are `sync.progress`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sync.checklist import Checklist, ChecklistItem
from sync.model import ItemState
from sync.progress import (
    ItemTimeline,
    StatusOf,
    build_item_order,
    own_item_keys,
    sort_keys,
)


def next_up(checklist: Checklist, status_of: StatusOf, count: int) -> list[ChecklistItem]:
    """The first `count` checklist items not started yet, in checklist order: what `status` and
    the digest list under Next up. Items in progress are listed apart (`in_progress_items`)."""
    result: list[ChecklistItem] = []
    for item in checklist.ordered_items():
        if len(result) == count:
            break
        if status_of(item.key) == "not_started":
            result.append(item)
    return result


def in_progress_since(
    timeline: ItemTimeline | None, state: ItemState | None, moment: datetime
) -> datetime | None:
    """When an item's current run of "in progress" began, as of `moment`: from the history,
    else the state's own mark (an item in progress since before the history began)."""
    since = timeline.in_progress_since(moment) if timeline else None
    if since is None and state is not None:
        since = state.in_progress_since
    return since


def in_progress_items(
    checklist: Checklist,
    items: Mapping[str, ItemState],
    timelines: Mapping[str, ItemTimeline],
    status_of: StatusOf,
    moment: datetime,
) -> list[tuple[str, datetime | None]]:
    """The items that count and are in progress as of `moment`, with when each run began:
    what `status` and the digest list under In progress. Longest in progress first (unknown
    start last), then in listing order."""
    counted = [item.key for item in checklist.ordered_items()] + own_item_keys(checklist, items)
    keys = sort_keys(
        (key for key in counted if status_of(key) == "in_progress"),
        build_item_order(checklist, items),
    )
    found = [(key, in_progress_since(timelines.get(key), items.get(key), moment)) for key in keys]
    return sorted(found, key=lambda pair: (pair[1] is None, pair[1] or moment))
