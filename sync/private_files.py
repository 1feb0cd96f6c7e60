"""Private files: the state folder holds the learner's progress, history and digests.

One rule, one owner: every folder dsprogress creates for its state is 0700 and every file in it
0600 (the owner alone may read them), whatever the umask; and temporary files a killed run left
behind are removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
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
