"""Apply a plan's Notion actions one by one; every answer is an observation.

Each create's or update's answer passes through `reconcile` like a page of a query, so a tick the
learner makes while our write to that row is in flight is recorded, and the tool's derived writes
(Status, Done on) follow it. A page create is never repeated blindly: after an ambiguous failure
the row is looked up by its Key first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sync.actions import (
    AddColumns,
    AdoptRow,
    AlignFields,
    CreatePage,
    FillDoneOn,
    MigrateKey,
    NotionAction,
    RestoreKey,
    RetireItem,
    TrashDuplicate,
    TrashPage,
    UpdatePage,
)
from sync.model import FIELD_BY_NAME, ItemState, RemoteRow, TickEvent
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import (
    Columns,
    build_page_properties,
    build_schema_property,
    parse_row,
    resolve_columns,
)
from sync.plan import plan_learner
from sync.reconcile import Observation, reconcile_row
from sync.row_base import RowBase, build_base_text

log = logging.getLogger("dsprogress.engine")
# A new row: not started, not retired, and its Sync base says so (the first coherent state).
NEW_ROW_VALUES = {
    "status": "Not started",
    "done": False,
    "retired": False,
    "base": build_base_text(RowBase(done=False, status="Not started")),
}


class Applier:
    """Applies Notion actions one by one, keeping the rows and the recorded states current.

    `states` starts as the plan's observed states; `previous` is the state as loaded (a create
    for a key whose page the learner trashed continues that key's history).
    """

    def __init__(
        self,
        notion: NotionAdapter,
        data_source_id: str,
        columns: Columns,
        rows: Mapping[str, RemoteRow],
        states: Mapping[str, ItemState],
        previous: Mapping[str, ItemState],
        *,
        now: datetime,
        window_start: datetime | None,
        in_checklist: Callable[[str], bool],
    ) -> None:
        self.notion = notion
        self.data_source_id = data_source_id
        self.columns = columns
        self.rows = dict(rows)
        self.states = dict(states)
        self.previous = previous
        self.now = now
        self.window_start = window_start
        self.in_checklist = in_checklist
        self.events: list[TickEvent] = []  # made by the answers to our writes
        self.changed: dict[str, Observation] = {}  # keys whose answer made an event

    def apply(self, action: NotionAction) -> None:
        log.info("%s %s", action.verb, getattr(action, "key", ""))
        if isinstance(action, AddColumns):
            self._add_columns(action)
        elif isinstance(action, CreatePage):
            self._create(action)
        elif isinstance(action, (TrashPage, TrashDuplicate)):
            self.notion.update_row(action.page_id, in_trash=True)
            if isinstance(action, TrashPage):
                self.rows.pop(action.key, None)
                self.states.pop(action.key, None)
        else:
            key, values = _update_values(action)
            page = self.notion.update_row(
                action.page_id, build_page_properties(values, self.columns)
            )
            filled = action.day if isinstance(action, FillDoneOn) else None
            self._observe(key, parse_row(page, self.columns), values, filled)

    def follow_ups(self, today: date) -> list[NotionAction]:
        """The derived writes for rows whose answers showed a change by the learner."""
        actions: list[NotionAction] = []
        for key, observed in sorted(self.changed.items()):
            actions += plan_learner(key, self.rows[key], observed, today)
        self.changed.clear()
        return actions

    def _observe(
        self, key: str, row: RemoteRow, wrote: Mapping[str, Any], filled: date | None = None
    ) -> None:
        held = self.rows.get(key)
        if held is not None and held.page_id != row.page_id:
            return  # a duplicate of the key's row (its Key put back before it is merged away)
        observed = reconcile_row(
            key,
            row,
            self.states.get(key) or self.previous.get(key),
            at=self.now,
            window_start=self.window_start,
            rebuilt=False,
            in_checklist=self.in_checklist(key),
            wrote=wrote,
            filled=filled,
        )
        self.rows[key] = row
        self.states[key] = observed.state
        if observed.events:
            self.events += observed.events
            self.changed[key] = observed
        elif key in self.changed:
            self.changed[key] = observed  # a follow-up is planned from the row's last answer

    def _add_columns(self, action: AddColumns) -> None:
        properties = {
            FIELD_BY_NAME[f].default_name: build_schema_property(FIELD_BY_NAME[f])
            for f in action.fields
        }
        source = self.notion.update_data_source(self.data_source_id, properties)
        self.columns = resolve_columns(source.get("properties", {}), self.columns.ids)

    def _create(self, action: CreatePage) -> None:
        values = {**action.values, **NEW_ROW_VALUES}
        properties = build_page_properties(values, self.columns)
        page = self.notion.create_row_with_key(
            self.data_source_id, properties, self.columns, action.key
        )
        self._observe(action.key, parse_row(page, self.columns), values)


def _update_values(action: NotionAction) -> tuple[str, dict[str, Any]]:
    if isinstance(action, (UpdatePage, AlignFields)):
        return action.key, dict(action.changes)
    if isinstance(action, (AdoptRow, RestoreKey)):
        return action.key, {"key": action.key}
    if isinstance(action, MigrateKey):
        return action.new_key, {"key": action.new_key}
    if isinstance(action, RetireItem):
        return action.key, {"retired": True}
    if isinstance(action, FillDoneOn):
        return action.key, {**action.changes, "done_on": action.day}
    raise TypeError(f"not an update: {action!r}")
