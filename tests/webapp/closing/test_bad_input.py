"""Bad input on the closing forms (the case-page requests and the two closing steps): 400, a
Norwegian message next to the field, the input kept, nothing saved."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, open_task
from tests.webapp.closing.helpers import confirm, request_closing
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case, CaseClosure

LONG = "x" * 5000


def _audit_count(services) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count(AuditEvent.id)))


def test_bad_closing_request(app, services, users, case_id):
    kari = login_client(app, "kari", PASSWORD)
    before = _audit_count(services)
    for overrides, field in [({"initiated_by": ""}, "initiated_by"), ({"initiated_by": "naboen"}, "initiated_by"),
                             ({"requested_by_name": ""}, "requested_by_name"),
                             ({"request_reason": "   "}, "request_reason"), ({"request_reason": LONG}, "request_reason")]:
        response = request_closing(kari, case_id, **overrides)
        assert response.status_code == 400, overrides
        assert f'id="cl-{field}-err"' in response.text
        if field != "requested_by_name":
            assert 'value="Anne Berg"' in response.text  # kept
    assert _audit_count(services) == before
    with services.db.session() as s:
        assert s.scalar(select(func.count(CaseClosure.id))) == 0
    assert kari.post(f"/saker/{case_id}/avslutt", data={"initiated_by": "guardian"}).status_code == 400  # no CSRF


def test_only_the_coordinator_requests_closing(app, services, users, case_id):
    for username in ("siri", "ke", "ulf"):
        client = login_client(app, username, PASSWORD)
        response = client.post(f"/saker/{case_id}/avslutt", data={
            "initiated_by": "person", "requested_by_name": "X", "request_reason": "Y", "csrf_token": client.token})
        assert response.status_code == 404, username
    with services.db.session() as s:
        assert s.scalar(select(func.count(CaseClosure.id))) == 0


def test_bad_reestablishment_request(app, services, users, case_id):
    kari = login_client(app, "kari", PASSWORD)
    request_closing(kari, case_id)
    confirm(services, users, case_id, services.clock.today().isoformat())
    ke = login_client(app, "ke", PASSWORD)
    token = csrf_token(ke.get(f"/saker/{case_id}").text)
    before = _audit_count(services)
    good = {"requested_by_kind": "person", "requested_by_name": "Emma Berg", "wish": "Nytt behov"}
    for overrides, field in [({"requested_by_kind": "naboen"}, "requested_by_kind"), ({"requested_by_name": ""}, "requested_by_name"),
                             ({"wish": ""}, "wish"), ({"wish": LONG}, "wish")]:
        response = ke.post(f"/saker/{case_id}/gjenopprett", data={**good, **overrides, "csrf_token": token})
        assert response.status_code == 400, overrides
        assert f'id="re-{field}-err"' in response.text
        if field != "requested_by_name":
            assert 'value="Emma Berg"' in response.text
    assert _audit_count(services) == before
    with services.db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 1


STEPS = {
    "confirm_closing": [
        ({}, "confirmed"),
        ({"confirmed": "kanskje", "reason": "x"}, "confirmed"),
        ({"confirmed": "ja", "reason": "Ferdig", "closing_meeting": "nei", "confirmed_on": "2026-01-05"}, "confirmed_with"),
        ({"confirmed": "ja", "reason": "Ferdig", "confirmed_with": "Anne", "closing_meeting": "nei",
          "confirmed_on": "2999-01-01"}, "confirmed_on"),
        ({"confirmed": "ja", "reason": "Ferdig", "confirmed_with": "Anne", "confirmed_on": "31.12.2025",
          "closing_meeting": "nei"}, "confirmed_on"),
        ({"confirmed": "nei", "reason": ""}, "reason"),
    ],
    "final_minutes": [
        ({}, "summary"),
        ({"meeting_date": "2999-01-01", "present": "Alle", "summary": "Slutt"}, "meeting_date"),
        ({"meeting_date": "2026-01-05", "present": "Alle", "summary": LONG * 2}, "summary"),
    ],
}


@pytest.mark.parametrize("step", list(STEPS))
def test_bad_input_on_the_closing_steps(app, services, users, case_id, step):
    kari = login_client(app, "kari", PASSWORD)
    request_closing(kari, case_id)
    if step == "final_minutes":
        confirm(services, users, case_id, services.clock.today().isoformat(), closing_meeting="ja")
    task = open_task(services, case_id, step)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    token = csrf_token(kari.get(url).text)
    before = _audit_count(services)
    for data, field in STEPS[step]:
        response = kari.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 400, (data, response.status_code)
        assert f'id="f-{field}-err"' in response.text, field
        for key, value in data.items():
            if value and value != LONG * 2 and not (key == field and key in ("confirmed",)):
                assert value in response.text, key
    assert _audit_count(services) == before
    assert open_task(services, case_id, step).task_id == task.task_id
