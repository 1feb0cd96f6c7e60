"""`dsprogress run`: ticks, back-off, the daemon lock, signals, and the daemon against the sandbox.

The unit tests drive `Ticker` with a fake clock and a fake engine that records its runs in a real
state store, as the engine does. The integration tests run `python -m sync run` as a subprocess
against an in-process sandbox (the `sandbox` fixture) with a 2-second interval; they poll the state
store with generous deadlines and assert on what happened, never on how long it took.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.actions import Plan
from sync.checklist import Checklist
from sync.checklist_files import load_checklist
from sync.config import ENV_NAMES, Settings, load_settings
from sync.daemon import Ticker, hold_daemon_lock, run_daemon, run_once
from sync.digest.deliver import ChannelResult, DeliveryReport, Outcome, load_digest
from sync.engine import SyncReport, run_sync
from sync.errors import BusyError, DeliveryError, NotionAuthError
from sync.lock import DAEMON_LOCK, hold_lock
from sync.model import RunRecord
from sync.sandbox import SandboxServer
from sync.store import Store, open_store
from sync.weeks import week_containing

UTC = ZoneInfo("UTC")
SECRET = "ntn_daemontestsecret0000000000"
DEADLINE = 60.0  # seconds to wait for something that normally takes a few


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def make_settings(state_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "NOTION_TOKEN": SECRET,
        "NOTION_PARENT_PAGE_ID": "0" * 31 + "1",
        "DSPROGRESS_STATE_DIR": str(state_dir),
        "DSPROGRESS_TIMEZONE": "UTC",
        "DSPROGRESS_SYNC_INTERVAL": "60s",
        "DSPROGRESS_DIGEST_SCHEDULE": "mon 08:00",
        "DSPROGRESS_LOCK_TIMEOUT": "0",
    }
    values.update(overrides)
    return load_settings(None, **values)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeEngine:
    """Stands in for `run_sync`: records each run in the real store, fails as told."""

    def __init__(self, clock: Clock, outcomes: list[bool]) -> None:
        self.clock = clock
        self.outcomes = outcomes
        self.calls: list[datetime] = []

    def __call__(self, settings: Settings, checklist: Checklist, *, mode: Any) -> SyncReport:
        self.calls.append(self.clock())
        ok = self.outcomes.pop(0) if self.outcomes else True
        with open_store(settings.state_dir) as store:
            run_id = store.start_run(mode, self.clock())
            error = None if ok else "NotionAuthError: Notion rejected the token"
            store.finish_run(run_id, ok=ok, finished_at=self.clock(), error=error)
        if not ok:
            raise NotionAuthError(f"Notion rejected the token {SECRET} (401 unauthorized)")
        return SyncReport(
            mode=mode,
            dry_run=False,
            plan=Plan(mode),
            database_id=None,
            database_url=None,
            requests=3,
            duration=0.25,
        )


@dataclass
class FakeDigest:
    outcome: Outcome = "sent"
    calls: int = 0

    def __call__(
        self, settings: Settings, store: Store, checklist: Checklist, now: datetime
    ) -> DeliveryReport:
        self.calls += 1
        week = str(week_containing(now, settings.zone).shift(-1))
        result = ChannelResult("file", self.outcome, "boom" if self.outcome == "failed" else "")
        if self.outcome == "sent" and self.calls > 1:
            result = ChannelResult("file", "already_sent")
        return DeliveryReport(week, (result,))


@functools.cache
def bundled_checklist() -> Checklist:
    return load_checklist()


MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)  # after "mon 08:00"
SUNDAY = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)  # this week's digest was sent Monday


def make_ticker(
    settings: Settings, clock: Clock, outcomes: list[bool], digest: FakeDigest | None = None
) -> tuple[Ticker, FakeEngine, FakeDigest]:
    engine = FakeEngine(clock, outcomes)
    fake_digest = digest or FakeDigest()
    ticker = Ticker(settings, bundled_checklist, sync=engine, digest=fake_digest, clock=clock)
    return ticker, engine, fake_digest


# ------------------------------------------------------------------------------------- ticks


def test_failing_sync_is_logged_redacted_and_backed_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    clock = Clock(datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc))
    ticker, engine, _ = make_ticker(settings, clock, [False, False, False, False, True])
    caplog.set_level(logging.INFO, logger="dsprogress.daemon")
    reports = []
    for _ in range(16):  # one tick a minute
        reports.append(ticker.run_tick())  # never raises
        clock.advance(60)
    attempts = [int((t - engine.calls[0]).total_seconds()) for t in engine.calls]
    assert attempts == [0, 60, 180, 420, 900]  # waits of 1, 2, 4, 8 intervals
    assert isinstance(reports[0].error, NotionAuthError)
    assert reports[1].backing_off_until is None and reports[2].backing_off_until is not None
    assert reports[-1].error is None
    text = caplog.text
    assert "sync failed (1 in a row): NotionAuthError" in text
    assert "sync failed (4 in a row)" in text
    assert "sync skipped: backing off after 2 failures in a row" in text
    assert "sync ok: created=0 updated=0 ticks=0 requests=3 duration=0.2s" in text
    assert SECRET not in text
    assert "[REDACTED]" in text


def test_digest_runs_only_once_its_time_has_passed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = Clock(datetime(2026, 11, 30, 7, 59, tzinfo=timezone.utc))  # Monday, 07:59
    ticker, _, digest = make_ticker(settings, clock, [])
    report = ticker.run_tick()
    assert (report.digest_due, report.digest_week, digest.calls) == (False, "2026-W48", 0)
    clock.advance(60)
    report = ticker.run_tick()
    assert (report.digest_due, report.digest_week, digest.calls) == (True, "2026-W48", 1)
    assert report.error is None


def test_digest_is_sent_even_when_the_sync_fails(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    ticker, _, digest = make_ticker(settings, Clock(MONDAY), [False])
    report = ticker.run_tick()
    assert isinstance(report.sync_error, NotionAuthError)
    assert digest.calls == 1 and report.digest is not None


def test_digests_off_on_a_machine_that_only_syncs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, DSPROGRESS_DIGEST_ENABLED="false")
    ticker, engine, digest = make_ticker(settings, Clock(MONDAY), [True])
    report = ticker.run_tick()
    assert len(engine.calls) == 1 and digest.calls == 0
    assert report.digest is None and not report.digest_due and report.error is None


def test_failed_channel_makes_the_tick_fail_with_a_delivery_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    ticker, _, _ = make_ticker(settings, Clock(MONDAY), [True], FakeDigest("failed"))
    report = ticker.run_tick()
    assert isinstance(report.error, DeliveryError)
    assert report.error.exit_code == 11
    assert report.error.details == ["file: failed: boom"]


def test_unchanged_digest_outcome_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    clock = Clock(MONDAY)
    ticker, _, _ = make_ticker(settings, clock, [])
    caplog.set_level(logging.INFO, logger="dsprogress.daemon")
    for _ in range(4):
        ticker.run_tick()
        clock.advance(60)
    assert caplog.text.count("digest 2026-W48: file: sent") == 1
    assert caplog.text.count("digest 2026-W48: file: already sent") == 1


def test_broken_checklist_skips_the_tick_without_raising(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)

    def broken() -> Checklist:
        raise ValueError("bad checklist")

    ticker = Ticker(settings, broken, sync=FakeEngine(Clock(MONDAY), []), clock=Clock(MONDAY))
    report = ticker.run_tick()
    assert isinstance(report.error, ValueError)
    ticker.run_job("sync")  # the scheduler's entry point swallows it too


# ------------------------------------------------------------------------------ the scheduler


class BlockingTicker(Ticker):
    """Counts ticks; the second one blocks until released."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, load_checklist)
        self.ticks = 0
        self.second_started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def run_job(self, reason: str) -> None:
        self.ticks += 1
        if self.ticks == 2:
            self.second_started.set()
            self.release.wait(DEADLINE)
            self.finished.set()


