"""The subcommands, imported only when run: `dsprogress --help` loads none of them.

Each row names the module and attribute of a command and its one-line help for `--help`'s list
(a test checks each line against the command's own docstring, so the two cannot drift).
"""

from __future__ import annotations

import importlib

import click

# name -> (module, attribute, short help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "checklist": (
        "sync.cli.checklist_cmd",
        "checklist",
        "Check, display or export the checklist template.",
    ),
    "cohort": (
        "sync.cli.cohort_cmd",
        "cohort",
        "A mentor's read-only view of every learner under the cohort page.",
    ),
    "demo": (
        "sync.cli.demo_cmd",
        "demo",
        "Run the whole loop against a local Notion sandbox, no account needed.",
    ),
    "digest": (
        "sync.cli.digest_cmd",
        "digest",
        "Render the weekly progress digest; with --send, deliver it.",
    ),
    "doctor": (
        "sync.cli.doctor_cmd",
        "doctor",
        "Check the setup: one line per check and, when one fails, the fix.",
    ),
    "history": (
        "sync.cli.history_cmd",
        "history",
        "Show the dated history: when each item was seen done, in progress or skipped.",
    ),
    "init": (
        "sync.cli.setup_cmd",
        "init",
        "Set up dsprogress: check a Notion token, pick a page, create the checklist database.",
    ),
    "open": (
        "sync.cli.open_cmd",
        "open_command",
        "Open the checklist database in your browser (or print its URL with --print).",
    ),
    "pull": (
        "sync.cli.sync_cmd",
        "pull",
        "Pull ticks from Notion into the snapshot and the dated history.",
    ),
    "push": (
        "sync.cli.sync_cmd",
        "push",
        "Push the checklist into Notion: create the database, add and update items.",
    ),
    "run": (
        "sync.cli.run_cmd",
        "run",
        "Sync every DSPROGRESS_SYNC_INTERVAL and send the weekly digest on schedule.",
    ),
    "sandbox": (
        "sync.cli.sandbox_cmd",
        "sandbox",
        "Run a local Notion-compatible API server (Notion-Version 2025-09-03 to 2026-12-01).",
    ),
    "status": (
        "sync.cli.status_cmd",
        "status",
        "Show your progress from the last sync, without any network.",
    ),
    "sync": (
        "sync.cli.sync_cmd",
        "sync_command",
        "Push, then pull, in one run (what the scheduler does).",
    ),
}


def load_command(name: str) -> click.Command | None:
    """The command called `name`, importing its module now; None for an unknown name."""
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    module, attribute, _ = entry
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported when one runs, not when the group is built."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name) or load_command(cmd_name)
        if command is not None:
            self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Every command with its whole line, wrapped under itself (never cut short)."""
        names = self.list_commands(ctx)
        if not names:
            return
        rows = []
        for name in names:
            if name in COMMANDS:
                short = COMMANDS[name][2]
            else:
                short = self.commands[name].get_short_help_str(limit=10_000)
            rows.append((name, short))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
