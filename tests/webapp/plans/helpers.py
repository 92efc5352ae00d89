"""Walking a plan episode (processes/individual_plan.bpmn) through the engine."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.webapp.cases.helpers import complete, open_task
from tests.webapp.meetings.helpers import members
from webapp.plans.models import Plan, PlanGoal

GOALS = [{"term": "long", "text": "Emma går på skolen sammen med vennene sine"},
         {"term": "short", "text": "Emma kan være med i friminuttene"}]


def plan_of(services, case_id) -> Plan | None:
    with services.db.session() as s:
        return s.scalar(select(Plan).where(Plan.case_id == case_id).order_by(Plan.id.desc()).limit(1))


def goal_ids(services, plan_id) -> list[int]:
    with services.db.session() as s:
        return list(s.scalars(select(PlanGoal.id).where(PlanGoal.plan_id == plan_id).order_by(PlanGoal.position)))


def consent(services, users, case_id, writer="Siri Skole"):
    ids = members(services, case_id)
    complete(services, case_id, "plan_consent", {
        "consent_decision": "gitt", "signed_by": "Anne Berg", "signed_how": "paper",
        "signed_on": services.clock.today().isoformat(),
        "participants": [str(ids["Kari Koordinator"]), str(ids["Siri Skole"]), str(ids["Anne Berg"])],
        "writer_member_id": str(ids[writer])}, users["kari"])


def write(services, users, case_id, writer="siri"):
    """The two drafting steps: two goals, then three measures."""
    complete(services, case_id, "goals", {
        "whats_important": "Å ha venner og å få være med på det klassen gjør",
        "resources": "Emma er nysgjerrig og glad i musikk", "needs": "Hjelp i overganger og friminutt",
        "new_goals": GOALS, "contribution_person": "Emma sier fra når noe er vanskelig",
        "contribution_services": "Skolen har assistent i friminuttene",
        "contribution_relatives": "Foreldrene følger opp lekser", "cooperation": "Samarbeid med PPT"},
        users[writer])
    plan = plan_of(services, case_id)
    goals = goal_ids(services, plan.id)
    ids = members(services, case_id)
    soon = services.clock.today() + timedelta(days=20)
    later = services.clock.today() + timedelta(days=90)
    complete(services, case_id, "measures", {"new_measures": [
        {"description": "Assistent i friminuttene", "goal_id": str(goals[1]), "scope": "Alle friminutt",
         "responsible_member_id": str(ids["Siri Skole"]), "how": "Fast assistent", "deadline": soon.isoformat()},
        {"description": "Vennegruppe i klassen", "goal_id": str(goals[0]), "scope": "Ukentlig",
         "responsible_member_id": str(ids["Siri Skole"]), "deadline": later.isoformat()},
        {"description": "Lekser sammen hjemme", "goal_id": str(goals[0]),
         "responsible_member_id": str(ids["Anne Berg"]), "deadline": later.isoformat()}]}, users[writer])


def adopt(services, users, case_id, months=6):
    today = services.clock.today()
    complete(services, case_id, "adopt", {
        "decision": "adopt", "agreed_with_person": True, "period_from": today.isoformat(),
        "period_to": (today + timedelta(days=365)).isoformat(),
        "revision_due_on": (today + timedelta(days=30 * months)).isoformat(),
        "note": "Første plan"}, users["kari"])


def adopted_plan(services, users, case_id) -> int:
    """Run the case's plan episode (started when the need was assessed as "yes") to adoption:
    consent, two goals, three measures, adopted. Returns the plan's id."""
    assert open_task(services, case_id, "plan_consent") is not None, "no plan episode waits for consent"
    consent(services, users, case_id)
    write(services, users, case_id)
    adopt(services, users, case_id)
    return plan_of(services, case_id).id
