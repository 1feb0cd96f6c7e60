"""`dsprogress sandbox`: options, help and a real run until SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from sync.cli.sandbox_cmd import sandbox
from sync.errors import StateError


def test_the_command_is_registered() -> None:
    from sync.cli import cli

    with click.Context(cli) as ctx:
        assert cli.get_command(ctx, "sandbox") is sandbox


def test_help_documents_every_option() -> None:
    result = CliRunner().invoke(sandbox, ["--help"])
    assert result.exit_code == 0
    options = [p for p in sandbox.params if isinstance(p, click.Option)]
    assert {o.name for o in options} >= {
        "host",
        "port",
        "token",
        "data_path",
        "rate_limit",
        "burst",
        "latency_ms",
        "fail_rate",
        "fail_status",
        "drop_rate",
        "faults",
        "seed",
        "integration_name",
        "as_json",
    }
    for option in options:
        assert option.help, option.name
        assert option.opts[0] in result.output
    assert "Ctrl-C" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "loopback only"),
        (["--fault", "{not json"], "not JSON"),
        (["--fault", '{"kind": "explode"}'], "kind must be one of"),
        (["--fail-rate", "2"], "--fail-rate"),
        (["--fail-status", "418"], "--fail-status"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(sandbox, ["--port", "0", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_foreign_data_file_is_an_error(tmp_path: Path) -> None:
    data = tmp_path / "x.json"
    data.write_text("[]", encoding="utf-8")
    result = CliRunner().invoke(sandbox, ["--port", "0", "--data", str(data)])
    assert isinstance(result.exception, StateError) and result.exception.exit_code == 10
    assert "not a sandbox state file" in result.exception.message


@pytest.mark.slow
def test_runs_until_sigterm_and_exits_0(tmp_path: Path) -> None:
    data = tmp_path / "workspace.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "sync", "sandbox", "--port", "0", "--json", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        details = json.loads(process.stdout.readline())
        assert details["rate_limit"] == 3.0 and details["burst"] == 10
        headers = {"Authorization": f"Bearer {details['token']}", "Notion-Version": "2025-09-03"}
        with httpx.Client(base_url=details["base_url"], headers=headers) as http:
            root = http.get(f"/v1/pages/{details['root_page_id']}")
            assert root.status_code == 200
            hidden = http.get(f"/v1/pages/{details['unshared_page_id']}")
            assert hidden.status_code == 404
            created = http.post(
                "/v1/pages", json={"parent": {"page_id": details["root_page_id"]}, "properties": {}}
            )
            assert created.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    state = json.loads(data.read_text(encoding="utf-8"))
    assert created.json()["id"] in state["pages"]


def test_docs_sandbox_md_lists_the_fail_statuses_and_fault_kinds_of_sandbox_help() -> None:
    """docs/sandbox.md and `dsprogress sandbox --help` name the same statuses and kinds."""
    import re
    from pathlib import Path

    from click.testing import CliRunner

    from sync.cli import cli
    from sync.cli.sandbox_cmd import FAIL_STATUSES
    from sync.sandbox.faults import KINDS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text("utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `--fail-status S`"))
    assert re.findall(r"\b\d{3}\b", row.split("|")[3]) == FAIL_STATUSES
    table = doc[doc.index("| kind | effect |") :].split("\n\n")[0]
    assert re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE) == list(KINDS)
    shown = " ".join(
        CliRunner().invoke(cli, ["sandbox", "--help"], terminal_width=200).output.split()
    )
    assert f"Kinds: {', '.join(KINDS)} " in shown
    assert f"[{'|'.join(FAIL_STATUSES)}]" in shown
