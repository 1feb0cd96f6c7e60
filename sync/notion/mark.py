"""PURE: the durable mark dsprogress writes on its checklist database, and the description it
lives in.

The mark is one rich-text item at the end of the database's description:
`dsprogress-mark {"v": 1, "data_source": "...", "columns": {"key": "abc", ...}, "digests": {...}}`.
It records which data source carries our columns and the property id of each column (so a column
the learner renamed is still recognised), and the last digest week sent per channel (so a second
or rebuilt machine never sends a week again), and every view the tool made: the tabs (`views`)
and the Progress dashboard with its widgets (`cockpit`), or Notion's refusal of it. Any other
text in the description (the learner's, or the digest's progress line) is kept when the mark is
rewritten, and the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

MARK_TOKEN = "dsprogress-mark"
MARK_VERSION = 1
MAX_TEXT = 2000
# Columns an earlier version's database (from before the mark) always had, by default name.
LEGACY_COLUMNS: dict[str, str] = {
    "Key": "rich_text",
    "Done": "checkbox",
    "Status": "select",
    "Level": "select",
    "Category": "select",
    "Order": "number",
}


MAX_REASON = 160  # characters of Notion's refusal kept in the mark


@dataclass(frozen=True)
class Cockpit:
    """The Progress dashboard: its view id and its widgets' (name -> view id), or a refusal."""

    dashboard_id: str | None = None
    widgets: dict[str, str] = field(default_factory=dict)
    refused: str | None = None  # Notion's reason, when it refused a chart or the dashboard

    def __post_init__(self) -> None:
        if self.dashboard_id is not None:
            object.__setattr__(self, "dashboard_id", compact(self.dashboard_id))

    def with_widget(self, name: str, view_id: str) -> Cockpit:
        return replace(self, widgets={**self.widgets, name: compact(view_id)})

    def to_json(self) -> dict[str, Any]:
        if self.refused is not None:
            return {"refused": self.refused[:MAX_REASON]}
        data: dict[str, Any] = {"id": compact(self.dashboard_id or "")}
        if self.widgets:
            data["w"] = dict(self.widgets)
        return data


def compact(view_id: str) -> str:
    """An id without its hyphens: Notion accepts both, and the mark has 2,000 characters."""
    return view_id.replace("-", "")


def _parse_cockpit(data: Any) -> Cockpit | None:
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("refused"), str):
        return Cockpit(refused=data["refused"])
    widgets = data.get("w")
    if not isinstance(data.get("id"), str) or not data["id"]:
        return None
    return Cockpit(
        dashboard_id=data["id"],
        widgets={str(k): str(v) for k, v in (widgets.items() if isinstance(widgets, dict) else [])},
    )


@dataclass(frozen=True)
class Mark:
    """What the mark says: where our columns are and which digest weeks went out."""

    data_source_id: str | None = None
    column_ids: dict[str, str] = field(default_factory=dict)  # field -> property id
    digests: dict[str, str] = field(default_factory=dict)  # channel -> last week sent
    views: tuple[str, ...] = ()  # the tabs the tool made (board, tables, Next up, levels)
    cockpit: Cockpit | None = None  # the Progress dashboard, or Notion's refusal of it

    def with_columns(self, data_source_id: str, column_ids: Mapping[str, str]) -> Mark:
        return replace(self, data_source_id=data_source_id, column_ids=dict(column_ids))

    def with_digest(self, channel: str, week: str) -> Mark:
        sent = self.digests.get(channel)
        if sent is not None and sent >= week:
            return self
        return replace(self, digests={**self.digests, channel: week})

    def with_views(self, view_ids: Sequence[str]) -> Mark:
        return replace(self, views=tuple(compact(v) for v in view_ids))

    def with_cockpit(self, cockpit: Cockpit | None) -> Mark:
        return replace(self, cockpit=cockpit)

    def digest_sent(self, channel: str, week: str) -> bool:
        sent = self.digests.get(channel)
        return sent is not None and sent >= week


def _plain(items: Sequence[Mapping[str, Any]] | None) -> str:
    return "".join(str(item.get("plain_text", "")) for item in items or [])


