"""The one way a private file is written: a 0600 temporary file in the same folder, fsynced,
renamed over the target; nothing left behind when the write fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sync.private_files import write_private_file


def test_a_private_file_is_written_whole_and_0600_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    previous = os.umask(0)
    try:
        write_private_file(target, "new\n", prefix=".out-", suffix=".json")
    finally:
        os.umask(previous)
    assert target.read_text(encoding="utf-8") == "new\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_private_file(target, "half \ud800 written", prefix=".out.md.")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


def test_a_missing_folder_is_an_oserror_for_the_caller_to_translate(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_private_file(tmp_path / "gone" / "x", "text", prefix=".x-")
