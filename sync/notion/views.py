"""PURE: the Notion views dsprogress adds to a new checklist database (`POST /v1/views` bodies).

Views refer to columns by property id (stable when the learner renames a column) and to select
options by name. The set: a board by level, the whole checklist as a table grouped by category,
a "Next up" table of what is left in checklist order, and one table per level named with the
level's icon. Notion keeps its own default table view as well; creating ours is best effort.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync.model import FIELDS

BOARD_NAME = "🗂️ Board by level"
TABLE_NAME = "📋 Checklist by category"
NEXT_UP_NAME = "⏭️ Next up"
DEFAULT_LEVEL_ICON = "📘"

# Which of our columns each view shows, in this order; the rest of ours are hidden.
_TABLE_COLUMNS = ("title", "done", "status", "level", "category", "order", "done_on", "notes")
_NEXT_UP_COLUMNS = ("title", "done", "status", "level", "category", "description")
_LEVEL_COLUMNS = ("title", "done", "status", "category", "order", "done_on", "evidence")
_CARD_COLUMNS = ("category", "done", "status")
# The tool's own columns (Key, Retired, ...): hidden in every table, list and board.
TOOL_FIELDS = tuple(spec.field for spec in FIELDS if spec.owner == "tool")
_REQUIRED = ("title", "done", "status", "level", "category", "order", "retired")
# Bumped when the tabs change (the Next up filter, a column to hide): an existing database's tabs
# are brought up to date once (`build_view_upgrade`, PATCH /v1/views). 3: the Sync base hidden.
VIEWS_VERSION = "3"


def build_view_bodies(
    database_id: str,
    data_source_id: str,
    column_ids: Mapping[str, str],
    levels: Sequence[tuple[str, str | None]] = (),
) -> list[dict[str, Any]]:
    """Request bodies for `POST /v1/views`, in tab order.

    `column_ids` maps our field names (see `model.FIELDS`) to the data source's property ids;
    `levels` is (name, icon) in checklist order. Returns [] when a column the views need is
    missing, so a damaged schema never produces half-configured views.
    """
    if any(field not in column_ids for field in _REQUIRED):
        return []
    ids = dict(column_ids)
    base = {"database_id": database_id, "data_source_id": data_source_id}
    not_retired = {"property": ids["retired"], "checkbox": {"equals": False}}
    table, board = _View(base, ids, "table"), _View(base, ids, "board")
    return [
        board.body(BOARD_NAME, not_retired, ("category", "order"), _CARD_COLUMNS, group="level"),
        table.body(
            TABLE_NAME, not_retired, ("level", "order"), _TABLE_COLUMNS, group="category", wrap=True
        ),
        table.body(
            NEXT_UP_NAME,
            build_next_up_filter(ids),
            ("level", "category", "order"),
            _NEXT_UP_COLUMNS,
            wrap=True,
        ),
        *(
            table.body(
                build_level_view_name(name, icon),
                {"and": [{"property": ids["level"], "select": {"equals": name}}, not_retired]},
                ("order",),
                _LEVEL_COLUMNS,
                group="category",
            )
            for name, icon in levels
        ),
    ]


@dataclass(frozen=True)
class _View:
    """Bodies of one view type for one data source."""

    base: Mapping[str, str]
    ids: Mapping[str, str]
    kind: str

    def body(
        self,
        name: str,
        filter_: Mapping[str, Any],
        sorted_by: Sequence[str],
        columns: Sequence[str],
        *,
        group: str | None = None,
        wrap: bool = False,
    ) -> dict[str, Any]:
        """A view sorted ascending by `sorted_by`, showing `columns`, grouped by `group`."""
        configuration: dict[str, Any] = {"type": self.kind}
        if group is not None:
            configuration["group_by"] = _group_by_select(self.ids[group])
        configuration["properties"] = _visible_properties(self.ids, columns)
        if wrap:
            configuration["wrap_cells"] = True
        return {
            **self.base,
            "name": name,
            "type": self.kind,
            "filter": filter_,
            "sorts": [{"property": self.ids[f], "direction": "ascending"} for f in sorted_by],
            "configuration": configuration,
        }


def build_next_up_filter(ids: Mapping[str, str]) -> dict[str, Any]:
    """What is left: not done (by Done or by Status), not Skipped, not retired."""
    return {
        "and": [
            {"property": ids["done"], "checkbox": {"equals": False}},
            {"property": ids["status"], "select": {"does_not_equal": "Done"}},
            {"property": ids["status"], "select": {"does_not_equal": "Skipped"}},
            {"property": ids["retired"], "checkbox": {"equals": False}},
        ]
    }


def build_level_view_name(level: str, icon: str | None) -> str:
    """`🌱 Entry`: the level's icon from the checklist (a default one when it has none)."""
    return f"{(icon or DEFAULT_LEVEL_ICON).strip()} {level}"


def _group_by_select(property_id: str) -> dict[str, Any]:
    # "manual" keeps the select options' own order: the checklist's level/category order.
    return {
        "type": "select",
        "property_id": property_id,
        "sort": {"type": "manual"},
        "hide_empty_groups": True,
    }


def _visible_properties(ids: Mapping[str, str], shown: Sequence[str]) -> list[dict[str, Any]]:
    """Our columns in `shown` order and visible, then the tool's bookkeeping columns hidden."""
    visible = [{"property_id": ids[f], "visible": True} for f in shown if f in ids]
    hidden = [{"property_id": ids[f], "visible": False} for f in TOOL_FIELDS if f in ids]
    return visible + hidden


def build_view_upgrade(view: Mapping[str, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    """The PATCH that brings one of our tabs, as Notion answers it, up to `VIEWS_VERSION`: the
    tool's columns hidden (the rest of its columns as the learner left them) and, for Next up,
    the current filter. Empty when nothing changes."""
    body: dict[str, Any] = {}
    configuration = view.get("configuration")
    shown = configuration.get("properties") if isinstance(configuration, Mapping) else None
    if isinstance(configuration, Mapping) and isinstance(shown, list):
        tool = [ids[f] for f in TOOL_FIELDS if f in ids]
        kept = [p for p in shown if not (isinstance(p, Mapping) and p.get("property_id") in tool)]
        properties = kept + [{"property_id": i, "visible": False} for i in tool]
        if properties != shown:
            body["configuration"] = {**configuration, "properties": properties}
    if view.get("name") == NEXT_UP_NAME and {"done", "status", "retired"} <= set(ids):
        wanted = build_next_up_filter(ids)
        if view.get("filter") != wanted:
            body["filter"] = wanted
    return body
