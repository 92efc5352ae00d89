"""The supervisors' rule "plan revision due" (issue 14): an active group's adopted individual plan
or relay log whose revision date is before today (Oslo) is stuck from that date, until the plan
is revised (a new revision date) or the group is no longer active. In the cockpit's counts, list,
filters and CSV and in the weekly digest — register data only: the plan's kind and date, never
what it says. The plan is made with the plans' domain operations; the clock is moved. SQLite and
PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import establish
from tests.webapp.supervision.clock import noon, town_at_start
from webapp.audit.models import AccessLogEntry
from webapp.cases.models import Case
from webapp.cases.operations import change_status
from webapp.clock import OSLO
from webapp.plans import operations as plans
from webapp.plans.models import Plan
from webapp.supervision import digest, rules

DUE = date(2027, 3, 1)
#: text only the plan's content carries: never in the cockpit, its CSV or the digest
MARKER = "PLANHEMMELIG-41c7"


@pytest.fixture
def town(services):
    return town_at_start(services)


def adopt_plan(services, town, case_id: int, *, kind: str = "individual_plan", due: date = DUE) -> int:
    """The group's plan, through consent and goals to adoption with revision date ``due`` (the
    plan the establishment started, if of ``kind``; otherwise that one is refused and a new one made)."""
    now, kari = services.clock.now(), town["kari"]
    with services.db.transaction() as s:
        case = s.get(Case, case_id)
        plan = plans.current_plan(s, case_id)
        if plan is not None and plan.kind != kind and plan.status == "consent_pending":
            plans.record_consent(s, plan, given=False, signed_by="Anne Berg", signed_how="paper",
                                 signed_on=now.date(), refusal_reason="Vil heller ha stafettlogg",
                                 participant_ids=[], writer_member_id=None, at=now, actor_id=kari)
            plan = None
        plan = plan or plans.start_plan(s, case, kind=kind, at=now, actor_id=kari, start_episode=lambda *_args: None)
        if plan.status == "consent_pending":
            plans.record_consent(s, plan, given=True, signed_by="Anne Berg", signed_how="paper",
                                 signed_on=now.date(), refusal_reason=None, participant_ids=[],
                                 writer_member_id=None, at=now, actor_id=kari)
        plans.write_goals(s, plan, sections={"whats_important": f"Viktig {MARKER}"},
                          new_goals=[{"term": "long", "text": f"Mål {MARKER}"}], goal_changes=[], at=now,
                          actor_id=kari)
        plans.adopt(s, plan, period_from=now.date(), period_to=None, revision_due_on=due,
                    reason=f"Vedtatt {MARKER}", at=now, actor_id=kari)
        return plan.id


def revise(services, town, plan_id: int, due: date) -> None:
    with services.db.transaction() as s:
        plans.adopt(s, s.get(Plan, plan_id), period_from=services.clock.today(), period_to=None, revision_due_on=due,
                    reason="Revidert", at=services.clock.now(), actor_id=town["kari"])


def stuck(services, case_id: int, rule: str | None = "plan_revision_due") -> list[tuple]:
    """(rule, since, process, detail, ref) of the case's rows: of the rule's query, or of the union."""
    with services.db.session() as s:
        union = rules.stuck(rules.read_settings(s), services.clock.now(), services.clock.today(),
                            [rule] if rule else None)
        return sorted((r.rule, r.since, r.process_id, r.detail, r.ref) for r in s.execute(
            select(union).where(union.c.case_id == case_id)))


def counts(services) -> dict[str, int]:
    with services.db.session() as s:
        return rules.counts(s, services.clock.now(), services.clock.today())


def test_the_rule_is_named_and_explained_like_the_others():
    rule = rules.RULES["plan_revision_due"]
    assert str(rule.title) == "Planrevisjon forfalt"
    assert "revisjonsdatoen" in str(rule.explanation)


def test_plan_revision_due_from_the_day_after_its_date_until_it_is_revised(services, town):
    case_id = establish(services, town)
    plan_id = adopt_plan(services, town, case_id)
    services.clock.set(noon(DUE))
    assert stuck(services, case_id) == []  # due today, not yet overdue
    # 00:30 the next day in Oslo, still the revision day in UTC: Oslo's day decides
    services.clock.set(datetime(2027, 3, 2, 0, 30, tzinfo=OSLO))
    row = ("plan_revision_due", DUE, "individual_plan", "individual_plan", plan_id)
    assert stuck(services, case_id) == [row]
    assert row in stuck(services, case_id, None)  # in the union, with the other rules
    assert counts(services)["plan_revision_due"] == 1

    services.clock.set(noon(date(2027, 3, 20)))
    revise(services, town, plan_id, date(2028, 3, 1))  # the revision sets the next date
    assert stuck(services, case_id) == []
    assert counts(services)["plan_revision_due"] == 0
    services.clock.set(noon(date(2028, 3, 2)))
    assert stuck(services, case_id) == [("plan_revision_due", date(2028, 3, 1), "individual_plan",
                                         "individual_plan", plan_id)]


def test_a_relay_log_too_and_only_while_the_group_is_active(services, town):
    case_id = establish(services, town)
    plan_id = adopt_plan(services, town, case_id, kind="relay_log", due=date(2026, 12, 1))
    services.clock.set(noon(date(2026, 12, 5)))
    assert stuck(services, case_id) == [("plan_revision_due", date(2026, 12, 1), "individual_plan", "relay_log",
                                         plan_id)]
    with services.db.transaction() as s:  # the group is closed: its plan ends with it
        change_status(s, s.get(Case, case_id), "closed", at=services.clock.now(), actor_id=town["ke"],
                      reason="Avsluttet")
        plans.end_plan(s, case_id, at=services.clock.now(), actor_id=town["ke"], reason="Gruppen er avsluttet")
    assert stuck(services, case_id) == []
    with services.db.transaction() as s:  # even an adopted plan is not listed for a group no longer active
        s.get(Plan, plan_id).status = "adopted"
    assert stuck(services, case_id) == []


def test_a_plan_not_adopted_is_never_due(services, town):
    case_id = establish(services, town)
    with services.db.transaction() as s:
        plan = plans.current_plan(s, case_id) or plans.start_plan(
            s, s.get(Case, case_id), kind="individual_plan", at=services.clock.now(), actor_id=town["kari"],
            start_episode=lambda *_args: None)
        plan.revision_due_on = date(2026, 9, 1)  # a date, but the plan is not adopted
    services.clock.set(noon(date(2027, 1, 1)))
    assert stuck(services, case_id) == []


def test_the_cockpit_lists_counts_filters_and_exports_it_without_content(app, services, town):
    emma = establish(services, town)  # Emma, born 2019: primary school age in 2027
    plan_id = adopt_plan(services, town, emma)
    other = establish(services, town)
    adopt_plan(services, town, other, due=date(2027, 6, 1))  # not yet due
    services.clock.set(noon(date(2027, 3, 11)))
    ke = login_client(app, "ke", "passord123")

    page = ke.get("/tilsyn/")
    assert page.status_code == 200 and "Planrevisjon forfalt" in page.text
    chosen = ke.get("/tilsyn/?regel=plan_revision_due")
    assert chosen.status_code == 200
    assert f'href="/saker/{emma}"' in chosen.text and f'href="/saker/{other}"' not in chosen.text
    assert "Individuell plan, revisjon 01.03.2027" in chosen.text and "10 dager" in chosen.text
    assert MARKER not in page.text and MARKER not in chosen.text

    response = ke.get("/tilsyn/saker.csv?regel=plan_revision_due")
    assert response.status_code == 200 and MARKER not in response.text
    lines = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    rows = [dict(zip(lines[0], line)) for line in lines[1:]]
    with services.db.session() as s:
        reference = s.get(Case, emma).reference
    assert [(r["Sak"], r["Regel"], r["Fast siden"], r["Dager"]) for r in rows] == [
        (reference, "Planrevisjon forfalt", "2027-03-01", "10")]
    assert rows[0]["Prosess"] == "individual_plan"

    # the filters narrow it like any other rule
    def listed(query: str) -> bool:
        return f'href="/saker/{emma}"' in ke.get(f"/tilsyn/?regel=plan_revision_due&{query}").text
    assert listed("alder=primary") and not listed("alder=adult")
    assert listed(f"koordinator={town['kari']}") and not listed(f"koordinator={town['ola']}")
    assert listed("dager=10") and not listed("dager=11")
    assert listed("prosess=individual_plan") and not listed("prosess=evaluation")
    with services.db.session() as s:  # the case listed is in the access log; the plan is untouched
        assert s.scalar(select(AccessLogEntry.id).where(AccessLogEntry.case_id == emma,
                                                        AccessLogEntry.page == "supervision").limit(1))
        assert s.get(Plan, plan_id).status == "adopted"


def test_the_weekly_digest_counts_it(app, services, town):
    case_id = establish(services, town)
    adopt_plan(services, town, case_id, due=date(2027, 1, 15))
    services.clock.set(noon(date(2027, 2, 1)))
    with app.app_context():
        subject, body = digest.message(counts(services), services.clock.today())
    assert "Planrevisjon forfalt: 1" in body
    assert MARKER not in body and MARKER not in subject
