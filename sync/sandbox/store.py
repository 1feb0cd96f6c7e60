"""The sandbox's workspace: in-memory state, sharing, the clock and the JSON data file.

All state is plain JSON (`self.state`) so that it persists as is. Every reader and writer holds
`self.lock`. Object records (pages, databases, data sources, blocks, views) are dicts keyed by
their dashed id; timestamps are epoch seconds of the sandbox clock (real time + offset).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from sync.sandbox.ids import JSON, new_id, normalize_id, page_url
from sync.sandbox.richtext import plain_text, text_items
from sync.sandbox.validate import archived, invalid_id, not_found, user_not_found

DATA_FORMAT = "dsprogress-sandbox/1"
DEFAULT_INTEGRATION_NAME = "dsprogress sandbox"
ROOT_PAGE_TITLE = "dsprogress sandbox"
UNSHARED_PAGE_TITLE = "Private notes (not shared with the integration)"
LEARNER_NAME = "Sandbox Learner"
LEARNER_EMAIL = "learner@example.com"

_TABLES = {
    "page": "pages",
    "database": "databases",
    "data source": "data_sources",
    "block": "blocks",
    "view": "views",
}


class DataFileError(Exception):
    """The --data file exists but is not a sandbox state file."""


class Workspace:
    """One Notion workspace with one integration (the bot) and one person (the learner)."""

    def __init__(
        self,
        *,
        integration_name: str = DEFAULT_INTEGRATION_NAME,
        data_path: Path | None = None,
        seed: int | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.integration_name = integration_name
        self.data_path = data_path
        self.rng = random.Random(seed)
        if data_path is not None and data_path.exists():
            self.state = self._load(data_path)
        else:
            self.state = self._fresh(None)
            if data_path is not None:
                # Write the file now: a folder that cannot be created or written is refused at
                # start, not discovered on the first write (every one of which would fail).
                try:
                    self.save()
                except OSError as exc:
                    raise DataFileError(
                        f"{data_path} cannot be written: {exc.strerror or exc}"
                    ) from exc

    # -- identity -------------------------------------------------------------------------
    @property
    def bot_id(self) -> str:
        return str(self.state["bot_id"])

    @property
    def person_id(self) -> str:
        return str(self.state["person_id"])

    @property
    def root_page_id(self) -> str:
        return str(self.state["root_page_id"])

    @property
    def unshared_page_id(self) -> str:
        return str(self.state["unshared_page_id"])

    # -- lifecycle ------------------------------------------------------------------------
    def _fresh(self, keep: JSON | None) -> JSON:
        ids = keep or {
            "workspace_id": new_id(),
            "bot_id": new_id(),
            "person_id": new_id(),
            "root_page_id": new_id(),
            "unshared_page_id": new_id(),
        }
        state: JSON = {"format": DATA_FORMAT, **ids}
        state.update(
            {
                "workspace_name": "Sandbox workspace",
                "clock_offset": 0.0,
                "seq": 0,
                "pages": {},
                "databases": {},
                "data_sources": {},
                "blocks": {},
                "views": {},
            }
        )
        self.state = state
        for page_id, title, shared in (
            (ids["root_page_id"], ROOT_PAGE_TITLE, True),
            (ids["unshared_page_id"], UNSHARED_PAGE_TITLE, False),
        ):
            page = self.new_page(
                parent={"type": "workspace", "workspace": True},
                actor=ids["person_id"],
                values={"title": text_items(title)},
                page_id=page_id,
            )
            page["shared"] = shared
        return state

    def reset(self) -> None:
        """A fresh workspace with the same ids for the root page, unshared page and users."""
        with self.lock:
            keep = {
                key: self.state[key]
                for key in (
                    "workspace_id",
                    "bot_id",
                    "person_id",
                    "root_page_id",
                    "unshared_page_id",
                )
            }
            self.state = self._fresh(keep)

    @staticmethod
    def _load(path: Path) -> JSON:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{path} cannot be read as sandbox state: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != DATA_FORMAT:
            raise DataFileError(f"{path} is not a sandbox state file (format {DATA_FORMAT}).")
        return state

    def save(self) -> None:
        """Write the state atomically (temp file, fsync, rename) when a data file is set."""
        if self.data_path is None:
            return
        with self.lock:
            text = json.dumps(self.state, ensure_ascii=False, separators=(",", ":"))
            path = self.data_path
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            if hasattr(os, "O_DIRECTORY"):
                fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    # -- clock ----------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + float(self.state["clock_offset"])

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.state["clock_offset"] = float(self.state["clock_offset"]) + seconds

    def next_seq(self) -> int:
        self.state["seq"] = int(self.state["seq"]) + 1
        return int(self.state["seq"])

    # -- tables ---------------------------------------------------------------------------
    def table(self, name: str) -> dict[str, JSON]:
        table: dict[str, JSON] = self.state[name]
        return table

    @property
    def pages(self) -> dict[str, JSON]:
        return self.table("pages")

    @property
    def databases(self) -> dict[str, JSON]:
        return self.table("databases")

    @property
    def data_sources(self) -> dict[str, JSON]:
        return self.table("data_sources")

    @property
    def blocks(self) -> dict[str, JSON]:
        return self.table("blocks")

    @property
    def views(self) -> dict[str, JSON]:
        return self.table("views")

    # -- record creation ------------------------------------------------------------------
    def new_page(
        self,
        *,
        parent: JSON,
        actor: str,
        values: dict[str, Any],
        icon: JSON | None = None,
        page_id: str | None = None,
    ) -> JSON:
        now = self.now()
        page: JSON = {
            "id": page_id or new_id(),
            "parent": parent,
            "created_time": now,
            "last_edited_time": now,
            "created_by": actor,
            "last_edited_by": actor,
            "icon": icon,
            "cover": None,
            "in_trash": False,
            "is_locked": False,
            "values": values,
            "children": [],
            "seq": self.next_seq(),
        }
        self.pages[page["id"]] = page
        if parent["type"] == "page_id":
            self.pages[parent["page_id"]]["children"].append(page["id"])
        elif parent["type"] == "data_source_id":
            self.data_sources[parent["data_source_id"]]["row_ids"].append(page["id"])
        return page

    def touch(self, record: JSON, actor: str) -> None:
        record["last_edited_time"] = self.now()
        record["last_edited_by"] = actor

    # -- lookups --------------------------------------------------------------------------
    def lookup(self, kind: str, raw_id: Any, param: str, *, shared_only: bool = True) -> JSON:
        """The record of an id from a path or body; 400 for a malformed id, 404 when unknown or
        not shared with the integration. `param` names the id: `page_id` (path) or a body path."""
        object_id = normalize_id(raw_id) if isinstance(raw_id, str) else None
        if object_id is None:
            raise invalid_id(param, raw_id)
        record = self.table(_TABLES[kind]).get(object_id)
        if record is None or (shared_only and not self.is_shared(kind, record)):
            raise self.not_found(kind, object_id)
        return record

    def not_found(self, kind: str, object_id: str) -> Exception:
        return not_found(kind, object_id, self.integration_name, self.bot_id)

    def lookup_container(
        self, raw_id: str, *, shared_only: bool = True, databases: bool = False
    ) -> tuple[str, JSON]:
        """A page or a block, for the block-children endpoints; with `databases`, a database too
        (retrieving or deleting a block answers a database as a child_database block)."""
        object_id = normalize_id(raw_id)
        if object_id is None:
            raise invalid_id("block_id", raw_id)
        tables = [("page", self.pages), ("block", self.blocks)]
        if databases:
            tables.append(("database", self.databases))
        for kind, table in tables:
            record = table.get(object_id)
            if record is not None and (not shared_only or self.is_shared(kind, record)):
                return kind, record
        raise self.not_found("block", object_id)

    def _parent_of(self, kind: str, record: JSON) -> tuple[str, JSON | None] | None:
        if kind in ("data source", "view"):
            return "database", self.databases.get(record["database_id"])
        parent = record["parent"]
        ptype = parent["type"]
        if ptype == "workspace":
            return None
        if ptype == "page_id":
            return "page", self.pages.get(parent["page_id"])
        if ptype == "data_source_id":
            return "data source", self.data_sources.get(parent["data_source_id"])
        if ptype == "database_id":
            return "database", self.databases.get(parent["database_id"])
        return "block", self.blocks.get(parent["block_id"])

    def is_shared(self, kind: str, record: JSON) -> bool:
        """Sharing is inherited: an object is visible when its top-level page is shared."""
        current_kind, current = kind, record
        for _ in range(1000):
            if current_kind == "page" and "shared" in current:
                return bool(current["shared"])
            step = self._parent_of(current_kind, current)
            if step is None or step[1] is None:
                return False
            current_kind, current = step[0], step[1]
        return False

    def in_trash(self, kind: str, record: JSON) -> bool:
        """True when the object or any of its ancestors is in the trash."""
        current_kind, current = kind, record
        for _ in range(1000):
            if current.get("in_trash"):
                return True
            step = self._parent_of(current_kind, current)
            if step is None or step[1] is None:
                return False
            current_kind, current = step[0], step[1]
        return False

    def check_editable(self, kind: str, record: JSON) -> None:
        if self.in_trash(kind, record):
            raise archived()

    # -- users ----------------------------------------------------------------------------
    def user_object(self, user_id: str) -> JSON:
        """A full user object: the bot (the integration) or the person (the learner)."""
        if user_id == self.bot_id:
            return {
                "object": "user",
                "id": self.bot_id,
                "name": self.integration_name,
                "avatar_url": None,
                "type": "bot",
                "bot": {
                    "owner": {"type": "workspace", "workspace": True},
                    "workspace_name": self.state["workspace_name"],
                    "workspace_id": self.state["workspace_id"],
                    "workspace_limits": {"max_file_upload_size_in_bytes": 5242880},
                },
            }
        return {
            "object": "user",
            "id": user_id,
            "name": LEARNER_NAME,
            "avatar_url": None,
            "type": "person",
            "person": {"email": LEARNER_EMAIL, "email_verified": True},
        }

    def user_in_value(self, user_id: str) -> JSON:
        """A user inside a value or a mention: the bot's payload is `{}`, a person's holds only
        the e-mail (as recorded)."""
        user = self.user_object(user_id)
        if user["type"] == "bot":
            user["bot"] = {}
        else:
            user["person"] = {"email": user["person"]["email"]}
        return user

    def mention_target(
        self, kind: str, object_id: str, *, shared_only: bool = True
    ) -> tuple[JSON, str, str | None]:
        """What a mention of a page, database or user shows: (payload, plain_text, href)."""
        if kind == "user":
            if object_id not in (self.bot_id, self.person_id):
                raise user_not_found(object_id, self.bot_id)
            user = self.user_in_value(object_id)
            return user, f"@{user['name']}", None
        record = self.lookup(kind, object_id, f"{kind}_id", shared_only=shared_only)
        title = record["values"].get("title") if kind == "page" else record["title"]
        return {"id": record["id"]}, plain_text(title) or "Untitled", page_url("", record["id"])
