"""scripts/bench --cohort, on a small cohort: it runs end to end and prints its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_cohort_bench_runs_and_prints_requests_against_the_floor() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench_cohort.py"),
            "--sizes",
            "4",
            "--rate",
            "100",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    header, _, row = result.stdout.strip().splitlines()[:3]
    assert "no-op wall / floor" in header
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "4"
    assert cells[3] == "12 (3.00 a learner)"  # a pass where nothing changed
    assert cells[-1] == "0"  # writes
