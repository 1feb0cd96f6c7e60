"""The command line: the only place that prints or exits.

Every command raises `DsprogressError` subclasses; `main()` turns them into one `Error:` line plus a
hint on stderr and the error's exit code. An unexpected exception prints one line and asks for
--verbose; the traceback goes to stderr only with --verbose.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click
from rich.markup import escape

from sync import __version__
from sync.cli.output import add_common_options, err_console, is_verbose
from sync.errors import DsprogressError

log = logging.getLogger("dsprogress")


class _Group(click.Group):
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

    -v/--verbose and -q/--quiet go before or after the command's name.
    """
    ctx.ensure_object(dict)
    from sync.logs import configure_logging

    configure_logging(verbose=is_verbose())


add_common_options(cli)


def _register_commands() -> None:
    # Each command group lives in its own module; register it here.
    from sync.cli.checklist_cmd import checklist
    from sync.cli.digest_cmd import digest
    from sync.cli.history_cmd import history
    from sync.cli.open_cmd import open_command
    from sync.cli.run_cmd import run
    from sync.cli.sandbox_cmd import sandbox
    from sync.cli.setup_cmd import doctor, init
    from sync.cli.status_cmd import status
    from sync.cli.sync_cmd import pull, push, sync_command

    cli.add_command(checklist)
    cli.add_command(push)
    cli.add_command(pull)
    cli.add_command(sync_command)
    cli.add_command(status)
    cli.add_command(history)
    cli.add_command(open_command)

    from sync.cli.demo_cmd import demo

    cli.add_command(demo)
    cli.add_command(init)
    cli.add_command(doctor)
    cli.add_command(run)
    cli.add_command(sandbox)
    cli.add_command(digest)


_register_commands()


def _verbose_requested(argv: list[str]) -> bool:
    words = argv[: argv.index("--")] if "--" in argv else argv
    return "-v" in words or "--verbose" in words


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `dsprogress` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = _verbose_requested(args)
    try:
        cli.main(args=args, prog_name="dsprogress", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except DsprogressError as exc:
        if verbose:
            traceback.print_exc()
        err_console.print(f"[bold red]Error:[/] {escape(exc.message)}", highlight=False)
        for line in exc.details:
            err_console.print(f"  - {escape(line)}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]Hint:[/] {escape(exc.hint)}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # the last resort: one line, never a traceback unless asked
        log.debug("unexpected error", exc_info=True)
        if verbose:
            traceback.print_exc()
        name = type(exc).__name__
        err_console.print(
            f"[bold red]Error:[/] unexpected {name}; rerun with --verbose for the traceback.",
            highlight=False,
        )
        sys.exit(1)
    sys.exit(0)
