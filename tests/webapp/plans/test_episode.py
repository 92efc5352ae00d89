"""The plan episode end to end through the engine: consent, drafting, adoption, revision."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from tests.webapp.cases.helpers import complete, open_task
from tests.webapp.plans.helpers import adopted_plan, consent, goal_ids, plan_of, write
from webapp.clock import OSLO
from webapp.engine.models import ScheduledStart
from webapp.meetings.models import Measure
from webapp.plans.models import PlanVersion
from webapp.plans.operations import scheduled_key


def test_the_need_assessed_as_yes_starts_the_plan_episode(services, users, case_id):
    plan = plan_of(services, case_id)
    assert plan is not None and plan.kind == "individual_plan" and plan.status == "consent_pending"
    assert open_task(services, case_id, "plan_consent") is not None


def test_the_plan_is_written_adopted_archived_and_its_revision_scheduled(services, users, case_id):
    plan_id = adopted_plan(services, users, case_id)
    plan = plan_of(services, case_id)
    assert plan.status == "adopted" and plan.adopted_at is not None
    with services.db.session() as s:
        versions = s.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                             .order_by(PlanVersion.number)).all()
        assert [v.source for v in versions] == ["draft", "draft", "adopted"]
        assert versions[-1].archived_pdf.startswith(b"%PDF") and versions[-1].approved_at is not None
        snap = versions[-1].snapshot
        assert [g["text"] for g in snap["goals"]][0].startswith("Emma går")
        assert len(snap["measures"]) == 3 and snap["secretary"] == "Siri Skole"
        assert snap["sections"]["whats_important"].startswith("Å ha venner")
        # the plan's measures are the group's measures, each followed up
        assert s.scalar(select(func.count(Measure.id)).where(Measure.case_id == case_id,
                                                             Measure.goal_id.is_not(None))) == 3
        start = s.scalar(select(ScheduledStart).where(ScheduledStart.key == scheduled_key(plan_id)))
        assert start is not None and start.status == "pending"
        assert start.due_at.date() >= plan.revision_due_on - timedelta(days=1)


def test_refused_consent_ends_the_episode_without_a_plan(services, users, case_id):
    complete(services, case_id, "plan_consent", {"consent_decision": "nektet", "signed_by": "Anne Berg",
                                            "signed_how": "paper", "signed_on": services.clock.today().isoformat(),
                                            "refusal_reason": "Ikke nå"}, users["kari"])
    plan = plan_of(services, case_id)
    assert plan.status == "refused"
    assert open_task(services, case_id, "goals") is None


def test_a_plan_sent_back_for_changes_returns_to_the_writer(services, users, case_id):
    consent(services, users, case_id)
    write(services, users, case_id)
    complete(services, case_id, "adopt", {"decision": "change", "changes_needed": "Flere mål"}, users["kari"])
    task = open_task(services, case_id, "goals")
    assert task is not None and task.assignee_id == users["siri"]
    assert plan_of(services, case_id).status == "drafting"


def test_the_revision_starts_on_the_plans_own_date(services, users, case_id):
    plan_id = adopted_plan(services, users, case_id)
    plan = plan_of(services, case_id)
    # noon in Oslo the day before: whole days added to the real time of day could cross midnight
    # in Oslo when summer time lies between (22:00-23:00 UTC in winter is already the next day)
    services.clock.set(datetime.combine(plan.revision_due_on - timedelta(days=1), time(12), OSLO))
    services.engine.fire_due_timers()
    assert open_task(services, case_id, "goals") is None  # not yet due
    services.clock.set(datetime.combine(plan.revision_due_on, time(0, 1), OSLO))  # just after midnight
    services.engine.fire_due_timers()
    task = open_task(services, case_id, "goals")
    assert task is not None and task.assignee_id == users["siri"]
    goals = goal_ids(services, plan_id)
    complete(services, case_id, "goals", {"whats_important": "Fortsatt venner", "goal_changes": [
        {"goal_id": str(goals[1]), "status": "achieved"}, {"goal_id": str(goals[0]), "status": "active"}]},
        users["siri"])
    complete(services, case_id, "measures", {}, users["siri"])
    today = services.clock.today()
    complete(services, case_id, "adopt", {"decision": "adopt", "agreed_with_person": True,
                                          "period_from": today.isoformat(),
                                          "revision_due_on": (today + timedelta(days=200)).isoformat()}, users["kari"])
    plan = plan_of(services, case_id)
    assert plan.revision_due_on == today + timedelta(days=200)
    with services.db.session() as s:
        latest = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                          .order_by(PlanVersion.number.desc()).limit(1))
        assert latest.source == "revision" and latest.archived_pdf.startswith(b"%PDF")
        assert [g["status"] for g in latest.snapshot["goals"]] == ["active", "achieved"]
        pending = s.scalars(select(ScheduledStart).where(ScheduledStart.key == scheduled_key(plan_id),
                                                         ScheduledStart.status == "pending")).all()
        assert len(pending) == 1
