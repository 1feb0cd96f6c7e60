"""Consoles shared by the commands (stdout for results, stderr for messages and errors), and the
options every command takes (--verbose, --quiet), before or after the subcommand's name."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    console: Console
    err_console: Console

_consoles: dict[str, Console] = {}


def __getattr__(name: str) -> Console:
    """`console` and `err_console`, made on first use: `--help` never loads rich."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _consoles:
        from rich.console import Console

        _consoles[name] = Console(stderr=name == "err_console", highlight=False, soft_wrap=True)
    return _consoles[name]


def print_wrapped(markup: str, head: str = "", indent: int = 0, out: Console | None = None) -> None:
    """Print `head` then `markup`, wrapped to the terminal's width between words; later lines
    start at `indent` columns (a hanging indent), no trailing spaces. `head` is markup too."""
    from rich.text import Text

    target = out or __getattr__("console")
    first = Text.from_markup(head)
    room = max(20, target.width - max(indent, first.cell_len))
    lines = Text.from_markup(markup).wrap(target, room)
    for number, line in enumerate(lines):
        line.rstrip()
        target.print(Text.assemble(first if number == 0 else " " * indent, line), soft_wrap=True)


def echo_json(data: Any) -> None:
    """Print machine-readable output: plain JSON on stdout, no colour, stable key order."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _flags() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    root = ctx.find_root()
    if not isinstance(root.obj, dict):
        root.obj = {}
    return root.obj


def is_verbose() -> bool:
    return bool(_flags().get("verbose"))


def is_quiet() -> bool:
    """--quiet: no progress display and no narration; results, warnings and errors only."""
    return bool(_flags().get("quiet")) and not is_verbose()


def _remember_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        _flags()["verbose"] = True
        from sync.logs import configure_logging

        configure_logging(verbose=True)
    return value


def _remember_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        _flags()["quiet"] = True
    return value


def common_options() -> list[click.Option]:
    return [
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_remember_verbose,
            help="Show debug logs and tracebacks.",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_remember_quiet,
            help="Print only results, warnings and errors (no progress display).",
        ),
    ]


def add_common_options(command: click.Command) -> click.Command:
    """Give a command (and, for a group, each of its subcommands) --verbose and --quiet."""
    if not any(param.name == "verbose" for param in command.params):
        command.params.extend(common_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_common_options(sub)
    return command
