"""Bad input on every plan form (the plan's steps): 400, the message next to the field, the input
kept, nothing saved, never a 500."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, establish, open_task
from tests.webapp.meetings.helpers import members
from tests.webapp.plans.helpers import adopt, consent, write
from webapp.audit.models import AuditEvent
from webapp.plans.models import PlanGoal, PlanVersion

LONG = "x" * 9000


def at_step(services, users, step):
    """A group whose plan episode waits at ``step``; returns (case id, acting username)."""
    case_id = establish(services, users, until="active")
    if step == "plan_consent":
        return case_id, "kari"
    consent(services, users, case_id)
    if step == "goals":
        return case_id, "siri"
    write(services, users, case_id)
    return case_id, "kari"


def cases(services, case_id):
    ids = members(services, case_id)
    today = services.clock.today()
    return {
        "plan_consent": [
            ({}, "consent_decision"),
            ({"consent_decision": "gitt", "signed_how": "paper", "signed_on": today.isoformat(),
              "participants": str(ids["Siri Skole"])}, "signed_by"),
            ({"consent_decision": "gitt", "signed_by": "Anne Berg", "signed_how": "paper",
              "signed_on": today.isoformat()}, "participants"),
            ({"consent_decision": "nektet", "signed_by": "Anne Berg", "signed_how": "paper",
              "signed_on": today.isoformat()}, "refusal_reason"),
            ({"consent_decision": "gitt", "signed_by": "Anne Berg", "signed_how": "paper",
              "signed_on": (today + timedelta(days=3)).isoformat(), "participants": str(ids["Siri Skole"])},
             "signed_on"),
            ({"consent_decision": "gitt", "signed_by": "Anne Berg", "signed_how": "paper",
              "signed_on": today.isoformat(), "participants": "424242"}, "participants")],
        "goals": [
            ({"new_goals-0-term": "long", "new_goals-0-text": "Et mål"}, "whats_important"),
            ({"whats_important": "Venner"}, "new_goals"),  # a plan without goals
            ({"whats_important": "Venner", "new_goals-0-text": "Mål uten sikt"}, "new_goals.0.term"),
            ({"whats_important": LONG, "new_goals-0-term": "long", "new_goals-0-text": "Et mål"}, "whats_important")],
        "adopt": [
            ({}, "decision"),
            ({"decision": "adopt", "period_from": today.isoformat(),
              "revision_due_on": (today + timedelta(days=90)).isoformat()}, "agreed_with_person"),
            ({"decision": "adopt", "agreed_with_person": "on", "period_from": today.isoformat(),
              "revision_due_on": today.isoformat()}, "revision_due_on"),
            ({"decision": "adopt", "agreed_with_person": "on", "period_from": today.isoformat(),
              "period_to": (today - timedelta(days=1)).isoformat(),
              "revision_due_on": (today + timedelta(days=90)).isoformat()}, "period_to"),
            ({"decision": "adopt", "agreed_with_person": "on", "period_from": today.isoformat(),
              "period_to": (today + timedelta(days=30)).isoformat(),
              "revision_due_on": (today + timedelta(days=90)).isoformat()}, "revision_due_on"),
            ({"decision": "change"}, "changes_needed")],
    }


@pytest.mark.parametrize("step", ["plan_consent", "goals", "adopt"])
def test_bad_input_on_the_plan_steps(app, services, users, step):
    case_id, who = at_step(services, users, step)
    task = open_task(services, case_id, step)
    client = login_client(app, who, PASSWORD)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    assert client.get(url).status_code == 200
    with services.db.session() as s:
        before = (s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login")),
                  s.scalar(select(func.count(PlanVersion.id))), s.scalar(select(func.count(PlanGoal.id))))
    for data, field in cases(services, case_id)[step]:
        response = client.post(url, data={**data, "csrf_token": client.token})
        assert response.status_code == 400, (step, data, response.status_code)
        assert f'id="f-{field.replace(".", "-")}-err"' in response.text, (step, field)
        for key, value in data.items():
            if value and value != LONG and key != field and not value.isdigit() and value not in ("on", "ja", "nei") \
                    and "-" not in value[:5]:
                assert value in response.text, (step, key)  # the input is kept
    with services.db.session() as s:
        assert (s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login")),
                s.scalar(select(func.count(PlanVersion.id))), s.scalar(select(func.count(PlanGoal.id)))) == before
    assert open_task(services, case_id, step).task_id == task.task_id


def test_a_measure_must_belong_to_a_goal_of_the_plan(app, services, users):
    case_id, _who = at_step(services, users, "goals")
    client = login_client(app, "siri", PASSWORD)
    from tests.webapp.cases.helpers import complete
    complete(services, case_id, "goals", {"whats_important": "Venner",
                                          "new_goals": [{"term": "long", "text": "Et mål"}]}, users["siri"])
    task = open_task(services, case_id, "measures")
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    ids = members(services, case_id)
    deadline = (services.clock.today() + timedelta(days=30)).isoformat()
    for data, field in (({}, "new_measures"),
                        ({"new_measures-0-description": "Tiltak", "new_measures-0-goal_id": "424242",
                          "new_measures-0-responsible_member_id": str(ids["Siri Skole"]),
                          "new_measures-0-deadline": deadline}, "new_measures.0.goal_id"),
                        ({"new_measures-0-description": "Tiltak",
                          "new_measures-0-responsible_member_id": str(ids["Siri Skole"]),
                          "new_measures-0-deadline": deadline}, "new_measures.0.goal_id")):
        response = client.post(url, data={**data, "csrf_token": client.token})
        assert response.status_code == 400 and f'id="f-{field.replace(".", "-")}-err"' in response.text, field
    assert open_task(services, case_id, "measures").task_id == task.task_id
