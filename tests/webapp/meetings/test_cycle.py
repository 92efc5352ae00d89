"""A whole meeting cycle through the engine, with the clock moved, on SQLite and PostgreSQL."""
from datetime import datetime, time, timedelta

from sqlalchemy import select

from tests.webapp.cases.helpers import complete, open_task
from tests.webapp.meetings.helpers import (
    begin_planning, hold_data, meeting, members, plan, prepare, weekday_after,
)
from webapp.clock import OSLO
from webapp.engine.models import OpenTask, ProcessInstance, ScheduledStart
from webapp.meetings.models import Attendance, Measure, Meeting, Minutes, MinutesApproval
from webapp.outbox.models import OutboxMessage


def outbox(services, **where):
    with services.db.session() as s:
        query = select(OutboxMessage)
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return s.scalars(query.order_by(OutboxMessage.id)).all()


def test_whole_cycle(services, users, case_id):
    before = len(outbox(services))
    day = prepare(services, users, case_id)
    m = meeting(services, case_id)
    assert m.status == "invited" and m.agenda == ["Skolestart"]
    invitations = [o for o in outbox(services)[before:] if o.subject.startswith("Innkalling")]
    assert {o.recipient for o in invitations if o.channel == "email"} >= {"siri@example.org", "per@example.org"}
    # the guardian gets a notice that links to her own pages instead, with nothing of the meeting
    (to_guardian,) = [o for o in outbox(services)[before:] if o.recipient == "anne@example.org"]
    assert to_guardian.subject.startswith("Ansvarsgruppe: noe venter på deg")
    assert f"/min-side/saker/{case_id}" in to_guardian.body and "Skolestart" not in to_guardian.body
    assert to_guardian.attachments == []
    # no health content in plain e-mail (no domain allowed by default): a link, no .ics, no agenda
    assert all(o.attachments == [] and f"/saker/{case_id}" in o.body and "Skolestart" not in o.body
               for o in invitations if o.channel == "email")

    # the reminder timer: due two days before the meeting, fired by the worker
    services.clock.set(m.starts_at - timedelta(days=2, minutes=-1))
    assert services.engine.fire_due_timers() >= 1
    assert any(o.subject.startswith("Påminnelse") for o in outbox(services))

    # the minute-taker (Siri) holds the meeting
    task = open_task(services, case_id, "hold_first")
    assert task.assignee_id == users["siri"]
    services.clock.set(m.starts_at + timedelta(hours=2))
    complete(services, case_id, "hold_first", hold_data(services, case_id, next_date=day + timedelta(days=120)), users["siri"])
    with services.db.session() as s:
        minutes = s.scalar(select(Minutes))
        assert minutes.status == "awaiting_approval" and minutes.approval_rule == "members"
        assert s.scalar(select(Meeting.status)) == "held"
        assert len(s.scalars(select(Attendance)).all()) == 3
        measure = s.scalar(select(Measure))
        assert measure.responsible_member_id == members(services, case_id)["Siri Skole"]
        approvals = s.scalars(select(OpenTask).where(OpenTask.task_spec == "approve")).all()
        follow = s.scalar(select(OpenTask).where(OpenTask.task_spec == "follow"))
    assert follow.assignee_id == users["siri"] and follow.title == f"Følg opp tiltak – frist {measure.deadline:%d.%m.%Y}"  # register data only
    assert {t.assignee_id for t in approvals} == {users["kari"], users["siri"]}  # Per is confirmed by Kari

    siri_task = [t for t in approvals if t.assignee_id == users["siri"]][0]
    services.engine.complete_task(siri_task.instance_id, siri_task.task_id, {"approved": "ja"}, actor_id=users["siri"])
    kari_tasks = [t for t in approvals if t.assignee_id == users["kari"]]
    services.engine.complete_task(kari_tasks[0].instance_id, kari_tasks[0].task_id,
                                  {"approved": "nei", "comment": "Rett stavefeil"}, actor_id=users["kari"])
    for t in kari_tasks[1:]:
        services.engine.complete_task(t.instance_id, t.task_id, {"approved": "ja"}, actor_id=users["kari"])
    # "Nei, noe må rettes": the minute-taker corrects, and the approval goes round again
    assert open_task(services, case_id, "finalize") is None
    assert open_task(services, case_id, "correct").assignee_id == users["siri"]
    complete(services, case_id, "correct", {"correction": "Stavefeil rettet", "persons_account": "Emma gleder seg",
                                            "summary": "God start planlagt"}, users["siri"])
    _approve_all(services, users)
    complete(services, case_id, "finalize", {"confirmed": True, "final_note": "Stavefeil rettet"}, users["kari"])
    with services.db.session() as s:
        minutes = s.scalar(select(Minutes))
        assert minutes.status == "approved" and minutes.archived_pdf.startswith(b"%PDF")
        assert minutes.distributed_at is not None
        assert len(s.scalars(select(MinutesApproval)).all()) == 2 * len(approvals)  # two rounds
        assert s.scalar(select(Meeting.status).where(Meeting.number == 1)) == "distributed"
        nxt = s.scalar(select(Meeting).where(Meeting.number == 2))
        assert nxt is not None and nxt.starts_at.date() == day + timedelta(days=120)
        statuses = {i.definition.process_id: i.status for i in s.scalars(select(ProcessInstance))
                    if i.definition.process_id != "meeting" or i.status == "completed"}
    assert statuses["meeting"] == "completed"
    sent = [o for o in outbox(services) if o.subject.startswith("Referat")]
    assert "siri@example.org" in {o.recipient for o in sent if o.channel == "email"}
    # the guardian: told that the approved minutes wait on her own pages
    assert any(o.recipient == "anne@example.org" and "referatet" in o.body.lower() and "/min-side/" in o.body
               for o in outbox(services))
    assert all(o.attachments == [] and f"/saker/{case_id}/moter/{m.id}/referat.pdf" in o.body
               for o in sent if o.channel == "email")
    assert all(a["content_type"] == "application/pdf" for o in sent if o.channel == "letter" for a in o.attachments)
    # the next meeting is on its day; its planning starts the notice period (14 days) plus the
    # planning lead time (14 days) before it, at midnight in Oslo
    assert open_task(services, case_id, "plan") is None and nxt.instance_id is None
    with services.db.session() as s:
        start = s.scalar(select(ScheduledStart).where(ScheduledStart.key == f"meeting:{nxt.id}"))
    planning_day = day + timedelta(days=120 - 28)
    assert (start.process_id, start.status) == ("meeting", "pending")
    assert start.due_at == datetime.combine(planning_day, time(0, 0), OSLO)
    services.clock.set(start.due_at - timedelta(minutes=1))
    services.engine.fire_due_timers()
    assert open_task(services, case_id, "plan") is None
    services.clock.set(start.due_at + timedelta(hours=7))
    services.engine.fire_due_timers()
    task = open_task(services, case_id, "plan")
    assert task is not None and task.assignee_id == users["kari"]
    with services.db.session() as s:
        assert s.get(Meeting, nxt.id).instance_id == task.instance_id
        data = services.engine.task_data(s, s.get(ProcessInstance, task.instance_id), task.task_id)
    assert data["meeting_id"] == nxt.id and data["meeting_date"] == (day + timedelta(days=120)).isoformat()


