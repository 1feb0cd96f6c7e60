"""A cohort in the sandbox: N learners' pages under one cohort page, each with a checklist
database as a learner's own tool leaves it (our columns, the mark, one row per item), and
random ticks, Done on dates, skips, items in progress and own items (`custom.` keys).

`make_cohort` is the control call `POST /__sandbox/cohort`. The caller passes the checklist's
items, levels and categories (the sandbox knows no checklist of its own, and imports nothing
from dsprogress's client side): `{"learners": 30, "seed": 1, "items": [{"key", "title",
"level", "category", "order"}], "levels": [...], "categories": [...], "in_columns": 3}`: every
third learner's page, and the database on it, stand in columns (as a learner may drag them). The
mark is written as the
learner's tool writes it (`dsprogress-mark {"v":1,"data_source":...,"columns":{...}}`).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from sync.sandbox.ids import JSON
from sync.sandbox.layout import move_into_columns
from sync.sandbox.pages import create_page
from sync.sandbox.schema import create_database, update_database
from sync.sandbox.store import Workspace
from sync.sandbox.validate import NotionError

MAX_LEARNERS = 1000
STATUS_OPTIONS = (
    ("Not started", "gray"),
    ("In progress", "blue"),
    ("Done", "green"),
    ("Skipped", "brown"),
)
MARKED_FIELDS = {
    "title": "Name",
    "key": "Key",
    "done": "Done",
    "status": "Status",
    "level": "Level",
    "category": "Category",
    "order": "Order",
    "description": "Description",
    "done_on": "Done on",
    "notes": "Notes",
    "evidence": "Evidence",
    "retired": "Retired",
}


def _text(content: str) -> list[JSON]:
    return [{"type": "text", "text": {"content": content}}] if content else []


def _schema(levels: list[str], categories: list[str]) -> JSON:
    return {
        "Name": {"title": {}},
        "Key": {"rich_text": {}},
        "Done": {"checkbox": {}},
        "Status": {"select": {"options": [{"name": n, "color": c} for n, c in STATUS_OPTIONS]}},
        "Level": {"select": {"options": [{"name": n} for n in levels]}},
        "Category": {"select": {"options": [{"name": n} for n in categories]}},
        "Order": {"number": {"format": "number"}},
        "Description": {"rich_text": {}},
        "Done on": {"date": {}},
        "Notes": {"rich_text": {}},
        "Evidence": {"url": {}},
        "Retired": {"checkbox": {}},
    }


def _check_body(body: JSON) -> tuple[int, list[JSON], list[str], list[str]]:
    count = body.get("learners")
    items = body.get("items")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_LEARNERS:
        raise NotionError(400, "validation_error", f"learners must be 1..{MAX_LEARNERS}.")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise NotionError(400, "validation_error", "items must be a non-empty list of objects.")
    levels = [str(n) for n in body.get("levels") or dict.fromkeys(i["level"] for i in items)]
    categories = [
        str(n) for n in body.get("categories") or dict.fromkeys(i["category"] for i in items)
    ]
    return count, items, levels, categories


def _row_values(item: JSON, state: str, today: datetime, rng: random.Random) -> JSON:
    values: JSON = {
        "Name": {"title": _text(str(item["title"]))},
        "Key": {"rich_text": _text(str(item["key"]))},
        "Level": {"select": {"name": item["level"]}},
        "Category": {"select": {"name": item["category"]}},
        "Order": {"number": item.get("order")},
        "Status": {"select": {"name": state}},
        "Done": {"checkbox": state == "Done"},
    }
    if state == "Done":
        day = (today - timedelta(days=rng.randint(0, 60))).date().isoformat()
        values["Done on"] = {"date": {"start": day}}
        if rng.random() < 0.3:
            values["Notes"] = {"rich_text": _text(f"notes on {item['title']}")}
            values["Evidence"] = {"url": f"https://example.com/{item['key']}"}
    return values


def _pick_state(rng: random.Random, pace: float) -> str:
    roll = rng.random()
    if roll < pace:
        return "Done"
    if roll < pace + 0.12:
        return "In progress"
    if roll < pace + 0.17:
        return "Skipped"
    return "Not started"


def _make_database(ws: Workspace, page: JSON, levels: list[str], categories: list[str]) -> str:
    """The checklist database on the learner's page, with the mark; returns its data source."""
    actor = ws.person_id
    database = create_database(
        ws,
        {
            "parent": {"page_id": page["id"]},
            "title": _text("Data Science progress checklist"),
            "initial_data_source": {"properties": _schema(levels, categories)},
        },
        actor,
    )
    source_id = str(database["data_source_ids"][0])
    ids = {str(p["name"]): str(p["id"]) for p in ws.data_sources[source_id]["properties"].values()}
    mark = {
        "v": 1,
        "data_source": source_id,
        "columns": {field: ids[name] for field, name in sorted(MARKED_FIELDS.items())},
    }
    text = "dsprogress-mark " + json.dumps(mark, separators=(",", ":"))
    update_database(ws, database, {"description": _text(text)}, actor)
    return source_id


