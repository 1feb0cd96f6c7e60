"""`dsprogress doctor`: one line per check and, when one fails, the fix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from rich.markup import escape

from sync.cli.output import console, echo_json
from sync.doctor import CheckResult, check_configuration, run_doctor
from sync.errors import ChecksFailedError
from sync.logs import redact

MARKS = {"ok": "[green]✓[/]", "fail": "[red]✗[/]", "skip": "[dim]–[/]", "warn": "[yellow]![/]"}
NAME_WIDTH = 24


def _mark(result: CheckResult) -> str:
    if not result.ok:
        return MARKS["fail"]
    if result.warning:
        return MARKS["warn"]
    return MARKS["skip"] if result.skipped else MARKS["ok"]


@click.command()
@click.option(
    "--fix",
    is_flag=True,
    help="Repair the database schema (only dsprogress's columns); restore the Progress tab.",
)
@click.option("--send-test", is_flag=True, help="Send a test message on each digest channel.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def doctor(fix: bool, send_test: bool, as_json: bool) -> None:
    """Check the setup: one line per check and, when one fails, the fix.

    Configuration, token, parent page, database, schema, Progress tab, state folder, state and
    snapshot, time zone and schedule, digest channels. Exits 0 only when every check passes.

    \b
    Examples:
      dsprogress doctor
      dsprogress doctor --fix          # repair our columns, restore the Progress tab
      dsprogress doctor --send-test    # also send a test message on each digest channel
    """
    first, settings = check_configuration(Path(".env"))
    results = [first]
    if settings is not None:
        results += run_doctor(settings, fix=fix, send_test=send_test)
    results = [_redacted(r) for r in results]
    failed = [r for r in results if not r.ok]
    if as_json:
        echo_json({"ok": not failed, "checks": [r.as_json() for r in results]})
    else:
        for result in results:
            _print_check(result)
        if settings is None:
            console.print("[dim]The other checks need a valid configuration.[/]")
    if failed:
        names = ", ".join(r.name for r in failed)
        schema_failed = any(r.name == "schema" for r in failed) and not fix
        raise ChecksFailedError(
            f"{len(failed)} of {len(results)} checks failed ({names})",
            hint="Apply the fixes above"
            + ("; `dsprogress doctor --fix` repairs the schema" if schema_failed else "")
            + ", then run `dsprogress doctor` again.",
        )


def _redacted(result: CheckResult) -> CheckResult:
    """A check's texts (often an error's message) pass through the one redaction."""
    return replace(
        result,
        detail=redact(result.detail),
        fix=redact(result.fix) if result.fix else result.fix,
        details=tuple(redact(line) for line in result.details),
    )


def _print_check(result: CheckResult) -> None:
    pad = " " * (NAME_WIDTH - len(result.name))
    console.print(f"{_mark(result)} {escape(result.name)}{pad}{escape(result.detail)}")
    indent = " " * (NAME_WIDTH + 3)
    for line in result.details:
        console.print(f"{indent}- {escape(line)}")
    if (not result.ok or result.warning) and result.fix:
        console.print(f"{indent}[yellow]fix:[/] {escape(result.fix)}")
