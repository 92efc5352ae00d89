"""The plan in the group's meetings: the plan as the agenda (001, 002), progress and changes
recorded in the meeting's own step with a new plan version, and with the 003 setting the plan
approved and sent out instead of minutes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.webapp.cases.helpers import complete, open_task
from tests.webapp.meetings.helpers import hold_data, members, meeting, plan as plan_meeting
from tests.webapp.plans.helpers import adopted_plan, goal_ids, plan_of
from webapp.meetings.models import Measure, MeasureNote, Minutes
from webapp.engine.models import OpenTask
from webapp.outbox.models import OutboxMessage
from webapp.plans.models import PlanGoal, PlanVersion
from webapp.settings.operations import change_setting
from webapp.taskforms.providers import DEFAULTS


def _set(services, key, value):
    with services.db.transaction() as s:
        change_setting(s, key, value, at=services.clock.now(), actor_id=None)


def _agenda_proposal(services, case_id):
    with services.db.session() as s:
        from webapp.cases.models import Case
        case = s.get(Case, case_id)
        return DEFAULTS["meeting_agenda"](s, case, {"meeting_id": meeting(services, case_id).id},
                                          services.clock.today())["agenda"]


def _to_agenda(services, users, case_id):
    plan_meeting(services, users, case_id, days=100)
    complete(services, case_id, "needs", {"persons_needs": "Emma vil snakke om friminutt", "person_attends": "ja"},
             users["kari"])


def test_with_the_plan_as_agenda_the_goals_and_due_measures_are_proposed(services, users, case_id):
    adopted_plan(services, users, case_id)
    _to_agenda(services, users, case_id)
    _set(services, "plan_is_agenda", False)  # the plan is then one matter
    assert [i["title"] for i in _agenda_proposal(services, case_id)][-1] == "Den individuelle planen: mål og tiltak"
    _set(services, "plan_is_agenda", True)  # the default (002)
    titles = [i["title"] for i in _agenda_proposal(services, case_id)]
    assert "Mål: Emma går på skolen sammen med vennene sine" in titles
    assert "Mål: Emma kan være med i friminuttene" in titles
    # the meeting is ~100 days ahead: all three measures are due by then
    assert sum(t.startswith("Tiltak: ") for t in titles) == 3


def _hold(services, users, case_id, data_changes):
    _to_agenda(services, users, case_id)
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Planen"}]},
             users["kari"])
    data = hold_data(services, case_id, measures=[])
    data.update(data_changes)
    spec = "hold_first" if open_task(services, case_id, "hold_first") else "hold_plan"
    complete(services, case_id, spec, data, users["siri"])


def test_progress_and_changes_in_the_meeting_make_a_new_plan_version(services, users, case_id):
    plan_id = adopted_plan(services, users, case_id)
    goals = goal_ids(services, plan_id)
    ids = members(services, case_id)
    with services.db.session() as s:
        measures = s.scalars(select(Measure).where(Measure.goal_id.is_not(None)).order_by(Measure.id)).all()
    deadline = (services.clock.today() + timedelta(days=150)).isoformat()
    _hold(services, users, case_id, {
        "previous_measures": [
            {"measure_id": str(measures[0].id), "status": "done", "progress": "Assistent på plass"},
            {"measure_id": str(measures[1].id), "status": "open", "progress": "Første samling holdt"},
            {"measure_id": str(measures[2].id), "status": "open"}],
        "goal_changes": [{"goal_id": str(goals[1]), "status": "achieved"}],
        "new_goals": [{"term": "short", "text": "Emma sykler til skolen"}],
        "new_measures": [{"description": "Sykkelopplæring", "goal_id": str(goals[0]),
                          "responsible_member_id": str(ids["Anne Berg"]), "deadline": deadline}]})
    with services.db.session() as s:
        latest = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                          .order_by(PlanVersion.number.desc()).limit(1))
        assert latest.source == "meeting" and latest.meeting_id == meeting(services, case_id).id
        snap = latest.snapshot
        assert {g["text"]: g["status"] for g in snap["goals"]} == {
            "Emma går på skolen sammen med vennene sine": "active", "Emma kan være med i friminuttene": "achieved",
            "Emma sykler til skolen": "active"}
        by_text = {m["description"]: m for m in snap["measures"]}
        assert by_text["Assistent i friminuttene"]["status"] == "done"
        assert by_text["Vennegruppe i klassen"]["notes"][-1]["note"] == "Første samling holdt"
        assert by_text["Sykkelopplæring"]["goal_id"] == goals[0]  # a measure of the meeting is the plan's measure
        assert s.scalar(select(Minutes.content)).get("plan_version") == latest.number
        assert len(s.scalars(select(MeasureNote)).all()) == 2
        assert latest.archived_pdf is None  # not approved yet
    # the minutes approved: the meeting's plan version is approved and archived with them
    with services.db.session() as s:
        approvals = s.scalars(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == "approve")).all()
    for task in approvals:
        services.engine.complete_task(task.instance_id, task.task_id, {"approved": "ja"}, actor_id=task.assignee_id)
    complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])
    with services.db.session() as s:
        latest = s.get(PlanVersion, latest.id)
        assert latest.approved_at is not None and latest.archived_pdf.startswith(b"%PDF")


def test_with_the_003_setting_the_updated_plan_replaces_the_minutes(services, users, case_id):
    plan_id = adopted_plan(services, users, case_id)
    _set(services, "plan_replaces_minutes", True)
    goals = goal_ids(services, plan_id)
    ids = members(services, case_id)
    before = {o.id for o in _outbox(services)}
    _hold(services, users, case_id, {
        "new_goals": [{"term": "long", "text": "Emma har en fritidsaktivitet"}],
        "new_measures": [{"description": "Prøve korps", "goal_id": str(goals[0]), "scope": "Én gang i uka",
                          "how": "Følges av far", "responsible_member_id": str(ids["Anne Berg"]),
                          "deadline": (services.clock.today() + timedelta(days=200)).isoformat()}]})
    # no minutes steps: no approval round, the coordinator approves the updated plan and sends it
    assert open_task(services, case_id, "hold_first") is None and open_task(services, case_id, "approve") is None
    task = open_task(services, case_id, "finalize_plan")
    assert task is not None and task.assignee_id == users["kari"]
    complete(services, case_id, "finalize_plan", {"confirmed": True}, users["kari"])
    with services.db.session() as s:
        latest = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                          .order_by(PlanVersion.number.desc()).limit(1))
        assert latest.source == "meeting" and latest.archived_pdf.startswith(b"%PDF")
        minutes = s.scalar(select(Minutes))
        assert minutes.status == "approved" and minutes.archived_pdf == latest.archived_pdf
        assert s.scalar(select(PlanGoal.id).where(PlanGoal.text == "Emma har en fritidsaktivitet")) is not None
    sent = [o for o in _outbox(services) if o.id not in before and o.subject.startswith("Oppdatert plan")]
    assert "siri@example.org" in {o.recipient for o in sent if o.channel == "email"}
    # the guardian is told on her own pages that the plan is updated, without its content
    (notice,) = [o for o in _outbox(services) if o.id not in before and o.recipient == "anne@example.org"
                 and "planen er oppdatert" in o.body]
    assert "/min-side/" in notice.body and "korps" not in notice.body
    assert all(f"/saker/{case_id}/plan/versjoner/{latest.number}.pdf" in o.body and "korps" not in o.body
               for o in sent if o.channel == "email")
    assert plan_of(services, case_id).status == "adopted"


def _outbox(services):
    with services.db.session() as s:
        return s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
