"""The moved clock the rule tests share: a town seeded at START, noon of a given day."""
from __future__ import annotations

from datetime import date, datetime

from tests.webapp.cases.helpers import municipality
from webapp.clock import OSLO

#: the last day of a month: month arithmetic from it must clamp (31 August + 6 months = 28 February)
START = datetime(2026, 8, 31, 12, 0, tzinfo=OSLO)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=OSLO)


def town_at_start(services) -> dict[str, int]:
    """The seeded municipality, with the clock at START."""
    services.clock.set(START)
    return municipality(services)
