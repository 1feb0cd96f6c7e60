"""Property schemas and page property values: parsing requests, storing, rendering, converting.

A data source keeps its schema as `{property_id: {"id", "name", "type", "description", "config"}}`;
a page keeps its values keyed by property id, so a rename keeps them and a deleted property's
values vanish with it. Select values are stored as option ids: deleting an option empties them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.sandbox.dates import normalize_date
from sync.sandbox.ids import JSON, minute_time, new_id
from sync.sandbox.richtext import parse_rich_text, plain_text, text_items
from sync.sandbox.validate import (
    MAX_URL_LENGTH,
    NotionError,
    invalid,
    require_list,
    require_object,
    require_str,
    too_long,
    validation,
)

WRITABLE_TYPES = (
    "title",
    "rich_text",
    "checkbox",
    "select",
    "multi_select",
    "number",
    "date",
    "url",
    "email",
    "phone_number",
)
READ_ONLY_TYPES = ("created_time", "last_edited_time", "created_by", "last_edited_by")
SUPPORTED_TYPES = WRITABLE_TYPES + READ_ONLY_TYPES
# Types Notion has but the sandbox does not model: refused with a clear message.
UNSUPPORTED_TYPES = (
    "formula",
    "relation",
    "rollup",
    "people",
    "files",
    "status",
    "unique_id",
    "button",
    "place",
    "verification",
)
COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
_AUTO_COLORS = COLORS[1:]
_TRUE_WORDS = {"yes", "true", "1", "checked", "x", "✓", "done"}

UserRef = Callable[[str], JSON]


def schema_type(value: JSON, path: str) -> str:
    """The property type a schema entry asks for: `{"checkbox": {}}` or `{"type": "checkbox"}`."""
    if "type" in value:
        kind = require_str(value["type"], f"{path}.type")
    else:
        kinds = [key for key in value if key in SUPPORTED_TYPES or key in UNSUPPORTED_TYPES]
        if len(kinds) != 1:
            raise invalid(path, "an object with exactly one property type", value)
        kind = kinds[0]
    if kind in UNSUPPORTED_TYPES:
        raise validation(f"The sandbox does not support {kind} properties ({path}).")
    if kind not in SUPPORTED_TYPES:
        raise invalid(f"{path}.type", "a property type", kind)
    return kind


def check_option_name(name: Any, path: str) -> str:
    text = require_str(name, path)
    if not text.strip():
        raise invalid(path, "a non-empty string", text)
    if "," in text:
        raise validation(f"Invalid select option, commas not allowed: {text}")
    if len(text) > 100:
        raise too_long(path, 100, len(text))
    return text


def _color(raw: Any, path: str) -> str:
    color = require_str(raw, path)
    if color not in COLORS:
        raise invalid(path, "one of " + ", ".join(f"`{c}`" for c in COLORS), color)
    return color


def build_config(kind: str, raw: Any, path: str, existing: JSON | None = None) -> JSON:
    """The stored config of a property of type `kind` from a request's type object.

    For select and multi_select the given options REPLACE the existing ones: options matched by
    id or name keep their id, options left out are deleted.
    """
    given = require_object(raw if raw is not None else {}, f"{path}.{kind}")
    if kind in ("select", "multi_select"):
        old = list((existing or {}).get("options", []))
        options: list[JSON] = []
        raw_options = require_list(given.get("options", []), f"{path}.{kind}.options")
        for index, raw_option in enumerate(raw_options):
            opath = f"{path}.{kind}.options[{index}]"
            option = require_object(raw_option, opath)
            name = check_option_name(option.get("name"), f"{opath}.name")
            match = next((o for o in old if o["id"] == option.get("id") or o["name"] == name), None)
            color = match["color"] if match else "default"
            if "color" in option:
                color = _color(option["color"], f"{opath}.color")
            options.append(
                {
                    "id": match["id"] if match else new_id(),
                    "name": name,
                    "color": color,
                    "description": option.get("description"),
                }
            )
        return {"options": options}
    if kind == "number":
        number_format = given.get("format", (existing or {}).get("format", "number"))
        return {"format": require_str(number_format, f"{path}.number.format")}
    return {}


def render_schema_entry(prop: JSON) -> JSON:
    return {
        "id": prop["id"],
        "name": prop["name"],
        "description": prop.get("description"),
        "type": prop["type"],
        prop["type"]: prop["config"],
    }


class PendingOptions:
    """Select options a page write creates, added to the schema only once the write is valid."""

    def __init__(self) -> None:
        self.added: dict[str, list[JSON]] = {}

    def find_or_add(self, prop: JSON, name: str, color: str | None) -> str:
        options = list(prop["config"].get("options", [])) + self.added.get(prop["id"], [])
        for option in options:
            if option["name"] == name:
                return str(option["id"])
        created = {
            "id": new_id(),
            "name": name,
            "color": color or _AUTO_COLORS[len(options) % len(_AUTO_COLORS)],
            "description": None,
        }
        self.added.setdefault(prop["id"], []).append(created)
        return str(created["id"])

    def apply(self, schema: dict[str, JSON]) -> None:
        for property_id, options in self.added.items():
            if property_id in schema:
                schema[property_id]["config"].setdefault("options", []).extend(options)
        self.added = {}


def _optional_text(raw: Any, path: str, limit: int) -> str | None:
    if raw is None:
        return None
    text = require_str(raw, path)
    if len(text) > limit:
        raise too_long(path, limit, len(text))
    return text


def _option_ref(prop: JSON, raw: Any, path: str, pending: PendingOptions) -> str:
    ref = require_object(raw, path)
    if "id" in ref and "name" not in ref:
        option_id = require_str(ref["id"], f"{path}.id")
        if not any(o["id"] == option_id for o in prop["config"].get("options", [])):
            raise validation(f"{option_id} is an invalid select option.")
        return option_id
    name = check_option_name(ref.get("name"), f"{path}.name")
    color = _color(ref["color"], f"{path}.color") if "color" in ref else None
    return pending.find_or_add(prop, name, color)


def parse_value(prop: JSON, raw: Any, path: str, pending: PendingOptions) -> Any:
    """Validate one request property value against its schema entry; return the stored form."""
    name, kind = prop["name"], prop["type"]
    if isinstance(raw, list) and kind in ("title", "rich_text"):
        raw = {kind: raw}
    if not isinstance(raw, dict):
        raise invalid(path, "an object", raw)
    declared = raw.get("type")
    if (declared is not None and declared != kind) or kind not in raw:
        raise validation(f"{name} is expected to be {kind}.")
    if kind in READ_ONLY_TYPES:
        raise validation(f"{name} is a {kind} property, which cannot be set.")
    value, vpath = raw[kind], f"{path}.{kind}"
    if kind in ("title", "rich_text"):
        return parse_rich_text(value, vpath)
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise invalid(vpath, "a boolean", value)
        return value
    if kind == "number":
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise invalid(vpath, "a number", value)
        return value
    if kind == "select":
        return None if value is None else _option_ref(prop, value, vpath, pending)
    if kind == "multi_select":
        items = require_list(value, vpath)
        ids = [_option_ref(prop, item, f"{vpath}[{i}]", pending) for i, item in enumerate(items)]
        return list(dict.fromkeys(ids))
    if kind == "date":
        return None if value is None else normalize_date(value, vpath)
    limit = MAX_URL_LENGTH if kind == "url" else 200
    return _optional_text(value, vpath, limit)


def _options_by_id(prop: JSON) -> dict[str, JSON]:
    return {o["id"]: o for o in prop["config"].get("options", [])}


def render_value(prop: JSON, stored: Any, page: JSON, user_ref: UserRef) -> JSON:
    """A page property value as Notion returns it: `{"id", "type", <type>: value}`."""
    kind = prop["type"]
    value: Any
    if kind in ("title", "rich_text"):
        value = stored or []
    elif kind == "checkbox":
        value = bool(stored)
    elif kind in ("select", "multi_select"):
        options = _options_by_id(prop)

        def shown(option_id: Any) -> JSON | None:
            option = options.get(option_id)
            if option is None:
                return None
            return {"id": option["id"], "name": option["name"], "color": option["color"]}

        if kind == "select":
            value = shown(stored)
        else:
            value = [o for o in (shown(i) for i in stored or []) if o is not None]
    elif kind == "created_time":
        value = minute_time(page["created_time"])
    elif kind == "last_edited_time":
        value = minute_time(page["last_edited_time"])
    elif kind == "created_by":
        value = user_ref(page["created_by"])
    elif kind == "last_edited_by":
        value = user_ref(page["last_edited_by"])
    else:
        value = stored
    return {"id": prop["id"], "type": kind, kind: value}


def value_text(prop: JSON, stored: Any) -> str:
    """A stored value as plain text: what a retype starts from."""
    kind = prop["type"]
    if stored is None:
        return ""
    if kind in ("title", "rich_text"):
        return plain_text(stored)
    if kind == "checkbox":
        return "Yes" if stored else "No"
    if kind == "number":
        return str(int(stored)) if float(stored).is_integer() else str(stored)
    if kind in ("select", "multi_select"):
        options = _options_by_id(prop)
        ids = [stored] if kind == "select" else list(stored)
        return ", ".join(options[i]["name"] for i in ids if i in options)
    if kind == "date":
        return str(stored.get("start") or "")
    return str(stored) if isinstance(stored, str) else ""


def convert_value(old: JSON, new: JSON, stored: Any, pending: PendingOptions) -> Any:
    """The value a page keeps when its property changes type (Notion converts through text)."""
    if old["type"] == new["type"]:
        return stored
    text = value_text(old, stored).strip()
    kind = new["type"]
    if kind in READ_ONLY_TYPES:
        return None
    if kind in ("title", "rich_text"):
        return text_items(text)
    if kind == "checkbox":
        return text.lower() in _TRUE_WORDS
    if not text:
        return [] if kind == "multi_select" else None
    if kind in ("select", "multi_select"):
        names = [part.strip()[:100] for part in text.split(",") if part.strip()]
        ids = [pending.find_or_add(new, name, None) for name in names]
        return (ids[0] if ids else None) if kind == "select" else list(dict.fromkeys(ids))
    if kind == "number":
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    if kind == "date":
        try:
            return normalize_date({"start": text}, "value")
        except NotionError:
            return None
    return text
