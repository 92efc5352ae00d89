"""The review of the composition before a transition, through the engine."""
from datetime import date

from sqlalchemy import select

from tests.webapp.cases.helpers import complete, open_task
from tests.webapp.meetings.helpers import hold_data, meeting, prepare
from tests.webapp.transitions.helpers import (
    CONSENT_RENEWED, active_members, add_kindergarten_member, complete_step, member_ids, oslo, review_task,
    start_review, transitions,
)
from webapp.auth.models import User
from webapp.cases.access import Access, case_access, is_coordinator
from webapp.cases.models import Case, CaseMember, CaseStatusChange, Consent
from webapp.cases.operations import active_consent, current_coordinator
from webapp.engine.models import ProcessInstance
from webapp.meetings.models import Matter
from webapp.settings.operations import change_setting

HANDOVER = [{"from": "Solsikken barnehage", "to": "Solbakken skole", "what": "Tilrettelegging og assistent",
             "on": "2027-08-15"}]


def review_data(services, users, case_id, **extra):
    """Kindergarten out, school in, the hand-over between them."""
    bente = member_ids(services, case_id)["Bente Barnehage"]
    return {"leaving": [{"member_id": str(bente), "reason": "Emma begynner på skolen"}],
            "joining": [{"name": "Tor Lærer", "user_id": str(users["tor"]), "unit_id": str(users["unit_school"]),
                         "email": "tor@example.org"}],
            "handover": HANDOVER, "summary": "Skolen overtar ansvaret fra barnehagen", **extra}


def statuses(services, case_id):
    with services.db.session() as s:
        return s.scalars(select(CaseStatusChange.to_status).where(CaseStatusChange.case_id == case_id)
                         .order_by(CaseStatusChange.id)).all()


def matters(services, case_id):
    with services.db.session() as s:
        return [(m.meeting.number, m.title, m.description, m.on_agenda) for m in s.scalars(
            select(Matter).join(Matter.meeting).where(Matter.meeting.has(case_id=case_id)).order_by(Matter.id))]


def reviewed_with_change(services, users, case_id):
    """The school start's review done with the kindergarten out and the school in; returns the
    transition and the id of the consent in force before."""
    add_kindergarten_member(services, users, case_id)
    with services.db.session() as s:
        old_consent_id = active_consent(s, case_id).id
    school = start_review(services, case_id)
    complete_step(services, school, "review", review_data(services, users, case_id), users["kari"])
    return school, old_consent_id


def test_school_in_kindergarten_out_with_renewed_consent(services, users, case_id):
    before = statuses(services, case_id)
    school, old_consent_id = reviewed_with_change(services, users, case_id)
    assert active_members(services, case_id)["Bente Barnehage"] == "medlem"  # nothing changes before consent
    assert review_task(services, school, "consent").assignee_id == users["kari"]

    complete_step(services, school, "consent", CONSENT_RENEWED, users["kari"])
    members = active_members(services, case_id)
    assert "Bente Barnehage" not in members and members["Tor Lærer"] == "medlem"
    with services.db.session() as s:
        old, new = s.get(Consent, old_consent_id), active_consent(s, case_id)
        assert old.ended_at is not None and "Skolestart" in old.end_reason and not old.in_force
        assert new.id != old_consent_id and new.signed_by == "Anne Berg" and new.signed_on == date(2026, 8, 20)
        assert {"name": "Tor Lærer", "role": "medlem"} in new.composition
        assert "Bente Barnehage" not in {c["name"] for c in new.composition}
        assert s.get(Case, case_id).status == "active"
        assert case_access(s, s.get(User, users["tor"]), case_id, services.clock.today()) == Access.FULL
    assert statuses(services, case_id) == before  # renewing consent does not move the case
    # the new member clarifies the mandate, as at establishment; then the episode ends
    confirm = review_task(services, school, "confirm_joining")
    assert confirm.assignee_id == users["tor"] and confirm.title.endswith("Tor Lærer")
    complete_step(services, school, "confirm_joining", {"participates": "ja", "mandate": "Kontaktlærer"}, users["tor"])
    with services.db.session() as s:
        tor = s.scalar(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.name == "Tor Lærer"))
        assert tor.mandate_clarified and tor.mandate == "Kontaktlærer"
        assert s.get(ProcessInstance, school.instance_id).status == "completed"
    done = transitions(services, case_id)["school_start"]
    assert (done.status, done.composition_changed, done.consent_renewed, done.agenda_pending) == (
        "reviewed", True, True, False)
    assert done.handover == HANDOVER and done.summary == "Skolen overtar ansvaret fra barnehagen"
    [(number, title, description, on_agenda)] = matters(services, case_id)
    assert (number, title, on_agenda) == (1, "Overgang: Skolestart 15.08.2027", True)
    assert "Skolen overtar ansvaret" in description and "Solsikken barnehage → Solbakken skole" in description


