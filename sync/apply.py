"""Apply a plan's Notion actions one by one, keeping the map of rows current.

A page create is never repeated blindly: after an ambiguous failure the row is looked up by its
Key first.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sync.model import FIELD_BY_NAME, RemoteRow, TickEvent
from sync.notion.adapter import AmbiguousWriteError, NotionAdapter
from sync.notion.mapping import (
    Columns,
    build_page_properties,
    build_schema_property,
    parse_row,
    resolve_columns,
)
from sync.plan import (
    AddColumns,
    AdoptRow,
    CreatePage,
    FillDoneOn,
    MigrateKey,
    NotionAction,
    RetireItem,
    TrashPage,
    UpdatePage,
)

log = logging.getLogger("dsprogress.engine")


class Applier:
    """Applies Notion actions one by one, keeping the rows map current."""

    def __init__(
        self,
        notion: NotionAdapter,
        data_source_id: str,
        columns: Columns,
        rows: dict[str, RemoteRow],
        now: datetime,
    ) -> None:
        self.notion = notion
        self.data_source_id = data_source_id
        self.columns = columns
        self.rows = rows
        self.now = now
        self.created: list[TickEvent] = []  # one event per page created, from None

    def apply(self, action: NotionAction) -> None:
        log.info("%s %s", action.verb, getattr(action, "key", ""))
        if isinstance(action, AddColumns):
            self._add_columns(action)
        elif isinstance(action, CreatePage):
            self._create(action)
        elif isinstance(action, TrashPage):
            self.notion.update_row(action.page_id, in_trash=True)
            self.rows.pop(action.key, None)
        else:
            key, values = _update_values(action)
            page = self.notion.update_row(
                action.page_id, build_page_properties(values, self.columns)
            )
            self.rows[key] = parse_row(page, self.columns)

    def _add_columns(self, action: AddColumns) -> None:
        properties = {
            FIELD_BY_NAME[f].default_name: build_schema_property(FIELD_BY_NAME[f])
            for f in action.fields
        }
        source = self.notion.update_data_source(self.data_source_id, properties)
        self.columns = resolve_columns(source.get("properties", {}), self.columns.ids)

    def _create(self, action: CreatePage) -> None:
        values = {**action.values, "status": "Not started", "done": False, "retired": False}
        properties = build_page_properties(values, self.columns)
        try:
            page = self.notion.create_row(self.data_source_id, properties)
        except AmbiguousWriteError:
            # The create may have landed: look before creating again, never create blindly.
            found = self.notion.find_rows_by_key(
                self.data_source_id, self.columns.names["key"], action.key
            )
            page = found[0] if found else self.notion.create_row(self.data_source_id, properties)
        row = parse_row(page, self.columns)
        self.rows[action.key] = row
        self.created.append(
            TickEvent(
                key=action.key,
                title=row.title,
                level=row.level,
                category=row.category,
                from_status=None,
                to_status=row.status,
                observed_at=self.now,
            )
        )


def _update_values(action: NotionAction) -> tuple[str, dict[str, Any]]:
    if isinstance(action, UpdatePage):
        return action.key, dict(action.changes)
    if isinstance(action, AdoptRow):
        return action.key, {"key": action.key}
    if isinstance(action, MigrateKey):
        return action.new_key, {"key": action.new_key}
    if isinstance(action, RetireItem):
        return action.key, {"retired": True}
    if isinstance(action, FillDoneOn):
        return action.key, {"done_on": action.day}
    raise TypeError(f"not an update: {action!r}")
