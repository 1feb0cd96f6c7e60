"""Locks in the state folder: one sync at a time, one daemon at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from sync.errors import BusyError, StateError
from sync.private_files import PRIVATE_FILE_MODE, make_private_dir, remove_stale_files

SYNC_LOCK = "sync.lock"
SNAPSHOT_TEMP_PATTERN = ".snapshot-*.json"
DAEMON_LOCK = "daemon.lock"


@contextmanager
def hold_lock(
    state_dir: Path,
    name: str,
    timeout: float,
    *,
    what: str,
    on_wait: Callable[[float], None] | None = None,
) -> Iterator[None]:
    """Hold the named lock; wait at most `timeout` seconds, then raise BusyError.

    When the lock is taken, `on_wait(timeout)` is called once before waiting, so that a command
    can say what it is waiting for.
    """
    try:
        make_private_dir(state_dir)
    except OSError as exc:
        raise StateError(
            f"cannot use the state folder {state_dir}: {exc.strerror or exc}",
            hint="Set DSPROGRESS_STATE_DIR to a folder you can write to.",
        ) from exc
    lock = FileLock(str(state_dir / name), mode=PRIVATE_FILE_MODE)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_wait is not None:
                on_wait(timeout)
            lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise BusyError(f"{what} is already running for {state_dir}") from exc
    except OSError as exc:  # the lock file cannot be created: a read-only or full disk
        raise StateError(
            f"cannot use the state folder {state_dir}: {exc.strerror or exc}",
            hint="Set DSPROGRESS_STATE_DIR to a folder you can write to.",
        ) from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def hold_sync_lock(
    state_dir: Path, timeout: float, on_wait: Callable[[float], None] | None = None
) -> Iterator[None]:
    """Hold the sync lock; the snapshot's temporary files a killed run left are removed (only
    the holder of this lock writes the snapshot)."""
    with hold_lock(state_dir, SYNC_LOCK, timeout, what="another sync", on_wait=on_wait):
        remove_stale_files(state_dir, SNAPSHOT_TEMP_PATTERN)
        yield