def start_daemon_thread(
    settings: Settings, ticker: Ticker, stop: threading.Event
) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_daemon(settings, ticker, stop=stop, handle_signals=False)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


def test_daemon_ticks_on_its_interval_and_stops_after_the_running_job(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, DSPROGRESS_SYNC_INTERVAL="1s")
    ticker = BlockingTicker(settings)
    stop = threading.Event()
    thread, errors = start_daemon_thread(settings, ticker, stop)
    assert ticker.second_started.wait(DEADLINE)  # the first tick at start, the second later
    stop.set()
    thread.join(0.5)
    assert thread.is_alive()  # still letting the running tick finish
    ticker.release.set()
    thread.join(DEADLINE)
    assert not thread.is_alive() and not errors
    assert ticker.finished.is_set()
    with hold_lock(tmp_path, DAEMON_LOCK, 0, what="test"):
        pass  # released


def test_second_daemon_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, DSPROGRESS_SYNC_INTERVAL="1s")
    first = BlockingTicker(settings)
    stop = threading.Event()
    thread, _ = start_daemon_thread(settings, first, stop)
    try:
        assert first.second_started.wait(DEADLINE)
        with pytest.raises(BusyError) as caught:
            run_daemon(settings, BlockingTicker(settings), handle_signals=False)
        assert "the dsprogress daemon is already running" in caught.value.message
        assert "DSPROGRESS_STATE_DIR" in caught.value.hint
        assert caught.value.exit_code == 9
        with pytest.raises(BusyError):
            run_once(settings, BlockingTicker(settings))
    finally:
        first.release.set()
        stop.set()
        thread.join(DEADLINE)


