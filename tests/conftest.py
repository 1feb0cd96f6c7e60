from collections.abc import Iterator

import pytest
import time_machine

pytest_plugins = ["tests.sandbox_fixtures"]


def pytest_terminal_summary(terminalreporter: object) -> None:
    """Print the figures tests recorded with `record_property("sandbox replay", ...)`."""
    stats = getattr(terminalreporter, "stats", {})
    lines = [
        value
        for reports in stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == "sandbox replay"
    ]
    for line in lines:
        terminalreporter.write_line(line)  # type: ignore[attr-defined]


FIXED_NOW = "2026-11-25T12:00:00+00:00"
"""A Wednesday noon, far from a week's edge and from a clock change in the zones tests use."""


@pytest.fixture
def fixed_clock() -> Iterator[time_machine.Traveller]:
    """The tool and the in-process sandbox both at `FIXED_NOW`, time flowing from there: a test
    that reads the clock cannot straddle a week boundary or a clock change."""
    with time_machine.travel(FIXED_NOW, tick=True) as traveller:
        yield traveller