def parse_mark(description: Sequence[Mapping[str, Any]] | None) -> Mark | None:
    """The mark in a database's `description` (rich text as Notion answers it), if any."""
    text = _plain(description)
    start = text.rfind(MARK_TOKEN)
    if start < 0:
        return None
    rest = text[start + len(MARK_TOKEN) :].lstrip()
    try:
        data, _ = json.JSONDecoder().raw_decode(rest)
    except ValueError:
        return Mark()  # a damaged mark still says the database is ours
    if not isinstance(data, dict):
        return Mark()
    columns = data.get("columns")
    digests = data.get("digests")
    source = data.get("data_source")
    views = data.get("views")
    return Mark(
        views=tuple(str(v) for v in views) if isinstance(views, list) else (),
        cockpit=_parse_cockpit(data.get("cockpit")),
        data_source_id=source if isinstance(source, str) else None,
        column_ids={
            str(k): str(v) for k, v in (columns.items() if isinstance(columns, dict) else [])
        },
        digests={str(k): str(v) for k, v in (digests.items() if isinstance(digests, dict) else [])},
    )


def render_mark(mark: Mark) -> str:
    """The mark's text, never over MAX_TEXT characters: a cut mark would parse as empty and lose
    the digest record. When it would be longer, the tabs' ids go first, last tab first (the
    tool only needs them to say what it made); the rest is bounded (see tests/notion)."""
    data: dict[str, Any] = {"v": MARK_VERSION}
    if mark.data_source_id:
        data["data_source"] = mark.data_source_id
    if mark.column_ids:
        data["columns"] = dict(sorted(mark.column_ids.items()))
    if mark.digests:
        data["digests"] = dict(sorted(mark.digests.items()))
    if mark.cockpit is not None:
        data["cockpit"] = mark.cockpit.to_json()
    views = list(mark.views)
    while True:
        if views:
            data["views"] = views
        else:
            data.pop("views", None)
        text = f"{MARK_TOKEN} {json.dumps(data, separators=(',', ':'))}"
        if len(text) <= MAX_TEXT or not views:
            return text
        views = views[:-1]


def _request_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A rich-text item from an answer, as a request item (text with its annotations)."""
    content = str(item.get("plain_text", ""))
    text = item.get("text")
    link = text.get("link") if isinstance(text, dict) else None
    out: dict[str, Any] = {"type": "text", "text": {"content": content[:MAX_TEXT]}}
    if link:
        out["text"]["link"] = link
    if isinstance(item.get("annotations"), dict):
        out["annotations"] = dict(item["annotations"])
    return out


def _text_item(content: str) -> dict[str, Any]:
    return {"type": "text", "text": {"content": content[:MAX_TEXT]}}


def build_description(
    current: Sequence[Mapping[str, Any]] | None,
    *,
    mark: Mark | None = None,
    summary: str | None = None,
) -> list[dict[str, Any]]:
    """The new `description` request value: the current one with the mark and/or the summary
    replaced. What is not replaced is kept: the other part, and the learner's own text when only
    the mark changes."""
    items = list(current or [])
    cut = next((i for i, item in enumerate(items) if MARK_TOKEN in _plain([item])), None)
    before, mark_items = (items, []) if cut is None else (items[:cut], items[cut:])
    head: list[dict[str, Any]] = [_request_item(item) for item in before]
    if cut is not None:
        prefix = _plain([items[cut]]).split(MARK_TOKEN, 1)[0]
        if prefix:
            head.append(_text_item(prefix))
    if summary is not None:
        head = [_text_item(summary)]
    if mark is None:
        old = parse_mark(mark_items) if mark_items else None
        tail = [_text_item(render_mark(old))] if old is not None else []
    else:
        tail = [_text_item(render_mark(mark))]
    if tail and head:
        last = head[-1]["text"]["content"]
        if not last.endswith("\n"):
            head.append(_text_item("\n"))
    return head + tail


def check_legacy_columns(properties: Mapping[str, Any]) -> bool:
    """True when a data source has the columns every checklist database had before the mark."""
    return all(
        isinstance(properties.get(name), Mapping) and properties[name].get("type") == kind
        for name, kind in LEGACY_COLUMNS.items()
    )


def check_marked_columns(properties: Mapping[str, Any], mark: Mark) -> bool:
    """True when a data source carries the Key column the mark names (renamed or not)."""
    key_id = mark.column_ids.get("key")
    if key_id is None:
        return "Key" in properties
    return any(
        isinstance(p, Mapping) and str(p.get("id")) == key_id and p.get("type") == "rich_text"
        for p in properties.values()
    )