def test_lock_errors_inside_the_daemon_lock_keep_their_own_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(BusyError, match="another sync"), hold_daemon_lock(settings, 0):
        raise BusyError("another sync is already running")


# --------------------------------------------------------------------------- against the sandbox


def sandbox_env(sandbox: SandboxServer, state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        NOTION_TOKEN=sandbox.token,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        NOTION_BASE_URL=sandbox.base_url,
        DSPROGRESS_STATE_DIR=str(state_dir),
        DSPROGRESS_RATE_LIMIT="0",
        DSPROGRESS_SYNC_INTERVAL="2s",
        DSPROGRESS_TIMEZONE="UTC",
        # Due from the first instant of every week: a digest is always due at start.
        DSPROGRESS_DIGEST_SCHEDULE="mon 00:00",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def dsprogress(*args: str) -> list[str]:
    return [sys.executable, "-m", "sync", *args]


def load_runs(state_dir: Path) -> list[RunRecord]:
    with open_store(state_dir) as store:
        return store.load_runs()


@dataclass
class Daemon:
    """`python -m sync run` in a subprocess, its log in a file (a pipe could fill up)."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the daemon exited ({self.process.returncode}) before {what}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.log()}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(DEADLINE)


@contextmanager
def running_daemon(env: dict[str, str], cwd: Path) -> Iterator[Daemon]:
    """Start the daemon; whatever happens in the test, it does not outlive it."""
    log_path = cwd / "daemon.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            dsprogress("run"),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        yield Daemon(process, log_path)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def seed_state_two_weeks_ago(sandbox: SandboxServer, state_dir: Path) -> None:
    """A first sync two weeks ago, so that last week's digest has a history to report on."""
    settings = load_settings(
        None,
        NOTION_TOKEN=sandbox.token,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        NOTION_BASE_URL=sandbox.base_url,
        DSPROGRESS_STATE_DIR=str(state_dir),
        DSPROGRESS_RATE_LIMIT="0",
        DSPROGRESS_TIMEZONE="UTC",
    )
    two_weeks_ago = datetime.now(timezone.utc) - timedelta(days=14)
    run_sync(settings, load_checklist(), mode="sync", now=two_weeks_ago)


@pytest.mark.slow
def test_daemon_against_the_sandbox(sandbox: SandboxServer, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    seed_state_two_weeks_ago(sandbox, state_dir)
    seeded = len(load_runs(state_dir))
    env = sandbox_env(sandbox, state_dir)

    def successful_syncs() -> int:
        return sum(1 for r in load_runs(state_dir)[seeded:] if r.ok and r.kind == "sync")

    sent_weeks: list[str] = []

    def digest_sent() -> bool:
        # The last complete week as of each look (a week may end while the test runs).
        week = str(week_containing(datetime.now(timezone.utc), UTC).shift(-1))
        with open_store(state_dir) as store:
            delivery = store.get_delivery(week, "file")
        if delivery is not None and delivery.status == "sent":
            sent_weeks.append(week)
        return bool(sent_weeks)

    with running_daemon(env, tmp_path) as daemon:
        # The digest that came due while the daemon was down goes out at start, after a sync.
        daemon.wait_for(digest_sent, "the digest")
        week = sent_weeks[0]
        assert successful_syncs() >= 1

        # A second daemon on the same state folder is refused while the first one runs.
        second = subprocess.run(
            dsprogress("run"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 9
        assert "the dsprogress daemon is already running for" in second.stderr

        # A manual sync waits for the daemon's running sync instead of colliding.
        manual = subprocess.run(
            dsprogress("sync", "--json"),
            env={**env, "DSPROGRESS_LOCK_TIMEOUT": "60"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
        assert manual.returncode == 0, manual.stderr

        daemon.wait_for(lambda: successful_syncs() >= 3, "two more syncs")
        assert daemon.stop(signal.SIGTERM) == 0, daemon.log()
    log = daemon.log()
    assert "daemon stopped" in log
    assert log.count("sync ok: created=") >= 2
    assert f"digest {week}: file: sent" in log
    assert sandbox.token not in log
    with hold_lock(state_dir, DAEMON_LOCK, 0, what="test"):
        pass  # the daemon lock is free again

    # However often it runs again, the week's digest was sent once.
    once = subprocess.run(
        dsprogress("run", "--once"), env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert once.returncode == 0, once.stderr
    assert "file: already sent" in once.stderr
    with open_store(state_dir) as store:
        delivery = store.get_delivery(week, "file")
    assert delivery is not None and delivery.attempts == 1


@pytest.mark.slow
def test_daemon_survives_failing_syncs_and_reports_them(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    open_store(state_dir).close()  # created before the daemon starts: the test only reads it
    env = sandbox_env(sandbox, state_dir)
    # Notion refuses the next two requests (fast: a 409 is not retried within a sync).
    sandbox.control.add_fault("error", status=409, code="conflict_error", times=2)

    def recovered() -> bool:
        runs = load_runs(state_dir)
        return any(r.ok for r in runs) and sum(1 for r in runs if not r.ok) >= 2

    try:
        with running_daemon(env, tmp_path) as daemon:
            daemon.wait_for(recovered, "two failed syncs and a successful one")
            assert daemon.stop(signal.SIGINT) == 0, daemon.log()
    finally:
        sandbox.control.clear_faults()
    log = daemon.log()
    assert "sync failed (1 in a row): NotionRequestError" in log
    assert "sync failed (2 in a row)" in log
    assert "sync ok:" in log
    assert sandbox.token not in log

    # The failures show up in the health section of their week's digest (the daemon's clock:
    # the week is the one the failures happened in, even if it ended since).
    runs = load_runs(state_dir)
    first_failure = next(r.started_at for r in runs if not r.ok)
    now = max(r.finished_at or r.started_at for r in runs)
    with open_store(state_dir) as store:
        data = load_digest(
            store,
            load_checklist(),
            week=week_containing(first_failure, UTC),
            zone=UTC,
            week_start="mon",
            now=now,
        )
    assert data.sync.failures >= 2
    assert data.sync.last_failure_error is not None
    assert "NotionRequestError" in data.sync.last_failure_error


# ----------------------------------------------------------------------------------- the CLI


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from sync.cli import main

    with pytest.raises(SystemExit) as exited:
        main(args)
    return int(exited.value.code or 0), capsys.readouterr().err


def test_run_without_notion_settings_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSPROGRESS_STATE_DIR", str(tmp_path / "state"))
    code, err = run_cli(["run", "--once"], capsys)
    assert code == 3
    assert "NOTION_TOKEN" in err


def test_run_once_while_a_daemon_holds_the_state_dir_exits_9(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "NOTION_TOKEN": SECRET,
        "NOTION_PARENT_PAGE_ID": "0" * 31 + "1",
        "DSPROGRESS_STATE_DIR": str(tmp_path / "state"),
        "DSPROGRESS_LOCK_TIMEOUT": "0",
    }.items():
        monkeypatch.setenv(name, value)
    with hold_lock(tmp_path / "state", DAEMON_LOCK, 0, what="test"):
        code, err = run_cli(["run", "--once"], capsys)
    assert code == 9
    assert "the dsprogress daemon is already running for" in err
    assert "DSPROGRESS_STATE_DIR" in err