def test_without_renewed_consent_the_composition_stays(services, users, case_id):
    school, old_consent_id = reviewed_with_change(services, users, case_id)
    before = active_members(services, case_id)
    complete_step(services, school, "consent", {"person_informed": True, "informed_on": "2026-08-20",
                                               "consent_renewed": "nei", "refusal_reason": "Vil vente til høsten"},
                  users["kari"])
    assert active_members(services, case_id) == before
    with services.db.session() as s:
        assert active_consent(s, case_id).id == old_consent_id
        assert len(s.scalars(select(Consent).where(Consent.case_id == case_id)).all()) == 1
    done = transitions(services, case_id)["school_start"]
    assert (done.status, done.consent_renewed, done.handover) == ("reviewed", False, HANDOVER)
    [(_number, _title, description, _on)] = matters(services, case_id)
    assert "Samtykket ble ikke fornyet" in description


def test_without_a_planned_meeting_the_transition_waits_for_the_next_one(services, users, case_id):
    with services.db.transaction() as s:
        change_setting(s, "minutes_approval", "next_meeting", at=services.clock.now(), actor_id=None)
    prepare(services, users, case_id)  # meeting 1 is invited: its agenda is closed
    school = start_review(services, case_id)
    complete_step(services, school, "review", {"handover": HANDOVER, "summary": "Ingen endring i gruppen"},
                  users["kari"])
    assert review_task(services, school, "consent") is None  # unchanged composition: no new consent
    done = transitions(services, case_id)["school_start"]
    assert (done.status, done.composition_changed, done.agenda_pending) == ("reviewed", False, True)
    assert matters(services, case_id) == []

    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[],
                                                        next_date=date(2026, 10, 20)), users["siri"])
    assert meeting(services, case_id, 2).status == "planned"
    [(number, title, _description, on_agenda)] = matters(services, case_id)
    assert (number, title, on_agenda) == (2, "Overgang: Skolestart 15.08.2027", True)
    assert transitions(services, case_id)["school_start"].agenda_pending is False


def test_a_new_coordinator_overlaps_with_the_previous_until_the_chosen_day(services, users, case_id):
    school = start_review(services, case_id)
    complete_step(services, school, "review", {
        "new_coordinator_user_id": str(users["ola"]), "coordinator_kind": "coordinator",
        "overlap_until": "2026-09-30", "summary": "Ola tar over som koordinator"}, users["kari"])
    complete_step(services, school, "consent", CONSENT_RENEWED, users["kari"])

    def coordinators():
        with services.db.session() as s:
            current = current_coordinator(s, case_id)
            both = {u: is_coordinator(s, s.get(User, users[u]), case_id) for u in ("kari", "ola")}
            return current.user_id, both
    assert coordinators() == (users["ola"], {"kari": True, "ola": True})
    assert open_task(services, case_id, "plan").assignee_id == users["kari"]  # first meeting, opened at activation
    assert transitions(services, case_id)["school_start"].overlap_until == date(2026, 9, 30)
    with services.db.session() as s:
        assert {"name": "Ola Helse", "role": "koordinator"} in active_consent(s, case_id).composition

    services.clock.set(oslo("2026-09-29", 23, 50))
    services.engine.fire_due_timers()
    assert coordinators() == (users["ola"], {"kari": True, "ola": True})
    services.clock.set(oslo("2026-09-30", 0, 10))
    services.engine.fire_due_timers()
    assert coordinators() == (users["ola"], {"kari": False, "ola": True})
    assert open_task(services, case_id, "plan").assignee_id == users["ola"]  # her open steps go to him
    with services.db.session() as s:
        assert s.get(ProcessInstance, school.instance_id).status == "completed"
        assert case_access(s, s.get(User, users["kari"]), case_id, services.clock.today()) == Access.NONE
    assert active_members(services, case_id)["Ola Helse"] == "koordinator"


def test_a_new_coordinator_without_overlap_takes_over_at_once(services, users, case_id):
    school = start_review(services, case_id)
    complete_step(services, school, "review", {"new_coordinator_user_id": str(users["ola"]),
                                               "coordinator_kind": "child_coordinator", "summary": "Bytte"},
                  users["kari"])
    complete_step(services, school, "consent", CONSENT_RENEWED, users["kari"])
    assert open_task(services, case_id, "plan").assignee_id == users["ola"]
    with services.db.session() as s:
        assert not is_coordinator(s, s.get(User, users["kari"]), case_id)
        assert current_coordinator(s, case_id).kind == "child_coordinator"
        assert s.get(ProcessInstance, school.instance_id).status == "completed"
    assert transitions(services, case_id)["school_start"].overlap_until is None
    with services.db.session() as s:
        assert "Kari Koordinator" not in {c["name"] for c in active_consent(s, case_id).composition}
