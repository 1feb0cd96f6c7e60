"""Replaying recorded Notion traffic (vcrpy cassettes) against the sandbox, answer by answer.

A cassette is a sequence of real requests and Notion's real answers. The replayer sends each
request to the sandbox with the official SDK's raw `client.request(...)`, after putting the
sandbox's ids in place of the recorded ones, and compares the two answers key for key: status,
keys, JSON types, nested shapes, values, error code and message pattern. The only values allowed
to differ are listed in `compare` below, each with its reason.

Ids: the recorded workspace's ids mean nothing to the sandbox. A recorded id is bound to the
sandbox's id found at the same place in the two answers (the page a create returned, the blocks
an append returned, the data source of a new database); later requests use the bound id. A page
id the cassette never created is the recording's own top page: it stands for the sandbox's
shared root page (the "set-up" every recorded test started from).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
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
                status=int(response["status"]["code"]),
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

    def forget_ids(self) -> None:
        """A new cassette: a new recorded workspace state, nothing bound yet."""
        self.ids = IdMap()

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

    def replay_all(self, exchanges: list[Exchange]) -> Iterator[Outcome]:
        for exchange in exchanges:
            if implemented(exchange):
                yield self.replay(exchange)


# Keys whose values are data of the recording workspace, not behaviour: compared by type only.
# - a user's name, avatar and e-mail, and the bot's workspace (another workspace, other people);
# - request_id (random per answer);
# - `color` of a select option Notion created on write (it picks one at random).
USER_DATA_KEYS = {"name", "avatar_url", "email", "workspace_name", "workspace_id"}
ALWAYS_FREE_KEYS = {"request_id"}
TIME_KEYS = {"created_time", "last_edited_time", "expiry_time"}


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
    is_user = recorded.get("object") == "user" or path.endswith(".bot")
    for key in recorded.keys() & ours.keys():
        left, right = recorded[key], ours[key]
        if key in ALWAYS_FREE_KEYS or (is_user and key in USER_DATA_KEYS):
            if json_type(left) != json_type(right):
                out.append(f"{path}.{key}: {json_type(right)}, recorded {json_type(left)}")
            continue
        if recorded.get("object") == "error" and key == "message":
            if _message_pattern(left, replayer) != _message_pattern(right, replayer):
                out.append(f"{path}.message: {right!r}, recorded {left!r}")
            continue
        compare(left, right, f"{path}.{key}", replayer, out)


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
