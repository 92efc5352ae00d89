"""The supervisors' counts that may be a minute old (``SUPERVISION_COUNTS_SECONDS``): the counts
per rule and filter, the filters' choices, the process list's counts and each process map's
grouped figures. At 100,000 groups each costs a scan, and a minute-old count serves a supervisor
as well; the lists of cases themselves are live."""
from __future__ import annotations

from flask import current_app

from webapp.timed_cache import TimedCache


def summary_cache() -> TimedCache:
    cache = current_app.extensions.get("supervision_summary")
    if cache is None:
        cache = current_app.extensions["supervision_summary"] = TimedCache(
            current_app.config["SUPERVISION_COUNTS_SECONDS"])
    return cache
