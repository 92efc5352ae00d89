"""The yearly figures the coordinating unit reports (guideline 002: the KE counts groups, plans and
coordinators every year). Reads only; the year runs from 1 January to 1 January in Oslo.

A group's history is its ``CaseStatusChange`` rows, so "active at some time during the year" is
reconstructed from them rather than from the case's current status.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseStatusChange, CoordinatorAppointment
from webapp.cases.operations import APPOINTMENT_KINDS
from webapp.clock import OSLO

#: An interval [since, until); None for an open end.
Interval = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class YearFigures:
    year: int
    #: groups whose status was ``active`` at some time during the year
    active_groups: int
    #: of these, groups with an individual plan
    with_individual_plan: int
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


def cases_active_between(session: Session, start: datetime, end: datetime) -> set[int]:
    """Ids of the cases that were active at some time in [start, end)."""
    changes = session.execute(
        select(CaseStatusChange.case_id, CaseStatusChange.from_status, CaseStatusChange.to_status,
               CaseStatusChange.at).where(CaseStatusChange.at < end)
        .order_by(CaseStatusChange.case_id, CaseStatusChange.at, CaseStatusChange.id))
    return {case_id for case_id, rows in groupby(changes, key=lambda c: c.case_id)
            if any(overlaps(i, start, end) for i in active_intervals(list(rows)))}


def _cases_changed_to(session: Session, status: str, start: datetime, end: datetime) -> int:
    return session.scalar(select(func.count(func.distinct(CaseStatusChange.case_id))).where(
        CaseStatusChange.to_status == status, CaseStatusChange.at >= start, CaseStatusChange.at < end)) or 0


def _coordinators(session: Session, case_ids: set[int], start: datetime,
                  end: datetime) -> set[tuple[int, int, str]]:
    """(case, user, kind) of appointments in force at some time in [start, end) in those cases."""
    rows = session.execute(select(CoordinatorAppointment.case_id, CoordinatorAppointment.user_id,
                                  CoordinatorAppointment.kind).where(
        CoordinatorAppointment.at < end,
        or_(CoordinatorAppointment.ended_at.is_(None), CoordinatorAppointment.ended_at > start)))
    return {(case_id, user_id, kind) for case_id, user_id, kind in rows if case_id in case_ids}


def year_figures(session: Session, year: int) -> YearFigures:
    start, end = year_bounds(year)
    active = cases_active_between(session, start, end)
    with_plan = set(session.scalars(select(Case.id).where(Case.individual_plan == "yes"))) & active
    coordinators = _coordinators(session, active, start, end)
    # one person counted once per group and kind, however often re-appointed
    by_kind = Counter(kind for _case_id, _user_id, kind in coordinators)
    return YearFigures(
        year=year, active_groups=len(active), with_individual_plan=len(with_plan),
        coordinators_by_kind={kind: by_kind.get(kind, 0) for kind in APPOINTMENT_KINDS},
        coordinator_persons=len({user_id for _case_id, user_id, _kind in coordinators}),
        started=_cases_changed_to(session, "active", start, end),
        closed=_cases_changed_to(session, "closed", start, end),
    )
