"""`dsprogress run`: sync on a schedule and send the weekly digest when it is due.

Each scheduled run is one *tick*: a sync (skipped while backing off after failures), then the
weekly digest if this week's digest time has passed; the per-week delivery record in the state
store says whether it was already sent, so a digest due while the machine slept or the daemon was
down goes out once at the next tick, never twice. `run_once` is one tick under the daemon lock (for
cron, systemd timers and CI); `run_daemon` runs ticks from an APScheduler scheduler until SIGTERM or
SIGINT, then lets the running tick finish.

A failing sync is logged (one line, secrets redacted) and recorded in the runs table by the engine;
the back-off and the digest's health section both read that table. Nothing here prints or exits.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import FrameType
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from sync.checklist import Checklist
from sync.config import Settings
from sync.digest.deliver import DeliveryReport, run_weekly_digest
from sync.engine import SyncReport, run_sync
from sync.errors import BusyError, DeliveryError, DsprogressError
from sync.lock import DAEMON_LOCK, hold_lock
from sync.logs import redact
from sync.schedule import (
    build_digest_job_options,
    build_digest_trigger,
    build_sync_job_options,
    build_sync_trigger,
    check_backoff,
    count_failures,
    is_digest_due,
    next_digest_time,
    plan_next_attempt,
)
from sync.store import Store, open_store

log = logging.getLogger("dsprogress.daemon")
BACKOFF_HISTORY = timedelta(days=7)
"""How far back the runs table is read to count failures in a row."""


class SyncRunner(Protocol):
    def __call__(self, settings: Settings, checklist: Checklist, *, mode: Any) -> SyncReport: ...


class DigestRunner(Protocol):
    def __call__(
        self, settings: Settings, store: Store, checklist: Checklist, now: datetime
    ) -> DeliveryReport: ...


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class TickReport:
    """What one tick did; `error` is the first failure (sync first), for `run --once`'s exit."""

    started_at: datetime
    sync: SyncReport | None = None
    sync_error: Exception | None = None
    backing_off_until: datetime | None = None
    digest_due: bool = False
    digest_week: str | None = None
    digest: DeliveryReport | None = None
    digest_error: Exception | None = None

    @property
    def error(self) -> Exception | None:
        return self.sync_error or self.digest_error


