"""Values that are costly at national scale and may be a minute old (the register's figures, the
cockpit's counts): kept per process and recomputed when older than a number of seconds."""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class TimedCache:
    """``get(key, compute, now)`` gives ``(value, when it was computed)``; ``compute()`` runs when
    the key is missing or older than ``seconds`` (0: every time, nothing kept). At most
    ``max_entries`` keys are kept (the oldest go first), so many distinct keys cannot grow it."""

    def __init__(self, seconds: float, max_entries: int = 200):
        self.seconds = max(0.0, float(seconds))
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._values: dict[Hashable, tuple[float, datetime, object]] = {}

    def get(self, key: Hashable, compute: Callable[[], T], now: datetime) -> tuple[T, datetime]:
        with self._lock:
            found = self._values.get(key)
        if found is not None and time.monotonic() - found[0] < self.seconds:
            return found[2], found[1]
        value = compute()
        if self.seconds:
            with self._lock:
                self._values.pop(key, None)
                while len(self._values) >= self.max_entries:
                    self._values.pop(next(iter(self._values)))
                self._values[key] = (time.monotonic(), now, value)
        return value, now
