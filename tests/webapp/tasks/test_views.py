import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, deploy_test_diagrams
from tests.webapp.engine.helpers import make_case
from webapp.audit.models import AuditEvent
from webapp.engine.models import OpenTask


@pytest.fixture
def setup(app, services):
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    with services.db.session() as s:
        task = s.scalar(select(OpenTask).where(OpenTask.instance_id == started.instance_id))
    return case_id, started.instance_id, task.task_id


def login(client, username="kari", password="passord123"):
    page = client.get("/logg-inn")
    return client.post("/logg-inn", data={"username": username, "password": password,
                                          "csrf_token": csrf_token(page.text)})


def test_inbox_and_task_page(app, setup):
    case_id, instance_id, task_id = setup
    client = app.test_client()
    assert client.get("/oppgaver").status_code == 302  # login first
    assert login(client).status_code == 302
    inbox = client.get("/oppgaver")
    assert "Første steg" in inbox.text and "Testsak" in inbox.text
    page = client.get(f"/oppgaver/{instance_id}/{task_id}")
    assert page.status_code == 200
    assert 'for="f-x"' in page.text and "Et helt tall mellom 0 og 1000" in page.text


def test_invalid_input_is_kept_and_nothing_saved(app, services, setup):
    case_id, instance_id, task_id = setup
    client = app.test_client()
    login(client)
    page = client.get(f"/oppgaver/{instance_id}/{task_id}")
    response = client.post(f"/oppgaver/{instance_id}/{task_id}",
                           data={"x": "tolv", "note": "min merknad", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert "Skriv et helt tall." in response.text
    assert 'value="tolv"' in response.text and "min merknad" in response.text
    assert 'aria-invalid="true"' in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "task_completed")) == 0


def test_valid_input_completes_and_opens_next_step(app, setup):
    case_id, instance_id, task_id = setup
    client = app.test_client()
    login(client)
    page = client.get(f"/oppgaver/{instance_id}/{task_id}")
    response = client.post(f"/oppgaver/{instance_id}/{task_id}",
                           data={"x": "9", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    following = client.get(response.headers["Location"])
    assert "Andre steg" in following.text  # the next step of the same case opened directly


def test_second_submission_gets_409(app, setup):
    case_id, instance_id, task_id = setup
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    token1 = csrf_token(first.get(f"/oppgaver/{instance_id}/{task_id}").text)
    token2 = csrf_token(second.get(f"/oppgaver/{instance_id}/{task_id}").text)
    results = []
    barrier = threading.Barrier(2)

    def post(client, token, x):
        barrier.wait()
        results.append(client.post(f"/oppgaver/{instance_id}/{task_id}", data={"x": x, "csrf_token": token}))

    threads = [threading.Thread(target=post, args=a) for a in ((first, token1, "3"), (second, token2, "4"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = sorted(r.status_code for r in results)
    assert codes == [302, 409]
    conflict = [r for r in results if r.status_code == 409][0]
    assert "Steget er allerede utført" in conflict.text and "Kari Testesen" in conflict.text


def test_post_without_csrf_is_refused(app, services, setup):
    case_id, instance_id, task_id = setup
    client = app.test_client()
    login(client)
    response = client.post(f"/oppgaver/{instance_id}/{task_id}", data={"x": "3"})
    assert response.status_code == 400 and "Skjemaet er utløpt" in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "task_completed")) == 0


def test_bad_urls_are_404_not_500(app, setup):
    case_id, instance_id, task_id = setup
    client = app.test_client()
    login(client)
    assert client.get(f"/oppgaver/{instance_id}/not-a-uuid").status_code == 404
    assert client.get("/oppgaver/999999/abc").status_code == 404
    assert client.get("/saker/999999").status_code == 404
