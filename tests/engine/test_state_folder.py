"""The state folder: private (0700, files 0600), cleaned of a killed run's temporary files, and a
folder that cannot be written (read-only, full) is a clean state error that loses nothing.

Unwritable folders are made so for root too: a read-only or tiny tmpfs mount when running as
root (chmod does not stop root), chmod otherwise."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE

from .conftest import World

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_snapshot_lock_and_digests_are_private_whatever_the_umask(world: World) -> None:
    previous = os.umask(0o022)
    try:
        world.sync()
        from sync.digest.channels import write_digest_files

        write_digest_files(world.state_dir, "2026-W48", "# md", "<p>html</p>")
    finally:
        os.umask(previous)
    assert mode(world.state_dir) == PRIVATE_DIR_MODE
    assert mode(world.state_dir / "digests") == PRIVATE_DIR_MODE
    files = [p for p in world.state_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"state.sqlite3", "snapshot.json", "sync.lock", "2026-W48.md"}
    assert {p.name: mode(p) for p in files} == {p.name: PRIVATE_FILE_MODE for p in files}


def test_an_existing_state_made_with_open_modes_is_tightened(world: World) -> None:
    world.sync()
    os.chmod(world.state_dir, 0o755)
    os.chmod(world.state_dir / "state.sqlite3", 0o644)
    world.sync(mode="pull")
    assert mode(world.state_dir) == PRIVATE_DIR_MODE
    assert mode(world.state_dir / "state.sqlite3") == PRIVATE_FILE_MODE


KILL_BEFORE_SWAP = """
import os, signal, sys
from pathlib import Path
import sync.snapshot as snapshot
from sync.snapshot import load_snapshot

state_dir = Path(sys.argv[1])
current = load_snapshot(state_dir)
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # killed just before the swap
snapshot.write_snapshot(current, state_dir)
"""


def test_a_kill_just_before_the_snapshot_swap_leaves_no_stray_file_after_the_next_run(
    world: World,
) -> None:
    world.sync()
    before = (world.state_dir / "snapshot.json").read_bytes()
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_SWAP, str(world.state_dir)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL
    assert list(world.state_dir.glob(".snapshot-*.json"))  # what the kill left
    assert (world.state_dir / "snapshot.json").read_bytes() == before  # the old one, whole
    world.sync(mode="pull")
    assert list(world.state_dir.glob(".snapshot-*.json")) == []


def test_a_digest_temporary_file_left_by_a_kill_is_removed_later(world: World) -> None:
    from sync.digest.channels import write_digest_files

    folder = world.state_dir / "digests"
    folder.mkdir(parents=True)
    stray = folder / ".2026-W47.md.tmp"
    stray.write_text("half a digest")
    os.utime(stray, (1_000_000_000, 1_000_000_000))
    write_digest_files(world.state_dir, "2026-W48", "# md", "<p>html</p>")
    assert not stray.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["2026-W48.html", "2026-W48.md"]


# -- folders that cannot be written --------------------------------------------------------------
def _mount_tmpfs(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True
    )
    return done.returncode == 0


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "mnt"
    yield target
    subprocess.run(["umount", str(target)], capture_output=True)


def run_cli(world: World, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    settings = world.settings()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_"))},
        "PYTHONPATH": str(ROOT),
        "NOTION_TOKEN": world.sandbox.token,
        "NOTION_BASE_URL": world.sandbox.base_url,
        "NOTION_PARENT_PAGE_ID": world.sandbox.root_page_id,
        "DSPROGRESS_STATE_DIR": str(settings.state_dir),
        "DSPROGRESS_RATE_LIMIT": "0",
        "DSPROGRESS_LOCK_TIMEOUT": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "sync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or world.state_dir.parent,
    )


def make_read_only(folder: Path, mount_point: Path) -> None:
    """Make `folder` (inside `mount_point` when root) read-only for whoever runs the test."""
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip("running as root without the right to remount read-only")
    else:
        for path in [folder, *folder.rglob("*")]:
            os.chmod(path, 0o500 if path.is_dir() else 0o400)


def test_a_state_folder_under_a_regular_file_is_a_state_error_for_every_command(
    world: World, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"  # no one, root included, can create a folder under a file
    blocker.write_text("not a folder\n")
    world.state_dir = blocker / "state"
    for command in (["sync"], ["run", "--once"], ["digest", "--send"], ["pull"], ["status"]):
        result = run_cli(world, *command, cwd=tmp_path)
        assert result.returncode == 10, (command, result.stderr)
        assert "Error: cannot " in result.stderr and "Hint:" in result.stderr
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.slow
def test_a_read_only_state_folder_is_a_state_error_and_the_state_is_intact(
    world: World, mount_point: Path
) -> None:
    if os.geteuid() == 0 and not _mount_tmpfs(mount_point, "size=8m"):
        pytest.skip("running as root without the right to mount a tmpfs")
    world.state_dir = mount_point / "state"
    world.sync()
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    before = {p.name: p.read_bytes() for p in world.state_dir.iterdir() if p.is_file()}
    make_read_only(world.state_dir, mount_point)
    for command in (["sync"], ["run", "--once"], ["digest", "--send"], ["pull"]):
        result = run_cli(world, *command)
        assert result.returncode == 10, (command, result.stderr)
        assert result.stderr.startswith("Error: cannot use the state folder"), result.stderr
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    after = {p.name: p.read_bytes() for p in world.state_dir.iterdir() if p.is_file()}
    assert after == before


@pytest.mark.slow
def test_a_full_disk_while_syncing_is_a_state_error_and_no_tick_is_lost(
    world: World, mount_point: Path
) -> None:
    if os.geteuid() != 0 or not _mount_tmpfs(mount_point, "size=1m"):
        pytest.skip("a full disk needs a small tmpfs, which only root can mount")
    world.state_dir = mount_point / "state"
    world.sync()
    for key in ("entry.networks.cnn", "entry.general.callbacks"):
        world.control.tick(world.page_of(key)["id"])
    filler = mount_point / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last block
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    result = run_cli(world, "pull")
    assert result.returncode == 10, result.stderr
    assert result.stderr.startswith(
        ("Error: cannot write the state", "Error: cannot use the state")
    )
    assert "Traceback" not in result.stderr
    filler.unlink()
    assert run_cli(world, "pull").returncode == 0
    done = {key for key, item in world.snapshot_items().items() if item.done}
    assert done == {"entry.networks.cnn", "entry.general.callbacks"}
