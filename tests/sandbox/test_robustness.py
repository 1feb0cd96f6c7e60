"""Bad requests to the sandbox get Notion's 400, never a 500, a hang-up or a broken sandbox."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sync.cli.sandbox_cmd import sandbox as sandbox_command
from sync.errors import ConfigError, StateError
from sync.sandbox import SandboxServer
from sync.sandbox.store import DataFileError

from ..sandbox_fixtures import raw_http


@pytest.mark.parametrize("seconds", ["1e300", "-1e300", "NaN", "Infinity", "3.2e9"])
def test_an_absurd_clock_advance_is_refused_and_the_clock_keeps_working(
    sandbox: SandboxServer, seconds: str
) -> None:
    url = f"{sandbox.base_url}/__sandbox/clock"
    before = httpx.post(url, json={}).json()["now"]
    answer = httpx.post(
        url,
        content=f'{{"advance_seconds": {seconds}}}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert "advance_seconds must be a finite number" in answer.json()["message"]
    assert httpx.post(url, json={}).json()["now"][:10] == before[:10]
    sandbox.control.advance_clock(86400)  # still usable
    with raw_http(sandbox) as http:
        assert http.get(f"/v1/pages/{sandbox.root_page_id}").status_code == 200


def test_a_body_nested_100000_deep_is_a_400_like_notion(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = '{"filter": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with raw_http(sandbox) as http:
        answer = http.post("/v1/search", content=deep, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        assert answer.json()["code"] == "invalid_json"
        assert http.post("/v1/search", json={}).status_code == 200
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out


def _raw_request(sandbox: SandboxServer, head: str) -> bytes:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as conn:
        conn.sendall(head.encode())
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "99999999999999999999"])
def test_a_content_length_that_is_not_a_size_is_answered_400(
    sandbox: SandboxServer, length: str
) -> None:
    answer = _raw_request(
        sandbox,
        f"POST /v1/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sandbox.token}\r\n"
        f"Notion-Version: 2025-09-03\r\nContent-Length: {length}\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["code"] == "invalid_request"


def test_a_data_file_that_cannot_be_written_is_refused_at_start(tmp_path: Path) -> None:
    under_a_file = tmp_path / "a-file"  # a regular file: no one can create a folder under it
    under_a_file.write_text("x")
    with pytest.raises(DataFileError, match="cannot be written"):
        SandboxServer(data_path=under_a_file / "folder" / "workspace.json")
    args = ["--port", "0", "--data", str(under_a_file / "w.json")]
    result = CliRunner().invoke(sandbox_command, args)
    assert isinstance(result.exception, StateError) and result.exception.exit_code == 10
    assert result.exception.message.startswith("the sandbox's data file: ")
    assert "cannot be written" in result.exception.message


def test_a_port_in_use_is_a_configuration_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(sandbox_command, ["--port", port])
    assert isinstance(result.exception, ConfigError) and result.exception.exit_code == 3
    assert result.exception.message.startswith(f"the sandbox cannot listen on 127.0.0.1:{port}")


def test_a_data_file_in_a_missing_folder_is_created_at_start(tmp_path: Path) -> None:
    data = tmp_path / "new-folder" / "workspace.json"
    with SandboxServer(rate_limit=None, data_path=data):
        assert json.loads(data.read_text(encoding="utf-8"))["format"]
