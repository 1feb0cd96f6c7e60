"""The command line: the only place that prints or exits.

Every command raises `DsprogressError` subclasses; `main()` turns them into one `Error:` line plus a
hint on stderr and the error's exit code. An unexpected exception prints one line and asks for
--verbose; the traceback goes to stderr only with --verbose.
"""

from __future__ import annotations

import logging
import sys

import click

from sync import __version__
from sync.cli.output import add_common_options, is_verbose
from sync.cli.registry import LazyGroup
from sync.errors import DsprogressError, Terminated
from sync.logs import format_redacted_traceback, redact

log = logging.getLogger("dsprogress")


class _Group(LazyGroup):
    """The top-level group: every command it hands out takes --verbose and --quiet too."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        return add_common_options(command) if command is not None else None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dsprogress")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Track the Data Science progress checklist in Notion.

    Push the checklist into a Notion database, tick items in Notion, pull your progress back into a
    local snapshot with a dated history, and receive a weekly digest.

    New here? Start with `dsprogress init` (it asks for a Notion token and sets everything up),
    or try `dsprogress demo` first: no Notion account needed.

    -v/--verbose and -q/--quiet go before or after the command's name.
    """
    ctx.ensure_object(dict)
    from sync.logs import configure_logging

    configure_logging(verbose=is_verbose())


add_common_options(cli)


def _verbose_requested(argv: list[str]) -> bool:
    words = argv[: argv.index("--")] if "--" in argv else argv
    return "-v" in words or "--verbose" in words


def _print_error(markup: str) -> None:
    from sync.cli.output import err_console  # rich loads only when there is something to show

    err_console.print(markup, highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `dsprogress` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = _verbose_requested(args)
    try:
        cli.main(args=args, prog_name="dsprogress", standalone_mode=False)
    except click.exceptions.Abort:
        _print_error("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except DsprogressError as exc:
        if verbose:
            sys.stderr.write(format_redacted_traceback(exc))
        from rich.markup import escape

        _print_error(f"[bold red]Error:[/] {escape(redact(exc.message))}")
        for line in exc.details:
            _print_error(f"  - {escape(redact(line))}")
        if exc.hint:
            _print_error(f"[yellow]Hint:[/] {escape(redact(exc.hint))}")
        sys.exit(exc.exit_code)
    except Terminated:
        from sync.cli.stop import EXIT_CODE, MESSAGE

        _print_error(MESSAGE)
        sys.exit(EXIT_CODE)
    except KeyboardInterrupt:
        _print_error("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # the last resort: one line, never a traceback unless asked
        if verbose:
            sys.stderr.write(format_redacted_traceback(exc))
        name = type(exc).__name__
        _print_error(
            f"[bold red]Error:[/] unexpected {name}; rerun with --verbose for the traceback."
        )
        sys.exit(1)
    sys.exit(0)
