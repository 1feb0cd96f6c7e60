"""The first hour as a terminal shows it: `demo` and an interactive `init` run on a pseudo-terminal
(pexpect), and the screen is rebuilt the way a terminal renders it (pyte), so a progress line left
behind or glued to the next line would show up exactly as the learner would see it."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest
from notion_client import Client

from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import text
from tests.test_init_flow import ROOT, cli_env

COLUMNS, LINES = 100, 300
BAR = "━"


def spawn(args: list[str], cwd: Path, env: dict[str, str]) -> pexpect.spawn[Any]:
    env = {**env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
    env.pop("NO_COLOR", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "sync", *args],
        cwd=str(cwd),
        env=env,
        dimensions=(LINES, COLUMNS),
        encoding="utf-8",
        timeout=240,
        preexec_fn=restore_sigint,
    )


def restore_sigint() -> None:
    """Ctrl-C must reach the child even when the suite runs with SIGINT ignored (`nohup ... &`
    starts it so, and an ignored signal stays ignored across fork and exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def screen_of(raw: str) -> list[str]:
    """The lines a terminal of COLUMNS x LINES shows after receiving `raw`."""
    screen = pyte.Screen(COLUMNS, LINES)
    pyte.Stream(screen).feed(raw)
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def finish(child: pexpect.spawn[Any]) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    raw = child.logfile_read.getvalue() if child.logfile_read else ""
    return child.exitstatus or 0, raw


def record(child: pexpect.spawn[Any]) -> None:
    import io

    child.logfile_read = io.StringIO()


def assert_whole_lines(lines: list[str], *starts: str) -> None:
    for start in starts:
        assert any(line.startswith(start) for line in lines), (start, "\n".join(lines))


@pytest.mark.slow
def test_demo_on_a_terminal_leaves_no_progress_line_behind(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_"))}
    env["PYTHONPATH"] = str(ROOT)
    child = spawn(["demo", "--state-dir", str(tmp_path / "state")], tmp_path, env)
    record(child)
    code, raw = finish(child)
    lines = screen_of(raw)
    assert code == 0, "\n".join(lines)
    assert BAR in raw  # the bar was drawn while the checklist went into Notion...
    assert not any(
        BAR in line or "0/?" in line or "ETA" in line for line in lines
    )  # ...and cleared
    assert_whole_lines(
        lines,
        "Sandbox Notion at http://",
        "1. First sync: the checklist",
        "Sync done: 37 items added to Notion",
        "Created the checklist database: http://127.0.0.1:",  # the sandbox's own link
        "  ticked Done on 'Dense layers'",
        "Sync done: 3 items done",
        "Overall ",
        "In progress: 1",
        "Next: connect your real workspace",
    )
    assert sum(line.startswith("Snapshot:") for line in lines) == 1
    assert not any(".networks." in line for line in lines)  # titles, not keys


@pytest.fixture
def science_page(sandbox: SandboxServer, notion: Client) -> str:
    page = notion.pages.create(
        parent={"page_id": sandbox.root_page_id},
        properties={"title": {"title": text("Data Science progress")}},
    )
    return str(page["id"])


@pytest.mark.slow
def test_interactive_init_finds_the_page_by_name_and_prints_clean_lines(
    sandbox: SandboxServer, science_page: str, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, DSPROGRESS_RATE_LIMIT="40")
    child = spawn(["init"], tmp_path, env)
    record(child)
    child.expect("Paste your Notion token")
    child.sendline("ntn_" + "0" * 46)  # a wrong token: init asks again at once
    child.expect("Paste your Notion token")
    child.sendline(sandbox.token)
    child.expect("Token accepted: an internal connection")
    child.expect("Number, words to search, or a page URL")
    child.sendline("no such page anywhere")
    child.expect("Enter to look again")
    child.sendline("science")
    child.expect("Pages matching 'science'")
    child.expect(r"1\. Data Science progress")
    child.expect("Number, words to search, or a page URL")
    child.sendline("1")
    child.expect("Your time zone")
    child.sendline("")
    code, raw = finish(child)
    lines = screen_of(raw)
    assert code == 0, "\n".join(lines)
    assert sandbox.token not in raw
    assert BAR in raw
    assert not any(BAR in line or "0/?" in line for line in lines), "\n".join(lines)
    assert "Wrote .env (mode 600)." in lines
    assert_whole_lines(
        lines, "✓ First sync done: 37 items created", "Your checklist: http://127.0.0.1:"
    )
    personal = next(i for i, line in enumerate(lines) if "1. A personal access token" in line)
    assert personal < next(i for i, line in enumerate(lines) if "2. An internal connection" in line)
    at = next(i for i, line in enumerate(lines) if line.startswith("  Copy it again"))
    retry = "".join(lines[at : at + 3])  # the terminal wraps the long line
    assert "paste it below (2 tries left)" in retry and "run `dsprogress init`" not in retry
    assert not any("again []" in line for line in lines)
    assert not any("app.notion.com" in line for line in lines)  # sandbox ids: sandbox links
    from dotenv import dotenv_values

    assert dotenv_values(tmp_path / ".env")["NOTION_PARENT_PAGE_ID"] == science_page


@pytest.mark.slow
def test_ctrl_c_during_a_first_push_still_prints_the_database_url(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token, DSPROGRESS_RATE_LIMIT="4")
    env["NOTION_PARENT_PAGE_ID"] = sandbox.root_page_id
    child = spawn(["push"], tmp_path, env)
    record(child)
    child.expect(BAR)  # the database exists and items are being written
    child.sendintr()
    code, raw = finish(child)
    lines = screen_of(raw)
    assert code == 130, "\n".join(lines)
    at = next(i for i, line in enumerate(lines) if line.startswith("Your checklist database: "))
    assert lines[at].split(": ", 1)[1].startswith("https://")
    assert lines[at + 1] == "Run `dsprogress sync` to finish where this stopped."
    assert lines[-1] == "Aborted." and "Traceback" not in raw
