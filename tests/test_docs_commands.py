"""README and docs/guide.md match the commands exactly: every command is in the README's command
table and the guide's, every option the README names exists in that command's `--help`, and every
option in a command's `--help` is explained in the guide (the sandbox's in docs/sandbox.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from sync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
GLOBAL_FLAGS = {"--help", "--verbose", "--quiet", "--version"}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
CODE = re.compile(r"`([^`]+)`")
RUN_COMMANDS = {("push",), ("pull",), ("sync",)}  # the guide's `--dry-run`, ... row is theirs


def leaf_commands() -> Iterator[tuple[str, ...]]:
    def walk(group: click.Group, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            if isinstance(command, click.Group):
                yield from walk(command, (*path, name))
            else:
                yield (*path, name)

    yield from walk(cli, ())


def help_flags(path: tuple[str, ...]) -> set[str]:
    """The options `dsprogress PATH --help` lists (each option line starts `  -x, --name ...`)."""
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    options = result.output.split("Options:", 1)[1]
    names = [line.strip().split("  ")[0] for line in options.splitlines() if line.startswith("  -")]
    return {flag for name in names for flag in FLAG.findall(name)}


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("## "):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows[1:]  # without the header


def readme_segments() -> Iterator[tuple[tuple[str, ...], str]]:
    """(command path, text) for each command the README's table names (`a` / `b` share a prefix)."""
    commands = set(leaf_commands())
    groups = {path[:-1] for path in commands if len(path) > 1}
    for first, *_ in table_rows((ROOT / "README.md").read_text(), "## Commands"):
        prefix: tuple[str, ...] = ()
        for code in CODE.findall(first):
            words = code.split()
            if words[0] == "dsprogress":
                words = words[1:]
                prefix = (words[0],) if (words[0],) in groups else ()
                if prefix:
                    words = words[1:]
            path = (*prefix, words[0])
            assert path in commands, f"the README names {' '.join(path)!r}, which is no command"
            yield path, code


def test_every_command_is_in_the_readme_table_with_real_options() -> None:
    named: set[tuple[str, ...]] = set()
    for path, text in readme_segments():
        named.add(path)
        unknown = set(FLAG.findall(text)) - help_flags(path)
        assert not unknown, f"README: `dsprogress {' '.join(path)}` has no {sorted(unknown)}"
    missing = set(leaf_commands()) - named
    assert not missing, f"commands missing from the README's table: {sorted(missing)}"


def test_every_option_of_every_command_is_explained_in_the_guide() -> None:
    rows = table_rows((ROOT / "docs" / "guide.md").read_text(), "## Every command, with an example")
    sandbox_doc = (ROOT / "docs" / "sandbox.md").read_text()
    for path in leaf_commands():
        name = " ".join(path)
        text = ""
        for row in rows:
            codes = CODE.findall(row[0])
            names_it = any(code == name or code.startswith(name + " ") for code in codes)
            shared = bool(codes) and codes[0].startswith("--") and path in RUN_COMMANDS
            if names_it or shared:
                text += " ".join(row)
        assert text, f"the guide's command table has no row for `{name}`"
        documented = set(FLAG.findall(text + (sandbox_doc if path == ("sandbox",) else "")))
        missing = help_flags(path) - GLOBAL_FLAGS - documented
        assert not missing, f"guide: `dsprogress {name}` does not explain {sorted(missing)}"


def test_every_command_takes_verbose_and_quiet_after_its_name() -> None:
    for path in leaf_commands():
        assert {"--verbose", "--quiet", "--help"} <= help_flags(path), path


def test_the_guide_shows_the_digest_screenshots_that_the_script_renders() -> None:
    guide = (ROOT / "docs" / "guide.md").read_text()
    script = (ROOT / "scripts" / "screenshots").read_text()
    for name, width in (("digest-800.png", 800), ("digest-400.png", 400)):
        png = (ROOT / "docs" / name).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(png[16:20], "big") == width  # the IHDR's width
        assert f'src="{name}"' in guide and f"docs/{name}" in script
