"""NUL bytes: no database stores them (PostgreSQL refuses them in text), so every way into the app
refuses them with a clear Norwegian message: a 400 page for the path, the query string, posted
fields and JSON; an error on the field, the rest of the input kept, in task forms."""
import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from tests.conftest import csrf_token, deploy_test_diagrams, login_client
from tests.webapp.cases.helpers import establish, municipality, open_task
from tests.webapp.engine.helpers import make_case
from webapp.audit.models import AuditEvent
from webapp.db import Base
from webapp.engine.models import Incident, OpenTask

MESSAGE = "Teksten inneholder et tegn som ikke er tillatt (NUL)."
NUL = "\x00"


@pytest.fixture
def users(services):
    return municipality(services)


def row_counts(services) -> dict[str, int]:
    with services.db.session() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def urls(app, method: str) -> list[str]:
    """One URL for every route that answers ``method`` (ids 1, other parts "x")."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or method not in rule.methods:
            continue
        values = {name: 1 if isinstance(conv, IntegerConverter) else "x" for name, conv in rule._converters.items()}
        found.append(adapter.build(rule.endpoint, values, method=method))
    return found


def refused(response) -> bool:
    return response.status_code == 400 and MESSAGE in response.text


def test_every_posted_form_refuses_a_nul_byte_and_saves_nothing(app, services, users):
    establish(services, users, until="appointed")
    client = login_client(app, "kari")
    posts = urls(app, "POST")
    assert len(posts) >= 15 and "/logg-inn" in posts and "/logg-ut" in posts
    before = row_counts(services)
    for url in posts:
        if url.startswith("/oppgaver/"):
            continue  # task forms: an error on the field (below)
        for field in ("username", "title", "text", "name", "comment"):
            response = client.post(url, data={"csrf_token": client.token, field: f"a{NUL}b", "x": "1"})
            assert refused(response), (url, field, response.status_code)
        response = client.post(url, data={"csrf_token": client.token, f"felt{NUL}": "a"})
        assert refused(response), (url, "field name")
    assert row_counts(services) == before
    assert client.get("/oppgaver").status_code == 200  # still logged in: logout was refused too


def test_anonymous_login_with_a_nul_byte(app, services, users):
    client = app.test_client()
    before = row_counts(services)
    for data in ({"username": f"kari{NUL}", "password": "x"}, {"username": "kari", "password": f"p{NUL}"}):
        token = csrf_token(client.get("/logg-inn").text)
        assert refused(client.post("/logg-inn", data={**data, "csrf_token": token}))
    assert row_counts(services) == before  # not even a login attempt


def test_every_page_refuses_a_nul_byte_in_the_query_string_and_the_path(app, services, users):
    client = login_client(app, "kari")
    before = row_counts(services)
    pages = urls(app, "GET")
    assert len(pages) >= 20
    for url in pages:
        separator = "&" if "?" in url else "?"
        assert refused(client.get(f"{url}{separator}q=a%00b")), url
        assert refused(client.get(f"{url}{separator}a%00=b")), url
    for url in ("/oppgaver/1/%00", "/oppgaver/1/abc%00def", "/saker/%00", "/%00", "/logg-inn%00"):
        assert refused(client.get(url)), url
    assert refused(app.test_client().get("/logg-inn?next=/oppgaver%00"))
    assert row_counts(services) == before  # no access-log row either


def test_json_with_a_nul_byte_is_refused(app, services, users):
    client = login_client(app, "kari")
    before = row_counts(services)
    response = client.post("/sprak", json={"lang": "en", "deep": [{"x": f"a{NUL}"}]},
                           headers={"X-CSRFToken": client.token})
    assert refused(response)
    assert row_counts(services) == before


def test_a_task_form_marks_the_field_and_keeps_the_rest(app, services):
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    with services.db.session() as s:
        task = s.scalar(select(OpenTask).where(OpenTask.instance_id == started.instance_id))
    client = login_client(app, "kari")
    url = f"/oppgaver/{started.instance_id}/{task.task_id}"
    response = client.post(url, data={"x": "tolv", "note": f"min{NUL} merknad", "csrf_token": client.token})
    assert response.status_code == 400
    assert MESSAGE in response.text and "Skriv et helt tall." in response.text  # every error at once
    assert 'value="tolv"' in response.text and "min merknad" in response.text  # input kept, NUL removed
    assert NUL not in response.text
    response = client.post(url, data={"x": "9", "note": f"min{NUL} merknad", "csrf_token": client.token})
    assert response.status_code == 400 and MESSAGE in response.text and 'value="9"' in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "task_completed")) == 0
    assert refused(client.get(f"{url}?q=%00"))  # the query string is still the guard's
    response = client.post(url, data={"x": "9", "note": "min merknad", "csrf_token": client.token})
    assert response.status_code == 302  # and the corrected form goes through


def test_a_nul_byte_in_a_library_task_opens_no_incident(app, services, users):
    case_id = establish(services, users, until="appointed")
    task = open_task(services, case_id, "consent")
    client = login_client(app, "kari")
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    page = client.get(url)
    assert page.status_code == 200
    before = row_counts(services)
    response = client.post(url, data={"consent_decision": "gitt", "signed_by": f"Anne{NUL} Berg",
                                      "signed_how": "paper", "csrf_token": client.token})
    assert response.status_code == 400 and MESSAGE in response.text and "Anne Berg" in response.text
    assert row_counts(services) == before
    with services.db.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 0
