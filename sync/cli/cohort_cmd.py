"""`dsprogress cohort sync | status | digest`: a mentor's read-only view of every learner under
the cohort page (DSPROGRESS_COHORT_PAGE). Every number comes from `sync.progress` through
`sync.cohort.grid`; this module lays them out."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from sync.cli.context import load_cli_settings, parse_week_option
from sync.cli.live import run_display
from sync.cli.output import console, echo_json, err_console, is_quiet
from sync.errors import CohortPartialError, StateError

if TYPE_CHECKING:
    from sync.cohort.grid import CohortGrid
    from sync.config import Settings
    from sync.weeks import WeekId, WeekWindow


@click.group()
def cohort() -> None:
    """A mentor's read-only view of every learner under the cohort page.

    Set DSPROGRESS_COHORT_PAGE (and NOTION_TOKEN): `cohort sync` reads every learner's checklist
    database, `cohort status` shows the grid, `cohort digest` the weekly cohort digest. Nothing is
    ever written to a learner's database.
    """


@cohort.command(name="sync")
@click.option("--rediscover", is_flag=True, help="Look for learners now (done daily anyway).")
@click.option("--full", is_flag=True, help="Read every row of every learner, not only edits.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
def cohort_sync(rediscover: bool, full: bool, as_json: bool) -> None:
    """Read every learner's checklist, read-only: never writes to a learner's database.

    No column is added, no Done on filled, no Key repaired, no view made: only reads (about 3
    requests a learner when nothing changed). Learners are found under DSPROGRESS_COHORT_PAGE by
    the mark, daily or on --rediscover. Exit code 14 when some learner could not be read.
    """
    from sync.cohort.run import run_cohort_sync

    settings = load_cli_settings()
    with run_display(err_console, "Reading learners", enabled=not as_json, quiet=is_quiet()) as d:

        def advance(done: int, total: int, step: str) -> None:
            d.description = "Looking for learners" if step == "discover" else "Reading learners"
            d.advance(done, total, step)

        report = run_cohort_sync(
            settings,
            now=datetime.now(timezone.utc),
            rediscover=rediscover,
            full=full,
            progress=advance,
            on_retry=d.retrying,
        )
    if as_json:
        echo_json(
            {
                "discovered": report.discovered,
                "learners": [
                    {
                        "name": o.learner.name,
                        "database_id": o.learner.database_id,
                        "read": o.read,
                        "reachable": o.reason is None,
                        "unreachable_reason": o.reason,
                    }
                    for o in report.outcomes
                ],
                "requests": report.requests,
                "duration_seconds": report.duration,
            }
        )
    elif not is_quiet():
        found = " (learners looked up again)" if report.discovered else ""
        read = len(report.outcomes) - len(report.unreachable)
        console.print(
            f"Read {read} of {len(report.outcomes)} learners{found}: "
            f"{report.requests} requests in {report.duration:.1f} s; nothing written."
        )
    _raise_partial(
        [(o.learner.name, o.reason or "") for o in report.unreachable], len(report.outcomes)
    )


def _raise_partial(unreachable: list[tuple[str, str]], total: int) -> None:
    if unreachable:
        raise CohortPartialError(
            f"{len(unreachable)} of {total} learners could not be read",
            details=[f"{name}: {reason}" for name, reason in unreachable],
        )


def _window(settings: Settings, now: datetime, week: WeekId | None) -> WeekWindow:
    from sync.weeks import build_week_window, week_containing

    chosen = week or week_containing(now, settings.zone, settings.week_start)
    return build_week_window(chosen, settings.zone, settings.week_start)


def _load(settings: Settings, now: datetime, window: WeekWindow) -> CohortGrid:
    from sync.cohort.run import cohort_dir, load_cohort_grid
    from sync.store_file import STATE_FILE

    if not (cohort_dir(settings) / STATE_FILE).exists():
        raise StateError(
            f"no cohort read yet in {cohort_dir(settings)}",
            hint="Run `dsprogress cohort sync` first.",
        )
    return load_cohort_grid(
        settings, now=now, window=window, include_notes=settings.cohort_include_notes
    )


@cohort.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def cohort_status(as_json: bool) -> None:
    """Show the learners x levels grid, this week's completions, stalled and behind learners.

    From the last `cohort sync`, without any network.
    """
    from sync.cohort.report import build_cohort_json, build_level_names, find_level

    settings = load_cli_settings()
    now = datetime.now(timezone.utc)
    window = _window(settings, now, None)
    grid = _load(settings, now, window)
    if as_json:
        echo_json(
            build_cohort_json(
                grid,
                window=window,
                now=now,
                stalled_days=settings.cohort_stalled_days,
                include_notes=settings.cohort_include_notes,
            )
        )
        return
    levels = build_level_names(grid)
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0))
    for header in ["Learner", "Done", *levels, "This week", "Last activity"]:
        table.add_column(header, no_wrap=True, overflow="ellipsis")
    for n in grid.learners:
        flag = " [yellow]stalled[/]" if n.reachable and n.stalled else ""
        flag += " [red]behind[/]" if n.behind else ""
        cells = [f"{n.overall.percent}%"] if n.reachable else ["[dim]unreachable[/]"]
        for level in levels:
            tally = find_level(n, level)
            cells.append(f"{tally.percent}%" if tally and tally.total and n.reachable else "–")
        last = n.last_activity.isoformat() if n.last_activity else "never"
        table.add_row(escape(n.name) + flag, *cells, str(len(n.completed)), last)
    console.print(table)
    median = "–" if grid.median_percent is None else f"{grid.median_percent:g}%"
    console.print(f"This week: {grid.done_in_week} done; median {median} done")
    stalled = [n.name for n in grid.learners if n.reachable and n.stalled]
    behind = [n.name for n in grid.learners if n.behind]
    days = settings.cohort_stalled_days
    console.print(f"Stalled (no completion in {days} days): {escape(', '.join(stalled) or '-')}")
    console.print(f"Behind the median: {escape(', '.join(behind) or '-')}")
    for n in grid.learners:
        if not n.reachable:
            console.print(f"[red]Unreachable:[/] {escape(n.name)}: {escape(n.reason or '')}")
    for s in grid.longest_started:
        console.print(f"  in progress: {escape(s.title)} ({s.learners} learners, {s.days} days)")


@cohort.command(name="digest")
@click.option(
    "--week",
    callback=parse_week_option,
    help="The week, e.g. 2026-W45 (default: the last complete week).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "text", "html", "json"]),
    default="md",
    show_default=True,
    help="What to print.",
)
@click.option("--send", is_flag=True, help="Deliver on every configured channel, once per week.")
@click.option(
    "--channel",
    type=click.Choice(["file", "email", "slack", "discord", "notion"]),
    help="Deliver on this channel only (with --send).",
)
@click.option("--force", is_flag=True, help="Send again even if the week was sent.")
def cohort_digest(
    week: WeekId | None, fmt: str, send: bool, channel: str | None, force: bool
) -> None:
    """Render the weekly cohort digest; with --send, deliver it once per week per channel.

    Channels are the learner digest's (file, email, Slack, Discord, and with
    DSPROGRESS_DIGEST_NOTION a page under the cohort page). Notes and Evidence are left out
    unless DSPROGRESS_COHORT_INCLUDE_NOTES=true.
    """
    from sync.cohort.deliver import deliver_cohort_digest
    from sync.cohort.digest import CohortDigest, render_cohort_digest
    from sync.cohort.run import cohort_dir
    from sync.digest.deliver import select_channels
    from sync.errors import DeliveryError
    from sync.store import open_store
    from sync.weeks import last_complete_week

    settings = load_cli_settings()
    now = datetime.now(timezone.utc)
    window = _window(
        settings, now, week or last_complete_week(now, settings.zone, settings.week_start)
    )
    digest = CohortDigest(
        _load(settings, now, window),
        window,
        now,
        settings.cohort_stalled_days,
        settings.cohort_include_notes,
    )
    if not send:
        click.echo(render_cohort_digest(digest, fmt), nl=False)  # type: ignore[arg-type]
        return
    chosen = select_channels(settings, channel)
    if "notion" in chosen:  # a page under the cohort page: the token and the page are needed
        from sync.cohort.run import require_cohort

        require_cohort(settings)
    with open_store(cohort_dir(settings)) as store:
        report = deliver_cohort_digest(
            digest,
            settings,
            store,
            cohort_dir(settings),
            channels_to_send=chosen,
            now=now,
            force=force,
        )
    for result in report.results:
        console.print(escape(result.describe()))
    failed = [r for r in report.results if r.outcome == "failed"]
    if failed:
        raise DeliveryError(f"the cohort digest failed on {len(failed)} channel(s)")
