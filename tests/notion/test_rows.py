"""What every data-source query asks for: the property ids of every column the tool reads, derived
from the one schema spec, sent as the official SDKs send them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

import sync.notion.mapping
import sync.notion.rows
from sync.model import FIELDS, FieldSpec
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import build_database_schema, resolve_columns
from sync.notion.rows import QueryWindow, build_read_properties, is_incomplete


def schema_with_ids(ids: dict[str, str]) -> dict[str, Any]:
    """Every column of ours, as a data source answers it, with the given property ids."""
    schema = build_database_schema(["Entry"], ["General"])
    spec_by_name = {spec.default_name: spec for spec in sync.notion.mapping.FIELDS}
    return {
        name: {"id": ids.get(name, f"id-{spec_by_name[name].field}"), "type": next(iter(prop))}
        for name, prop in schema.items()
    }


def test_every_column_of_the_spec_is_read_including_the_tools_own() -> None:
    columns = resolve_columns(schema_with_ids({"Name": "title"}), {})
    properties = build_read_properties(columns)
    assert len(properties) == len(FIELDS)
    assert properties[0] == "title"
    for spec in FIELDS:
        assert columns.ids[spec.field] in properties
    owners = {spec.owner for spec in FIELDS}
    assert owners == {"checklist", "learner", "tool"}
    # the tool's own bookkeeping columns too: a row read without its Sync base looks base-less
    assert columns.ids["base"] in properties and columns.ids["retired"] in properties


def test_a_column_added_to_the_spec_is_read_with_no_other_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extended = (*FIELDS, FieldSpec("streak", "Streak", "rich_text", "tool"))
    monkeypatch.setattr(sync.notion.mapping, "FIELDS", extended)
    monkeypatch.setattr(sync.notion.rows, "FIELDS", extended)
    columns = resolve_columns(schema_with_ids({"Name": "title", "Streak": "b%3Fse"}), {})
    assert build_read_properties(columns)[-1] == "b?se"
    assert len(build_read_properties(columns)) == len(FIELDS) + 1


def test_a_missing_column_is_not_asked_for() -> None:
    properties = schema_with_ids({"Name": "title"})
    del properties["Notes"]
    columns = resolve_columns(properties, {})
    assert "id-notes" not in build_read_properties(columns)
    assert len(build_read_properties(columns)) == len(FIELDS) - 1


def test_incomplete_answers_are_told_apart() -> None:
    cut = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
    assert is_incomplete({"request_status": cut})
    assert not is_incomplete({"request_status": {"type": "complete"}})
    assert not is_incomplete({"results": []})


MOMENT = "2026-12-01T10:00:00.000Z"


def test_a_window_without_progress_halts() -> None:
    from sync.errors import SafetyHaltError

    window = QueryWindow({"property": "Key", "rich_text": {"equals": "a"}}, "looking")
    assert window.filter() == {"property": "Key", "rich_text": {"equals": "a"}}
    window.advance(MOMENT)
    assert window.filter() == {
        "and": [
            {"property": "Key", "rich_text": {"equals": "a"}},
            {
                "timestamp": "created_time",
                "created_time": {"on_or_after": "2026-12-01T10:00:00.000Z"},
            },
        ]
    }
    with pytest.raises(SafetyHaltError, match="query_result_limit_reached"):
        window.advance(MOMENT)


# -- on the wire ---------------------------------------------------------------------------------
class _Recorder(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        _Recorder.paths.append(self.path)
        body = json.dumps({"object": "list", "results": [], "has_more": False}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_property_ids_go_on_the_wire_encoded_once_like_the_official_sdk(recorder: str) -> None:
    properties = schema_with_ids({"Name": "title", "Key": "%3AUPp", "Done": "a%2Cb"})
    columns = resolve_columns(properties, {})
    with NotionAdapter("ntn_test_token_0000", recorder, rate_limit=0) as notion:
        assert notion.query_rows("0123456789abcdef0123456789abcdef", columns=columns) == []
    [path] = _Recorder.paths
    raw_query = urlsplit(path).query
    assert "filter_properties=%3AUPp" in raw_query  # the JS SDK's decodeURIComponent, then once
    assert "%253A" not in raw_query
    sent = parse_qs(raw_query)["filter_properties"]
    assert sent[:4] == ["title", ":UPp", "a,b", "id-status"]
    assert len(sent) == len(FIELDS)
