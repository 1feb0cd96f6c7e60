"""`dsprogress status`: progress from the snapshot and the history, without any network."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from sync.cli.context import load_cli_settings, load_configured_checklist
from sync.cli.output import console, echo_json
from sync.config import Settings
from sync.digest.week import build_week_window, week_containing
from sync.errors import StateError
from sync.progress import build_timelines, completions_in_week
from sync.snapshot import Progress, load_snapshot
from sync.store import open_store, utc_now

BAR_WIDTH = 20


def render_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = width * done // total if total > 0 else 0  # rounded down, as percents are
    return "█" * filled + "░" * (width - filled)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def status(as_json: bool) -> None:
    """Show progress from the last snapshot: overall, per level, per category."""
    print_status(load_cli_settings(), as_json=as_json)


def print_status(settings: Settings, *, as_json: bool = False) -> None:
    """Print progress from the snapshot and this week's completions from the history."""
    snapshot = load_snapshot(settings.state_dir)
    if snapshot is None:
        raise StateError(
            f"no snapshot yet in {settings.state_dir}",
            hint="Run `dsprogress sync` first (or `dsprogress init` to set everything up).",
        )
    checklist = load_configured_checklist(settings)
    now = utc_now()
    week = week_containing(now, settings.zone, settings.week_start)
    window = build_week_window(week, settings.zone, settings.week_start)
    with open_store(settings.state_dir) as store:
        history = store.load_history()
        last_pull = store.last_successful_pull()
    timelines = build_timelines(
        history, settings.zone, lambda key: checklist.resolve_key(key) or key
    )
    titles = {item.key: (item.title, item.level) for item in snapshot.items}
    rank = {key: index for index, key in enumerate(titles)}  # checklist order, own items last
    done = sorted(completions_in_week(timelines, window), key=lambda c: rank.get(c.key, len(rank)))
    completions = [(c, *titles.get(c.key, (timelines[c.key].title, None))) for c in done]
    if as_json:
        echo_json(
            {
                "synced_at": snapshot.synced_at.isoformat(),
                "last_successful_sync": last_pull.isoformat() if last_pull else None,
                "database_url": snapshot.database_url,
                "progress": snapshot.progress.model_dump(),
                "levels": [g.model_dump() for g in snapshot.levels],
                "categories": [g.model_dump() for g in snapshot.categories],
                "this_week": [
                    {
                        "key": c.key,
                        "title": title,
                        "level": level,
                        "completed_on": c.day.isoformat(),
                    }
                    for c, title, level in completions
                ],
            }
        )
        return
    overall = snapshot.progress
    console.print(f"[bold]{escape(snapshot.checklist_title)}[/]")
    console.print(_line("Overall", overall))
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Level / category")
    table.add_column("Progress")
    table.add_column("Done", justify="right")
    table.add_column("%", justify="right")
    for level in snapshot.levels:
        table.add_row(
            f"[bold]{escape(level.name)}[/]",
            render_bar(level.done, level.total),
            f"{level.done}/{level.total}",
            f"{level.percent}%",
        )
        for category in snapshot.categories:
            if category.name.startswith(f"{level.name} / "):
                name = category.name.split(" / ", 1)[1]
                table.add_row(
                    f"  {escape(name)}",
                    render_bar(category.done, category.total),
                    f"{category.done}/{category.total}",
                    f"{category.percent}%",
                )
    console.print(table)
    local_sync = snapshot.synced_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M %Z")
    console.print(f"Last sync: {local_sync}")
    if completions:
        console.print(f"This week: {len(completions)} done")
        for _, title, where in completions:
            console.print(f"  ✓ {escape(title)} [dim]({escape(where or 'own item')})[/]")
    else:
        console.print("This week: nothing ticked yet")
    if snapshot.database_url:
        console.print(f"Notion: {snapshot.database_url}")


def _line(label: str, progress: Progress) -> str:
    return (
        f"{label}: {render_bar(progress.done, progress.total)} {progress.done}/{progress.total} "
        f"({progress.percent}%), {progress.in_progress} in progress"
    )