def test_notice_too_short_requires_new_date_or_reason(services, users, case_id):
    plan(services, users, case_id, days=10)  # 10 < 14 days' notice
    complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "A"}]}, users["kari"])
    assert meeting(services, case_id).status == "planned"  # no invitation sent
    late = open_task(services, case_id, "late")
    assert late is not None and late.assignee_id == users["kari"]
    new_day = weekday_after(services, 20)
    complete(services, case_id, "late", {"notice_decision": "new_date", "new_date": new_day.isoformat(),
                                         "new_time": "09:00"}, users["kari"])
    m = meeting(services, case_id)
    assert m.status == "invited" and m.starts_at.date() == new_day


def test_urgent_meeting_with_reason(services, users, case_id):
    plan(services, users, case_id, days=3)
    complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "A"}]}, users["kari"])
    complete(services, case_id, "late", {"notice_decision": "urgent", "urgent_reason": "Akutt boligsituasjon"}, users["kari"])
    m = meeting(services, case_id)
    assert m.status == "invited" and m.urgent_reason == "Akutt boligsituasjon"


def test_approval_deadline_passes_without_answers(services, users, case_id):
    prepare(services, users, case_id)
    m = meeting(services, case_id)
    services.clock.set(m.starts_at + timedelta(hours=2))
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[]), users["siri"])
    assert open_task(services, case_id, "approve") is not None
    services.clock.advance(timedelta(days=6))
    services.engine.fire_due_timers()
    assert open_task(services, case_id, "approve") is not None  # still within 7 days
    services.clock.advance(timedelta(days=2))
    services.engine.fire_due_timers()
    assert open_task(services, case_id, "approve") is None  # the deadline closed the approval round
    assert open_task(services, case_id, "finalize").assignee_id == users["kari"]


