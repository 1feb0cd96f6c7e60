"""A built wheel (not the source checkout) carries the templates and runs from anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_shows_the_bundled_checklist(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = dist.glob("dsprogress-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("DSPROGRESS_CHECKLIST", None)
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "from sync.checklist_files import bundled_checklist_path as p; print(p())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(site)), where
    shown = subprocess.run(
        [sys.executable, "-m", "sync", "checklist", "show", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    items = json.loads(shown.stdout)
    assert any(item["title"] == "Transfer learning" for item in items)
    assert (site / "sync" / "templates" / "checklist.yaml").is_file()
    assert (site / "sync" / "templates" / "env.example").is_file()
    example = subprocess.run(
        [sys.executable, "-m", "sync", "init", "--print-env-example"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert example.stdout == (ROOT / ".env.example").read_text(encoding="utf-8")
