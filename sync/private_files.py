"""Private files: the state folder holds the learner's progress, history and digests.

One rule, one owner: every folder dsprogress creates for its state is 0700 and every file in it
0600 (the owner alone may read them), whatever the umask; every such file is written atomically
(`write_private_file`); and temporary files a killed run left behind are removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create `path` (and its parents) if needed; make it 0700. Raises OSError."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _chmod(path, PRIVATE_DIR_MODE)
    return path


def make_private_file(path: Path) -> Path:
    """Create `path` empty (0600) if it does not exist, else make it 0600 if we may.
    Raises OSError when it cannot be created."""
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE)
        os.close(fd)
    _chmod(path, PRIVATE_FILE_MODE)
    return path


def _chmod(path: Path, mode: int) -> None:
    # Best effort on what exists: a read-only disk or another owner's file stays as it is (and
    # reading it still works); writing to it fails later with its own clear error.
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)


def remove_stale_files(folder: Path, pattern: str, *, older_than: float = 0.0) -> list[Path]:
    """Remove files matching `pattern` in `folder` (at least `older_than` seconds old): the
    temporary files of a run that was killed before it could rename or remove them."""
    removed = []
    cutoff = time.time() - older_than
    with contextlib.suppress(OSError):
        for path in folder.glob(pattern):
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed.append(path)
    return removed


def write_private_file(path: Path, text: str, *, prefix: str, suffix: str = ".tmp") -> Path:
    """Write `text` to `path` atomically, 0600: a reader sees the old file or the new one.

    The one way dsprogress writes a private file (the snapshot, `.env`, the digest files): a
    temporary file `<prefix>*<suffix>` in the same folder, made 0600, written and fsynced, then
    os.replace'd over `path` and the folder fsynced (best effort). On any failure the temporary
    file is removed and the OSError propagates for the caller to translate.
    """
    fd, temp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable; a folder that cannot be opened (another platform) is left as is.
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