def _own_items(
    number: int, levels: list[str], categories: list[str], rng: random.Random
) -> list[JSON]:
    """Up to three items the learner added in Notion (keyed by their own tool: `custom.`)."""
    return [
        {
            "key": f"custom.own-project-{number}-{own}",
            "title": f"Own project {number}-{own}",
            "level": rng.choice(levels),
            "category": rng.choice(categories),
            "order": None,
        }
        for own in range(1, rng.randint(0, 3) + 1)
    ]


def _make_learner(
    ws: Workspace,
    cohort_page_id: str,
    number: int,
    spec: tuple[list[JSON], list[str], list[str]],
    rng: random.Random,
    today: datetime,
    in_columns: bool = False,
) -> JSON:
    items, levels, categories = spec
    name = f"Learner {number:03d}"
    title = {"title": {"title": _text(name)}}
    page = create_page(
        ws, {"parent": {"page_id": cohort_page_id}, "properties": title}, ws.person_id
    )
    source_id = _make_database(ws, page, levels, categories)
    database = ws.databases[ws.data_sources[source_id]["database_id"]]
    if in_columns:
        move_into_columns(ws, page, ws.person_id)
        move_into_columns(ws, database, ws.person_id)
    pace = rng.uniform(0.05, 0.85)
    for item in [*items, *_own_items(number, levels, categories, rng)]:
        values = _row_values(item, _pick_state(rng, pace), today, rng)
        parent = {"data_source_id": source_id}
        create_page(ws, {"parent": parent, "properties": values}, ws.person_id)
    return {
        "name": name,
        "page_id": page["id"],
        "database_id": database["id"],
        "data_source_id": source_id,
    }


def make_cohort(ws: Workspace, body: JSON) -> JSON:
    """Create the cohort page under the root page and its learners; return their ids."""
    count, items, levels, categories = _check_body(body)
    rng = random.Random(body.get("seed", 0))
    title = str(body.get("title") or "Cohort")
    cohort = create_page(
        ws,
        {"parent": {"page_id": ws.root_page_id}, "properties": {"title": {"title": _text(title)}}},
        ws.person_id,
    )
    today = datetime.fromtimestamp(ws.now(), timezone.utc)
    spec: tuple[list[JSON], list[str], list[str]] = (items, levels, categories)
    every = body.get("in_columns")
    every = every if isinstance(every, int) and not isinstance(every, bool) and every > 0 else 0
    learners: list[Any] = [
        _make_learner(
            ws, cohort["id"], number, spec, rng, today, bool(every) and number % every == 0
        )
        for number in range(1, count + 1)
    ]
    return {"cohort_page_id": cohort["id"], "learners": learners}
