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
