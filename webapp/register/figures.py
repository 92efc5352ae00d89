"""The yearly figures the coordinating unit reports (guideline 002: the KE counts groups, plans and
coordinators every year). Reads only; the year runs from 1 January to 1 January in Oslo.

A group's history is its ``CaseStatusChange`` rows, so "active at some time during the year" is
reconstructed from them rather than from the case's current status — in SQL (window functions and
aggregates, helped by the ``(to_status, at)`` index), so a year takes a fixed number of queries
however many groups there are. ``active_intervals`` is the same reading in Python, for one case.

Reading a whole history still costs time in proportion to it (about 0.7 s at 100,000 groups), so
pages ask ``FiguresCache``: a year's figures are computed at most once per ``seconds`` per
process and shown with the time they were computed.

Plans are counted from the plan rows (``plans``), the way the figures read the year everywhere:
a group counts as "with an individual plan" (or "with a relay log") when it was active at some time
in the year and a plan of that kind was *in force* at some time in the year — adopted before the
year's end and not ended before its start (``adopted_at < end`` and ``ended_at`` empty or after
``start``; status ``adopted``, or ``ended`` after having been adopted). The yes/no answer of the
plan assessment (``Case.individual_plan``) is not a plan: a plan wanted, drafted or refused but
never adopted does not count. A group that had both kinds in the year (a relay log replaced by an
individual plan) counts under each; a group is counted once per kind however many plans it had.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseStatusChange, CoordinatorAppointment
from webapp.cases.operations import APPOINTMENT_KINDS
from webapp.clock import OSLO
from webapp.plans.models import Plan
from webapp.timed_cache import TimedCache

#: An interval [since, until); None for an open end.
Interval = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class YearFigures:
    year: int
    #: groups whose status was ``active`` at some time during the year
    active_groups: int
    #: of these, groups with an adopted individual plan in force during the year (from the plans)
    with_individual_plan: int
    #: of these, groups with an adopted relay log (stafettlogg) in force during the year
    with_relay_log: int
    #: appointment kind -> coordinators (a person in a group) of that kind in force during the year
    coordinators_by_kind: dict[str, int]
    #: distinct persons who were coordinator of an active group during the year
    coordinator_persons: int
    #: groups that became active in the year (a re-established group is a new case: counted again)
    started: int
    #: groups closed in the year
    closed: int


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year in Oslo as an aware [start, end) pair."""
    return datetime(year, 1, 1, tzinfo=OSLO), datetime(year + 1, 1, 1, tzinfo=OSLO)


def active_intervals(changes: Sequence[CaseStatusChange]) -> list[Interval]:
    """The periods one case was active, from its status changes ordered by time."""
    intervals: list[Interval] = []
    active = bool(changes) and changes[0].from_status == "active"
    since: datetime | None = None
    for change in changes:
        if change.to_status == "active" and not active:
            active, since = True, change.at
        elif change.to_status != "active" and active:
            intervals.append((since, change.at))
            active = False
    if active:
        intervals.append((since, None))
    return intervals


def overlaps(interval: Interval, start: datetime, end: datetime) -> bool:
    since, until = interval
    return (since is None or since < end) and (until is None or until > start)


def active_cases(start: datetime, end: datetime) -> Select:
    """The ids of the cases that were active at some time in [start, end), as one SQL query.

    The same reading of the history as ``active_intervals``: after each change (ordered by time,
    then id) a case is active until its next change exactly when the change was *to* ``active``;
    before its first change it was active if that change was *from* ``active``. Only changes
    before ``end`` count.

    Only the changes to or from ``active`` are read (a third of the history fewer rows): a change
    *from* ``active`` follows every change *to* it, because each change starts from the status
    the previous one left (``cases.operations`` writes them so), and the first change from
    ``active`` of a case with no change to it before is the case's first change.
    """
    window = {"partition_by": CaseStatusChange.case_id, "order_by": (CaseStatusChange.at, CaseStatusChange.id)}
    steps = select(
        CaseStatusChange.case_id, CaseStatusChange.from_status, CaseStatusChange.to_status, CaseStatusChange.at,
        func.lead(CaseStatusChange.at, type_=CaseStatusChange.at.type).over(**window).label("next_at"),
        func.row_number().over(**window).label("n"),
    ).where(or_(CaseStatusChange.to_status == "active", CaseStatusChange.from_status == "active")).subquery()
    return select(steps.c.case_id).where(steps.c.at < end, or_(
        and_(steps.c.to_status == "active", or_(steps.c.next_at.is_(None), steps.c.next_at > start)),
        and_(steps.c.n == 1, steps.c.from_status == "active", steps.c.at > start),
    )).distinct()