def test_overdue_measure_reminds_the_responsible_member(services, users, case_id):
    prepare(services, users, case_id)
    m = meeting(services, case_id)
    services.clock.set(m.starts_at + timedelta(hours=2))
    deadline = services.clock.now().date() + timedelta(days=10)
    ids = members(services, case_id)
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[
        {"description": "Søke om assistent", "responsible_member_id": str(ids["Siri Skole"]),
         "deadline": deadline.isoformat()}]), users["siri"])
    before = len([o for o in outbox(services) if o.subject.startswith("Påminnelse: tiltak")])
    services.clock.advance(timedelta(days=9))
    services.engine.fire_due_timers()
    assert len([o for o in outbox(services) if o.subject.startswith("Påminnelse: tiltak")]) == before
    services.clock.advance(timedelta(days=2, hours=1))
    services.engine.fire_due_timers()
    reminders = [o for o in outbox(services) if o.subject.startswith("Påminnelse: tiltak")]
    assert len(reminders) == before + 1 and reminders[-1].recipient == "siri@example.org"
    services.clock.advance(timedelta(days=7))
    services.engine.fire_due_timers()
    assert len([o for o in outbox(services) if o.subject.startswith("Påminnelse: tiltak")]) == before + 2
    # the task is still Siri's, and closing it stops the reminders
    complete(services, case_id, "follow", {"outcome": "done"}, users["siri"])
    with services.db.session() as s:
        assert s.scalar(select(Measure.status)) == "done"


def _approve_all(services, users):
    with services.db.session() as s:
        tasks = s.scalars(select(OpenTask).where(OpenTask.task_spec == "approve")).all()
    for t in tasks:
        services.engine.complete_task(t.instance_id, t.task_id, {"approved": "ja"}, actor_id=t.assignee_id)


def test_archived_minutes_pdf_holds_the_checklist_contents(services, users, case_id):
    import io

    from pypdf import PdfReader
    prepare(services, users, case_id)
    services.clock.set(meeting(services, case_id).starts_at + timedelta(hours=2))
    complete(services, case_id, "hold_first", hold_data(services, case_id), users["siri"])
    _approve_all(services, users)
    complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])
    with services.db.session() as s:
        pdf = s.scalar(select(Minutes.archived_pdf))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Til stede", "Forfall", "Anne Berg", "Syk", "Emma gleder seg til skolen",
                     "Skolen har forberedt klasserommet", "Assistent første uke", "Bestille assistent",
                     "God start planlagt", "Mottakere", "Siri Skole"):
        assert expected in text, expected


def test_approval_at_the_next_meeting(services, users, case_id):
    from webapp.settings.operations import change_setting
    with services.db.transaction() as s:
        change_setting(s, "minutes_approval", "next_meeting", at=services.clock.now(), actor_id=None)
    day = prepare(services, users, case_id)
    services.clock.set(meeting(services, case_id).starts_at + timedelta(hours=2))
    complete(services, case_id, "hold_first", hold_data(services, case_id, next_date=day + timedelta(days=60)), users["siri"])
    assert open_task(services, case_id, "approve") is None  # no approval round by members
    with services.db.session() as s:
        first = s.scalar(select(Minutes))
        assert first.status == "awaiting_approval" and first.approval_rule == "next_meeting"
    # meeting 2 approves meeting 1's minutes, which are then archived and sent
    begin_planning(services, case_id, 2)
    prepare(services, users, case_id, days=28)
    services.clock.set(meeting(services, case_id, 2).starts_at + timedelta(hours=2))
    data = hold_data(services, case_id, first=False, measures=[])
    data.update({"previous_minutes_approved": "ja", "previous_minutes_comments": "Ingen merknader"})
    complete(services, case_id, "hold", data, users["siri"])
    with services.db.session() as s:
        first = s.get(Minutes, first.id)
        assert first.status == "approved" and first.archived_pdf and first.distributed_at
        assert s.scalar(select(Meeting.status).where(Meeting.number == 1)) == "distributed"


def test_cooperation_meeting_after_the_first_meeting(services, users, case_id):
    prepare(services, users, case_id)
    data = hold_data(services, case_id, measures=[])
    data["cooperation_meeting"] = "ja"
    complete(services, case_id, "hold_first", data, users["siri"])
    task = open_task(services, case_id, "cooperation")
    assert task.assignee_id == users["kari"]
    complete(services, case_id, "cooperation", {"held_on": "2026-12-01", "role_notes": "Skolen leder tiltak i skoletiden"},
             users["kari"])
    assert open_task(services, case_id, "approve") is not None


def test_escalation_to_the_line_manager(services, users, case_id):
    from webapp.cases.models import Unit
    with services.db.transaction() as s:
        s.get(Unit, users["unit_school"]).line_manager_id = users["ulf"]
    prepare(services, users, case_id)
    complete(services, case_id, "hold_first", hold_data(services, case_id), users["siri"])
    complete(services, case_id, "follow", {"outcome": "escalate", "comment": "Skolen mangler ressurser"}, users["siri"])
    task = open_task(services, case_id, "escalated")
    assert task.assignee_id == users["ulf"] and task.lane == "linjeleder"
    complete(services, case_id, "escalated", {"decision": "Ekstra assistent fra januar", "resolved": "ja"}, users["ulf"])
    with services.db.session() as s:
        assert s.scalar(select(Measure.status)) == "done"
