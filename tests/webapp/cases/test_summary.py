"""What a case keeps for the cockpit (webapp/cases/summary.py): after each real operation that
changes a coordinator, a held meeting, a consent or the meeting interval, the kept columns equal
what their definitions compute from the rows themselves. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from tests.webapp.cases.helpers import complete, establish
from tests.webapp.meetings.helpers import hold_data, prepare
from tests.webapp.supervision.clock import town_at_start
from webapp.admin.operations import deactivate_user
from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember, Consent
from webapp.cases.operations import appoint_coordinator
from webapp.clock import OSLO
from webapp.meetings.models import HELD_MEETING, Meeting
from webapp.outbox.operations import Outbox
from webapp.settings.operations import change_setting, get_setting


@pytest.fixture
def town(services):
    return town_at_start(services)


def kept(services) -> dict[int, tuple]:
    with services.db.session() as s:
        cases = {c.id: (c.has_coordinator, c.last_meeting_at, c.meeting_due_on) for c in s.scalars(select(Case))}
        consents = {c.id: c.superseded for c in s.scalars(select(Consent))}
    return {"cases": cases, "consents": consents}


def computed(services) -> dict[int, tuple]:
    """The same figures from their definitions, in Python over the rows."""
    with services.db.session() as s:
        months = int(get_setting(s, "meeting_interval_months"))
        members = s.scalars(select(CaseMember)).all()
        meetings = s.scalars(select(Meeting)).all()
        consents = s.scalars(select(Consent)).all()
        cases = {}
        for case in s.scalars(select(Case)):
            held = [m.starts_at or m.held_at for m in meetings  # the meeting's own date
                    if m.case_id == case.id and m.status in HELD_MEETING and m.held_at is not None]
            last = max(held) if held else None
            anchor = last or case.activated_at
            cases[case.id] = (any(m.case_id == case.id and m.role == "koordinator" and m.active for m in members),
                              last, anchor.astimezone(OSLO).date() + relativedelta(months=months) if anchor else None)
        superseded = {c.id: any(o.case_id == c.case_id and o.id > c.id for o in consents) for c in consents}
    return {"cases": cases, "consents": superseded}


def assert_kept(services) -> dict:
    found = kept(services)
    assert found == computed(services)
    return found


def test_kept_through_coordinators_meetings_consents_and_the_interval(services, town):
    assert_kept(services)
    case_id = establish(services, town)  # active, with Kari as coordinator and a consent
    found = assert_kept(services)
    assert found["cases"][case_id][0] is True and found["cases"][case_id][2] is not None

    with services.db.transaction() as s:  # the coordinator leaves; nobody is named
        deactivate_user(s, s.get(User, town["kari"]), successor=None, reassign=services.engine.reassign,
                        outbox_for=lambda c: Outbox(s, services.clock, c), at=services.clock.now(),
                        actor_id=town["ke"])
    assert assert_kept(services)["cases"][case_id][0] is False
    with services.db.transaction(serialised=True) as s:
        appoint_coordinator(s, s.get(Case, case_id), s.get(User, town["ola"]), kind="coordinator",
                            at=services.clock.now(), actor_id=town["ke"], reason="Ny koordinator")
    assert assert_kept(services)["cases"][case_id][0] is True

    prepare(services, town, case_id)
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[]), town["siri"])
    held = assert_kept(services)["cases"][case_id]
    assert held[1] is not None and held[2] == held[1].astimezone(OSLO).date() + relativedelta(months=6)

    with services.db.transaction() as s:  # the interval changes: every group's due day moves
        change_setting(s, "meeting_interval_months", 2, at=services.clock.now(), actor_id=None)
    assert assert_kept(services)["cases"][case_id][2] == held[1].astimezone(OSLO).date() + relativedelta(months=2)

    with services.db.transaction() as s:  # a renewed consent supersedes the first
        first = s.scalar(select(Consent).where(Consent.case_id == case_id))
        s.add(Consent(case_id=case_id, given=True, signed_by="Emma Berg", signed_how="paper",
                      signed_on=date(2027, 4, 1), valid_until=date(2028, 4, 1), recorded_at=services.clock.now()))
    found = assert_kept(services)
    assert found["consents"][first.id] is True and list(found["consents"].values()).count(False) == 1


def test_the_interval_set_back_to_its_default_moves_every_group_again(services, town):
    case_id = establish(services, town)
    with services.db.transaction() as s:
        change_setting(s, "meeting_interval_months", 3, at=services.clock.now(), actor_id=None)
    assert_kept(services)
    with services.db.transaction() as s:
        change_setting(s, "meeting_interval_months", 6, at=services.clock.now(), actor_id=None)
    assert assert_kept(services)["cases"][case_id][2] == date(2027, 2, 28)  # activated 31 August 2026
