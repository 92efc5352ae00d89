"""Walking a meeting cycle through the engine."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.webapp.cases.helpers import complete
from webapp.cases.models import CaseMember
from webapp.engine.models import ScheduledStart
from webapp.meetings.models import Meeting
from webapp.meetings.operations import scheduled_key


def members(services, case_id) -> dict[str, int]:
    with services.db.session() as s:
        return {m.name: m.id for m in s.scalars(select(CaseMember).where(CaseMember.case_id == case_id))}


def meeting(services, case_id, number=1) -> Meeting:
    with services.db.session() as s:
        return s.scalar(select(Meeting).where(Meeting.case_id == case_id, Meeting.number == number))


def begin_planning(services, case_id, number: int) -> None:
    """Move the clock to the morning the planning of meeting ``number`` is due to start and let the
    worker start its episode."""
    planned = meeting(services, case_id, number)
    with services.db.session() as s:
        start = s.scalar(select(ScheduledStart).where(ScheduledStart.key == scheduled_key(planned.id)))
    assert start is not None and start.status == "pending", "the meeting's episode is not scheduled"
    services.clock.set(start.due_at + timedelta(hours=8))
    services.engine.fire_due_timers()


def weekday_after(services, days: int) -> date:
    day = services.clock.now().date() + timedelta(days=days)
    while day.weekday() >= 5 or day.month == 12 and day.day in (24, 25, 26, 31) or (day.month, day.day) in ((1, 1), (5, 1), (5, 17)):
        day += timedelta(days=1)
    return day


def plan(services, users, case_id, *, days=30, minute_taker="Siri Skole", time="10:00"):
    ids = members(services, case_id)
    day = weekday_after(services, days)
    complete(services, case_id, "plan", {"meeting_date": day.isoformat(), "meeting_time": time,
                                         "duration_minutes": 90, "place": "Rådhuset",
                                         "minute_taker_member_id": str(ids[minute_taker])}, users["kari"])
    return day


def prepare(services, users, case_id, **kwargs):
    """Plan, record the person's needs and send the invitation."""
    day = plan(services, users, case_id, **kwargs)
    complete(services, case_id, "needs", {"persons_needs": "Emma vil snakke om skolestart", "person_attends": "ja"},
             users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Skolestart"}]}, users["kari"])
    return day


def at_meeting(services, case_id, *, after=timedelta(hours=2)) -> None:
    """Move the clock to ``after`` the start of the case's invited meeting (minutes can only be
    written once the meeting has started); a clock already past that stays."""
    with services.db.session() as s:
        invited = s.scalar(select(Meeting).where(Meeting.case_id == case_id, Meeting.status == "invited")
                           .order_by(Meeting.number.desc()).limit(1))
    if invited is not None and services.clock.now() < invited.starts_at + after:
        services.clock.set(invited.starts_at + after)


def hold_data(services, case_id, *, first=True, measures=None, next_date=None):
    """Minutes of the invited meeting; moves the clock to just after the meeting (at_meeting)."""
    at_meeting(services, case_id)
    ids = members(services, case_id)
    data = {
        "attendance": [{"member_id": str(ids["Kari Koordinator"]), "present": True},
                       {"member_id": str(ids["Siri Skole"]), "present": True},
                       {"member_id": str(ids["Anne Berg"]), "present": False, "absence_reason": "Syk"}],
        "previous_minutes_approved": "ingen", "persons_account": "Emma gleder seg til skolen",
        "services_account": "Skolen har forberedt klasserommet",
        "items": [{"title": "Skolestart", "discussion": "Tilrettelegging", "conclusion": "Assistent første uke"}],
        "new_measures": measures if measures is not None else [
            {"description": "Bestille assistent", "responsible_member_id": str(ids["Siri Skole"]),
             "deadline": (services.clock.now().date() + timedelta(days=40)).isoformat()}],
        "summary": "God start planlagt", "recipients": [str(ids["Kari Koordinator"]), str(ids["Siri Skole"]),
                                                         str(ids["Anne Berg"]), str(ids["Per Fastlege"])],
    }
    if next_date:
        data["next_meeting_date"] = next_date.isoformat()
        data["next_meeting_theme"] = "Oppfølging"
    if first:
        data.update({"rules_reviewed": True, "cooperation_meeting": "nei"})
    return data
