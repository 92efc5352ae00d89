"""The deviation page and the deviation task pages: who may see and record, bad input, CSRF."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD
from tests.webapp.deviations.helpers import REPORT, complete, deviation, deviations, record, task_of
from webapp.audit.models import AccessLogEntry, AuditEvent
from webapp.deviations.models import Deviation
from webapp.engine.models import ProcessInstance

LONG = "x" * 5000


def client(app, username):
    return login_client(app, username, PASSWORD)


def saved(services):
    """What a refused submission must not have changed: deviations, instances, audit events."""
    with services.db.session() as s:
        return (s.scalar(select(func.count(Deviation.id))), s.scalar(select(func.count(ProcessInstance.id))),
                s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login")))


def test_a_member_records_a_deviation_and_the_coordinator_gets_the_follow_up(app, services, users, case_id):
    siri = client(app, "siri")
    url = f"/saker/{case_id}/avvik"
    page = siri.get(url)
    assert page.status_code == 200 and "Ingen avvik er meldt." in page.text
    yesterday = (services.clock.today() - timedelta(days=1)).isoformat()
    response = siri.post(url, data={**REPORT, "happened_on": yesterday, "csrf_token": siri.token})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    [d] = deviations(services, case_id)
    assert (d.title, d.reported_by_id, d.reported_by_name, d.status) == (REPORT["title"], users["siri"], "Siri Skole", "open")
    assert d.happened_on.isoformat() == yesterday and d.instance_id is not None
    listing = siri.get(url).text
    assert REPORT["title"] in listing and REPORT["description"] in listing and "Til oppfølging i gruppen" in listing
    with services.db.session() as s:
        assert s.scalar(select(func.count(AccessLogEntry.id)).where(
            AccessLogEntry.case_id == case_id, AccessLogEntry.user_id == users["siri"],
            AccessLogEntry.page == "deviations")) >= 2
    # the coordinator finds the follow-up in her inbox, with the deviation beside the form
    kari = client(app, "kari")
    task = task_of(services, d.id, "follow")
    assert task.assignee_id == users["kari"] and "Følg opp avviket" in kari.get("/oppgaver").text
    task_page = kari.get(f"/oppgaver/{task.instance_id}/{task.task_id}").text
    assert REPORT["description"] in task_page and "Retningslinje 004" in task_page
    assert kari.get(url).status_code == 200  # the coordinator sees the list too


def test_the_date_is_optional(app, services, users, case_id):
    siri = client(app, "siri")
    response = siri.post(f"/saker/{case_id}/avvik", data={**REPORT, "csrf_token": siri.token})
    assert response.status_code == 302
    assert deviations(services, case_id)[0].happened_on is None


@pytest.mark.parametrize("data, field", [
    ({"description": "Noe skjedde"}, "title"),
    ({"title": "Feil mottaker"}, "description"),
    ({"title": "Feil mottaker", "description": "Noe skjedde", "happened_on": "2999-01-01"}, "happened_on"),
    ({"title": "Feil mottaker", "description": "Noe skjedde", "happened_on": "i forrige uke"}, "happened_on"),
    ({"title": "Feil mottaker", "description": "Noe skjedde", "happened_on": "2024-02-30"}, "happened_on"),
    ({"title": LONG, "description": "Noe skjedde"}, "title"),
    ({"title": "Feil mottaker", "description": LONG}, "description"),
])
def test_bad_input_on_the_record_form(app, services, users, case_id, data, field):
    siri = client(app, "siri")
    before = saved(services)
    response = siri.post(f"/saker/{case_id}/avvik", data={**data, "csrf_token": siri.token})
    assert response.status_code == 400
    assert f'id="f-{field}-err"' in response.text and "Rett opp dette før du sender inn" in response.text
    for key, value in data.items():
        if key != field and value != LONG:
            assert value in response.text  # the input is kept
    assert saved(services) == before


def test_a_date_in_the_future_gets_a_norwegian_message(app, services, users, case_id):
    siri = client(app, "siri")
    tomorrow = (services.clock.today() + timedelta(days=1)).isoformat()
    response = siri.post(f"/saker/{case_id}/avvik", data={**REPORT, "happened_on": tomorrow, "csrf_token": siri.token})
    assert response.status_code == 400 and "Datoen kan ikke være fram i tid." in response.text
    assert deviations(services, case_id) == []


def test_post_without_csrf_token_is_refused(app, services, users, case_id):
    siri = client(app, "siri")
    before = saved(services)
    response = siri.post(f"/saker/{case_id}/avvik", data=REPORT)
    assert response.status_code == 400 and "Skjemaet er utløpt" in response.text
    assert saved(services) == before


def test_who_may_see_and_record(app, services, users, case_id):
    deviation_id = record(services, users, case_id)
    url = f"/saker/{case_id}/avvik"
    # outsiders, the coordinating unit and the system owner without a role in the case: 404
    for username in ("ulf", "ke", "sara"):
        c = client(app, username)
        page = c.get(url)
        assert page.status_code == 404, username
        assert REPORT["title"] not in page.text and "Emma" not in page.text
        before = saved(services)
        assert c.post(url, data={**REPORT, "csrf_token": c.token}).status_code == 404
        assert saved(services) == before
    assert client(app, "siri").get("/saker/999999/avvik").status_code == 404
    # register data of the case does not name the deviation (the task title carries only a date)
    case_page = client(app, "ke").get(f"/saker/{case_id}")
    assert case_page.status_code == 200 and "Følg opp avviket" in case_page.text
    assert REPORT["title"] not in case_page.text
    # the system owner cannot open the coordinator's follow-up
    task = task_of(services, deviation_id, "follow")
    assert client(app, "sara").get(f"/oppgaver/{task.instance_id}/{task.task_id}").status_code == 404


def test_members_lose_the_page_when_consent_is_withdrawn(app, services, users, case_id):
    from webapp.cases.consent import withdraw

    withdraw(services, case_id, stated_by="Anne Berg", reason="Ønsker ikke gruppen", actor_id=users["kari"])
    assert client(app, "siri").get(f"/saker/{case_id}/avvik").status_code == 404
    kari = client(app, "kari")  # the coordinator still sees the list, but cannot record more
    page = kari.get(f"/saker/{case_id}/avvik")
    assert page.status_code == 200 and "avvik kan ikke registreres" in page.text
    before = saved(services)
    response = kari.post(f"/saker/{case_id}/avvik", data={**REPORT, "csrf_token": kari.token})
    assert response.status_code == 400 and REPORT["description"] in response.text
    assert saved(services) == before


def test_the_system_owner_sees_the_deviation_only_in_the_escalated_task(app, services, users, case_id):
    escalated = record(services, users, case_id)
    other = record(services, users, case_id, title="Annet avvik som gruppen lukker selv")
    complete(services, escalated, "follow", {"follow_up": "Ringte avsenderen", "decision": "cannot_close",
                                             "escalation_reason": "Fagsystemet sender feil"}, users["kari"])
    sara = client(app, "sara")
    assert sara.get(f"/saker/{case_id}/avvik").status_code == 404
    task = task_of(services, escalated, "handle")
    assert "Behandle avvik fra ansvarsgruppe" in sara.get("/oppgaver").text
    page = sara.get(f"/oppgaver/{task.instance_id}/{task.task_id}")
    assert page.status_code == 200
    for shown in (REPORT["title"], REPORT["description"], "Ringte avsenderen", "Fagsystemet sender feil",
                  "Retningslinje 004"):
        assert shown in page.text
    assert "Annet avvik" not in page.text and "Bedre samarbeid" not in page.text  # nothing else of the case
    assert deviation(services, other).status == "open"


@pytest.mark.parametrize("step, attempts", [
    ("follow", [({}, "follow_up"), ({"follow_up": "Ringte"}, "decision"),
                ({"follow_up": "Ringte", "decision": "cannot_close"}, "escalation_reason"),
                ({"follow_up": "Ringte", "decision": "tull"}, "decision"),
                ({"follow_up": LONG, "decision": "closed"}, "follow_up")]),
    ("handle", [({}, "owner_action"), ({"owner_action": "Meldt videre"}, "closing_remark"),
                ({"owner_action": "Meldt videre", "closing_remark": LONG}, "closing_remark")]),
])
def test_bad_input_on_the_task_forms(app, services, users, case_id, step, attempts):
    deviation_id = record(services, users, case_id)
    who = "kari"
    if step == "handle":
        complete(services, deviation_id, "follow", {"follow_up": "Ringte", "decision": "cannot_close",
                                                    "escalation_reason": "Utenfor gruppens myndighet"}, users["kari"])
        who = "sara"
    task = task_of(services, deviation_id, step)
    c = client(app, who)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    before, status = saved(services), deviation(services, deviation_id).status
    for data, field in attempts:
        response = c.post(url, data={**data, "csrf_token": c.token})
        assert response.status_code == 400, (step, data)
        assert f'id="f-{field}-err"' in response.text, (step, field)
        assert any(message in response.text for message in (
            "Dette feltet må fylles ut.", "Velg et av alternativene.", "Teksten er for lang")), (step, field)
        for key, value in data.items():
            if key != field and value != LONG and key != "decision":
                assert value in response.text  # the input is kept
    assert saved(services) == before and deviation(services, deviation_id).status == status
    assert task_of(services, deviation_id, step).task_id == task.task_id
    assert c.post(url, data={"owner_action": "x", "closing_remark": "y", "follow_up": "x", "decision": "closed"}
                  ).status_code == 400  # no CSRF token
    assert task_of(services, deviation_id, step).task_id == task.task_id
