"""The application clock. Everything that asks "what time is it" goes through a Clock so tests
can move time (14 days' notice, yearly evaluations, timers) without sleeping."""
from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

#: Stored times are UTC; the municipality lives in this zone (dates shown, "today", naive dates).
OSLO = ZoneInfo("Europe/Oslo")


class Clock:
    """Wall clock with an optional offset; ``advance`` moves it forward (tests, demo)."""

    def __init__(self, start: datetime | None = None):
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        if start is not None:
            self._offset = start - datetime.now(timezone.utc)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(timezone.utc) + self._offset

    def today(self) -> date:
        """Today's date in Oslo."""
        return self.now().astimezone(OSLO).date()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._offset = moment - datetime.now(timezone.utc)


def start_of_day(day: date) -> str:
    """Midnight in Oslo at the start of ``day``, as a timer value for a diagram (ISO 8601)."""
    return datetime.combine(day, time(0, 0), OSLO).isoformat()
