"""Replaying recorded Notion traffic (vcrpy cassettes) against the sandbox, answer by answer.

A cassette is a sequence of real requests and Notion's real answers. The replayer sends each
request to the sandbox with the official SDK's raw `client.request(...)`, after putting the
sandbox's ids in place of the recorded ones, and compares the two answers key for key: status,
keys, JSON types, nested shapes, values, error code and message pattern. The only values allowed
to differ are listed under THE TOLERATED DIFFERENCES below, each with its reason.

Ids: the recorded workspace's ids mean nothing to the sandbox. A recorded id is bound to the
sandbox's id found at the same place in the two answers (the page a create returned, the blocks
an append returned, the data source of a new database); later requests use the bound id. A parent
page id the cassette never created is the recording's own top page: it stands for the sandbox's
shared root page (the "set-up" every recorded test started from).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import yaml
from notion_client import Client
from notion_client.errors import HTTPResponseError

from sync.sandbox import SandboxServer
from sync.sandbox.app import ROUTES
from sync.sandbox.routing import match_route

NOTION_HOST = "api.notion.com"
_UUID = r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"
UUID_IN_TEXT = re.compile(_UUID, re.IGNORECASE)
WHOLE_UUID = re.compile(f"^{_UUID}$", re.IGNORECASE)
QUIET = logging.getLogger("tests.replay")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False  # the SDK logs every 4xx as a warning; differences are reported instead
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Exchange:
    """One recorded request and Notion's answer."""

    cassette: str
    index: int
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    status: int
    answer: Any

    @property
    def name(self) -> str:
        return f"{self.cassette}#{self.index} {self.method} {self.path}"


def recording_time(exchanges: list[Exchange]) -> datetime | None:
    """When a cassette was recorded: the first created_time in its answers (UTC, naive)."""
    for exchange in exchanges:
        answer = exchange.answer
        if isinstance(answer, dict) and isinstance(answer.get("created_time"), str):
            stamp = answer["created_time"][:19]
            return datetime.fromisoformat(stamp)
    return None


