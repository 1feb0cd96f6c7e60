"""Rich text: request items in, Notion's full response items out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sync.sandbox.dates import normalize_date
from sync.sandbox.ids import JSON, normalize_id
from sync.sandbox.validate import (
    MAX_RICH_TEXT_CONTENT,
    MAX_URL_LENGTH,
    invalid,
    invalid_id,
    require_list,
    require_object,
    require_str,
    too_long,
)

MENTION_TYPES = ("page", "database", "user", "date")
MentionLookup = Callable[[str, str], tuple[JSON, str, str | None]]
"""(kind, id) -> (mention payload, plain_text, href) of a page, database or user mention; raises
the 404 of an object the integration cannot see."""
_lookup: ContextVar[MentionLookup | None] = ContextVar("mention_lookup", default=None)


@contextmanager
def mentions_resolved_by(lookup: MentionLookup) -> Iterator[None]:
    """Rich text parsed inside resolves mentions with `lookup` (the workspace of the request)."""
    token = _lookup.set(lookup)
    try:
        yield
    finally:
        _lookup.reset(token)


ANNOTATION_FLAGS = ("bold", "italic", "strikethrough", "underline", "code")


def default_annotations() -> JSON:
    annotations: JSON = {flag: False for flag in ANNOTATION_FLAGS}
    annotations["color"] = "default"
    return annotations


def text_item(content: str, *, link: str | None = None, annotations: JSON | None = None) -> JSON:
    """One response rich-text item of type text."""
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": link} if link else None},
        "annotations": annotations or default_annotations(),
        "plain_text": content,
        "href": link,
    }


def text_items(text: str) -> list[JSON]:
    """Plain text as response items, split at Notion's 2,000-character limit."""
    return [
        text_item(text[start : start + MAX_RICH_TEXT_CONTENT])
        for start in range(0, len(text), MAX_RICH_TEXT_CONTENT)
    ]


def plain_text(items: Any) -> str:
    if not isinstance(items, list):
        return ""
    return "".join(str(item.get("plain_text", "")) for item in items if isinstance(item, dict))


def _annotations(raw: Any, path: str) -> JSON:
    annotations = default_annotations()
    if raw is None:
        return annotations
    given = require_object(raw, path)
    for flag in ANNOTATION_FLAGS:
        if flag in given:
            if not isinstance(given[flag], bool):
                raise invalid(f"{path}.{flag}", "a boolean", given[flag])
            annotations[flag] = given[flag]
    if "color" in given:
        annotations["color"] = require_str(given["color"], f"{path}.color")
    return annotations


def _mention(raw: Any, path: str, annotations: JSON) -> JSON:
    """A mention item: a date (its plain text is the date as answered), or a page, database or
    user, looked up in the workspace (plain text: the title or `@name`)."""
    mention = require_object(raw, path)
    kind = mention.get("type") or next((k for k in MENTION_TYPES if k in mention), None)
    if kind not in MENTION_TYPES:
        raise invalid(f"{path}.type", "one of `page`, `database`, `user`, `date`", kind)
    target = require_object(mention.get(kind), f"{path}.{kind}")
    href: str | None = None
    if kind == "date":
        payload: JSON = normalize_date(target, f"{path}.date")
        plain = payload["start"] + (f" → {payload['end']}" if payload["end"] else "")
    else:
        raw_id = require_str(target.get("id"), f"{path}.{kind}.id")
        object_id = normalize_id(raw_id)
        if object_id is None:
            raise invalid_id(f"{path}.{kind}.id", raw_id)
        lookup = _lookup.get()
        if lookup is None:
            raise invalid(path, "a date mention (no workspace to look the target up in)", kind)
        payload, plain, href = lookup(kind, object_id)
    return {
        "type": "mention",
        "mention": {"type": kind, kind: payload},
        "annotations": annotations,
        "plain_text": plain,
        "href": href,
    }


def _item_kind(item: JSON) -> Any:
    if "type" in item:
        return item["type"]
    return next((k for k in ("mention", "equation") if k in item), "text")


def _parse_item(raw: Any, path: str) -> JSON:
    item = require_object(raw, path)
    kind = _item_kind(item)
    annotations = _annotations(item.get("annotations"), f"{path}.annotations")
    if kind == "mention":
        return _mention(item.get("mention"), f"{path}.mention", annotations)
    if kind == "equation":
        equation = require_object(item.get("equation"), f"{path}.equation")
        expression = require_str(equation.get("expression"), f"{path}.equation.expression")
        return {
            "type": "equation",
            "equation": {"expression": expression},
            "annotations": annotations,
            "plain_text": expression,
            "href": None,
        }
    if kind != "text":
        raise invalid(f"{path}.type", '`"text"`, `"mention"` or `"equation"`', kind)
    text = require_object(item.get("text"), f"{path}.text")
    content = require_str(text.get("content"), f"{path}.text.content")
    if len(content) > MAX_RICH_TEXT_CONTENT:
        raise too_long(f"{path}.text.content", MAX_RICH_TEXT_CONTENT, len(content))
    link_raw = text.get("link")
    link: str | None = None
    if link_raw is not None:
        link_obj = require_object(link_raw, f"{path}.text.link")
        link = require_str(link_obj.get("url"), f"{path}.text.link.url")
        if len(link) > MAX_URL_LENGTH:
            raise too_long(f"{path}.text.link.url", MAX_URL_LENGTH, len(link))
    return text_item(content, link=link, annotations=annotations)


def parse_rich_text(raw: Any, path: str) -> list[JSON]:
    """Validate a request rich-text array (≤ 100 items of ≤ 2,000 characters); normalize it."""
    items = require_list(raw, path)
    return [_parse_item(item, f"{path}[{index}]") for index, item in enumerate(items)]
