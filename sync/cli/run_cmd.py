"""`dsprogress run [--once]`: the scheduler in the foreground, or one round of what is due."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from sync.checklist import Checklist
from sync.cli.context import load_cli_settings, load_configured_checklist
from sync.cli.output import is_quiet, is_verbose
from sync.cli.stop import StopRequest, stop_on_sigterm
from sync.config import Settings, require_notion
from sync.daemon import Ticker, run_daemon, run_once

if TYPE_CHECKING:
    from sync.digest.deliver import DeliveryReport
    from sync.engine import SyncReport
    from sync.store import Store

_DAEMON_LOGGER = "dsprogress.daemon"


class _RunLinesOnly(logging.Filter):
    """Below WARNING, let only the daemon's one-line-per-run records through (not each action)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name == _DAEMON_LOGGER


def configure_run_logging(*, verbose: bool, quiet: bool) -> None:
    """Show one line per run on stderr (with times, unless journald adds its own).

    Builds on the handler `configure_logging` installed; APScheduler's warnings (a missed or
    skipped run) go to the same handler.
    """
    root = logging.getLogger("dsprogress")
    handlers = [h for h in root.handlers if getattr(h, "_dsprogress", False)]
    under_journald = bool(os.environ.get("JOURNAL_STREAM"))
    layout = "%(levelname)s %(name)s: %(message)s"
    for handler in handlers:
        handler.setFormatter(
            logging.Formatter(layout if under_journald else "%(asctime)s " + layout)
        )
        if not verbose:
            handler.setLevel(logging.WARNING if quiet else logging.INFO)
            handler.addFilter(_RunLinesOnly())
    scheduler_log = logging.getLogger("apscheduler")
    scheduler_log.setLevel(logging.DEBUG if verbose else logging.ERROR)
    scheduler_log.propagate = False
    for handler in handlers:
        if handler not in scheduler_log.handlers:
            scheduler_log.addHandler(handler)


@click.command()
@click.option(
    "--once",
    is_flag=True,
    help="Do what is due (a sync; this week's digest if due and not sent yet), then exit: "
    "for cron, systemd timers and CI schedules.",
)
def run(once: bool) -> None:
    """Sync every DSPROGRESS_SYNC_INTERVAL and send the weekly digest on schedule.

    Runs in the foreground until SIGTERM or Ctrl-C (the running sync finishes first), logging one
    line per run. A digest that came due while the daemon was down is sent when it starts, once.
    One daemon per state folder; `dsprogress sync` waits for the daemon's running sync.
    """
    settings = load_cli_settings()
    require_notion(settings)
    load_configured_checklist(settings)  # fail now on a broken checklist, not at the first tick
    configure_run_logging(verbose=is_verbose(), quiet=is_quiet())

    def load_checklist() -> Checklist:  # read at each tick, so edits apply without a restart
        return load_configured_checklist(settings)

    if not once:
        run_daemon(settings, Ticker(settings, load_checklist))
        return
    with stop_on_sigterm() as stop:  # SIGTERM: stop at the next action boundary, exit 143
        report = run_once(settings, build_once_ticker(settings, load_checklist, stop))
    if report.error is not None:
        raise report.error


def build_once_ticker(
    settings: Settings, load_checklist: Callable[[], Checklist], stop: StopRequest
) -> Ticker:
    """A ticker whose sync stops at an action boundary and whose digest is not started after
    SIGTERM."""
    from sync.digest.deliver import run_weekly_digest
    from sync.engine import run_sync

    def sync(settings: Settings, checklist: Checklist, *, mode: Any) -> SyncReport:
        return run_sync(settings, checklist, mode=mode, **stop.guard_hooks({}))

    def digest(
        settings: Settings, store: Store, checklist: Checklist, now: datetime
    ) -> DeliveryReport:
        stop.check()
        return run_weekly_digest(settings, store, checklist, now)

    return Ticker(settings, load_checklist, sync=sync, digest=digest)
