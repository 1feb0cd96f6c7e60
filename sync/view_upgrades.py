"""Bring an older database's tabs up to date: once, best effort (a failure never fails a run).

- *Next up* gets the current filter (on Status too, not only Done).
- The Sync base column (added by this version) is hidden in every tab the tool made, as Key and
  Retired are. Each tab is read first and only that column's entry changes, so the learner's
  own choices of columns in those tabs stay.

The tabs are those the database's mark names (whichever machine made them) and those this state
recorded. Done once per state folder: the state keeps `VIEWS_VERSION` (in `next_up_filter`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sync.errors import DsprogressError
from sync.notion.adapter import AmbiguousWriteError, NotionAdapter
from sync.notion.mark import compact
from sync.notion.views import VIEWS_VERSION, build_view_upgrade
from sync.store import Store

log = logging.getLogger("dsprogress.engine")


def upgrade_views(notion: NotionAdapter, store: Store, marked: Sequence[str]) -> None:
    """Patch each of our tabs that an older version made (see the module's docstring);
    `marked` are the tab ids the database's mark names."""
    if store.get_meta("next_up_filter") == VIEWS_VERSION:
        return
    ids: dict[str, str] = store.get_json_meta("column_ids") or {}
    if "base" not in ids:
        return  # the Sync base column is added by this run: its tabs are upgraded by the next
    recorded = store.get_json_meta("views") or []
    view_ids = {compact(str(v["view_id"])) for v in recorded if v.get("view_id")}
    view_ids |= set(marked)
    try:
        for view_id in sorted(view_ids):
            body = build_view_upgrade(notion.fetch_view(view_id), ids)
            if body:
                notion.update_view(view_id, body)
    except (DsprogressError, AmbiguousWriteError) as exc:
        log.warning("views: could not bring the tabs up to date (%s); they still work", exc)
        return
    with store.transaction():
        store.set_meta("next_up_filter", VIEWS_VERSION)
