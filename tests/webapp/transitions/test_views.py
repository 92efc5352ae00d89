"""The transitions page: who sees it, adding and cancelling (the coordinator), bad input."""
import pytest
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, establish
from tests.webapp.transitions.helpers import review_task, scheduled_start, transitions
from webapp.audit.models import AccessLogEntry, AuditEvent
from webapp.engine.models import ProcessInstance, ScheduledStart
from webapp.transitions.models import Transition

LONG = "x" * 2500


def url(case_id):
    return f"/saker/{case_id}/overganger"


def counts(services):
    with services.db.session() as s:
        return (s.scalar(select(func.count(Transition.id))), s.scalar(select(func.count(ProcessInstance.id))),
                s.scalar(select(func.count(ScheduledStart.id)).where(ScheduledStart.status == "pending")),
                s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login")))


def test_members_with_full_access_see_the_list_and_others_get_404(app, services, users, case_id):
    kari = login_client(app, "kari", PASSWORD)
    page = kari.get(url(case_id))
    assert page.status_code == 200
    for text in ("Skolestart", "15.08.2027", "15.08.2026", "Overgang til ungdomsskolen", "Myndig (18 år)",
                 "10.03.2039", "Planlagt", "Legg til overgangen", "Avbryt overgangen"):
        assert text in page.text, text
    with services.db.session() as s:
        assert s.scalar(select(func.count(AccessLogEntry.id)).where(
            AccessLogEntry.case_id == case_id, AccessLogEntry.page == "transitions")) == 1
    siri = login_client(app, "siri", PASSWORD)  # a member while the consent is in force
    page = siri.get(url(case_id))
    assert page.status_code == 200 and "Skolestart" in page.text
    assert "Legg til overgangen" not in page.text and "Avbryt overgangen" not in page.text
    for who in ("ke", "sara", "ulf"):  # register view only, or no role at all
        assert login_client(app, who, PASSWORD).get(url(case_id)).status_code == 404, who
    assert kari.get(url(999999)).status_code == 404


def test_only_the_coordinator_adds_and_cancels(app, services, users, case_id):
    school = transitions(services, case_id)["school_start"]
    before = counts(services)
    for who in ("siri", "ke", "ulf"):
        client = login_client(app, who, PASSWORD)
        added = client.post(url(case_id), data={"kind": "moving", "description": "Flytter", "on_date": "2030-06-01",
                                                "csrf_token": client.token})
        cancelled = client.post(url(case_id), data={"transition_id": str(school.id), "reason": "Nei",
                                                    "csrf_token": client.token})
        assert (added.status_code, cancelled.status_code) == (404, 404), who
    assert counts(services) == before
    assert transitions(services, case_id)["school_start"].status == "planned"


def test_the_coordinator_adds_a_transition_and_its_review_episode(app, services, users, case_id):
    kari = login_client(app, "kari", PASSWORD)
    response = kari.post(url(case_id), data={"kind": "own_home", "description": "Flytter til egen bolig i Sentrum",
                                             "on_date": "2030-06-01", "csrf_token": kari.token})
    assert response.status_code == 302
    own_home = transitions(services, case_id)["own_home"]
    assert (own_home.on_date.isoformat(), own_home.review_from.isoformat(), own_home.source, own_home.status) == (
        "2030-06-01", "2029-06-01", "coordinator", "planned")
    assert own_home.created_by_id == users["kari"] and own_home.description == "Flytter til egen bolig i Sentrum"
    start = scheduled_start(services, own_home)  # the review starts on 1 June 2029
    assert (start.process_id, start.status, start.due_at.isoformat()) == (
        "transition_review", "pending", "2029-05-31T22:00:00+00:00")
    assert own_home.instance_id is None
    assert "Flytter til egen bolig i Sentrum" in kari.get(url(case_id)).text


def test_a_transition_close_ahead_is_reviewed_at_once(app, services, users, case_id):
    kari = login_client(app, "kari", PASSWORD)
    kari.post(url(case_id), data={"kind": "school_change", "description": "Bytter skole",
                                  "on_date": "2026-03-01", "csrf_token": kari.token})
    change = transitions(services, case_id)["school_change"]
    assert change.status == "under_review" and review_task(services, change).assignee_id == users["kari"]


def test_the_coordinator_cancels_a_planned_transition(app, services, users, case_id):
    school = transitions(services, case_id)["school_start"]
    kari = login_client(app, "kari", PASSWORD)
    response = kari.post(url(case_id), data={"transition_id": str(school.id), "reason": "Emma begynner på privatskole",
                                             "csrf_token": kari.token})
    assert response.status_code == 302
    assert transitions(services, case_id)["school_start"].status == "cancelled"
    start = scheduled_start(services, school)  # the review had not started: its scheduled start goes
    assert start.status == "cancelled" and "privatskole" in start.reason
    assert scheduled_start(services, transitions(services, case_id)["lower_secondary"]).status == "pending"
    with services.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.kind == "transition_cancelled"))
        assert event.detail["reason"] == "Emma begynner på privatskole" and event.actor_id == users["kari"]
    again = kari.post(url(case_id), data={"transition_id": str(school.id), "reason": "Igjen", "csrf_token": kari.token})
    assert again.status_code == 400 and "kan ikke avbrytes" in again.text


