"""The yearly figures over time (issue 13), month by month in Oslo: how many groups were in each
status at the end of each month, and how long it took from the wish to an active group (median
and 90th percentile in days, by the month the group became active). Reads only.

The statuses at each month's end take two queries whatever the number of groups. Every status
change is written together with ``cases.status`` (``cases.operations.change_status``), so the
status at a moment T is the current status with the changes at or after T undone: each undone
change moves its case back from ``to_status`` to ``from_status`` (a case's opening change, from
nothing, takes it out). So one query counts the cases by current status, and one counts the
changes since the end of the year's first month by (month, from, to); twelve suffix sums in Python
give every month. For the current year (the page's default) the second query reads only this
year's changes. A history that starts mid-way (no opening change) is read as ``figures`` reads it:
the case was in the first change's ``from_status`` before it.

Days from wish to active: from the case's creation (the wish registered, its opening change) to
its first activation (a change to ``active`` from a status before it; a group active again after a
withdrawn consent is not started again), both as Oslo calendar days. PostgreSQL computes
``percentile_cont`` per month; on SQLite the day counts of that year's activations are read and the
same interpolation is done in Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, Integer, case, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.cases.models import CASE_STATUSES, Case, CaseStatusChange
from webapp.clock import OSLO
from webapp.timed_cache import TimedCache

#: the statuses a group has before its first activation (a change from one of them to ``active``
#: starts the group; the same reading as ``owner_reports``)
BEFORE_ACTIVE = ("requested", "awaiting_consent", "establishing")
#: the statuses of a group running or on its way, drawn in the chart from the bottom up (the
#: others only grow)
OPEN_STATUSES = ("active", "establishing", "awaiting_consent", "requested")
PERCENTILES = (0.5, 0.9)


@dataclass(frozen=True)
class MonthTrend:
    month: int
    #: every status of ``CASE_STATUSES`` -> groups in it at the month's end (or now, this month)
    by_status: dict[str, int]
    #: groups that became active in the month (first activation)
    started: int
    #: days from wish to active of those groups; None without any
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class YearTrend:
    year: int
    #: January up to the last month that has begun (all twelve for a past year)
    months: tuple[MonthTrend, ...]


def month_ends(year: int) -> list[datetime]:
    """The first instant after each month of the year, in Oslo (12 aware datetimes)."""
    return [datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=OSLO) for m in range(1, 13)]


def _month_of(column, ends: list[datetime]):
    """1..12: the month (given by its ends) of a time at or after the year's start, as a CASE
    over the ends (exact in Oslo on both databases); 12 for anything after November."""
    return case(*[(column < end, literal(m, Integer)) for m, end in enumerate(ends[:11], 1)],
                else_=literal(12, Integer))


def status_at_month_ends(session: Session, year: int) -> list[dict[str, int]]:
    """For each month of the year, status -> groups in it at the month's end (two queries)."""
    ends = month_ends(year)
    now_by_status = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
    # changes at or after the end of January, by the last month end they come at or after (1..12)
    since = case(*[(CaseStatusChange.at < end, literal(m, Integer)) for m, end in enumerate(ends[1:], 1)],
                 else_=literal(12, Integer))
    # grouped outside a subquery: PostgreSQL would not see the CASE in GROUP BY (its own bound
    # parameters) as the one selected
    changes = (select(since.label("k"), CaseStatusChange.from_status, CaseStatusChange.to_status)
               .where(CaseStatusChange.at >= ends[0]).subquery())
    undo = session.execute(select(changes.c.k, changes.c.from_status, changes.c.to_status, func.count())
                           .group_by(changes.c.k, changes.c.from_status, changes.c.to_status)).all()
    by_month = {k: [] for k in range(1, 13)}
    for k, from_status, to_status, count in undo:
        by_month[k].append((from_status, to_status, count))
    counts = {status: int(now_by_status.get(status, 0)) for status in set(CASE_STATUSES) | set(now_by_status)}
    result: list[dict[str, int]] = [{}] * 12
    # walk back from now: month m's end sees every change before ends[m-1]; undo those in bucket >= m
    for m in range(12, 0, -1):
        for from_status, to_status, count in by_month[m]:
            counts[to_status] = counts.get(to_status, 0) - count
            if from_status is not None:
                counts[from_status] = counts.get(from_status, 0) + count
        result[m - 1] = {status: counts.get(status, 0) for status in CASE_STATUSES}
    return result


