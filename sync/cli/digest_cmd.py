"""`dsprogress digest`: preview the weekly digest, or send it on the configured channels."""

from __future__ import annotations

from dataclasses import asdict

import click

from sync.cli.context import load_cli_settings, load_configured_checklist, parse_week_option
from sync.cli.output import echo_json
from sync.digest.deliver import (
    CHANNELS,
    check_tracked,
    deliver_digest,
    load_digest,
    select_channels,
)
from sync.digest.render import FORMATS, Format, render_digest
from sync.errors import DeliveryError
from sync.store import open_store, utc_now
from sync.weeks import WeekId, last_complete_week, week_containing


@click.command()
@click.option(
    "--week",
    metavar="YYYY-Www",
    callback=parse_week_option,
    help="The ISO week, e.g. 2026-W48 (default: the last complete week; before any tracked "
    "week has ended, this week so far).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="Preview format; json prints the numbers.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--send", is_flag=True, help="Deliver on the configured channels (else preview).")
@click.option(
    "--channel", type=click.Choice(CHANNELS), help="With --send: deliver on this channel only."
)
@click.option("--force", is_flag=True, help="With --send: send again where already delivered.")
def digest(
    week: WeekId | None, fmt: Format, as_json: bool, send: bool, channel: str | None, force: bool
) -> None:
    """Render the weekly progress digest; with --send, deliver it.

    Without --send nothing is written or sent. Each channel gets a week's digest once; a channel
    that failed is tried again on the next --send, and --force sends again.
    """
    if (channel or force) and not send:
        raise click.UsageError("--channel and --force only apply with --send")
    settings = load_cli_settings()
    checklist = load_configured_checklist(settings)
    now = utc_now()
    zone, week_start = settings.zone, settings.week_start
    target = week if week is not None else last_complete_week(now, zone, week_start)
    selected = select_channels(settings, channel) if send else []
    with open_store(settings.state_dir) as store:
        links = settings.notion_base_url
        data = load_digest(
            store, checklist, week=target, zone=zone, week_start=week_start, now=now, base_url=links
        )
        first_week = data.tracking_since is not None and data.tracking_since >= data.window.end
        if week is None and first_week:
            # Tracking began after the last complete week: this week so far is the starting
            # point, to preview or to send (a partial send: the complete week still goes out).
            target = week_containing(now, zone, week_start)
            data = load_digest(
                store,
                checklist,
                week=target,
                zone=zone,
                week_start=week_start,
                now=now,
                base_url=links,
            )
        check_tracked(data)
        if not send:
            shown: Format = "json" if as_json else fmt
            click.echo(render_digest(data, shown, templates_dir=settings.templates_dir), nl=False)
            return
        report = deliver_digest(
            data, settings, store, now=now, channels_to_send=selected, force=force
        )
    if as_json or fmt == "json":
        results = [asdict(result) for result in report.results]
        echo_json(
            {"week": report.week, "partial": report.partial, "ok": report.ok, "results": results}
        )
    else:
        from sync.cli.digest_words import render_delivery

        for line in render_delivery(report, settings, channel):
            click.echo(line)
    if not report.ok:
        names = ", ".join(result.channel for result in report.failed)
        raise DeliveryError(
            f"the digest for {report.week} could not be delivered on: {names}",
            hint="Fix the channel's settings in .env; the next --send retries only what failed.",
        )