def test_cancelling_a_review_under_way_stops_its_episode(app, services, users, case_id):
    kari = login_client(app, "kari", PASSWORD)
    kari.post(url(case_id), data={"kind": "school_change", "description": "Bytter skole",
                                  "on_date": "2026-03-01", "csrf_token": kari.token})
    change = transitions(services, case_id)["school_change"]
    assert change.status == "under_review" and change.instance_id is not None
    response = kari.post(url(case_id), data={"transition_id": str(change.id), "reason": "Blir på skolen",
                                             "csrf_token": kari.token})
    assert response.status_code == 302
    assert transitions(services, case_id)["school_change"].status == "cancelled"
    assert review_task(services, change) is None
    with services.db.session() as s:
        instance = s.get(ProcessInstance, change.instance_id)
        assert instance.status == "cancelled" and "Blir på skolen" in instance.status_reason


@pytest.mark.parametrize("data, field", [
    ({}, "kind"),
    ({"kind": "own_home", "on_date": "2030-06-01"}, "description"),
    ({"kind": "own_home", "description": "Flytter", "on_date": "2020-06-01"}, "on_date"),
    ({"kind": "own_home", "description": "Flytter", "on_date": "2030-02-30"}, "on_date"),
    ({"kind": "own_home", "description": "Flytter", "on_date": "neste år"}, "on_date"),
    ({"kind": "romreise", "description": "Flytter", "on_date": "2030-06-01"}, "kind"),
    ({"kind": "adulthood", "description": "Flytter", "on_date": "2030-06-01"}, "kind"),
    ({"kind": "own_home", "description": LONG, "on_date": "2030-06-01"}, "description"),
])
def test_bad_input_when_adding(app, services, users, case_id, data, field):
    kari = login_client(app, "kari", PASSWORD)
    before = counts(services)
    response = kari.post(url(case_id), data={**data, "csrf_token": kari.token})
    assert response.status_code == 400
    assert f'id="f-{field}-err"' in response.text and "Rett opp dette" in response.text
    for key, value in data.items():
        if value != LONG and key != "kind":
            assert value in response.text, key  # the input is kept
    assert counts(services) == before


@pytest.mark.parametrize("transition_id", ["abc", "999999", "", "1" * 30, "OTHER_CASE"])
def test_bad_input_when_cancelling(app, services, users, case_id, transition_id):
    if transition_id == "OTHER_CASE":
        other = establish(services, users, born="2021-03-10")
        transition_id = str(transitions(services, other)["school_start"].id)
    kari = login_client(app, "kari", PASSWORD)
    before = counts(services)
    response = kari.post(url(case_id), data={"transition_id": transition_id, "reason": "Grunn",
                                             "csrf_token": kari.token})
    assert response.status_code == 400 and "Overgangen finnes ikke eller kan ikke avbrytes." in response.text
    assert counts(services) == before
    assert {t.status for t in transitions(services, case_id).values()} == {"planned"}


def test_cancelling_needs_a_reason(app, services, users, case_id):
    school = transitions(services, case_id)["school_start"]
    kari = login_client(app, "kari", PASSWORD)
    response = kari.post(url(case_id), data={"transition_id": str(school.id), "reason": "  ",
                                             "csrf_token": kari.token})
    assert response.status_code == 400 and f'id="reason-{school.id}-err"' in response.text
    long = kari.post(url(case_id), data={"transition_id": str(school.id), "reason": "Lang " + LONG,
                                         "csrf_token": kari.token})
    assert long.status_code == 400 and "Lang " + LONG in long.text  # kept
    assert transitions(services, case_id)["school_start"].status == "planned"
