"""A snapshot that cannot be written is the tool's own error (exit 10), and nothing is lost.

The snapshot is written after the state is committed, so each failure here keeps every tick:
the next successful run writes the snapshot again. Each failure is a real one where this
machine allows it: a tmpfs out of inodes (a full disk), an immutable `snapshot.json`, the state
folder deleted while the run writes to Notion. Each skips when the machine refuses the setup.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.engine import run_sync
from sync.errors import StateError
from sync.snapshot import SNAPSHOT_FILE, snapshot_write_error
from sync.store import open_store

from .conftest import World
from .test_state_folder import _mount_tmpfs, mount_point, run_cli

__all__ = ["mount_point"]  # the fixture, used by name

SAID = "nothing is lost: the state is committed"


def done_keys(world: World) -> set[str]:
    with open_store(world.state_dir) as store:
        return {key for key, item in store.load_items().items() if item.status == "done"}


@pytest.fixture
def immutable(world: World) -> Iterator[Path]:
    path = world.state_dir / SNAPSHOT_FILE
    yield path
    subprocess.run(["chattr", "-i", str(path)], capture_output=True)


@pytest.mark.slow
def test_an_immutable_snapshot_is_exit_10_and_the_tick_is_kept(
    world: World, immutable: Path
) -> None:
    world.sync()
    before = immutable.read_bytes()
    if subprocess.run(["chattr", "+i", str(immutable)], capture_output=True).returncode != 0:
        pytest.skip("this file system or user cannot make a file immutable")
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    result = run_cli(world, "sync")
    assert result.returncode == 10, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"Error: cannot write the snapshot {immutable}: ")
    assert lines[0].endswith(SAID)
    assert lines[1].startswith("Hint: Make ") and "chattr -i" in lines[1]
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert immutable.read_bytes() == before
    assert "entry.networks.cnn" in done_keys(world)  # the state has the tick
    assert list(world.state_dir.glob(".snapshot-*.json")) == []  # no stray temp file
    subprocess.run(["chattr", "-i", str(immutable)], check=True)
    assert run_cli(world, "sync").returncode == 0
    assert world.snapshot_items()["entry.networks.cnn"].done


@pytest.mark.slow
def test_a_disk_out_of_room_for_the_snapshot_is_exit_10_and_the_tick_is_kept(
    world: World, mount_point: Path
) -> None:
    if not _mount_tmpfs(mount_point, "size=8m"):
        pytest.skip("this user cannot mount a tmpfs")
    world.state_dir = mount_point / "state"
    world.sync()
    # Leave the inodes the state needs (its -wal and -shm files) and none for the snapshot's
    # temporary file: tmpfs then answers ENOSPC, as a full disk does.
    stats = os.statvfs(mount_point)
    used = stats.f_files - stats.f_ffree
    remount = ["mount", "-o", f"remount,nr_inodes={used + 2}", str(mount_point)]
    if subprocess.run(remount, capture_output=True).returncode != 0:
        pytest.skip("this tmpfs cannot be remounted with fewer inodes")
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    result = run_cli(world, "sync")
    assert result.returncode == 10, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: cannot write the snapshot ")
    assert "No space left on device" in lines[0] and lines[0].endswith(SAID)
    assert lines[1].startswith("Hint: Free some disk space, then run `dsprogress sync`")
    assert "Traceback" not in result.stderr
    assert "entry.networks.cnn" in done_keys(world)
    subprocess.run(["mount", "-o", "remount,nr_inodes=1000", str(mount_point)], check=True)
    assert run_cli(world, "sync").returncode == 0
    assert world.snapshot_items()["entry.networks.cnn"].done


def test_a_state_folder_deleted_during_the_run_is_a_state_error_that_says_so(
    world: World,
) -> None:
    world.sync()
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    world.control.advance_clock(600)
    # A checklist change makes the run write to Notion; the folder goes after the first write.
    from tests.engine.conftest import ITEMS, small_checklist

    renamed = [(k, f"{t} (2nd edition)", lv, c, o) for k, t, lv, c, o in ITEMS]

    def remove_the_folder(index: int, total: int, verb: str) -> None:
        if world.state_dir.exists():
            shutil.rmtree(world.state_dir)

    with pytest.raises(StateError) as failed:
        run_sync(
            world.settings(),
            small_checklist(renamed),
            mode="sync",
            progress=remove_the_folder,
        )
    assert failed.value.exit_code == 10
    assert failed.value.message.startswith("cannot write the snapshot ")
    assert failed.value.message.endswith(SAID)
    assert failed.value.hint is not None and "was removed during the run" in failed.value.hint
    # Notion holds everything; the next run rebuilds the folder, the state and the snapshot.
    world.sync(checklist=small_checklist(renamed))
    assert world.snapshot_items()["entry.networks.cnn"].done


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (errno.ENOSPC, "Free some disk space"),
        (errno.EDQUOT, "Free some disk space"),
        (errno.EACCES, "writable by you"),
        (errno.EPERM, "chattr -i"),
        (errno.EROFS, "read-only disk"),
        (errno.ENOENT, "was removed during the run"),
        (errno.EIO, "DSPROGRESS_STATE_DIR"),
    ],
)
def test_each_cause_has_its_fix(code: int, fix: str) -> None:
    error = snapshot_write_error(Path("/s/snapshot.json"), OSError(code, os.strerror(code)))
    assert error.exit_code == 10 and error.message.endswith(SAID)
    assert error.hint is not None and fix in error.hint
    assert error.hint.endswith("then run `dsprogress sync`: it writes the snapshot again.")