def wish_to_active(session: Session, year: int) -> dict[int, tuple[int, float | None, float | None]]:
    """month -> (groups started, median days, 90th percentile days) from wish to active group."""
    ends = month_ends(year)
    month = _month_of(CaseStatusChange.at, ends)
    started = (select(month.label("m"), CaseStatusChange.at, Case.created_at)
               .join(Case, Case.id == CaseStatusChange.case_id)
               .where(CaseStatusChange.to_status == "active", CaseStatusChange.from_status.in_(BEFORE_ACTIVE),
                      CaseStatusChange.at >= datetime(year, 1, 1, tzinfo=OSLO), CaseStatusChange.at < ends[-1]))
    if session.get_bind().dialect.name == "postgresql":
        rows = started.subquery()
        days = type_coerce(cast(func.timezone("Europe/Oslo", rows.c.at), Date)
                           - cast(func.timezone("Europe/Oslo", rows.c.created_at), Date), Integer)
        return {m: (n, _float(median), _float(p90)) for m, n, median, p90 in session.execute(
            select(rows.c.m, func.count(), *[func.percentile_cont(p).within_group(days) for p in PERCENTILES])
            .group_by(rows.c.m))}
    found: dict[int, list[int]] = {}
    for m, at, created in session.execute(started):
        found.setdefault(m, []).append((_oslo_day(at) - _oslo_day(created)).days)
    return {m: (len(days), percentile(days, 0.5), percentile(days, 0.9)) for m, days in found.items()}


def _oslo_day(value: datetime) -> date:
    return value.astimezone(OSLO).date()


def _float(value) -> float | None:
    """Days to one decimal (both databases round alike)."""
    return None if value is None else round(float(value), 1)


def percentile(values: list[int], p: float) -> float | None:
    """PostgreSQL's ``percentile_cont``: linear interpolation between the sorted values (to one
    decimal, as ``wish_to_active`` rounds PostgreSQL's)."""
    if not values:
        return None
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return _float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def year_trend(session: Session, year: int, today: date) -> YearTrend:
    """The year's months up to ``today``'s (Oslo), in three queries."""
    last = 12 if year < today.year else (today.month if year == today.year else 0)
    if not last:
        return YearTrend(year, ())
    statuses = status_at_month_ends(session, year)
    started = wish_to_active(session, year)
    return YearTrend(year, tuple(
        MonthTrend(m, statuses[m - 1], *started.get(m, (0, None, None))) for m in range(1, last + 1)))


class TrendCache:
    """A year's trend, recomputed when older than ``seconds`` (0: always), like ``FiguresCache``
    (the same setting, ``REGISTER_FIGURES_SECONDS``)."""

    def __init__(self, seconds: float):
        self._cache = TimedCache(seconds, max_entries=24)

    def get(self, session: Session, year: int, now: datetime) -> tuple[YearTrend, datetime]:
        """(trend, when it was computed)."""
        today = now.astimezone(OSLO).date()
        key = (year, today.replace(day=1))  # a new month adds a point
        return self._cache.get(key, lambda: year_trend(session, year, today), now)


def record_trend_export(db, *, user_id: int, year: int, at: datetime) -> None:
    """The audit event of a download of the monthly figures (as ``record_figures_export``)."""
    with db.transaction() as session:
        record(session, "register_trend_exported", at=at, actor_id=user_id,
               **titled("Månedstall for %(year)s lastet ned", year=year), year=year)
