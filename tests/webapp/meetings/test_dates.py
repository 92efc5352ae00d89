"""Dates that stay right in the meeting cycle (issue 10 §1), on SQLite and PostgreSQL: minutes not
before the meeting, the next meeting after this one, measure deadlines not in the past, a moved
meeting moving what derives from it, the late-notice step naming the earliest date, attendance,
the first meeting's place, and measure reminders without a burst."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, complete, establish, open_task
from tests.webapp.meetings.helpers import at_meeting, hold_data, meeting, members, plan, prepare, weekday_after
from webapp.cases.operations import DomainError
from webapp.clock import OSLO
from webapp.engine.models import Incident, ProcessInstance
from webapp.meetings import operations as ops
from webapp.meetings.minutes import minutes_doc
from webapp.meetings.models import Attendance, Measure, Meeting, Minutes
from webapp.outbox.models import OutboxMessage


def _subjects(services, prefix):
    with services.db.session() as s:
        return [o for o in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)) if o.subject.startswith(prefix)]


def _hold_form(services, case_id, **extra):
    ids = members(services, case_id)
    return {"attendance-0-member_id": str(ids["Siri Skole"]), "attendance-0-present": "on",
            "attendance-1-member_id": str(ids["Per Fastlege"]), "attendance-1-absence_reason": "Legevakt",
            "previous_minutes_approved": "ingen", "persons_account": "Bra", "summary": "Ok",
            "recipients": str(ids["Siri Skole"]), "rules_reviewed": "on", "cooperation_meeting": "nei", **extra}


def _minutes_count(services):
    with services.db.session() as s:
        return s.scalar(select(func.count(Minutes.id)))


def test_minutes_form_keeps_dates_in_order(app, services, users, case_id):
    prepare(services, users, case_id)
    m = meeting(services, case_id)
    task = open_task(services, case_id, "hold_first")
    # before the meeting has started: no minutes (logging in after each clock move: sessions expire)
    services.clock.set(m.starts_at - timedelta(hours=1))
    siri = login_client(app, "siri", PASSWORD)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    page = siri.get(url)
    assert page.status_code == 200
    assert "checked" not in page.text.split('name="attendance-0-present"')[1].split(">")[0]  # nobody pre-checked
    early = siri.post(url, data={**_hold_form(services, case_id), "csrf_token": siri.token})
    start = m.starts_at.astimezone(OSLO)
    assert early.status_code == 400
    assert f"Møtet starter {start:%d.%m.%Y} kl. {start:%H:%M}" in early.text and "Legevakt" in early.text
    assert _minutes_count(services) == 0

    services.clock.set(m.starts_at + timedelta(hours=2))
    siri = login_client(app, "siri", PASSWORD)
    ids = members(services, case_id)
    measure = {"new_measures-0-description": "Søke assistent", "new_measures-0-responsible_member_id": str(ids["Siri Skole"])}
    for extra, field in (
            ({"next_meeting_date": start.date().isoformat()}, "next_meeting_date"),
            ({**measure, "new_measures-0-deadline": "2020-01-01"}, "new_measures-0-deadline"),
            ({**measure, "new_measures-0-deadline": (start.date() - timedelta(days=1)).isoformat()},
             "new_measures-0-deadline"),
            ({"attendance-1-present": "on"}, "attendance-1-present")):
        response = siri.post(url, data={**_hold_form(services, case_id, **extra), "csrf_token": siri.token})
        assert response.status_code == 400 and f'id="f-{field}-err"' in response.text, (extra, response.status_code)
        assert "Legevakt" in response.text  # the input is kept
        assert _minutes_count(services) == 0
    ok = siri.post(url, data={**_hold_form(services, case_id, next_meeting_date=(start.date() + timedelta(days=60)).isoformat()),
                              "csrf_token": siri.token})
    assert ok.status_code == 302
    with services.db.session() as s:
        rows = {a.member_id: a for a in s.scalars(select(Attendance))}
        assert rows[ids["Siri Skole"]].present and not rows[ids["Per Fastlege"]].present
        doc = minutes_doc(s, s.scalar(select(Minutes)))
    assert [p.name for p in doc.present] == ["Siri Skole"] and [(p.name, r) for p, r in doc.absent] == [("Per Fastlege", "Legevakt")]


def test_operations_refuse_minutes_out_of_order(services, users, case_id):
    prepare(services, users, case_id)
    m = meeting(services, case_id)
    ids = members(services, case_id)
    cases = [
        (m.starts_at - timedelta(minutes=1), {}, [], "Referatet kan skrives når møtet har startet"),
        (m.starts_at + timedelta(hours=1), {"next_meeting_date": m.starts_at.date().isoformat()}, [], "Neste møte"),
        (m.starts_at + timedelta(hours=1), {}, [{"description": "x", "responsible_member_id": ids["Siri Skole"],
                                                "deadline": "2020-01-01"}], "Fristen"),
    ]
    for at, content, measures, message in cases:
        with services.db.session() as s:
            with pytest.raises(DomainError, match=message):
                ops.record_meeting(s, s.get(Meeting, m.id), content, attendance=[], reviewed_measures=[],
                                   new_measures=measures, recipients=[], approval_rule="members",
                                   approval_due_on=None, at=at, actor_id=None)
            s.rollback()
    assert _minutes_count(services) == 0


def test_a_moved_meeting_moves_what_derives_from_it(app, services, users, case_id):
    plan(services, users, case_id, days=10)  # too soon for 14 days' notice
    complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "A"}]}, users["kari"])
    new_day = weekday_after(services, 24)
    complete(services, case_id, "late", {"notice_decision": "new_date", "new_date": new_day.isoformat(),
                                         "new_time": "13:00"}, users["kari"])
    m = meeting(services, case_id)
    assert m.starts_at == datetime.combine(new_day, time(13, 0), OSLO)
    hold = open_task(services, case_id, "hold_first")
    assert hold.due_at.astimezone(OSLO).date() == new_day  # the step's due date follows the move
    kari = login_client(app, "kari", PASSWORD)
    assert f"{new_day:%d.%m.%Y}" in kari.get(f"/saker/{case_id}").text  # the case page
    # the reminder follows the move: not at the old date's reminder time, but two days before the new one
    services.clock.set(m.starts_at - timedelta(days=3))
    services.engine.fire_due_timers()
    assert _subjects(services, "Påminnelse: ansvarsgruppemøte") == []
    services.clock.set(m.starts_at - timedelta(days=2, minutes=-1))
    services.engine.fire_due_timers()
    assert len(_subjects(services, "Påminnelse: ansvarsgruppemøte")) >= 1
    # minutes, and the register's last meeting, not before the (new) meeting
    complete(services, case_id, "hold_first", hold_data(services, case_id), users["siri"])
    with services.db.session() as s:
        held = s.get(Meeting, m.id)
        assert held.held_at >= held.starts_at


def test_late_step_names_the_earliest_date(app, services, users, case_id):
    plan(services, users, case_id, days=5)
    complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "A"}]}, users["kari"])
    old = meeting(services, case_id).starts_at
    task = open_task(services, case_id, "late")
    kari = login_client(app, "kari", PASSWORD)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    now = services.clock.now()
    earliest = (now + timedelta(days=14)).astimezone(OSLO).date()
    if datetime.combine(earliest, time(9, 0), OSLO) < now + timedelta(days=14):
        earliest += timedelta(days=1)
    assert f"{earliest:%d.%m.%Y}" in kari.get(url).text  # the panel names it before any attempt
    too_soon = earliest - timedelta(days=1)
    response = kari.post(url, data={"notice_decision": "new_date", "new_date": too_soon.isoformat(), "new_time": "09:00",
                                    "csrf_token": kari.token})
    assert response.status_code == 400 and 'id="f-new_date-err"' in response.text
    assert f"Tidligste mulige dato er {earliest:%d.%m.%Y}" in response.text
    assert f'value="{too_soon.isoformat()}"' in response.text  # input kept
    assert meeting(services, case_id).starts_at == old and open_task(services, case_id, "late").task_id == task.task_id

    # through the engine (no form): the step comes back, the meeting is not moved, no incident
    complete(services, case_id, "late", {"notice_decision": "new_date", "new_date": too_soon.isoformat(),
                                         "new_time": "09:00"}, users["kari"])
    again = open_task(services, case_id, "late")
    assert again is not None and meeting(services, case_id).starts_at == old
    with services.db.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 0
    page = kari.get(f"/oppgaver/{again.instance_id}/{again.task_id}").text
    assert f"Datoen {too_soon:%d.%m.%Y} var fortsatt for tidlig" in page and f'value="{too_soon.isoformat()}"' in page
    ok = kari.post(f"/oppgaver/{again.instance_id}/{again.task_id}",
                   data={"notice_decision": "new_date", "new_date": earliest.isoformat(), "new_time": "09:00",
                         "csrf_token": kari.token})
    assert ok.status_code == 302 and meeting(services, case_id).status == "invited"
    assert meeting(services, case_id).starts_at.astimezone(OSLO).date() == earliest


def test_first_meetings_place_is_not_asked_again(app, services, users):
    case_id = establish(services, users, until="proposed")
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Skolen"}, users["siri"], users["siri"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Lege"}, users["kari"], users["kari"])
    complete(services, case_id, "plan_need", {"plan_need": "yes"}, users["kari"])
    day = services.clock.today() + timedelta(days=21)
    complete(services, case_id, "first_meeting", {"first_meeting_date": day.isoformat(),
                                                  "first_meeting_place": "Helsestasjonen, rom 3"}, users["kari"])
    task = open_task(services, case_id, "plan")
    page = login_client(app, "kari", PASSWORD).get(f"/oppgaver/{task.instance_id}/{task.task_id}").text
    assert 'value="Helsestasjonen, rom 3"' in page and f'value="{day.isoformat()}"' in page


def test_overdue_measure_reminded_once_per_round_even_after_downtime(services, users, case_id):
    prepare(services, users, case_id)
    at_meeting(services, case_id)
    ids = members(services, case_id)
    deadline = services.clock.today() + timedelta(days=3)
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[
        {"description": "Søke om assistent", "responsible_member_id": str(ids["Siri Skole"]),
         "deadline": deadline.isoformat()}]), users["siri"])
    # the worker is down for five weeks: when it comes back, one reminder, not a burst
    services.clock.set(datetime.combine(deadline + timedelta(days=36), time(12, 0), OSLO))
    for _ in range(3):
        services.engine.fire_due_timers()
    assert len(_subjects(services, "Påminnelse: tiltak")) == 1
    with services.db.session() as s:
        assert s.scalar(select(Measure.reminded_at)) is not None
    assert open_task(services, case_id, "follow") is not None  # the step stays open


def test_cooperation_meeting_not_before_the_meeting_nor_ahead(app, services, users, case_id):
    prepare(services, users, case_id)
    data = hold_data(services, case_id, measures=[])
    data["cooperation_meeting"] = "ja"
    complete(services, case_id, "hold_first", data, users["siri"])
    start = meeting(services, case_id).starts_at.astimezone(OSLO).date()
    task = open_task(services, case_id, "cooperation")
    kari = login_client(app, "kari", PASSWORD)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    for day in (start - timedelta(days=1), services.clock.today() + timedelta(days=1)):
        response = kari.post(url, data={"held_on": day.isoformat(), "role_notes": "Skolen leder",
                                        "csrf_token": kari.token})
        assert response.status_code == 400 and 'id="f-held_on-err"' in response.text and "Skolen leder" in response.text
    ok = kari.post(url, data={"held_on": services.clock.today().isoformat(), "role_notes": "Skolen leder",
                              "csrf_token": kari.token})
    assert ok.status_code == 302 and open_task(services, case_id, "cooperation") is None


def test_an_invited_meeting_moved_by_its_coordinator(app, services, users, case_id):
    """After the invitation: the coordinator moves the meeting from the case page; everyone gets
    an updated invitation (the calendar event's sequence raised), and the reminder and the hold
    step's due date follow the new date. Others may not move it; a date too early for the notice
    period, or the same time, is refused with the input kept and nothing changed."""
    prepare(services, users, case_id, days=30)
    m = meeting(services, case_id)
    old_start, invited_seq = m.starts_at, m.invitation_sequence
    kari = login_client(app, "kari", PASSWORD)
    page = kari.get(f"/saker/{case_id}").text
    path = f"/saker/{case_id}/moter/{m.id}/flytt"
    assert path in page
    assert login_client(app, "siri", PASSWORD).get(path).status_code == 403  # a member, not the coordinator

    too_soon = weekday_after(services, 3)
    got = kari.post(path, data={"new_date": too_soon.isoformat(), "new_time": "09:30", "csrf_token": csrf(kari, path)})
    assert got.status_code == 400 and "Tidligste mulige dato" in got.text and 'value="09:30"' in got.text
    same = old_start.astimezone(OSLO)
    got = kari.post(path, data={"new_date": same.date().isoformat(), "new_time": f"{same:%H:%M}",
                                "csrf_token": csrf(kari, path)})
    assert got.status_code == 400 and "allerede på dette tidspunktet" in got.text
    assert kari.post(path, data={"new_date": "2027-13-40", "new_time": "25:00",
                                 "csrf_token": csrf(kari, path)}).status_code == 400
    assert meeting(services, case_id).starts_at == old_start  # nothing moved

    # an episode that is not running (an incident) cannot follow: refused, and nothing is sent
    with services.db.transaction() as s:
        s.get(ProcessInstance, m.instance_id).status = "incident"
    sent = len(_subjects(services, ""))
    later = weekday_after(services, 40)
    got = kari.post(path, data={"new_date": later.isoformat(), "new_time": "13:00", "csrf_token": csrf(kari, path)})
    assert got.status_code == 400 and "ikke er i gang" in got.text
    assert meeting(services, case_id).starts_at == old_start and len(_subjects(services, "")) == sent
    with services.db.transaction() as s:
        s.get(ProcessInstance, m.instance_id).status = "running"

    before = len(_subjects(services, "Innkalling"))
    new_day = weekday_after(services, 45)
    got = kari.post(path, data={"new_date": new_day.isoformat(), "new_time": "13:00", "csrf_token": csrf(kari, path)})
    assert got.status_code == 302
    moved = meeting(services, case_id)
    assert moved.starts_at == datetime.combine(new_day, time(13, 0), OSLO) and moved.status == "invited"
    assert moved.invitation_sequence == invited_seq + 1
    assert len(_subjects(services, "Innkalling")) > before  # the updated invitation
    assert f"Innkalling til ansvarsgruppemøte {new_day:%d.%m.%Y}" in {o.subject for o in _subjects(services, "Innkalling")}
    hold = open_task(services, case_id, "hold_first")
    assert hold.due_at.astimezone(OSLO).date() == new_day  # the step's due date follows
    assert f"{new_day:%d.%m.%Y}" in kari.get(f"/saker/{case_id}").text

    # the reminder: not two days before the old date, but two days before the new one, once
    services.clock.set(old_start - timedelta(days=2, minutes=-1))
    services.engine.fire_due_timers()
    assert _subjects(services, "Påminnelse: ansvarsgruppemøte") == []
    services.clock.set(moved.starts_at - timedelta(days=2, minutes=-1))
    services.engine.fire_due_timers()
    assert len(_subjects(services, "Påminnelse: ansvarsgruppemøte")) >= 1
    with services.db.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 0


def csrf(client, path) -> str:
    return csrf_token(client.get(path).text)
