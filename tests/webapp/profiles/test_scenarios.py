"""Each of the five profiles applied to a fresh municipality, and its guideline walked from the
wish to the closing through the engine, asserting where the profile's rules differ."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from tests.webapp.cases.helpers import complete, open_task, wish
from tests.webapp.profiles.helpers import (
    approve_and_send, close_on_wish, confirm_closing, establish, hold_first_meeting, town,
)
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case, CaseClosure, CoordinatorAppointment
from webapp.cases.roles import resolve_role
from webapp.clock import OSLO
from webapp.evaluations.models import Evaluation
from webapp.meetings.models import Meeting, Minutes
from webapp.meetings.operations import eligible_minute_takers, suggest_minute_taker
from webapp.outbox.models import OutboxMessage
from webapp.profiles.operations import apply
from webapp.settings.operations import all_settings
from webapp.taskforms.options import option_source

START = datetime(2026, 3, 2, 9, 0, tzinfo=OSLO)


@pytest.fixture
def users(services, clock):
    clock.set(START)
    return town(services)


def _apply(services, users, name):
    result = apply(services, name, users["admin"])
    with services.db.session() as s:
        settings = all_settings(s)
    for entry in result.profile.settings:  # the profile's rules are now the municipality's
        assert settings[entry.key] == entry.value, entry.key
    return result


def _kinds(services, case_id, today=None):
    with services.db.session() as s:
        source = option_source(s, s.get(Case, case_id), today or services.clock.today())
        return [value for value, _label in source("coordinator_kinds")]


def _appointers(services, case_id):
    with services.db.session() as s:
        return resolve_role(s, case_id, "koordinerende_enhet")


def _mail(services, case_id, **where):
    with services.db.session() as s:
        query = select(OutboxMessage).where(OutboxMessage.case_id == case_id)
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return s.scalars(query.order_by(OutboxMessage.id)).all()


def _status(services, case_id):
    with services.db.session() as s:
        return s.get(Case, case_id).status


def _closure(services, case_id):
    with services.db.session() as s:
        return s.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id))


def _minute_takers(services, case_id):
    with services.db.session() as s:
        return ({m.name for m in eligible_minute_takers(s, case_id)},
                getattr(suggest_minute_taker(s, case_id), "name", None))


def test_000_ostre_toten(services, users, clock):
    _apply(services, users, "ostre-toten")
    case_id = wish(services, users, born="2015-06-01")  # 10 years old: a relay log can exist
    assert "relay_holder" in _kinds(services, case_id)
    assert _appointers(services, case_id) == [users["ola"]]  # no coordinating unit: the service that got the wish
    case_id = establish(services, users, born="2015-06-01", appointer="ola", leader="kari", kind="relay_holder",
                        plan_need="no")
    with services.db.session() as s:
        assert s.scalar(select(CoordinatorAppointment.kind).where(CoordinatorAppointment.case_id == case_id)) == "relay_holder"
    assert _minute_takers(services, case_id)[0] == {"Siri Skole", "Per Fastlege"}  # the members write the minutes
    hold_first_meeting(services, users, case_id, leader="kari")
    assert open_task(services, case_id, "approve") is None  # approved in the group, at the next meeting
    with services.db.session() as s:
        assert s.scalar(select(Minutes.approval_rule).join(Meeting, Meeting.id == Minutes.meeting_id)
                        .where(Meeting.case_id == case_id)) == "next_meeting"
        # evaluated every second year, no yearly need check in between
        scheduled = s.scalars(select(Evaluation).where(Evaluation.case_id == case_id)).all()
    activated = START.date()
    assert [(e.kind, e.due_on) for e in scheduled] == [("evaluation", activated + relativedelta(months=24))]
    clock.set(datetime.combine(activated + relativedelta(months=12), START.timetz()))
    services.engine.fire_due_timers()
    assert open_task(services, case_id, "need_check") is None and open_task(services, case_id, "evaluate") is None
    clock.set(datetime.combine(scheduled[0].due_on, START.timetz()))
    services.engine.fire_due_timers()
    complete(services, case_id, "evaluate", {
        "composition": "Riktig", "atmosphere": "Godt", "efficiency": "Bra", "work": "Tiltakene er gjennomført",
        "persons_view": "Trenger ikke gruppen lenger", "still_needed": "nei", "decision": "close",
        "decision_reason": "Målene er nådd"}, users["kari"])
    confirm_closing(services, users, case_id, leader="kari")  # closed after the evaluation
    assert _status(services, case_id) == "closed"
    assert _closure(services, case_id).initiated_by == "evaluation"


def test_001_leader_follows_the_age_stage(services, users):
    _apply(services, users, "retningslinje-001")
    assert _kinds(services, wish(services, users, name="Ida", born="2012-01-01")) == ["school"]
    assert _kinds(services, wish(services, users, name="Ola", born="2009-01-01")) == ["coordinator"]
    case_id = wish(services, users, born="2022-05-01")  # before school age: the health nurse leads
    assert _kinds(services, case_id) == ["health_nurse"]
    assert _appointers(services, case_id) == [users["ola"]]  # established by the health nurse who got the wish
    case_id = establish(services, users, born="2022-05-01", appointer="ola", leader="kari", kind="health_nurse",
                        plan_need="no")
    with services.db.session() as s:
        assert s.scalar(select(CoordinatorAppointment.kind).where(CoordinatorAppointment.case_id == case_id)) == "health_nurse"
    assert _minute_takers(services, case_id) == ({"Kari Koordinator", "Siri Skole", "Per Fastlege"}, None)  # agreed per meeting
    # at school start the leadership goes to the school
    assert _kinds(services, case_id, date(2028, 8, 15)) == ["school"]
    hold_first_meeting(services, users, case_id, leader="kari")
    approve_and_send(services, users, case_id, leader="kari")
    close_on_wish(services, users, case_id, leader="kari")
    assert _status(services, case_id) == "closed"


def test_002_salangen_coordinating_unit_appoints(services, users):
    result = _apply(services, users, "salangen")
    assert result.settings == [] and result.published == {}  # today's defaults are Salangen's
    case_id = wish(services, users, born="2016-01-01")
    assert _appointers(services, case_id) == [users["ke"]]
    assert open_task(services, case_id, "appoint").lane == "koordinerende_enhet"
    assert _kinds(services, case_id) == ["coordinator", "child_coordinator"]
    case_id = establish(services, users, born="2016-01-01", appointer="ke", leader="kari", kind="child_coordinator",
                        plan_need="yes")
    with services.db.session() as s:
        assert s.scalar(select(CoordinatorAppointment.appointed_by_id).where(
            CoordinatorAppointment.case_id == case_id)) == users["ke"]
        evaluation = s.scalar(select(Evaluation).where(Evaluation.case_id == case_id))
    assert evaluation.due_on == START.date() + relativedelta(months=12)  # yearly
    hold_first_meeting(services, users, case_id, leader="kari")
    assert open_task(services, case_id, "approve") is not None  # the members approve within a deadline
    approve_and_send(services, users, case_id, leader="kari")
    close_on_wish(services, users, case_id, leader="kari")
    assert _status(services, case_id) == "closed" and _closure(services, case_id).reported_to == "coordinating_unit"
    assert any(m.subject.startswith("Ansvarsgruppe avsluttet") for m in _mail(services, case_id, recipient="ke@example.org"))


def test_003_lund_post_and_minute_taker_sends(services, users):
    _apply(services, users, "lund")
    case_id = wish(services, users, born="2014-01-01")
    assert _appointers(services, case_id) == [users["ola"]]
    case_id = establish(services, users, born="2014-01-01", appointer="ola", leader="kari", kind="coordinator",
                        plan_need="no")  # without an individual plan the minute-taker sends the minutes
    assert _minute_takers(services, case_id)[1] is None  # chosen per meeting, no rotation
    hold_first_meeting(services, users, case_id, leader="kari")
    letters = [m for m in _mail(services, case_id, channel="letter") if m.subject.startswith("Innkalling")]
    assert {m.recipient for m in letters} >= {"Siri Skole", "Anne Berg", "Per Fastlege"}  # by post to everyone
    approve_and_send(services, users, case_id, leader="kari")
    with services.db.session() as s:
        sender = s.scalar(select(AuditEvent).where(AuditEvent.kind == "minutes_sent_by", AuditEvent.case_id == case_id))
    assert (sender.detail["role"], sender.detail["name"]) == ("referent", "Siri Skole")
    close_on_wish(services, users, case_id, leader="kari")
    assert _status(services, case_id) == "closed"


def test_004_reports_to_the_system_owner(services, users):
    _apply(services, users, "retningslinje-004")
    case_id = establish(services, users, born="2010-01-01", appointer="ola", leader="kari", kind="coordinator",
                        plan_need="yes")
    with services.db.session() as s:
        reference = s.get(Case, case_id).reference
    assert [m.subject for m in _mail(services, case_id, recipient="sara@example.org")] == [
        f"Ansvarsgruppe {reference} er startet"]
    takers, suggested = _minute_takers(services, case_id)
    assert "Kari Koordinator" not in takers and suggested == "Siri Skole"  # the leader is not the minute-taker
    hold_first_meeting(services, users, case_id, leader="kari")
    approve_and_send(services, users, case_id, leader="kari")
    close_on_wish(services, users, case_id, leader="kari")
    assert _closure(services, case_id).reported_to == "system_owner"
    subjects = [m.subject for m in _mail(services, case_id, recipient="sara@example.org")]
    assert f"Ansvarsgruppe {reference}: ny status «avsluttet»" in subjects  # status report
    assert any(s.startswith("Ansvarsgruppe avsluttet") for s in subjects)  # the closing report
    assert not _mail(services, case_id, recipient="ke@example.org")  # nothing to the coordinating unit
