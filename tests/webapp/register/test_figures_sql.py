"""The yearly figures by SQL aggregates: the same as reading each group's history in Python
(``active_intervals``), on many generated histories around Oslo year boundaries, and a fixed number
of queries however many groups there are."""
import random
from collections import Counter
from datetime import timedelta
from itertools import groupby

from sqlalchemy import event, select

from tests.webapp.register.conftest import oslo
from webapp.cases.models import Case, CaseStatusChange, CoordinatorAppointment
from webapp.cases.operations import APPOINTMENT_KINDS
from webapp.plans.models import PLAN_STATUSES, Plan
from webapp.register.figures import YearFigures, active_intervals, overlaps, year_bounds, year_figures

STATUSES = ("requested", "active", "consent_withdrawn", "closed", "proposed")
YEARS = range(2024, 2029)


def reference_figures(s, year: int) -> YearFigures:
    """The figures read in Python, case by case (how they were computed before the SQL)."""
    start, end = year_bounds(year)
    changes = s.scalars(select(CaseStatusChange).order_by(CaseStatusChange.case_id, CaseStatusChange.at,
                                                          CaseStatusChange.id)).all()
    active = {case_id for case_id, rows in groupby(changes, key=lambda c: c.case_id)
              if any(overlaps(i, start, end) for i in active_intervals([c for c in rows if c.at < end]))}
    in_force = {(p.case_id, p.kind) for p in s.scalars(select(Plan))
                if p.case_id in active and p.status in ("adopted", "ended") and p.adopted_at is not None
                and p.adopted_at < end and (p.ended_at is None or p.ended_at > start)}
    coordinators = {(a.case_id, a.user_id, a.kind) for a in s.scalars(select(CoordinatorAppointment))
                    if a.case_id in active and a.at < end and (a.ended_at is None or a.ended_at > start)}
    by_kind = Counter(kind for _c, _u, kind in coordinators)

    def changed_to(status):
        return len({c.case_id for c in changes if c.to_status == status and start <= c.at < end})
    return YearFigures(
        year=year, active_groups=len(active),
        with_individual_plan=sum(kind == "individual_plan" for _c, kind in in_force),
        with_relay_log=sum(kind == "relay_log" for _c, kind in in_force),
        coordinators_by_kind={kind: by_kind.get(kind, 0) for kind in APPOINTMENT_KINDS},
        coordinator_persons=len({u for _c, u, _k in coordinators}),
        started=changed_to("active"), closed=changed_to("closed"))


def add_random_groups(services, users: list[int], n: int, rng: random.Random) -> None:
    """n groups with random histories: times on and around Oslo New Year, ties, histories that start
    mid-way (from ``active``), repeated changes to the same status, appointments in and out of force,
    plans of both kinds in every status, adopted and ended around the year boundaries."""
    boundaries = [year_bounds(y)[0] for y in YEARS]
    def moment():
        if rng.random() < 0.3:
            return rng.choice(boundaries) + timedelta(microseconds=rng.choice((-1, 0, 1)))
        return oslo(2024, 1, 1) + timedelta(days=rng.randrange(5 * 365), minutes=rng.randrange(1440))
    with services.db.transaction() as s:
        for i in range(n):
            case = Case(reference=f"GEN-{rng.random():.12f}-{i}", title=f"Generert {i}",
                        individual_plan=rng.choice(("yes", "no", "later", None)), status="active")
            s.add(case)
            s.flush()
            times = sorted(moment() for _ in range(rng.randrange(7)))
            if times and rng.random() < 0.3:
                times.insert(1, times[0])  # two changes at the same moment
            status = rng.choice((None, "active", "requested"))
            for at in times:
                to = rng.choice(STATUSES)
                s.add(CaseStatusChange(case_id=case.id, from_status=status, to_status=to, at=at))
                s.flush()  # ids follow the history's order, also at equal times
                status = to
            for _ in range(rng.randrange(4)):
                since = moment()
                s.add(CoordinatorAppointment(case_id=case.id, user_id=rng.choice(users),
                                             kind=rng.choice(APPOINTMENT_KINDS), at=since,
                                             ended_at=rng.choice((None, since + timedelta(days=rng.randrange(900))))))
            for _ in range(rng.choice((0, 0, 1, 1, 2))):  # a relay log replaced by an individual plan, …
                adopted = rng.choice((None, moment()))
                s.add(Plan(case_id=case.id, kind=rng.choice(("individual_plan", "relay_log")),
                           status=rng.choice(PLAN_STATUSES), adopted_at=adopted,
                           ended_at=rng.choice((None, (adopted or moment()) + timedelta(days=rng.randrange(900)),
                                                moment()))))


def test_sql_figures_equal_the_histories_read_in_python(services, seed):
    add_random_groups(services, list(seed.users.values()), 80, random.Random(11))
    with services.db.session() as s:
        for year in YEARS:
            assert year_figures(s, year) == reference_figures(s, year), year
        # the generated histories do exercise the figures
        assert year_figures(s, 2026).active_groups > 20 and year_figures(s, 2026).closed > 5


def test_figures_take_a_fixed_number_of_queries(services, seed):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def queries() -> int:
        statements.clear()
        event.listen(services.db.engine, "before_cursor_execute", count)
        try:
            with services.db.session() as s:
                year_figures(s, 2026)
        finally:
            event.remove(services.db.engine, "before_cursor_execute", count)
        return len(statements)

    few = queries()
    add_random_groups(services, list(seed.users.values()), 60, random.Random(5))
    many = queries()
    assert few == many <= 6
