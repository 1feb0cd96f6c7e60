"""scripts/bench --quick, the smoke run: it must keep running end to end and print every goal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_bench_runs_and_prints_every_goal() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for goal in (
        "`--help` client CPU",
        "no-op sync requests, 37 items",
        "full read requests (ceil(N/100) + schema + database check), 150",
        "sync after 3 ticks: rows read, 150",
        # 6 tabs, the Progress dashboard and its 4 widgets
        "first push requests (database + 11 views + items), 37",
        "first push wall / floor at 30 req/s, 37",
        "first push 429s, 150 items",
        "no-op sync requests / naive (74), 37",
        "no-op sync client CPU, 37 items",
        "push CPU per item, 150 vs 37",
    ):
        assert goal in out, goal
    # Every goal row carries a figure, its target, a ratio and whether it is met.
    rows = [
        line
        for line in out.splitlines()
        if line.startswith("| ") and line.endswith((" yes |", " NO |"))
    ]
    assert len(rows) >= 20
