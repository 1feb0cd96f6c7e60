"""The subcommands load lazily: `--help` imports none of them, and its list stays true to them."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from sync.cli import cli
from sync.cli.registry import COMMANDS, load_command

HEAVY = ("sync.cli.", "rich", "pydantic", "httpx", "notion_client", "yaml", "jinja2", "sqlite3")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_listed_help_line_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert command is not None
    assert command.name == name
    assert COMMANDS[name][2] == command.get_short_help_str(limit=10_000)


def test_help_lists_every_command_with_its_line() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for name, (_, _, short) in COMMANDS.items():
        assert f"  {name} " in result.output
        assert short in result.output


@pytest.mark.parametrize("width", [60, 80, 100])
def test_help_never_cuts_a_description_and_says_where_to_start(width: int) -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=width)
    assert result.exit_code == 0
    assert "..." not in result.output.split("Commands:")[1]
    assert all(len(line) <= width for line in result.output.splitlines())
    flat = " ".join(result.output.split())
    for short in (line for _, _, line in COMMANDS.values()):
        assert " ".join(short.split()) in flat
    assert "Start with `dsprogress init`" in flat


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output
    with click.Context(cli) as ctx:
        assert cli.get_command(ctx, "frobnicate") is None


def _modules_after(args: list[str]) -> list[str]:
    code = (
        "import sys\n"
        "from sync.cli import cli\n"
        f"try:\n    cli.main({args!r}, prog_name='dsprogress')\n"
        "except SystemExit:\n    pass\n"
        f"print(' '.join(m for m in sys.modules if m.startswith({HEAVY!r})), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stderr.split()


def test_help_imports_no_subcommand_and_no_heavy_library() -> None:
    # output holds the --verbose/--quiet flags; its rich consoles are made on first use
    assert sorted(_modules_after(["--help"])) == ["sync.cli.output", "sync.cli.registry"]


def test_a_subcommand_imports_only_its_own_module() -> None:
    loaded = _modules_after(["checklist", "--help"])
    assert "sync.cli.checklist_cmd" in loaded
    others = {module for module, _, _ in COMMANDS.values()} - {"sync.cli.checklist_cmd"}
    assert not others & set(loaded)
