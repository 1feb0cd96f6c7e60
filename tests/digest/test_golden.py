"""Golden renders with a frozen clock: every scenario in every format, compared byte for byte.

Regenerate after an intended change with `DSPROGRESS_UPDATE_GOLDEN=1 scripts/test tests/digest`,
then read the diff of `tests/digest/golden/` before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sync.digest.deliver import load_digest
from sync.digest.render import Format, render_digest
from sync.weeks import WeekStart, parse_week

from .scenarios import SCENARIOS

GOLDEN = Path(__file__).parent / "golden"
EXTENSIONS: dict[Format, str] = {"md": "md", "text": "txt", "html": "html", "json": "json"}
UPDATE = os.environ.get("DSPROGRESS_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_golden_render(scenario: str, fmt: Format, tmp_path: Path) -> None:
    learner, week, now = SCENARIOS[scenario](tmp_path)
    week_start: WeekStart = "sun" if scenario == "dst_new_york" else "mon"
    try:
        data = load_digest(
            learner.store,
            learner.checklist,
            week=parse_week(week),
            zone=learner.zone,
            week_start=week_start,
            now=learner.at(now),
        )
    finally:
        learner.close()
    rendered = render_digest(data, fmt)
    golden = GOLDEN / f"{scenario}.{EXTENSIONS[fmt]}"
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8", newline="")
    assert golden.exists(), f"missing {golden}; run with DSPROGRESS_UPDATE_GOLDEN=1"
    expected = golden.read_bytes().decode("utf-8")
    assert rendered == expected, f"{golden.name} differs; rerun with DSPROGRESS_UPDATE_GOLDEN=1"
