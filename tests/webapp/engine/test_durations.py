"""Bounded ISO 8601 durations, dates and cycles (webapp/engine/durations.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from webapp.engine.durations import (
    DurationError, TimerLimits, add_duration, parse_cycle, parse_duration, parse_moment,
    timer_value_problem,
)

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("P14D", relativedelta(days=14)),
    ("PT2H", relativedelta(hours=2)),
    ("P1Y2M", relativedelta(years=1, months=2)),
    ("P2W", relativedelta(weeks=2)),
    ("P1DT12H30M5S", relativedelta(days=1, hours=12, minutes=30, seconds=5)),
    ("P1.5D", relativedelta(days=1.5)),
    ("PT0,5H", relativedelta(hours=0.5)),
    (" p3d ", relativedelta(days=3)),
    ("PT0S", relativedelta()),
    ("P3700D", relativedelta(days=3700)),
])
def test_valid_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text, words", [
    ("P", "mangler et tall"),
    ("PT", "mangler et tall"),
    ("P1DT", "T uten"),
    ("", "ikke en ISO 8601-varighet"),
    ("14 dager", "ikke en ISO 8601-varighet"),
    ("P14", "ikke en ISO 8601-varighet"),
    ("P1D2Y", "ikke en ISO 8601-varighet"),
    ("-P1D", "negativ"),
    ("P-1D", "ikke en ISO 8601-varighet"),
    ("P1.5Y", "hele tall"),
    ("P1.5DT2H", "bare den siste delen"),
    ("P10Y2M", "lengre enn de tillatte 10 år"),
    ("P3701D", "lengre enn de tillatte"),
    ("PT88801H", "lengre enn de tillatte"),
    ("P" + "9" * 60 + "D", "lengre enn de tillatte"),
    ("P" + "9" * 200 + "D", "for lang til å være en varighet"),
])
def test_refused_durations(text, words):
    with pytest.raises(DurationError) as err:
        parse_duration(text)
    assert words in err.value.message
    assert isinstance(err.value, ValueError)


def test_huge_duration_is_refused_before_any_arithmetic():
    # SpiffWorkflow's own helper loops once per month: this would hang it. Refused at once here.
    with pytest.raises(DurationError) as err:
        parse_duration("P99999999Y")
    assert err.value.message == "«P99999999Y» er lengre enn de tillatte 10 år (3700 dager)"
    with pytest.raises(DurationError):
        add_duration(NOW, "P99999999Y")


def test_limits_can_be_tightened():
    assert parse_duration("P2D", TimerLimits(max_duration_days=2)) == relativedelta(days=2)
    with pytest.raises(DurationError) as err:
        parse_duration("P3D", TimerLimits(max_duration_days=2))
    assert "2 dager" in err.value.message
    with pytest.raises(DurationError):
        parse_duration("PT49H", TimerLimits(max_duration_days=2))


def test_non_text_is_refused():
    with pytest.raises(DurationError) as err:
        parse_duration(14)  # type: ignore[arg-type]
    assert "må være tekst" in err.value.message


def test_add_duration_uses_the_oslo_calendar_for_days_and_exact_time_for_hours():
    # 2026-03-29 is the spring DST change in Oslo.
    start = datetime(2026, 3, 28, 9, 0, tzinfo=OSLO)
    assert add_duration(start, "P1D") == datetime(2026, 3, 29, 9, 0, tzinfo=OSLO)
    assert add_duration(start, "PT24H") == datetime(2026, 3, 29, 10, 0, tzinfo=OSLO)
    utc_start = start.astimezone(timezone.utc)
    moved = add_duration(utc_start, "P1D")
    assert moved.tzinfo is not None and moved.utcoffset() == timedelta(0)
    assert moved == datetime(2026, 3, 29, 9, 0, tzinfo=OSLO)
    # 09:00 in Oslo stays 09:00 a month later, across the change to summer time.
    assert add_duration(NOW, "P1M") == datetime(2026, 4, 2, 7, 0, tzinfo=timezone.utc)
    assert add_duration(datetime(2026, 1, 31, 12, tzinfo=timezone.utc), "P1M").day == 28
    assert add_duration(NOW, "P1.5D") == NOW + timedelta(days=1, hours=12)
    assert add_duration(NOW, "P2W") == NOW + timedelta(days=14)


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01", datetime(2026, 2, 28, 23, 0, tzinfo=timezone.utc)),           # midnight Oslo
    ("2026-07-01T09:00", datetime(2026, 7, 1, 7, 0, tzinfo=timezone.utc)),       # summer time
    ("2026-01-15T09:00:30", datetime(2026, 1, 15, 8, 0, 30, tzinfo=timezone.utc)),
    ("2026-01-15T09:00Z", datetime(2026, 1, 15, 9, 0, tzinfo=timezone.utc)),
    ("2026-01-15T09:00+05:00", datetime(2026, 1, 15, 4, 0, tzinfo=timezone.utc)),
    ("2026-W05-3", datetime(2026, 1, 27, 23, 0, tzinfo=timezone.utc)),           # Wednesday
])
def test_moments(text, expected):
    moment = parse_moment(text)
    assert moment == expected and moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text, words", [
    ("2201-01-01", "etter år 2200"),
    ("9999-12-31T23:59", "etter år 2200"),
    ("1066-10-14", "før år 1900"),
    ("2026-02-30", "ikke en ISO 8601-dato"),
    ("i morgen", "ikke en ISO 8601-dato"),
    ("+2026-01-01", "ikke en ISO 8601-dato"),
    ("", "ikke en ISO 8601-dato"),
])
def test_refused_moments(text, words):
    with pytest.raises(DurationError) as err:
        parse_moment(text)
    assert words in err.value.message


def test_cycles():
    assert parse_cycle("R5/PT1H", NOW) == (5, NOW + timedelta(hours=1), timedelta(hours=1))
    count, first, interval = parse_cycle("R3/2026-01-01T08:00/P1D", NOW)
    assert (count, first, interval) == (3, datetime(2026, 1, 1, 7, 0, tzinfo=timezone.utc), timedelta(days=1))
    assert parse_cycle("R1000/PT1M", NOW)[0] == 1000
    count, first, interval = parse_cycle("R2/P1W", NOW)
    assert interval == timedelta(days=7) and first == NOW + interval


@pytest.mark.parametrize("text, words", [
    ("R/P1D", "gjentas i det uendelige"),
    ("R/PT1S", "gjentas i det uendelige"),
    ("R-1/P1D", "gjentas i det uendelige"),
    ("R5/PT1S", "oftere enn tillatt (høyst én gang per 1 minutt)"),
    ("R5/PT59S", "oftere enn tillatt"),
    ("R1001/P1D", "flere enn de tillatte 1000 gangene"),
    ("R99999999999999999999/P1D", "flere enn de tillatte 1000 gangene"),
    ("R0/P1D", "gjentas aldri"),
    ("R3/P1D/2026-01-01", "starttidspunktet før varigheten"),
    ("R3/2026-01-01/P99999999Y", "lengre enn de tillatte"),
    ("R3/3000-01-01/P1D", "etter år 2200"),
    ("R1000/P10Y", "etter år 2200"),
    ("P1D", "ikke en ISO 8601-gjentakelse"),
    ("R5", "ikke en ISO 8601-gjentakelse"),
    ("R5/P1D/P1D/P1D", "ikke en ISO 8601-gjentakelse"),
])
def test_refused_cycles(text, words):
    with pytest.raises(DurationError) as err:
        parse_cycle(text, NOW)
    assert words in err.value.message


def test_cycle_limits_can_be_changed():
    limits = TimerLimits(max_cycle_repetitions=3, min_cycle_interval_seconds=1)
    assert parse_cycle("R3/PT1S", NOW, limits)[2] == timedelta(seconds=1)
    with pytest.raises(DurationError):
        parse_cycle("R4/PT1S", NOW, limits)


def test_timer_value_problem():
    assert timer_value_problem("duration", "P14D") is None
    assert timer_value_problem("date", "2026-05-01T09:00") is None
    assert timer_value_problem("date", date(2026, 5, 1)) is None
    assert "etter år" in timer_value_problem("date", date(2300, 5, 1))
    assert timer_value_problem("cycle", "R3/PT1H") is None
    assert "lengre enn de tillatte" in timer_value_problem("duration", "P99999999Y")
    assert "gjentas i det uendelige" in timer_value_problem("cycle", "R/PT1S")
    assert "ikke en ISO 8601-dato" in timer_value_problem("date", "P1D")
    assert "må være tekst" in timer_value_problem("duration", None)
    assert "etter år 2100" in timer_value_problem("date", "2150-01-01", TimerLimits(max_year=2100))
    with pytest.raises(ValueError):
        timer_value_problem("weekly", "P1D")


def test_messages_are_plain_and_short():
    evil = "P" + "\x00" * 30 + "<script>" + "9" * 20
    message = timer_value_problem("duration", evil)
    assert message and "\x00" not in message and len(message) < 200
