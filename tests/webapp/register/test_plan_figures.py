"""The yearly plan figures count adopted plans from the plan rows — not the yes/no answer of the
plan assessment (``Case.individual_plan``): a plan in force at some time in the year, in a group
active in the year, by kind (individual plan, relay log). SQLite and PostgreSQL.

Every group here is active from June 2025 and still active, so it is active in 2025, 2026 and 2027."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.webapp.register.conftest import oslo
from webapp.cases.models import Case, CaseStatusChange
from webapp.plans.models import Plan
from webapp.register.figures import year_figures
from webapp.register.views import figure_rows

ACTIVE_SINCE = oslo(2025, 6, 1)


@pytest.fixture
def add(services):
    """``add(answer, *plans)``: an active group whose assessment answered ``answer``, with plans
    given as dicts of Plan columns; returns the case id."""
    counter = iter(range(1, 1000))

    def group(answer: str | None, *plans: dict) -> int:
        number = next(counter)
        with services.db.transaction() as s:
            case = Case(reference=f"PLAN-{number:03d}", title=f"Plan {number}", individual_plan=answer,
                        status="active", activated_at=ACTIVE_SINCE)
            s.add(case)
            s.flush()
            s.add(CaseStatusChange(case_id=case.id, from_status="establishing", to_status="active",
                                   at=ACTIVE_SINCE))
            for columns in plans:
                s.add(Plan(case_id=case.id, **columns))
            return case.id
    return group


def adopted(at: datetime, kind: str = "individual_plan", **more) -> dict:
    return {"kind": kind, "status": "adopted", "adopted_at": at, "period_from": at.date(),
            "revision_due_on": date(at.year + 1, at.month, at.day), **more}


def plans_of(services, year: int) -> tuple[int, int, int]:
    """(active groups, with an individual plan, with a relay log) in ``year``."""
    with services.db.session() as s:
        figures = year_figures(s, year)
    return figures.active_groups, figures.with_individual_plan, figures.with_relay_log


def test_the_assessments_yes_is_not_a_plan(services, add):
    add("yes")  # the group needs a plan; none was made
    add("yes", {"kind": "individual_plan", "status": "drafting"})  # being written, not adopted
    add("yes", {"kind": "individual_plan", "status": "consent_pending"})
    add("yes", {"kind": "individual_plan", "status": "refused", "ended_at": oslo(2026, 2, 1)})
    add("yes", {"kind": "relay_log", "status": "ended", "ended_at": oslo(2026, 2, 1)})  # ended before adoption
    assert plans_of(services, 2026) == (5, 0, 0)


def test_an_adopted_plan_counts_whatever_the_assessment_said(services, add):
    add("no", adopted(oslo(2026, 3, 1)))  # adopted later, the answer never updated
    add(None, adopted(oslo(2025, 9, 1)))
    add("yes", adopted(oslo(2026, 4, 1)))
    add("yes")
    assert plans_of(services, 2026) == (4, 3, 0)
    assert plans_of(services, 2025) == (4, 1, 0)  # the two adopted in 2026 were not yet in force


def test_a_relay_log_counts_as_a_relay_log(services, add):
    add("yes", adopted(oslo(2026, 1, 10), kind="relay_log"))
    add("yes", adopted(oslo(2026, 1, 10), kind="relay_log"), adopted(oslo(2026, 1, 20), kind="relay_log"))
    add("yes", adopted(oslo(2026, 5, 1)))
    assert plans_of(services, 2026) == (3, 1, 2)  # a group is counted once per kind
    # the relay log replaced by an individual plan during the year: counted under each
    add("yes", adopted(oslo(2025, 8, 1), kind="relay_log", status="ended", ended_at=oslo(2026, 6, 30)),
        adopted(oslo(2026, 7, 1)))
    assert plans_of(services, 2026) == (4, 2, 3)
    assert plans_of(services, 2027) == (4, 2, 2)  # the ended relay log is gone


def test_an_ended_plan_does_not_count_after_it_ended(services, add):
    add("yes", adopted(oslo(2025, 7, 1), status="ended", ended_at=oslo(2025, 11, 30)))
    assert plans_of(services, 2026) == (1, 0, 0)
    assert plans_of(services, 2025) == (1, 1, 0)  # it was in force in 2025
    add("yes", adopted(oslo(2025, 7, 1), status="ended", ended_at=oslo(2026, 10, 1)))
    assert plans_of(services, 2026) == (2, 1, 0)  # in force until October 2026: counted for 2026 …
    assert plans_of(services, 2027) == (2, 0, 0)  # … not for 2027


def test_the_year_is_bounded_in_oslo_time(services, add):
    # ended 00:30 on New Year's Day in Oslo (still the old year in UTC): in force in 2026 for one half-hour
    add("yes", adopted(oslo(2025, 7, 1), kind="relay_log", status="ended", ended_at=oslo(2026, 1, 1, 0, 30)))
    # ended 23:30 on New Year's Eve in Oslo (already the new year in UTC): never in force in 2026
    add("yes", adopted(oslo(2025, 7, 1), status="ended", ended_at=oslo(2025, 12, 31, 23, 30)))
    # adopted 00:30 on New Year's Day 2027 in Oslo (still 2026 in UTC): not in force in 2026
    add("yes", adopted(oslo(2027, 1, 1, 0, 30)))
    assert plans_of(services, 2026) == (3, 0, 1)
    assert plans_of(services, 2027) == (3, 1, 0)


def test_the_plan_of_a_group_not_active_in_the_year_is_not_counted(services):
    with services.db.transaction() as s:  # a group that was never active, with an adopted plan
        case = Case(reference="PLAN-X", title="Plan X", individual_plan="yes", status="establishing")
        s.add(case)
        s.flush()
        s.add(Plan(case_id=case.id, **adopted(oslo(2026, 3, 1))))
    assert plans_of(services, 2026) == (0, 0, 0)


def test_the_figures_name_both_kinds(app, services, add):
    add("yes", adopted(oslo(2026, 3, 1)))
    add("no", adopted(oslo(2026, 3, 1), kind="relay_log"))
    with services.db.session() as s:
        figures = year_figures(s, 2026)
    with app.test_request_context():
        rows = dict(figure_rows(figures))
    assert rows["Aktive ansvarsgrupper med individuell plan"] == 1
    assert rows["Aktive ansvarsgrupper med stafettlogg"] == 1
