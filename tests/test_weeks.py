from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.weeks import (
    WeekId,
    build_week_window,
    format_utc_offset,
    last_complete_week,
    parse_week,
    week_containing,
    week_of_day,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_parse_and_format_round_trip() -> None:
    assert str(parse_week("2026-W48")) == "2026-W48"
    assert parse_week(" 2026w5 ") == WeekId(2026, 5)
    assert str(WeekId(2026, 5)) == "2026-W05"


@pytest.mark.parametrize("text", ["2026-48", "W48", "2026-W54", "2026-W00", "yesterday"])
def test_parse_rejects_non_weeks(text: str) -> None:
    with pytest.raises(ValueError):
        parse_week(text)


def test_week_53_exists_only_in_long_years() -> None:
    assert str(parse_week("2026-W53")) == "2026-W53"  # 2026 starts on a Thursday
    with pytest.raises(ValueError, match="weeks 1 to 52"):
        parse_week("2027-W53")


def test_shift_crosses_years() -> None:
    assert WeekId(2026, 53).shift(1) == WeekId(2027, 1)
    assert WeekId(2027, 1).shift(-1) == WeekId(2026, 53)


def test_monday_window_is_local_midnight_to_midnight() -> None:
    window = build_week_window(WeekId(2026, 48), BERLIN)
    assert window.first_day == date(2026, 11, 23)
    assert window.start == datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc)


def test_window_across_the_end_of_summer_time_is_169_hours() -> None:
    window = build_week_window(WeekId(2026, 43), BERLIN)  # DST ends Sun 25 Oct 2026
    assert window.start == datetime(2026, 10, 18, 22, 0, tzinfo=timezone.utc)  # 00:00 CEST
    assert window.end == datetime(2026, 10, 25, 23, 0, tzinfo=timezone.utc)  # 00:00 CET
    assert window.end - window.start == timedelta(hours=169)
    assert format_utc_offset(window.start_local) == "UTC+02:00"
    assert format_utc_offset(window.end_local) == "UTC+01:00"


def test_window_across_the_start_of_summer_time_is_167_hours() -> None:
    window = build_week_window(WeekId(2026, 13), BERLIN)  # DST starts Sun 29 Mar 2026
    assert window.end - window.start == timedelta(hours=167)


def test_sunday_start_weeks_begin_the_day_before_the_iso_monday() -> None:
    window = build_week_window(WeekId(2026, 45), NEW_YORK, "sun")
    assert window.first_day == date(2026, 11, 1)
    assert window.start == datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc)  # 00:00 EDT
    assert window.end == datetime(2026, 11, 8, 5, 0, tzinfo=timezone.utc)  # 00:00 EST
    assert week_of_day(date(2026, 11, 1), "sun") == WeekId(2026, 45)
    assert week_of_day(date(2026, 10, 31), "sun") == WeekId(2026, 44)


def test_week_containing_uses_the_local_day() -> None:
    late_sunday = datetime(2026, 11, 29, 22, 30, tzinfo=timezone.utc)  # 23:30 in Berlin
    assert week_containing(late_sunday, BERLIN) == WeekId(2026, 48)
    assert week_containing(late_sunday, ZoneInfo("Asia/Tokyo")) == WeekId(2026, 49)
    with pytest.raises(ValueError):
        week_containing(datetime(2026, 11, 29), BERLIN)


def test_last_complete_week_is_the_one_before_now() -> None:
    monday_morning = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)
    assert last_complete_week(monday_morning, BERLIN) == WeekId(2026, 48)


def test_utc_offset_format() -> None:
    assert format_utc_offset(datetime(2026, 1, 1, tzinfo=timezone.utc)) == "UTC"
    india = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert format_utc_offset(india) == "UTC+05:30"


ZONES = st.sampled_from(
    ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"]
)


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 3),
        max_value=datetime(2040, 12, 1),
        timezones=st.just(timezone.utc),
    ),
    zone=ZONES,
    week_start=st.sampled_from(["mon", "sun"]),
)
def test_every_instant_lies_in_the_window_of_its_week(
    moment: datetime, zone: str, week_start: str
) -> None:
    tz = ZoneInfo(zone)
    week = week_containing(moment, tz, week_start)  # type: ignore[arg-type]
    window = build_week_window(week, tz, week_start)  # type: ignore[arg-type]
    assert window.contains(moment)
    following = build_week_window(week.shift(1), tz, week_start)  # type: ignore[arg-type]
    assert following.start == window.end
    assert timedelta(hours=166) <= window.end - window.start <= timedelta(hours=170)


@pytest.mark.parametrize("text", ["9999-W52", "0001-W01", "1969-W52", "9001-W01"])
def test_weeks_far_in_the_past_or_future_are_refused_not_an_overflow(text: str) -> None:
    with pytest.raises(ValueError, match="out of range; use a year from 1970 to 9000"):
        parse_week(text)