def plans_in_force(case_ids, start: datetime, end: datetime) -> Select:
    """(case id, kind) of the plans of ``case_ids`` in force at some time in [start, end): adopted
    before ``end`` and not ended by ``start`` (see the module's docstring); each pair once."""
    return select(Plan.case_id, Plan.kind).where(
        Plan.case_id.in_(case_ids), Plan.status.in_(("adopted", "ended")), Plan.adopted_at < end,
        or_(Plan.ended_at.is_(None), Plan.ended_at > start),
    ).distinct()


def year_figures(session: Session, year: int) -> YearFigures:
    """The figures of one year in two aggregate queries, whatever the number of cases: the
    groups active in the year are found once (the costly part: each group's history is read)
    and counted, with their plans and coordinators, in one statement."""
    start, end = year_bounds(year)
    active = active_cases(start, end).cte("active")
    # appointments in force at some time in the year in those groups; one person counted once per
    # group and kind, however often re-appointed
    coordinators = select(CoordinatorAppointment.case_id, CoordinatorAppointment.user_id,
                          CoordinatorAppointment.kind).where(
        CoordinatorAppointment.case_id.in_(select(active.c.case_id)), CoordinatorAppointment.at < end,
        or_(CoordinatorAppointment.ended_at.is_(None), CoordinatorAppointment.ended_at > start),
    ).distinct().cte("coordinators")
    plans = plans_in_force(select(active.c.case_id), start, end).cte("plans_in_force")
    # one row per figure: (what, count); a plan kind's row is named "plan:<kind>"
    rows = session.execute(union_all(
        select(literal("groups"), func.count(Case.id)).where(Case.id.in_(select(active.c.case_id))),
        select(literal("plan:individual_plan"), func.count()).where(plans.c.kind == "individual_plan"),
        select(literal("plan:relay_log"), func.count()).where(plans.c.kind == "relay_log"),
        select(literal("persons"), func.count(func.distinct(coordinators.c.user_id))),
        select(coordinators.c.kind, func.count()).group_by(coordinators.c.kind),
    )).all()
    counts = dict(rows)
    changed = dict(session.execute(
        select(CaseStatusChange.to_status, func.count(func.distinct(CaseStatusChange.case_id))).where(
            CaseStatusChange.to_status.in_(("active", "closed")), CaseStatusChange.at >= start,
            CaseStatusChange.at < end).group_by(CaseStatusChange.to_status)).all())
    return YearFigures(
        year=year, active_groups=counts.get("groups", 0),
        with_individual_plan=counts.get("plan:individual_plan", 0), with_relay_log=counts.get("plan:relay_log", 0),
        coordinators_by_kind={kind: counts.get(kind, 0) for kind in APPOINTMENT_KINDS},
        coordinator_persons=counts.get("persons", 0),
        started=changed.get("active", 0), closed=changed.get("closed", 0),
    )


class FiguresCache:
    """A year's figures, recomputed when older than ``seconds`` (0: always)."""

    def __init__(self, seconds: float):
        self._cache = TimedCache(seconds)

    def get(self, session: Session, year: int, now: datetime) -> tuple[YearFigures, datetime]:
        """(figures, when they were computed)."""
        return self._cache.get(year, lambda: year_figures(session, year), now)