class Ticker:
    """One tick: sync unless backing off, then the digest if due. Never raises an Exception."""

    def __init__(
        self,
        settings: Settings,
        load_checklist: Callable[[], Checklist],
        *,
        sync: SyncRunner = run_sync,
        digest: DigestRunner = run_weekly_digest,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.load_checklist = load_checklist
        self.sync = sync
        self.digest = digest
        self.clock = clock
        self._told: set[tuple[str, str]] = set()

    def run_tick(self, reason: str = "tick") -> TickReport:
        report = TickReport(started_at=self.clock())
        try:
            checklist = self.load_checklist()
        except Exception as exc:
            log.error("%s skipped: %s", reason, _describe_error(exc))
            report.sync_error = exc
            return report
        self._run_sync_step(report, checklist)
        self._run_digest_step(report, checklist)
        return report

    def run_job(self, reason: str) -> None:
        """The scheduler's entry point: a tick whose every failure is logged, never raised."""
        try:
            self.run_tick(reason)
        except Exception as exc:  # a bug: log it and keep the daemon alive
            log.error("%s failed unexpectedly: %s", reason, _describe_error(exc))
            log.debug("traceback", exc_info=True)

    # -- sync ----------------------------------------------------------------------------------
    def _run_sync_step(self, report: TickReport, checklist: Checklist) -> None:
        interval = self.settings.sync_interval
        try:
            with open_store(self.settings.state_dir) as store:
                runs = store.load_runs(since=report.started_at - BACKOFF_HISTORY)
            retry_at = check_backoff(runs, interval, report.started_at)
            if retry_at is not None:
                failures, _ = count_failures(runs)
                report.backing_off_until = retry_at
                log.info(
                    "sync skipped: backing off after %d failures in a row; next attempt at %s",
                    failures,
                    _format_time(retry_at, self.settings),
                )
                return
            report.sync = self.sync(self.settings, checklist, mode="sync")
        except BusyError as exc:
            report.sync_error = exc
            log.warning("sync skipped: %s; trying again at the next tick", _describe_error(exc))
            return
        except Exception as exc:
            report.sync_error = exc
            self._log_sync_failure(exc)
            return
        log.info("sync ok: %s", format_sync_line(report.sync))

    def _log_sync_failure(self, exc: Exception) -> None:
        failures, retry_at = 1, None
        try:
            with open_store(self.settings.state_dir) as store:
                runs = store.load_runs(since=self.clock() - BACKOFF_HISTORY)
            failures, _ = count_failures(runs)
            retry_at = plan_next_attempt(runs, self.settings.sync_interval)
        except DsprogressError:
            pass
        when = f"; next attempt at {_format_time(retry_at, self.settings)}" if retry_at else ""
        log.error("sync failed (%d in a row): %s%s", max(failures, 1), _describe_error(exc), when)

    # -- digest --------------------------------------------------------------------------------
    def _run_digest_step(self, report: TickReport, checklist: Checklist) -> None:
        now = self.clock()
        settings = self.settings
        if not settings.digest_enabled:
            return  # DSPROGRESS_DIGEST_ENABLED=false: this machine only syncs
        due, week = is_digest_due(settings.digest_schedule, settings.zone, now, settings.week_start)
        report.digest_due, report.digest_week = due, week
        if not due:
            return
        try:
            with open_store(settings.state_dir) as store:
                delivery = self.digest(settings, store, checklist, now)
        except Exception as exc:
            report.digest_error = exc
            log.error("digest %s failed: %s", week, _describe_error(exc))
            return
        report.digest = delivery
        if delivery.failed:
            names = ", ".join(r.channel for r in delivery.failed)
            report.digest_error = DeliveryError(
                f"the digest for {delivery.week} could not be sent on {names}",
                details=[redact(r.describe()) for r in delivery.failed],
            )
        line = describe_delivery(delivery)
        if delivery.failed:
            log.warning("digest %s; trying again at the next tick", line)
        elif any(r.outcome == "sent" for r in delivery.results):
            log.info("digest %s", line)
        elif (delivery.week, line) not in self._told:
            # Already sent, or nothing to send yet: say so once per week, not at every tick.
            self._told.add((delivery.week, line))
            log.info("digest %s", line)


def format_sync_line(report: SyncReport | None) -> str:
    """`created=2 updated=1 ticks=3 requests=9 duration=1.2s` (+ other non-zero counts)."""
    if report is None:
        return "nothing run"
    counts = report.counts()
    parts = [
        f"created={counts.get('create', 0)}",
        f"updated={counts.get('update', 0)}",
        f"ticks={counts.get('tick', 0)}",
        f"requests={report.requests}",
        f"duration={report.duration:.1f}s",
    ]
    extras = [
        f"{verb}={n}"
        for verb, n in counts.items()
        if n and verb not in ("create", "update", "tick")
    ]
    return " ".join(parts + extras)


def describe_delivery(delivery: DeliveryReport) -> str:
    """`2026-W47: file: sent: /state/digests/2026-W47.md, email: already sent`."""
    outcomes = ", ".join(r.describe() for r in delivery.results) or "no channel configured"
    week = f"{delivery.week} (partial week)" if delivery.partial else delivery.week
    return redact(f"{week}: {outcomes}")


def _describe_error(exc: BaseException) -> str:
    message = exc.message if isinstance(exc, DsprogressError) else str(exc)
    return redact(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


def _format_time(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S %Z")


# --------------------------------------------------------------------------------- the runs


@contextmanager
def hold_daemon_lock(settings: Settings, timeout: float) -> Iterator[None]:
    """One daemon (or `run --once`) per state folder; BusyError names the other one."""
    with ExitStack() as stack:
        try:
            stack.enter_context(
                hold_lock(settings.state_dir, DAEMON_LOCK, timeout, what="the dsprogress daemon")
            )
        except BusyError as exc:
            raise BusyError(
                exc.message,
                hint="Only one `dsprogress run` works on a state folder: stop the other one "
                "(e.g. `systemctl --user stop dsprogress`) or set DSPROGRESS_STATE_DIR to another "
                "folder.",
            ) from exc
        yield


def run_once(settings: Settings, ticker: Ticker) -> TickReport:
    """Do what is due (a sync; the digest if this week's is due and not sent), then return."""
    with hold_daemon_lock(settings, settings.lock_timeout):
        return ticker.run_tick("run --once")


def run_daemon(
    settings: Settings,
    ticker: Ticker,
    *,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
    jitter: int | None = None,
) -> None:
    """Sync every interval and send the digest on schedule until `stop` is set (or a signal).

    The first tick runs at once, so a digest that came due while the daemon was down is sent on
    start. On SIGTERM or SIGINT the running tick finishes; then the function returns.
    """
    stop = stop or threading.Event()
    with hold_daemon_lock(settings, 0):
        scheduler = build_scheduler(settings, ticker, jitter=jitter)
        restore = _install_signal_handlers(stop) if handle_signals else None
        try:
            scheduler.start()
            if settings.digest_enabled:
                digest = f"digest {settings.digest_schedule} {settings.timezone} (next " + (
                    _format_time(
                        next_digest_time(
                            settings.digest_schedule,
                            settings.zone,
                            utc_now(),
                            settings.week_start,
                        ),
                        settings,
                    )
                    + ")"
                )
            else:
                digest = "digests off (DSPROGRESS_DIGEST_ENABLED=false)"
            log.info(
                "daemon started for %s: sync every %ss, %s",
                settings.state_dir,
                settings.sync_interval,
                digest,
            )
            while not stop.wait(1.0):
                pass
            log.info("daemon stopping: letting the running job finish")
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=True)
            if restore is not None:
                restore()
    log.info("daemon stopped")


def build_scheduler(
    settings: Settings, ticker: Ticker, *, jitter: int | None = None
) -> BackgroundScheduler:
    """A scheduler with the sync job (first run now) and the weekly digest job.

    One worker thread: the two jobs never run at the same time, so a digest never reads a state
    that a sync is half-way through writing.
    """
    scheduler = BackgroundScheduler(
        timezone=settings.zone, executors={"default": ThreadPoolExecutor(max_workers=1)}
    )
    scheduler.add_job(
        ticker.run_job,
        build_sync_trigger(settings.sync_interval, jitter),
        kwargs={"reason": "sync"},
        next_run_time=utc_now(),
        **build_sync_job_options(settings.sync_interval),
    )
    scheduler.add_job(
        ticker.run_job,
        build_digest_trigger(settings.digest_schedule, settings.zone, settings.week_start),
        kwargs={"reason": "digest"},
        **build_digest_job_options(),
    )
    return scheduler


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            log.info("received %s", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
