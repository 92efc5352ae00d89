"""A fresh municipality with a profile applied, and walking a group from wish to closing through
the engine, with whoever leads the group (not only Kari)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.webapp.cases.helpers import CONSENT, PASSWORD, complete, municipality, open_task, wish
from tests.webapp.meetings.helpers import at_meeting, members, weekday_after
from webapp.auth.operations import create_user
from webapp.engine.models import OpenTask


def town(services) -> dict[str, int]:
    """The municipality of the case tests plus an administrator."""
    ids = municipality(services)
    with services.db.transaction() as s:
        ids["admin"] = create_user(s, "admin", "Anne Admin", PASSWORD, roles=("admin",), at=services.clock.now(),
                                   email="admin@example.org").id
    return ids


def establish(services, users, *, born: str, appointer: str, leader: str, kind: str, plan_need: str,
              first_meeting: date | None = None) -> int:
    """A wish registered by Ola, the leader appointed by ``appointer``, consent, Siri and Per as
    members, the individual-plan assessment and the first meeting three weeks ahead."""
    case_id = wish(services, users, born=born)
    complete(services, case_id, "appoint", {"coordinator_user_id": str(users[leader]), "coordinator_kind": kind,
                                            "wish_weighed": True, "persons_wish": "Den familien kjenner"},
             users[appointer])
    complete(services, case_id, "consent", {**CONSENT, "signed_on": services.clock.today().isoformat()}, users[leader])
    complete(services, case_id, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["siri"]), "name": "Siri Skole", "unit_id": str(users["unit_school"])},
        {"name": "Per Fastlege", "email": "per@example.org"}]}, users[leader])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Skolen"}, users["siri"], users["siri"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Lege"}, users[leader], users[leader])
    complete(services, case_id, "plan_need", {"plan_need": plan_need}, users[leader])
    first_meeting = first_meeting or services.clock.today() + timedelta(days=21)
    complete(services, case_id, "first_meeting", {"first_meeting_date": first_meeting.isoformat()}, users[leader])
    return case_id


def hold_first_meeting(services, users, case_id, *, leader: str, minute_taker: str = "Siri Skole") -> None:
    """Plan (with ``minute_taker``), the person's needs, the agenda and invitation, and the minutes."""
    ids = members(services, case_id)
    day = weekday_after(services, 30)
    complete(services, case_id, "plan", {"meeting_date": day.isoformat(), "meeting_time": "10:00",
                                         "duration_minutes": 90, "place": "Rådhuset",
                                         "minute_taker_member_id": str(ids[minute_taker])}, users[leader])
    complete(services, case_id, "needs", {"persons_needs": "Vil snakke om skolen", "person_attends": "ja"}, users[leader])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Skolen"}]}, users[leader])
    at_meeting(services, case_id)
    taker = open_task(services, case_id, "hold_first")
    assert taker is not None, "the minute-taker has no minutes to write"
    complete(services, case_id, "hold_first", {
        "rules_reviewed": True, "cooperation_meeting": "nei", "previous_minutes_approved": "ingen",
        "attendance": [{"member_id": str(ids["Siri Skole"]), "present": True},
                       {"member_id": str(ids["Anne Berg"]), "present": True}],
        "persons_account": "Emma trives", "services_account": "Skolen er fornøyd",
        "items": [{"title": "Skolen", "discussion": "Tilrettelegging", "conclusion": "Fortsetter"}],
        "new_measures": [], "summary": "Alt går bra",
        "recipients": [str(i) for i in ids.values()]}, taker.assignee_id)


def approve_and_send(services, users, case_id, *, leader: str) -> None:
    with services.db.session() as s:
        approvals = s.scalars(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == "approve")).all()
    for task in approvals:
        services.engine.complete_task(task.instance_id, task.task_id, {"approved": "ja"}, actor_id=task.assignee_id)
    complete(services, case_id, "finalize", {"confirmed": True}, users[leader])


def close_on_wish(services, users, case_id, *, leader: str) -> None:
    from webapp.closing.actions import request_closing
    request_closing(services, case_id, initiated_by="guardian", requested_by_name="Anne Berg",
                    reason="Vi trenger ikke gruppen lenger", actor_id=users[leader])
    confirm_closing(services, users, case_id, leader=leader)


def confirm_closing(services, users, case_id, *, leader: str) -> None:
    complete(services, case_id, "confirm_closing", {
        "confirmed": "ja", "confirmed_with": "Anne Berg", "confirmed_on": services.clock.today().isoformat(),
        "reason": "Målene er nådd", "closing_meeting": "nei"}, users[leader])
