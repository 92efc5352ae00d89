"""A completion (GET the task page, POST the form) stays within 12 SQL statements and 1 commit
on both databases, the access-log rows of both included (issue 11). Counts, never time."""
import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, deploy_test_diagrams, login_client
from tests.statements import counting
from tests.webapp.engine.helpers import make_case
from webapp.audit.models import AccessLogEntry, AuditEvent
from webapp.engine.models import OpenTask

MAX_STATEMENTS = 12


@pytest.fixture
def batched(make_app):
    """The app as deployed: reads are logged in batches (never flushed on its own here)."""
    return make_app(ACCESS_LOG_FLUSH_SECONDS=3600)


def _first_step(services, case_id, user_id):
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    with services.db.session() as s:
        task_id = s.scalar(select(OpenTask.task_id).where(OpenTask.instance_id == started.instance_id))
    return f"/oppgaver/{started.instance_id}/{task_id}"


def _complete(client, url, value):
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, data={"x": value, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    return response


def test_a_completion_runs_at_most_12_statements_and_one_commit(batched):
    services = batched.extensions["ansvarsgruppe"]
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    client = login_client(batched, "kari")
    _complete(client, _first_step(services, case_id, user_id), "1")  # warm: the process's forms cached
    url = _first_step(services, case_id, user_id)

    with counting(services.db.engine) as counts:
        page = client.get(url)
        response = client.post(url, data={"x": "9", "csrf_token": csrf_token(page.text)})

    assert page.status_code == 200 and response.status_code == 302
    # on to the next step of the same episode, found from the step's own new open tasks
    assert response.headers["Location"].startswith(url.rsplit("/", 1)[0] + "/")
    assert len(counts) <= MAX_STATEMENTS, counts.report()
    assert counts.commits == 1, counts.report()
    with services.db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.kind == "task_completed")) == 2
        # the POST's read is written with the step; the GETs' wait in the buffer ...
        assert s.scalar(select(func.count(AccessLogEntry.id))) == 2
    assert services.access_log.pending() == 2
    assert services.access_log.flush() == 2  # ... until the batch is written
    with services.db.session() as s:
        pages = s.scalars(select(AccessLogEntry.page).where(AccessLogEntry.case_id == case_id)).all()
        assert sorted(pages) == ["task"] * 4


def test_an_invalid_form_writes_nothing_and_does_not_commit(batched):
    services = batched.extensions["ansvarsgruppe"]
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    client = login_client(batched, "kari")
    url = _first_step(services, case_id, user_id)
    page = client.get(url)
    with counting(services.db.engine) as counts:
        response = client.post(url, data={"x": "tolv", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400 and 'value="tolv"' in response.text
    assert counts.commits == 0
    with services.db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.kind == "task_completed")) == 0
        assert s.scalar(select(func.count(AccessLogEntry.id))) == 0
