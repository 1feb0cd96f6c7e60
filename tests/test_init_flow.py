"""`dsprogress init`: the pure pieces, the .env writer, and the whole setup against the sandbox,
non-interactively and through a pseudo-terminal (where the token must never be echoed)."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

from sync.access import (
    build_page_choices,
    fetch_page_choices,
    parse_token_owner,
    parse_token_text,
    render_token_owner,
)
from sync.errors import ConfigError
from sync.init_flow import (
    ENV_HEADER,
    InitChoices,
    build_env_file,
    run_init,
    write_env_file,
)
from sync.links import shown_url
from sync.notion.adapter import NotionAdapter
from sync.notion.views import BOARD_NAME, NEXT_UP_NAME, TABLE_NAME
from sync.sandbox import SandboxServer
from sync.snapshot import load_snapshot
from sync.store import open_store

ROOT = Path(__file__).resolve().parent.parent


# -- build_env_file ------------------------------------------------------------------------------
def test_new_env_file_has_a_header_and_the_values() -> None:
    text = build_env_file({"NOTION_TOKEN": "ntn_abc", "NOTION_DATABASE_ID": None})
    assert text.startswith(ENV_HEADER)
    assert "NOTION_TOKEN=ntn_abc\n" in text
    assert "NOTION_DATABASE_ID" not in text


def test_existing_env_file_keeps_other_lines_and_replaces_ours() -> None:
    existing = (
        "# my settings\n"
        "SMTP_HOST=mail.example.com\n"
        "NOTION_TOKEN=old\n"
        "export NOTION_DATABASE_ID=abc\n"
        "NOTION_TOKEN=older-duplicate\n"
    )
    text = build_env_file(
        {"NOTION_TOKEN": "ntn_new", "NOTION_DATABASE_ID": None, "NOTION_PARENT_PAGE_ID": "p"},
        existing,
    )
    assert text == (
        "# my settings\n"
        "SMTP_HOST=mail.example.com\n"
        "NOTION_TOKEN=ntn_new\n"
        "\n"
        "NOTION_PARENT_PAGE_ID=p\n"
    )


def test_values_are_quoted_so_that_dotenv_reads_them_back(tmp_path: Path) -> None:
    values = {"A": "two words", "B": "it's #1", "C": "back\\slash", "D": "plain_value-1.0"}
    path = tmp_path / ".env"
    path.write_text(build_env_file(values), encoding="utf-8")
    assert dotenv_values(path) == values


def test_a_value_cannot_span_lines() -> None:
    with pytest.raises(ConfigError):
        build_env_file({"NOTION_TOKEN": "a\nEVIL=1"})


# -- write_env_file ------------------------------------------------------------------------------
def test_env_file_is_written_with_mode_600(tmp_path: Path) -> None:
    path = write_env_file(tmp_path / ".env", "NOTION_TOKEN=x\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "NOTION_TOKEN=x\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temporary file left


def test_existing_env_file_is_not_overwritten_unless_told(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("KEEP=1\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        write_env_file(path, "NEW=1\n")
    assert caught.value.exit_code == 3 and "--force" in caught.value.hint
    assert path.read_text() == "KEEP=1\n"
    write_env_file(path, "NEW=1\n", overwrite=True)
    assert path.read_text() == "NEW=1\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- token and pages -----------------------------------------------------------------------------
def test_pasted_token_is_cleaned() -> None:
    assert parse_token_text("  'Bearer ntn_abc123'\n") == "ntn_abc123"
    with pytest.raises(ConfigError):
        parse_token_text("   ")
    with pytest.raises(ConfigError, match="spaces"):
        parse_token_text("ntn_abc def")


def test_token_owner_tells_integrations_from_personal_tokens() -> None:
    integration = {
        "object": "user",
        "type": "bot",
        "name": "Checklist",
        "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Home"},
    }
    info = parse_token_owner(integration)
    assert (info.kind, info.name, info.workspace) == ("integration", "Checklist", "Home")
    user_owned = {**integration, "bot": {"owner": {"type": "user", "user": {}}}}
    assert parse_token_owner(user_owned).kind == "personal"
    assert parse_token_owner({"type": "person", "name": "Ada"}).kind == "personal"


def _page(page_id: str, title: str, parent_type: str = "page_id", **extra: Any) -> dict[str, Any]:
    return {
        "object": "page",
        "id": page_id,
        "url": f"https://www.notion.so/{page_id}",
        "parent": {"type": parent_type},
        "properties": {"title": {"type": "title", "title": [{"plain_text": title}]}},
        **extra,
    }


def test_page_choices_skip_rows_and_trash_and_keep_the_search_order() -> None:
    results = [
        _page("b", "beta"),
        _page("r", "a row", "data_source_id"),
        _page("t", "trashed", in_trash=True),
        _page("a", "Alpha"),
        {"object": "database", "id": "d"},
    ]
    assert [c.page_id for c in build_page_choices(results)] == ["b", "a"]


# -- the command against the sandbox -------------------------------------------------------------
def cli_env(sandbox: SandboxServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    return {
        **base,
        "NOTION_BASE_URL": sandbox.base_url,
        "DSPROGRESS_STATE_DIR": str(tmp_path / "state"),
        "DSPROGRESS_RATE_LIMIT": "0",
        "DSPROGRESS_TIMEZONE": "UTC",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_no_secret(result: subprocess.CompletedProcess[str], secret: str) -> None:
    assert secret not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_init_non_interactive_sets_everything_up(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    result = run_cli(
        "init", "--non-interactive", "--parent", sandbox.root_page_id, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    assert_no_secret(result, sandbox.token)
    env_file = tmp_path / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dotenv_values(env_file)
    assert values["NOTION_TOKEN"] == sandbox.token
    assert values["NOTION_PARENT_PAGE_ID"] == sandbox.root_page_id
    # The database, recorded in the state, with its rows and the first snapshot.
    state_dir = tmp_path / "state"
    with open_store(state_dir) as store:
        database_id = store.get_meta("database_id")
        data_source_id = store.get_meta("data_source_id")
        database_url = store.get_meta("database_url")
        recorded_views = store.get_json_meta("views")
    assert database_id and data_source_id and database_url
    assert shown_url(database_url, sandbox.base_url) in result.stdout  # the sandbox's own link
    snapshot = load_snapshot(state_dir)
    assert snapshot is not None and snapshot.progress.total == len(snapshot.items) > 0
    assert len(sandbox.control.pages(data_source_id)) == snapshot.progress.total
    # The views, as Notion has them.
    with NotionAdapter(sandbox.token, sandbox.base_url, rate_limit=0) as notion:
        names = {notion.fetch_view(v["id"])["name"] for v in notion.list_views(database_id)}
    assert {BOARD_NAME, TABLE_NAME, NEXT_UP_NAME, "🌱 Entry", "🚀 Intermediate"} <= names
    assert {v["name"] for v in recorded_views} <= names
    # init made the Progress tab too, and says so.
    assert "Progress" in names and "✓ Progress tab" in result.stdout
    # And a working setup: status reads the snapshot, a sync has nothing to do.
    env.pop("NOTION_TOKEN")
    status = run_cli("status", cwd=tmp_path, env=env)
    assert status.returncode == 0 and "Last sync:" in status.stdout
    again = run_cli("sync", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "no changes" in again.stdout


def test_init_refuses_to_overwrite_env_unless_forced(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SMTP_HOST=mail.example.com\nNOTION_TOKEN=ntn_oldtokenvalue1\n")
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    args = ("init", "--non-interactive", "--parent", sandbox.root_page_id, "--no-sync")
    refused = run_cli(*args, cwd=tmp_path, env=env)
    assert refused.returncode == 3 and "--force" in refused.stderr
    assert "ntn_oldtokenvalue1" in env_file.read_text()
    forced = run_cli(*args, "--force", cwd=tmp_path, env=env)
    assert forced.returncode == 0, forced.stderr
    values = dotenv_values(env_file)
    assert values["SMTP_HOST"] == "mail.example.com"
    assert values["NOTION_TOKEN"] == sandbox.token
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_init_with_a_bad_token_writes_nothing(sandbox: SandboxServer, tmp_path: Path) -> None:
    secret = "ntn_thisisnotvalid123456"
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=secret)
    result = run_cli(
        "init", "--non-interactive", "--parent", sandbox.root_page_id, cwd=tmp_path, env=env
    )
    assert result.returncode == 5
    assert "rejected the token" in result.stderr and "Hint:" in result.stderr
    assert_no_secret(result, secret)
    assert not (tmp_path / ".env").exists()


def test_init_with_an_unshared_page_says_how_to_share(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    result = run_cli(
        "init", "--non-interactive", "--parent", sandbox.unshared_page_id, cwd=tmp_path, env=env
    )
    assert result.returncode == 6
    assert "not shared" in result.stderr and "Connections" in result.stderr
    assert not (tmp_path / ".env").exists()


def test_init_non_interactive_needs_its_options(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = run_cli("init", "--non-interactive", cwd=tmp_path, env=cli_env(sandbox, tmp_path))
    assert result.returncode == 3
    assert "--token" in result.stderr and "--parent" in result.stderr


def test_views_are_best_effort(sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.control.add_fault("error", method="POST", route="/v1/views", status=502, times=50)
    env = cli_env(sandbox, tmp_path, NOTION_TOKEN=sandbox.token)
    result = run_cli(
        "init", "--non-interactive", "--parent", sandbox.root_page_id, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "works without them" in result.stderr + result.stdout
    assert load_snapshot(tmp_path / "state") is not None


# -- interactive, through a pseudo-terminal ------------------------------------------------------
class Terminal:
    """A child process on a pseudo-terminal (its controlling tty, so getpass can hide input)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the command
            try:
                os.chdir(cwd)
                os.execve(args[0], args, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.output = io.BytesIO()
        self.mark = 0  # `expect` looks at what came after the last answer

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.output.write(chunk)
        return True

    @property
    def text(self) -> str:
        return self.output.getvalue().decode("utf-8", "replace")

    def expect(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recent = self.output.getvalue()[self.mark :].decode("utf-8", "replace")
            match = re.search(pattern, recent)
            if match:
                return match
            if not self._read(0.2):
                break
        raise AssertionError(f"never saw {pattern!r}; output so far:\n{self.text}")

    def send(self, line: str) -> None:
        self.mark = len(self.output.getvalue())
        os.write(self.fd, line.encode() + b"\r")

    def wait(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.2):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_interactive_init_never_echoes_the_token(sandbox: SandboxServer, tmp_path: Path) -> None:
    wrong = "ntn_wrongtokenvalue98765"
    env = cli_env(sandbox, tmp_path, TERM="dumb", COLUMNS="200")
    term = Terminal([sys.executable, "-m", "sync", "init"], tmp_path, env)
    term.expect("Paste your Notion token")
    term.send(wrong)
    term.expect("rejected the token")
    term.expect("Paste your Notion token")
    term.send(sandbox.token)
    term.expect("Token accepted")
    listing = term.expect(r"(\d+)\. dsprogress sandbox")
    term.expect("Number, words to search, or a page URL")
    term.send(listing.group(1))
    term.expect("Your time zone")
    term.send("")
    code = term.wait()
    output = term.text
    assert code == 0, output
    assert sandbox.token not in output and wrong not in output
    assert "Your checklist:" in output
    env_file = tmp_path / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dotenv_values(env_file)
    assert values["NOTION_TOKEN"] == sandbox.token
    assert values["NOTION_PARENT_PAGE_ID"] == sandbox.root_page_id
    assert load_snapshot(tmp_path / "state") is not None


def test_interactive_init_accepts_a_pasted_url_after_a_bad_one(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, TERM="dumb", COLUMNS="200", DSPROGRESS_TIMEZONE="UTC")
    term = Terminal(
        [sys.executable, "-m", "sync", "init", "--timezone", "UTC", "--no-sync"], tmp_path, env
    )
    term.expect("Paste your Notion token")
    term.send(sandbox.token)
    term.expect("Number, words to search, or a page URL")
    term.send(f"https://www.notion.so/Secret-{sandbox.unshared_page_id.replace('-', '')}")
    term.expect(r"(?s)Connections.*Number, words to search, or a page URL")
    term.send(f"https://www.notion.so/Root-{sandbox.root_page_id.replace('-', '')}?pvs=4")
    code = term.wait()
    assert code == 0, term.text
    assert sandbox.token not in term.text
    assert dotenv_values(tmp_path / ".env")["NOTION_PARENT_PAGE_ID"] == sandbox.root_page_id


def test_rerunning_init_keeps_the_settings_of_the_existing_env(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DSPROGRESS_RATE_LIMIT", "0")
    env_file = tmp_path / ".env"
    env_file.write_text(f"DSPROGRESS_STATE_DIR={tmp_path / 'mine'}\nNOTION_DATABASE_ID=\n")
    choices = InitChoices(sandbox.token, sandbox.root_page_id, base_url=sandbox.base_url)
    report = run_init(choices, env_path=env_file, overwrite=True)
    assert report.state_dir == tmp_path / "mine"
    assert load_snapshot(tmp_path / "mine") is not None
    assert dotenv_values(env_file)["DSPROGRESS_STATE_DIR"] == str(tmp_path / "mine")


def test_page_picker_reads_search_results_page_by_page_past_database_rows(
    sandbox: SandboxServer, notion: Any, sandbox_db: Any
) -> None:
    for n in range(30):  # rows come first in a search: they were edited last
        sandbox.control.add_row(sandbox_db.data_source_id, f"Row {n}")
    with NotionAdapter(sandbox.token, sandbox.base_url, rate_limit=0) as adapter:
        everything = list(adapter.iter_search_pages(page_size=10))
        assert len(everything) >= 31 and adapter.requests >= 4
        listing = fetch_page_choices(adapter)
        assert [c.page_id for c in listing.choices] == [sandbox.root_page_id]
        assert not listing.more
        capped = fetch_page_choices(adapter, max_scanned=5)
        assert capped.choices == [] and capped.more
        found = fetch_page_choices(adapter, "sandbox")
        assert [c.title for c in found.choices] == ["dsprogress sandbox"]
        assert fetch_page_choices(adapter, "nothing like it").choices == []


def test_token_kinds_are_named_as_notion_names_them() -> None:
    person = parse_token_owner({"type": "person", "name": "Ada"})
    assert render_token_owner(person) == "a personal access token, acting as 'Ada'"
    bot = {
        "type": "bot",
        "name": "dsp",
        "bot": {"owner": {"type": "workspace"}, "workspace_name": "Home"},
    }
    assert (
        render_token_owner(parse_token_owner(bot))
        == "an internal connection, 'dsp' in the workspace 'Home'"
    )
