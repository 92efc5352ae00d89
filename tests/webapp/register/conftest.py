"""A municipality with groups whose status histories span 2025, 2026 and 2027, built with the
domain operations at explicit times, so every yearly figure is known.

The clock stands at 1 March 2027 (Oslo). Figures for 2026:

  A  active since 2025, still active; plan; child coordinator Kari, then coordinator Per (June 2026)
  B  started March 2026; no plan; coordinator Per; Siri is a member
  C  started February 2026, closed November 2026; plan; health nurse Nina
  C2 C re-established: started December 2026; no plan; health nurse Nina again
  D  active since 2024, closed 1 January 2026 00:30 Oslo (still 2025 in UTC); plan; relay holder Kari
  E  active since 2023, closed 31 December 2025 23:30 Oslo; plan; coordinator Eva
  F  only requested (2026)
  G  coordinator appointed 2026, never active; coordinator Per
  I  active from 1 January 2027 00:30 Oslo (still 2026 in UTC); the school leads
  J  active since 2025; coordinator Lise replaced by Per in 2025; plan

Plans (rows of ``plans``, which the figures count — not the assessment's yes/no):

  A  individual plan adopted May 2025, next revision 1 May 2027
  B  individual plan still being drafted (never adopted: not counted, no revision date)
  C  individual plan adopted March 2026, ended when the group closed
  D  relay log adopted 2024, ended with the group (1 January 2026 00:30 Oslo: in force in 2026)
  E  individual plan adopted 2023, ended with the group on New Year's Eve 2025 (not in 2026)
  J  individual plan adopted March 2025, revision due 1 February 2027 (overdue on 1 March 2027)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.snapshots import seeded
from webapp.auth.operations import create_user
from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import (
    activate, add_member, appoint_coordinator, change_status, record_consent, record_plan_assessment,
    register_wish,
)
from webapp.clock import OSLO
from webapp.evaluations.models import Evaluation
from webapp.meetings.operations import create_meeting, local_start, record_meeting, submit_matter
from webapp.plans.models import Plan, PlanGoal
from webapp.transitions.models import Transition

PASSWORD = "passord123"
#: text that only confidential content carries; it must never reach the register
MARKER = "HEMMELIG-7f3a9c"
NOW = datetime(2027, 3, 1, 11, 0, tzinfo=timezone.utc)
PEOPLE = {
    "ke": ("Kjell Enhet", ("staff", "coordinating_unit")),
    "sara": ("Sara System", ("staff", "system_owner")),
    "kari": ("Kari Koordinator", ("staff",)),
    "per": ("Per Pettersen", ("staff",)),
    "nina": ("Nina Helsesykepleier", ("staff",)),
    "lise": ("Lise Tidligere", ("staff",)),
    "eva": ("Eva Avsluttet", ("staff",)),
    "siri": ("Siri Skole", ("staff",)),
    "ulf": ("Ulf Utenfor", ("staff",)),
}

#: the figures for 2026 that the seed implies
FIGURES_2026 = {
    "Aktive ansvarsgrupper i året": 6,  # A, B, C, C2, D, J
    "Aktive ansvarsgrupper med individuell plan": 3,  # A, C, J (adopted plans in force in 2026)
    "Aktive ansvarsgrupper med stafettlogg": 1,  # D (ended just after New Year 2026, Oslo)
    "Koordinatorer: Koordinator": 3,  # Per in A, B and J
    "Koordinatorer: Barnekoordinator": 1,  # Kari in A
    "Koordinatorer: Stafettholder": 1,  # Kari in D
    "Koordinatorer: Helsesykepleier": 2,  # Nina in C and C2
    "Koordinatorer: Skolen": 0,  # I starts in 2027 (Oslo)
    "Personer som var koordinator": 3,  # Kari, Per, Nina
    "Ansvarsgrupper startet i året": 3,  # B, C, C2
    "Ansvarsgrupper avsluttet i året": 2,  # C, D
}


def oslo(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=OSLO)


@dataclass
class Seed:
    users: dict[str, int]
    cases: dict[str, int]
    references: dict[str, str]


def _group(s, users, name: str, born: date, *, wished: datetime, coordinator: str | None = None,
           kind: str = "coordinator", appointed: datetime | None = None, active: datetime | None = None,
           plan: str = "no", closed: datetime | None = None, national_id: str | None = None) -> Case:
    ke = users["ke"].id
    case = register_wish(s, full_name=name, birth_date=born, at=wished, actor_id=ke, national_id=national_id,
                         wish=f"Ønske {MARKER}")
    if coordinator:
        appoint_coordinator(s, case, users[coordinator], kind=kind, at=appointed, actor_id=ke)
    if active:
        consent_at = active - timedelta(days=7)
        record_consent(s, case, given=True, signed_by=f"Signert {MARKER}", signed_how="paper",
                       signed_on=consent_at.date(), at=consent_at, actor_id=ke,
                       statements=dict.fromkeys(("statement_composition", "statement_confidential",
                                                 "statement_registration", "statement_voluntary"), True))
        record_plan_assessment(s, case, plan, at=consent_at, actor_id=ke)
        activate(s, case, active.date(), at=active, actor_id=ke)
    if closed:
        change_status(s, case, "closed", at=closed, actor_id=ke, reason="Avsluttet")
        case.closed_at = closed
    return case


def _content(s, users, case_a: Case, case_b: Case) -> None:
    """Meetings, minutes, matters, measures, evaluations and transitions carrying MARKER."""
    kari_member = s.scalar(select(CaseMember).where(CaseMember.case_id == case_a.id, CaseMember.role == "koordinator",
                                                    CaseMember.active.is_(True)))
    held = create_meeting(s, case_a, at=oslo(2027, 1, 20), actor_id=users["per"].id)
    held.starts_at = local_start(date(2027, 2, 10), time(10, 0))
    record_meeting(s, held, {"summary": f"Referat {MARKER}"}, attendance=[], reviewed_measures=[],
                   new_measures=[{"description": f"Tiltak {MARKER}", "responsible_member_id": kari_member.id,
                                  "deadline": "2027-05-01"}],
                   recipients=[], approval_rule="members", approval_due_on=None, at=oslo(2027, 2, 10, 12),
                   actor_id=users["per"].id)
    coming = create_meeting(s, case_a, at=oslo(2027, 2, 11), actor_id=users["per"].id,
                            proposed_on=date(2027, 4, 12))
    submit_matter(s, coming, title=f"Sak {MARKER}", description=f"Beskrivelse {MARKER}", excluded_kind=None,
                  submitted_by_name="Per Pettersen", submitted_by_id=users["per"].id, at=oslo(2027, 2, 12))
    create_meeting(s, case_b, at=oslo(2027, 2, 20), actor_id=users["per"].id)  # no date yet
    s.add_all([
        Evaluation(case_id=case_a.id, kind="evaluation", due_on=date(2026, 6, 1), status="done",
                   work=f"Evaluering {MARKER}", decision_reason=f"Begrunnelse {MARKER}",
                   evaluated_at=oslo(2026, 6, 1), created_at=oslo(2025, 4, 1)),
        Evaluation(case_id=case_a.id, kind="evaluation", due_on=date(2027, 9, 1), status="scheduled",
                   created_at=oslo(2026, 6, 1)),
        Evaluation(case_id=case_a.id, kind="need_check", due_on=date(2027, 6, 1), status="scheduled",
                   created_at=oslo(2026, 6, 1)),
        Evaluation(case_id=case_b.id, kind="evaluation", due_on=date(2027, 1, 15), status="scheduled",
                   created_at=oslo(2026, 3, 1)),
        Transition(case_id=case_a.id, kind="upper_secondary", on_date=date(2028, 8, 15),
                   review_from=date(2028, 2, 15), source="birth_date", status="planned",
                   description=f"Overgang {MARKER}", created_at=oslo(2026, 1, 1)),
        Transition(case_id=case_a.id, kind="school_change", on_date=date(2027, 8, 16),
                   review_from=date(2027, 2, 16), source="coordinator", status="under_review",
                   summary=f"Oppsummering {MARKER}", created_at=oslo(2026, 1, 1)),
        Transition(case_id=case_a.id, kind="moving", on_date=date(2027, 5, 1), review_from=date(2026, 11, 1),
                   source="coordinator", status="cancelled", created_at=oslo(2026, 1, 1)),
    ])


def _plans(s, g: dict[str, Case]) -> None:
    """The plans above, written as rows (register data tests: the plan flows have their own)."""
    def plan(key, kind, adopted, *, due=None, ended=None, status=None):
        row = Plan(case_id=g[key].id, kind=kind, status=status or ("ended" if ended else "adopted"),
                   consent_signed_by=f"Signert {MARKER}", consent_how="paper",
                   content={"whats_important": f"Viktig {MARKER}"}, period_from=adopted.date() if adopted else None,
                   revision_due_on=due, adopted_at=adopted, ended_at=ended, created_at=oslo(2023, 1, 2))
        s.add(row)
        s.flush()
        s.add(PlanGoal(plan_id=row.id, term="long", text=f"Mål {MARKER}", created_at=oslo(2023, 1, 2)))
    plan("A", "individual_plan", oslo(2025, 5, 1), due=date(2027, 5, 1))
    plan("B", "individual_plan", None, status="drafting")
    plan("C", "individual_plan", oslo(2026, 3, 1), due=date(2027, 3, 1), ended=oslo(2026, 11, 15))
    plan("D", "relay_log", oslo(2024, 7, 1), due=date(2025, 7, 1), ended=oslo(2026, 1, 1, 0, 30))
    plan("E", "individual_plan", oslo(2023, 4, 1), due=date(2024, 4, 1), ended=oslo(2025, 12, 31, 23, 30))
    plan("J", "individual_plan", oslo(2025, 3, 1), due=date(2027, 2, 1))


@pytest.fixture
def seed(services, clock) -> Seed:
    """The groups above, built once per session at fixed times and copied in (tests/snapshots.py)."""
    clock.set(NOW)
    return seeded(services, ("register",), lambda db, _clock: _seed(db), at_now=False)


def _seed(db) -> Seed:
    with db.transaction() as s:
        users = {u: create_user(s, u, name, PASSWORD, roles=roles, at=oslo(2023, 1, 1), email=f"{u}@example.org")
                 for u, (name, roles) in PEOPLE.items()}
        g = {}
        g["A"] = _group(s, users, "Astrid Aktiv", date(2012, 3, 4), wished=oslo(2025, 3, 1), coordinator="kari",
                        kind="child_coordinator", appointed=oslo(2025, 3, 5), active=oslo(2025, 4, 1), plan="yes",
                        national_id="04031298765")
        appoint_coordinator(s, g["A"], users["per"], kind="coordinator", at=oslo(2026, 6, 1), actor_id=users["ke"].id)
        g["B"] = _group(s, users, "Bjørn Begynt", date(2015, 1, 2), wished=oslo(2026, 2, 1), coordinator="per",
                        appointed=oslo(2026, 2, 3), active=oslo(2026, 3, 1))
        add_member(s, g["B"], "Siri Skole", "medlem", at=oslo(2026, 2, 20), user_id=users["siri"].id)
        g["C"] = _group(s, users, "Cecilie Ferdig", date(1990, 7, 8), wished=oslo(2026, 1, 10), coordinator="nina",
                        kind="health_nurse", appointed=oslo(2026, 1, 12), active=oslo(2026, 2, 1), plan="yes",
                        closed=oslo(2026, 11, 15))
        g["C2"] = _group(s, users, "Cecilie Ferdig", date(1990, 7, 8), wished=oslo(2026, 11, 20), coordinator="nina",
                         kind="health_nurse", appointed=oslo(2026, 11, 21), active=oslo(2026, 12, 1))
        g["C2"].previous_case_id = g["C"].id  # the re-establishment link (a new case for the same need)
        g["D"] = _group(s, users, "Dag Januar", date(2001, 9, 9), wished=oslo(2024, 5, 1), coordinator="kari",
                        kind="relay_holder", appointed=oslo(2024, 5, 2), active=oslo(2024, 6, 1), plan="yes",
                        closed=oslo(2026, 1, 1, 0, 30))
        g["E"] = _group(s, users, "Eli Fjorår", date(1980, 1, 1), wished=oslo(2023, 2, 1), coordinator="eva",
                        appointed=oslo(2023, 2, 2), active=oslo(2023, 3, 1), plan="yes",
                        closed=oslo(2025, 12, 31, 23, 30))
        g["F"] = _group(s, users, "Frida Ønske", date(2018, 2, 3), wished=oslo(2026, 5, 1))
        g["G"] = _group(s, users, "Geir Venter", date(1975, 4, 4), wished=oslo(2026, 9, 1), coordinator="per",
                        appointed=oslo(2026, 9, 5))
        g["I"] = _group(s, users, "Ørjan Ås", date(2019, 5, 5), wished=oslo(2026, 12, 10), coordinator="kari",
                        kind="school", appointed=oslo(2026, 12, 12), active=oslo(2027, 1, 1, 0, 30))
        g["J"] = _group(s, users, "Jon Bytte", date(2010, 10, 10), wished=oslo(2025, 1, 5), coordinator="lise",
                        appointed=oslo(2025, 1, 10), active=oslo(2025, 2, 1), plan="yes")
        appoint_coordinator(s, g["J"], users["per"], kind="coordinator", at=oslo(2025, 8, 1), actor_id=users["ke"].id)
        _content(s, users, g["A"], g["B"])
        _plans(s, g)
        s.flush()
        return Seed(users={u: user.id for u, user in users.items()}, cases={k: c.id for k, c in g.items()},
                    references={k: c.reference for k, c in g.items()})
