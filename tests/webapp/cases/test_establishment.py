"""The establishment process end to end through the engine, on SQLite and PostgreSQL."""
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from tests.webapp.cases.helpers import CONSENT, complete, establish, municipality, open_task, wish
from webapp.cases.consent import withdraw
from webapp.cases.models import Case, CaseMember, CaseStatusChange, Consent, CoordinatorAppointment
from webapp.clock import OSLO
from webapp.engine.models import OpenTask, ProcessInstance, ScheduledStart
from webapp.meetings.models import Meeting
from webapp.outbox.models import OutboxMessage


@pytest.fixture
def users(services):
    return municipality(services)


def case(services, case_id):
    with services.db.session() as s:
        c = s.get(Case, case_id)
        members = {m.name: m for m in s.scalars(select(CaseMember).where(CaseMember.case_id == case_id))}
        return c, members


def test_wish_goes_to_the_coordinating_unit(services, users):
    case_id = wish(services, users)
    c, members = case(services, case_id)
    assert c.status == "requested" and c.person.full_name == "Emma Berg"
    assert {m.role for m in members.values()} == {"bruker", "foresatt"}
    task = open_task(services, case_id, "appoint")
    assert task.lane == "koordinerende_enhet" and task.assignee_id == users["ke"]


def test_full_establishment(services, users):
    case_id = establish(services, users, until="proposed")
    c, members = case(services, case_id)
    assert c.status == "establishing"
    # one confirmation task per proposed member: Siri confirms her own, the coordinator confirms
    # for the outside participant without an account
    with services.db.session() as s:
        confirms = s.scalars(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == "confirm")).all()
    assert sorted((t.title, t.assignee_id) for t in confirms) == [
        ("Bekreft deltakelse og avklar mandat – Per Fastlege", users["kari"]),
        ("Bekreft deltakelse og avklar mandat – Siri Skole", users["siri"])]

    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Skolen"}, users["siri"], users["siri"])
    complete(services, case_id, "confirm", {"participates": "nei"}, users["kari"], users["kari"])
    complete(services, case_id, "plan_need", {"plan_need": "yes"}, users["kari"])
    complete(services, case_id, "first_meeting", {"first_meeting_date": "2030-01-15"}, users["kari"])

    c, members = case(services, case_id)
    assert c.status == "active" and str(c.first_meeting_on) == "2030-01-15" and c.individual_plan == "yes"
    assert members["Siri Skole"].mandate_clarified and members["Siri Skole"].mandate == "Skolen"
    assert not members["Per Fastlege"].active and members["Per Fastlege"].left_reason == "Takket nei til å delta"
    with services.db.session() as s:
        appointment = s.scalar(select(CoordinatorAppointment).where(CoordinatorAppointment.case_id == case_id))
        assert (appointment.user_id, appointment.kind, appointment.appointed_by_id) == (
            users["kari"], "child_coordinator", users["ke"])
        consent = s.scalar(select(Consent).where(Consent.case_id == case_id))
        assert consent.in_force and consent.statement_confidential and consent.signed_how == "paper"
        assert {"name": "Anne Berg", "role": "foresatt"} in consent.composition
        changes = s.scalars(select(CaseStatusChange.to_status).where(CaseStatusChange.case_id == case_id)
                            .order_by(CaseStatusChange.id)).all()
        assert changes == ["requested", "awaiting_consent", "establishing", "active"]
        episodes = {i.definition.process_id: i.status for i in
                    s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id))}
        # nothing waits in a running instance: the first meeting (years ahead), the first evaluation
        # and the reviews before lower and upper secondary school and adulthood (Emma, born 2019)
        # are scheduled starts
        # (the need for an individual plan was "yes": its episode waits for consent to the plan)
        assert episodes == {"establishment": "completed", "individual_plan": "running"}
        starts = s.scalars(select(ScheduledStart).where(ScheduledStart.case_id == case_id)).all()
        assert sorted((r.process_id, r.status) for r in starts) == [
            ("evaluation", "pending"), ("meeting", "pending"), ("transition_review", "pending"),
            ("transition_review", "pending"), ("transition_review", "pending")]
        first = s.scalar(select(Meeting).where(Meeting.case_id == case_id))
        assert first.number == 1 and first.starts_at == datetime.combine(date(2030, 1, 15), time(9, 0), OSLO)
        # planning starts the notice period plus the planning lead time (14 + 14 days) before
        assert [r.due_at for r in starts if r.process_id == "meeting"] == [
            datetime.combine(date(2029, 12, 18), time(0, 0), OSLO)]
        recipients = set(s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.case_id == case_id)))
    assert {"kari@example.org", "siri@example.org", "per@example.org", "anne@example.org"} <= recipients


def test_refused_consent_ends_the_case_as_not_established(services, users):
    case_id = establish(services, users, until="appointed")
    complete(services, case_id, "consent", {"consent_decision": "nektet", "signed_by": "Anne Berg",
                                            "signed_how": "in_person", "signed_on": CONSENT["signed_on"],
                                            "refusal_reason": "Vil vente"}, users["kari"])
    c, _members = case(services, case_id)
    assert c.status == "not_established" and "Vil vente" in c.status_reason
    with services.db.session() as s:
        assert s.scalar(select(func.count(OpenTask.id)).where(OpenTask.case_id == case_id)) == 0
        assert s.scalar(select(ProcessInstance.status).where(ProcessInstance.case_id == case_id)) == "completed"


def test_withdrawal_cancels_episodes_and_tells_the_coordinating_unit(services, users):
    case_id = establish(services, users, until="proposed")
    withdraw(services, case_id, stated_by="Anne Berg (mor)", reason="Ønsker ikke gruppen lenger",
             actor_id=users["kari"])
    c, _members = case(services, case_id)
    assert c.status == "consent_withdrawn" and "Anne Berg (mor)" in c.status_reason
    with services.db.session() as s:
        instance = s.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case_id).order_by(ProcessInstance.id))
        assert (instance.status, instance.status_reason) == ("cancelled", "Samtykket er trukket tilbake")
        # the only open step left is the coordinator's confirmation of the closing it started
        open_tasks = s.scalars(select(OpenTask).where(OpenTask.case_id == case_id)).all()
        assert [(t.task_spec, t.assignee_id) for t in open_tasks] == [("confirm_closing", users["kari"])]
        assert s.scalar(select(Consent).where(Consent.case_id == case_id)).withdrawn_at is not None
        mail = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "ke@example.org",
                                                     OutboxMessage.subject.like("Samtykke trukket%"))).all()
    assert len(mail) == 1