def dashed(raw: str) -> str:
    digits = raw.replace("-", "").lower()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _json_or_text(raw: Any) -> Any:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_cassette(path: Path, root: Path) -> list[Exchange]:
    """The Notion API exchanges of one cassette, in order (other hosts are left out)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    exchanges = []
    for index, interaction in enumerate(data["interactions"]):
        request, response = interaction["request"], interaction["response"]
        parts = urlsplit(request["uri"])
        if parts.hostname != NOTION_HOST:
            continue
        raw_answer = response.get("content")
        if raw_answer is None and isinstance(response.get("body"), dict):
            raw_answer = response["body"].get("string")
        exchanges.append(
            Exchange(
                cassette=path.relative_to(root).with_suffix("").as_posix(),
                index=index,
                method=request["method"],
                path=parts.path,
                query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
                body=_json_or_text(request.get("body")),
                status=int(
                    response["status"]["code"] if "status" in response else response["status_code"]
                ),
                answer=_json_or_text(raw_answer),
            )
        )
    return exchanges


def load_cassettes(folder: Path) -> dict[str, list[Exchange]]:
    cassettes: dict[str, list[Exchange]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        exchanges = load_cassette(path, folder)
        if exchanges:
            cassettes[exchanges[0].cassette] = exchanges
    return cassettes


def implemented(exchange: Exchange) -> bool:
    """The sandbox has the endpoint; an answer given before routing (401, unknown URL) counts."""
    if match_route(ROUTES, exchange.method, exchange.path) is not None:
        return True
    answer = exchange.answer if isinstance(exchange.answer, dict) else {}
    return answer.get("code") in ("invalid_request_url", "unauthorized")


@dataclass
class Outcome:
    exchange: Exchange
    differences: list[str]

    @property
    def same(self) -> bool:
        return not self.differences


@dataclass
class IdMap:
    """Recorded id <-> sandbox id, one to one."""

    ours: dict[str, str] = field(default_factory=dict)
    theirs: dict[str, str] = field(default_factory=dict)

    def bind(self, recorded: str, sandbox: str) -> bool:
        """Bind two ids, or check an existing binding; False when they contradict one."""
        known = self.ours.get(recorded)
        if known is not None:
            return known == sandbox
        if sandbox in self.theirs:
            return self.theirs[sandbox] == recorded
        self.ours[recorded] = sandbox
        self.theirs[sandbox] = recorded
        return True


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def time_form(text: str) -> str:
    """`2026-07-04T09:08:00.000Z` -> `dddd-dd-ddTdd:dd:00.000Z`: the format, with the
    minute rounding kept visible."""
    form = re.sub(r"\d", "d", text)
    return form + " (minute)" if text.endswith(":00.000Z") else form


def recorded_pattern(text: str, ids: IdMap) -> str:
    """A recorded string with its ids replaced by the bound sandbox ids (32 hex digits)."""

    def swap(found: re.Match[str]) -> str:
        bound = ids.ours.get(dashed(found.group(0)))
        return bound.replace("-", "") if bound else "<unbound id>"

    # ultimate-notion rewrote `app.notion.com/p/` to `www.notion.so/` in its cassettes.
    text = text.replace("https://www.notion.so/", "https://app.notion.com/p/")
    return UUID_IN_TEXT.sub(swap, text)


def sandbox_pattern(text: str) -> str:
    return UUID_IN_TEXT.sub(lambda found: found.group(0).replace("-", ""), text)


class Replayer:
    """Replays the cassettes of one recorded workspace against one sandbox."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.ids = IdMap()
        self.last_status = 0
        self.client = self._client(sandbox.token)
        self.bad_token_client = self._client("ntn_replay_wrong_token")

    def _client(self, token: str) -> Client:
        """The official SDK, retries off; an httpx hook notes each answer's status (the SDK's
        `request` returns only the body of a success)."""

        def note(response: httpx.Response) -> None:
            self.last_status = response.status_code

        http = httpx.Client(event_hooks={"response": [note]})
        return Client(
            auth=token,
            base_url=self.sandbox.base_url,
            client=http,
            retry=False,
            timeout_ms=20_000,
            logger=QUIET,
        )

    def is_top_page(self, recorded_id: Any, sandbox_id: Any) -> bool:
        """The sandbox's root page, standing for the recording's top page (bound to it)."""
        root = self.sandbox.root_page_id
        if not isinstance(recorded_id, str) or not WHOLE_UUID.match(recorded_id):
            return False
        return sandbox_id == root and self.ids.bind(dashed(recorded_id), root)

    def begin(self, exchanges: list[Exchange]) -> None:
        """A new cassette: a fresh workspace, nothing bound, the clock at the recording's time
        (relative date filters such as `past_week` count from "today")."""
        self.sandbox.control.reset()
        self.ids = IdMap()
        recorded = recording_time(exchanges)
        if recorded is not None:
            now = datetime.fromisoformat(self.sandbox.control.advance_clock(0).replace("Z", ""))
            self.sandbox.control.advance_clock((recorded - now).total_seconds())

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.bad_token_client.close()

    # -- requests -------------------------------------------------------------------------
    def _swap_ids(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self._swap_ids(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._swap_ids(v, key) for v in value]
        if isinstance(value, str):
            return UUID_IN_TEXT.sub(lambda m: self._sandbox_id(m.group(0), key), value)
        return value

    def _sandbox_id(self, raw: str, key: str | None) -> str:
        recorded = dashed(raw)
        bound = self.ids.ours.get(recorded)
        root = self.sandbox.root_page_id
        if bound is None and key == "page_id" and self.ids.bind(recorded, root):
            bound = root  # a parent page the cassette did not create: the recording's top page
        if bound is None:
            return raw
        return bound if "-" in raw else bound.replace("-", "")

    def send(self, exchange: Exchange) -> tuple[int, Any]:
        path = self._swap_ids(exchange.path.removeprefix("/v1/"), "path")
        query = [(k, self._swap_ids(v, k)) for k, v in exchange.query]
        body = self._swap_ids(exchange.body) if isinstance(exchange.body, dict) else None
        client = self.bad_token_client if exchange.status == 401 else self.client
        try:
            answer = client.request(
                path=path,
                method=exchange.method,
                query=query or None,  # a list of pairs: httpx keeps repeated keys
                body=body,
            )
        except HTTPResponseError as error:
            return error.status, _json_or_text(error.body)
        return self.last_status, answer

    def replay(self, exchange: Exchange) -> Outcome:
        status, answer = self.send(exchange)
        differences: list[str] = []
        if status != exchange.status:
            differences.append(f"status {status}, recorded {exchange.status}")
        compare(exchange.answer, answer, "$", self, differences)
        return Outcome(exchange, differences)


# THE TOLERATED DIFFERENCES. Everything else must be equal (after ids are bound).
# 1. Data of the recording workspace, not behaviour:
#    - a user's name, avatar (a URL or null), e-mail, and the bot's workspace name and id;
USER_DATA_KEYS = {"name", "avatar_url", "email", "workspace_name", "workspace_id"}
#    - the recording's top page (the page every recorded test worked under, here the sandbox's
#      root page): its title, URL and editors are the workspace's; compared by shape only.
# 2. Values that differ on every call: `request_id` (by type), and timestamps, which must have
#    the same format and the same rounding to the minute (`time_form`).
FREE_KEYS = {"request_id"}
TIME_KEYS = {"created_time", "last_edited_time", "expiry_time"}
# 3. Ids: generated by each side, so bound one to one (`IdMap`) instead of compared; URLs and
#    messages that hold ids are compared with the bound ids put in (`recorded_pattern`).
# 4. `next_cursor`: a block id (checked where that block appears) or an opaque string.
# 5. Error messages: the integration's name is the recording's ("notion-sdk-py").


def compare(recorded: Any, ours: Any, path: str, replayer: Replayer, out: list[str]) -> None:
    """Append to `out` every difference between a recorded answer and the sandbox's."""
    if json_type(recorded) != json_type(ours):
        out.append(f"{path}: {json_type(ours)}, recorded {json_type(recorded)}")
        return
    if isinstance(recorded, dict):
        _compare_objects(recorded, ours, path, replayer, out)
    elif isinstance(recorded, list):
        if len(recorded) != len(ours):
            out.append(f"{path}: {len(ours)} items, recorded {len(recorded)}")
        for index, (left, right) in enumerate(zip(recorded, ours, strict=False)):
            compare(left, right, f"{path}[{index}]", replayer, out)
    elif isinstance(recorded, str):
        _compare_strings(recorded, ours, path, replayer, out)
    elif recorded != ours:
        out.append(f"{path}: {ours!r}, recorded {recorded!r}")


def _compare_objects(
    recorded: dict[str, Any], ours: dict[str, Any], path: str, replayer: Replayer, out: list[str]
) -> None:
    if set(recorded) != set(ours):
        missing, extra = sorted(set(recorded) - set(ours)), sorted(set(ours) - set(recorded))
        out.append(f"{path}: keys missing {missing}, extra {extra}")
    if recorded.get("id") is not None and replayer.is_top_page(recorded["id"], ours.get("id")):
        compare_shape(recorded, ours, path, out)
        return
    is_user = recorded.get("object") == "user" or path.endswith((".bot", ".person"))
    for key in [k for k in recorded if k in ours]:  # in order: ids come before URLs
        left, right = recorded[key], ours[key]
        if is_user and key in USER_DATA_KEYS:
            continue
        if key in FREE_KEYS:
            if json_type(left) != json_type(right):
                out.append(f"{path}.{key}: {json_type(right)}, recorded {json_type(left)}")
            continue
        if recorded.get("object") == "error" and key == "message":
            if _message_pattern(left, replayer) != _message_pattern(right, replayer):
                out.append(f"{path}.message: {right!r}, recorded {left!r}")
            continue
        compare(left, right, f"{path}.{key}", replayer, out)


def compare_shape(recorded: Any, ours: Any, path: str, out: list[str]) -> None:
    """Keys and JSON types only, for data of the recording workspace."""
    if json_type(recorded) != json_type(ours):
        out.append(f"{path}: {json_type(ours)}, recorded {json_type(recorded)}")
    elif isinstance(recorded, dict):
        if set(recorded) != set(ours):
            missing, extra = sorted(set(recorded) - set(ours)), sorted(set(ours) - set(recorded))
            out.append(f"{path}: keys missing {missing}, extra {extra}")
        for key in recorded.keys() & ours.keys():
            compare_shape(recorded[key], ours[key], f"{path}.{key}", out)
    elif isinstance(recorded, list) and recorded and ours:
        compare_shape(recorded[0], ours[0], f"{path}[0]", out)


def _message_pattern(message: str, replayer: Replayer) -> str:
    """An error message with ids and the integration's name taken out."""
    text = UUID_IN_TEXT.sub("<id>", message)
    return re.sub(r'your integration "[^"]*"', 'your integration "<name>"', text)


def _compare_strings(
    recorded: str, ours: str, path: str, replayer: Replayer, out: list[str]
) -> None:
    key = path.rsplit(".", 1)[-1]
    if key in TIME_KEYS:
        if time_form(recorded) != time_form(ours):
            out.append(f"{path}: {ours!r}, recorded {recorded!r} (format)")
        return
    if WHOLE_UUID.match(recorded) and WHOLE_UUID.match(ours):
        if not replayer.ids.bind(dashed(recorded), dashed(ours)):
            out.append(f"{path}: id {ours}, recorded {recorded} (bound elsewhere)")
        return
    if key == "id":
        # Property ids (`%3Djxv`): random short strings, bound one to one like the ids.
        if not replayer.ids.bind(recorded, ours):
            out.append(f"{path}: id {ours!r}, recorded {recorded!r} (bound elsewhere)")
        return
    if key == "next_cursor":
        return  # opaque or a block id that is checked where the block appears
    if recorded != ours and recorded_pattern(recorded, replayer.ids) != sandbox_pattern(ours):
        out.append(f"{path}: {ours!r}, recorded {recorded!r}")
