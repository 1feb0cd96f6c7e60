"""Bad input of any shape: the configuration, the checklist and Notion's answers. Whatever the
input, the outcome is success or a clean `DsprogressError` (one line, an exit code, a hint),
never another exception.

Derandomized with a fixed number of examples, so CI runs the same cases in a bounded time."""

from __future__ import annotations

import json
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.checklist import parse_checklist
from sync.checklist_files import bundled_checklist_path
from sync.config import ENV_NAMES, load_settings
from sync.errors import DsprogressError
from sync.logs import RedactingFilter
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import parse_row, resolve_columns
from sync.notion.pacing import RetryPolicy

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)


@contextmanager
def secrets_kept() -> Iterator[None]:
    """Random values become registered secrets; forget them so other tests are not redacted."""
    before = set(RedactingFilter.secrets)
    try:
        yield
    finally:
        RedactingFilter.secrets.clear()
        RedactingFilter.secrets.update(before)


def succeeds_or_fails_cleanly(action: Any) -> None:
    try:
        action()
    except DsprogressError as exc:
        assert exc.message and "\n" not in exc.message
        assert isinstance(exc.exit_code, int) and exc.exit_code not in (0, 1)


# -- configuration ------------------------------------------------------------------------------
NASTY_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00")
    | st.sampled_from(["\u200b", "\ufeff", " ", "\n", "\t", "%", "é"]),
    max_size=30,
)
PLAUSIBLE = st.sampled_from(
    [
        "",
        "0",
        "5",
        "-1",
        "1e309",
        "nan",
        "15m",
        "mon 08:00",
        "https://x",
        "http://localhost:1",
        "Europe/Berlin",
        "true",
        "ntn_abcdefghijklmnop",
        "0123456789abcdef0123456789abcdef",
        "9" * 30 + "d",
        "99d",
    ]
)


@FUZZ
@given(st.dictionaries(st.sampled_from(ENV_NAMES), NASTY_TEXT | PLAUSIBLE, max_size=8))
def test_any_settings_load_or_give_a_config_error(values: dict[str, str]) -> None:
    with secrets_kept():
        succeeds_or_fails_cleanly(lambda: load_settings(None, **values))


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_any_env_file_loads_or_gives_a_config_error(content: bytes) -> None:
    with TemporaryDirectory() as folder, secrets_kept():
        env = Path(folder) / ".env"
        env.write_bytes(content)
        succeeds_or_fails_cleanly(lambda: load_settings(env))


# -- checklist ----------------------------------------------------------------------------------
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
BUNDLED = yaml.safe_load(bundled_checklist_path().read_text(encoding="utf-8"))


@FUZZ
@given(st.text(max_size=400))
def test_any_text_parses_as_a_checklist_or_gives_a_checklist_error(text: str) -> None:
    succeeds_or_fails_cleanly(lambda: parse_checklist(text, "fuzz.yaml"))


def _replace_somewhere(data: Any, path: list[int], value: Any) -> Any:
    """`data` with one node (chosen by `path`) replaced by `value`."""
    if not path or not isinstance(data, (dict, list)) or not data:
        return value
    keys = list(data) if isinstance(data, dict) else list(range(len(data)))
    key = keys[path[0] % len(keys)]
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[key] = _replace_somewhere(data[key], path[1:], value)
    return copy


@FUZZ
@given(st.lists(st.integers(0, 500), min_size=1, max_size=5), JSONISH)
def test_the_bundled_checklist_with_any_node_broken_parses_or_gives_a_checklist_error(
    path: list[int], value: Any
) -> None:
    broken = _replace_somewhere(BUNDLED, path, value)
    text = yaml.safe_dump(broken, allow_unicode=True)
    succeeds_or_fails_cleanly(lambda: parse_checklist(text, "fuzz.yaml"))


# -- Notion's answers ---------------------------------------------------------------------------
class _Answers(BaseHTTPRequestHandler):
    """A server that answers whatever the test sets: status and raw body."""

    protocol_version = "HTTP/1.1"
    status = 200
    body = b"{}"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def answers() -> Iterator[NotionAdapter]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    policy = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with NotionAdapter("ntn_fuzzfuzzfuzz", base, rate_limit=0, policy=policy) as notion:
        yield notion
    server.shutdown()
    server.server_close()


PROPERTY = st.fixed_dictionaries(
    {
        "id": st.text(string.ascii_letters, max_size=4),
        "type": st.sampled_from(
            ["title", "rich_text", "checkbox", "select", "number", "date", "url", "formula"]
        ),
    },
    optional={
        "title": JSONISH,
        "rich_text": JSONISH,
        "checkbox": JSONISH,
        "select": JSONISH,
        "number": JSONISH,
        "date": JSONISH,
        "url": JSONISH,
    },
)
PAGE = st.fixed_dictionaries(
    {"object": st.just("page"), "id": st.text(string.hexdigits, min_size=1, max_size=8)},
    optional={
        "properties": st.dictionaries(
            st.sampled_from(["Name", "Key", "Done", "Status", "Level", "Done on", "Notes"]),
            PROPERTY | JSONISH,
        )
        | JSONISH,
        "created_time": st.text(max_size=25) | JSONISH,
        "last_edited_time": st.sampled_from(["2026-11-30T08:00:00.000Z", "yesterday", ""]),
        "url": JSONISH,
    },
)
ANSWER = st.one_of(
    st.fixed_dictionaries(
        {"object": st.just("list"), "results": st.lists(PAGE, max_size=3) | JSONISH},
        optional={"has_more": JSONISH, "next_cursor": JSONISH},
    ).map(json.dumps),
    JSONISH.map(json.dumps),
    st.text(max_size=50),
)
SCHEMA = {
    name: {"id": name[:2], "type": kind}
    for name, kind in [
        ("Name", "title"),
        ("Key", "rich_text"),
        ("Done", "checkbox"),
        ("Status", "select"),
        ("Level", "select"),
        ("Done on", "date"),
        ("Notes", "rich_text"),
    ]
}


@FUZZ
@given(ANSWER, st.sampled_from([200, 200, 200, 400, 404, 500, 502]))
def test_any_answer_to_a_read_is_read_or_a_clean_error(
    answers: NotionAdapter, body: str, status: int
) -> None:
    _Answers.status = status
    _Answers.body = body.encode("utf-8", "surrogatepass")
    columns = resolve_columns(SCHEMA, {})

    def read() -> None:
        for page in answers.query_rows("0123456789abcdef0123456789abcdef", columns=columns):
            parse_row(page, columns)

    succeeds_or_fails_cleanly(read)


@FUZZ
@given(st.dictionaries(st.text(max_size=8), PROPERTY | JSONISH, max_size=6))
def test_any_database_schema_is_resolved_or_a_clean_error(properties: dict[str, Any]) -> None:
    succeeds_or_fails_cleanly(lambda: resolve_columns(properties, {}))
