"""Matter screening, minute-taker settings and the holiday warning."""
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, complete, open_task
from tests.webapp.meetings.helpers import meeting, members, plan
from webapp.cases.models import Case
from webapp.meetings.models import EXCLUDED_MATTERS, Matter, Meeting
from webapp.settings.operations import change_setting
from webapp.taskforms.options import option_source


@pytest.mark.parametrize("kind", list(EXCLUDED_MATTERS))
def test_each_excluded_kind_is_redirected_and_kept_off_the_agenda(app, services, users, case_id, kind):
    m = meeting(services, case_id)
    siri = login_client(app, "siri", PASSWORD)
    page = siri.get(f"/saker/{case_id}/moter/{m.id}/meld-sak")
    assert page.status_code == 200 and str(EXCLUDED_MATTERS[kind][0]) in page.text
    response = siri.post(f"/saker/{case_id}/moter/{m.id}/meld-sak", follow_redirects=True, data={
        "title": "Misfornøyd", "description": "x", "screening": kind, "csrf_token": siri.token})
    assert str(EXCLUDED_MATTERS[kind][1]) in response.text  # the guideline's redirection is shown
    ok = siri.post(f"/saker/{case_id}/moter/{m.id}/meld-sak", data={
        "title": "Skolestart", "screening": "none", "csrf_token": siri.token})
    assert ok.status_code == 302
    with services.db.session() as s:
        matters = {mt.title: mt for mt in s.scalars(select(Matter))}
    assert matters["Misfornøyd"].excluded_kind == kind and not matters["Misfornøyd"].on_agenda
    assert matters["Skolestart"].on_agenda

    # the agenda step: flagged matters stay off unless the coordinator keeps one with a reason
    plan(services, users, case_id)
    complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
    kari = login_client(app, "kari", PASSWORD)
    task = open_task(services, case_id, "agenda")
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    form = kari.get(url)
    assert "Holdes utenfor sakslisten" in form.text and "Misfornøyd" in form.text
    assert 'value="Skolestart"' in form.text  # prefilled from the submitted matters
    flagged = str(matters["Misfornøyd"].id)
    missing_reason = kari.post(url, data={"agenda-0-title": "Skolestart", "kept_matters": flagged,
                                          "agreed_with_person": "on", "csrf_token": kari.token})
    assert missing_reason.status_code == 400 and 'id="f-kept_reason-err"' in missing_reason.text
    done = kari.post(url, data={"agenda-0-title": "Skolestart", "kept_matters": flagged,
                                "kept_reason": "Personen ønsker det", "agreed_with_person": "on",
                                "csrf_token": kari.token})
    assert done.status_code == 302
    assert meeting(services, case_id).agenda == ["Skolestart", "Misfornøyd"]


def test_late_matter_is_refused_after_invitation(app, services, users, case_id):
    from tests.webapp.meetings.helpers import prepare
    prepare(services, users, case_id)
    m = meeting(services, case_id)
    siri = login_client(app, "siri", PASSWORD)
    response = siri.post(f"/saker/{case_id}/moter/{m.id}/meld-sak", follow_redirects=True,
                         data={"title": "Sent", "screening": "none", "csrf_token": siri.token})
    assert "nye saker tas med til neste møte" in response.text
    with services.db.session() as s:
        assert s.scalar(select(Matter.id)) is None


def takers(services, case_id):
    with services.db.session() as s:
        return [label for _v, label in option_source(s, s.get(Case, case_id), date.today())("minute_takers")]


def set_(services, key, value):
    with services.db.transaction() as s:
        change_setting(s, key, value, at=services.clock.now(), actor_id=None)


def test_coordinator_may_or_may_not_take_minutes(app, services, users, case_id):
    assert "Kari Koordinator" in takers(services, case_id)
    set_(services, "coordinator_may_take_minutes", False)  # guideline 004
    assert "Kari Koordinator" not in takers(services, case_id) and "Siri Skole" in takers(services, case_id)
    # the form refuses the coordinator as minute-taker before anything reaches the engine
    kari = login_client(app, "kari", PASSWORD)
    task = open_task(services, case_id, "plan")
    response = kari.post(f"/oppgaver/{task.instance_id}/{task.task_id}", data={
        "meeting_date": "2030-06-04", "meeting_time": "10:00", "duration_minutes": "90", "place": "Rådhuset",
        "minute_taker_member_id": str(members(services, case_id)["Kari Koordinator"]), "csrf_token": kari.token})
    assert response.status_code == 400 and 'id="f-minute_taker_member_id-err"' in response.text
    assert meeting(services, case_id).minute_taker_member_id is None


def test_minute_taking_rotates(services, users, case_id):
    from webapp.meetings.operations import suggest_minute_taker
    with services.db.session() as s:
        first = suggest_minute_taker(s, case_id)
    assert first.name == "Kari Koordinator"  # nobody has taken minutes yet: first in line
    with services.db.transaction() as s:
        s.get(Meeting, meeting(services, case_id).id).minute_taker_member_id = first.id
    with services.db.session() as s:
        assert suggest_minute_taker(s, case_id).name != "Kari Koordinator"  # next in turn
    set_(services, "minute_taker_rotates", False)  # guideline 003: chosen per meeting
    with services.db.session() as s:
        assert suggest_minute_taker(s, case_id) is None


def test_holiday_or_weekend_needs_confirmation(app, services, users, case_id):
    kari = login_client(app, "kari", PASSWORD)
    task = open_task(services, case_id, "plan")
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    siri = members(services, case_id)["Siri Skole"]
    form = {"meeting_date": "2030-12-25", "meeting_time": "10:00", "duration_minutes": "90", "place": "Rådhuset",
            "minute_taker_member_id": str(siri), "csrf_token": kari.token}
    warned = kari.post(url, data=form)
    assert warned.status_code == 400 and "Første juledag" in warned.text
    saturday = kari.post(url, data={**form, "meeting_date": "2030-06-01"})
    assert saturday.status_code == 400 and "lørdag" in saturday.text
    accepted = kari.post(url, data={**form, "accept_unusual_date": "on"})
    assert accepted.status_code == 302
