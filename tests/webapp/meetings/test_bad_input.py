"""Bad input on every meeting form: 400, input kept, nothing saved, never a 500."""
import pytest
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, complete, establish, open_task
from tests.webapp.meetings.helpers import hold_data, meeting, members, plan, prepare
from webapp.audit.models import AuditEvent

LONG = "x" * 9000


def at_step(services, users, step):
    """A case whose next step is ``step``; returns (case id, acting username)."""
    case_id = establish(services, users, until="active")
    if step == "plan":
        return case_id, "kari"
    if step == "late":
        plan(services, users, case_id, days=5)
        complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
        complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "A"}]}, users["kari"])
        return case_id, "kari"
    if step in ("needs", "agenda"):
        plan(services, users, case_id)
        if step == "agenda":
            complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
        return case_id, "kari"
    prepare(services, users, case_id)
    if step == "hold_first":
        return case_id, "siri"
    complete(services, case_id, "hold_first", hold_data(services, case_id), users["siri"])
    if step == "approve":
        return case_id, "siri"
    if step == "follow":
        return case_id, "siri"
    for task_user in ("siri", "kari", "kari"):
        task = open_task(services, case_id, "approve", users[task_user])
        if task:
            services.engine.complete_task(task.instance_id, task.task_id, {"approved": "ja"}, actor_id=users[task_user])
    return case_id, "kari"


def hold_form(services, case_id):
    ids = members(services, case_id)
    return {"attendance-0-member_id": str(ids["Siri Skole"]), "attendance-0-present": "on",
            "previous_minutes_approved": "ingen", "persons_account": "Bra", "summary": "Ok",
            "recipients": str(ids["Siri Skole"]), "rules_reviewed": "on", "cooperation_meeting": "nei"}


CASES = {
    "plan": [({}, "meeting_date"),
             ({"meeting_date": "2030-06-04", "meeting_time": "25:99", "duration_minutes": "90", "place": "R",
               "minute_taker_member_id": "{siri}"}, "meeting_time"),
             ({"meeting_date": "2001-06-04", "meeting_time": "10:00", "duration_minutes": "90", "place": "R",
               "minute_taker_member_id": "{siri}"}, "meeting_date"),
             ({"meeting_date": "2030-06-04", "meeting_time": "10:00", "duration_minutes": "mange", "place": "R",
               "minute_taker_member_id": "{siri}"}, "duration_minutes"),
             ({"meeting_date": "2030-06-04", "meeting_time": "10:00", "duration_minutes": "90", "place": "R",
               "video_link": "javascript:alert(1)", "minute_taker_member_id": "{siri}"}, "video_link"),
             ({"meeting_date": "2030-06-04", "meeting_time": "10:00", "duration_minutes": "90", "place": "R",
               "minute_taker_member_id": "999999"}, "minute_taker_member_id")],
    "needs": [({}, "persons_needs"), ({"persons_needs": "x", "person_attends": "nei"}, "persons_views"),
              ({"persons_needs": LONG, "person_attends": "ja"}, "persons_needs")],
    "agenda": [({"agreed_with_person": "on"}, "agenda"), ({"agenda-0-title": "A"}, "agreed_with_person"),
               ({"agenda-0-title": "A", "agreed_with_person": "on", "kept_matters": "777"}, "kept_matters")],
    "late": [({}, "notice_decision"), ({"notice_decision": "urgent"}, "urgent_reason"),
             ({"notice_decision": "new_date", "new_date": "2030-02-30", "new_time": "10:00"}, "new_date")],
    "hold_first": [({}, "attendance"), ("HOLD", None)],
    "approve": [({}, "approved"), ({"approved": "nei"}, "comment")],
    "follow": [({}, "outcome"), ({"outcome": "escalate"}, "comment"), ({"outcome": "ja"}, "outcome")],
    "finalize": [({}, "confirmed")],
}


@pytest.mark.parametrize("step", list(CASES))
def test_bad_input(app, services, users, step):
    case_id, who = at_step(services, users, step)
    task = open_task(services, case_id, step, users[who] if step in ("approve", "follow") else None)
    assert task is not None, step
    client = login_client(app, who, PASSWORD)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    assert client.get(url).status_code == 200
    ids = members(services, case_id)
    with services.db.session() as s:
        before = s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login"))
    attempts = CASES[step]
    if step == "hold_first":
        good = hold_form(services, case_id)
        attempts = [({}, "attendance"),
                    ({**good, "persons_account": ""}, "persons_account"),
                    ({**good, "new_measures-0-description": "Tiltak", "new_measures-0-responsible_member_id": str(ids["Siri Skole"]),
                      "new_measures-0-deadline": "i morgen"}, "new_measures.0.deadline"),
                    ({**good, "new_measures-0-description": "Tiltak"}, "new_measures.0.responsible_member_id"),
                    ({**good, "attendance-0-member_id": "424242"}, "attendance.0.member_id"),
                    ({**good, "recipients": "abc"}, "recipients"),
                    ({**{k: v for k, v in good.items() if k != "rules_reviewed"}}, "rules_reviewed")]
    for data, field in attempts:
        posted = {k: v.replace("{siri}", str(ids["Siri Skole"])) for k, v in data.items()}
        response = client.post(url, data={**posted, "csrf_token": client.token})
        assert response.status_code == 400, (step, data, response.status_code)
        assert f'id="f-{field.replace(".", "-")}-err"' in response.text, (step, field)
        for key, value in posted.items():
            if value and value != LONG and key != field and not value.isdigit() and value not in ("on", "ja", "nei"):
                assert value in response.text, (step, key)  # the input is kept
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login")) == before
    assert open_task(services, case_id, step, users[who] if step in ("approve", "follow") else None).task_id == task.task_id


def test_bad_input_on_the_matter_form(app, services, users):
    case_id = establish(services, users, until="active")
    m = meeting(services, case_id)
    siri = login_client(app, "siri", PASSWORD)
    url = f"/saker/{case_id}/moter/{m.id}/meld-sak"
    for data, field in (({}, "title"), ({"title": "Sak"}, "screening"), ({"title": "Sak", "screening": "tull"}, "screening"),
                        ({"title": LONG, "screening": "none"}, "title")):
        response = siri.post(url, data={**data, "csrf_token": siri.token})
        assert response.status_code == 400 and f'id="f-{field}-err"' in response.text
    assert siri.get(f"/saker/{case_id}/moter/99999/meld-sak").status_code == 404
    ola = login_client(app, "ola", PASSWORD)  # no role in the case
    assert ola.get(url).status_code == 404
    assert ola.post(url, data={"title": "x", "screening": "none", "csrf_token": ola.token}).status_code == 404
