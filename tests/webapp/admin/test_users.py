"""Administration of user accounts: edit, reset the password, deactivate with hand-over, reactivate."""
import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, establish, municipality
from webapp.audit.models import AuditEvent
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import current_coordinator
from webapp.engine.models import OpenTask
from webapp.outbox.models import OutboxMessage


@pytest.fixture
def users(services):
    ids = municipality(services)
    with services.db.transaction() as s:
        ids["admin"] = create_user(s, "admin", "Anne Admin", PASSWORD, roles=("admin",), at=services.clock.now()).id
    return ids


@pytest.fixture
def admin(app, users):
    return login_client(app, "admin", PASSWORD)


def events(services, kind):
    with services.db.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)).all()


def kari_tasks(services, case_id, user_id):
    with services.db.session() as s:
        return s.scalars(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.assignee_id == user_id)).all()


def case_reference(services, case_id):
    with services.db.session() as s:
        return s.get(Case, case_id).reference


def test_edit_user_keeps_input_and_audits(admin, services, users):
    url = f"/admin/brukere/{users['ola']}"
    page = admin.get(url)
    assert page.status_code == 200 and 'value="Ola Helse"' in page.text
    token = csrf_token(page.text)
    bad = admin.post(url, data={"csrf_token": token, "full_name": "Ola Nordmann Helse", "email": "ikke-epost",
                                "roles": ["staff", "coordinating_unit"]})
    assert bad.status_code == 400 and 'value="Ola Nordmann Helse"' in bad.text and 'aria-invalid="true"' in bad.text
    none = admin.post(url, data={"csrf_token": token, "full_name": "Ola Nordmann Helse"})  # no role
    assert none.status_code == 400
    with services.db.session() as s:
        assert s.get(User, users["ola"]).full_name == "Ola Helse"  # nothing saved
    ok = admin.post(url, data={"csrf_token": token, "full_name": "Ola Nordmann Helse", "email": "ola@example.org",
                               "roles": ["staff", "coordinating_unit"]})
    assert ok.status_code == 302
    with services.db.session() as s:
        ola = s.get(User, users["ola"])
        assert ola.full_name == "Ola Nordmann Helse" and ola.role_set == {"staff", "coordinating_unit"}
    [event] = events(services, "user_changed")
    assert set(event.detail["fields"]) == {"full_name", "roles"} and event.actor_id == users["admin"]
    # an administrator cannot take the admin role from themselves
    own = admin.post(f"/admin/brukere/{users['admin']}", data={"csrf_token": token, "full_name": "Anne Admin",
                                                               "roles": ["staff"]})
    assert own.status_code == 400 and "administrator" in own.text
    assert admin.get("/admin/brukere/999999").status_code == 404
    assert admin.post(url, data={"full_name": "X Y", "roles": "staff"}).status_code == 400  # no CSRF token


def test_reset_password_set_and_generated(app, admin, services, users):
    url = f"/admin/brukere/{users['siri']}/passord"
    token = csrf_token(admin.get(f"/admin/brukere/{users['siri']}").text)
    short = admin.post(url, data={"csrf_token": token, "mode": "set", "password": "kort"})
    assert short.status_code == 400 and "10 til 200 tegn" in short.text and 'value="kort"' not in short.text
    siri = login_client(app, "siri", PASSWORD)  # unchanged
    assert siri.get("/oppgaver").status_code == 200
    assert admin.post(url, data={"csrf_token": token, "mode": "set", "password": "midlertidig-123"}).status_code == 302
    assert siri.get("/oppgaver").status_code == 302  # her sessions ended with the reset
    login_client(app, "siri", "midlertidig-123")
    generated = admin.post(url, data={"csrf_token": token, "mode": "generate"})
    assert generated.status_code == 200
    password = re.search(r'<code id="generated-password">([^<]+)</code>', generated.text).group(1)
    login_client(app, "siri", password)
    assert password not in admin.get(f"/admin/brukere/{users['siri']}").text  # shown once
    assert [e.detail["username"] for e in events(services, "user_password_reset")] == ["siri", "siri"]
    assert all(password not in str(e.detail) for e in events(services, "user_password_reset"))


def test_deactivate_coordinator_hands_over_to_successor(app, admin, services, users):
    case_id = establish(services, users)
    before = kari_tasks(services, case_id, users["kari"])
    assert before, "the coordinator has open steps"
    token = csrf_token(admin.get(f"/admin/brukere/{users['kari']}").text)
    bad = admin.post(f"/admin/brukere/{users['kari']}/deaktiver", data={"csrf_token": token, "successor_id": "abc"})
    assert bad.status_code == 400 and "Velg en bruker fra listen" in bad.text
    response = admin.post(f"/admin/brukere/{users['kari']}/deaktiver",
                          data={"csrf_token": token, "successor_id": str(users["ola"])})
    assert response.status_code == 302
    with services.db.session() as s:
        assert s.get(User, users["kari"]).active is False
        assert current_coordinator(s, case_id).user_id == users["ola"]
        assert not s.scalars(select(CaseMember).where(CaseMember.user_id == users["kari"],
                                                      CaseMember.active.is_(True))).all()
    assert not kari_tasks(services, case_id, users["kari"])
    moved = {t.task_id for t in kari_tasks(services, case_id, users["ola"])}
    assert {t.task_id for t in before} <= moved
    [event] = events(services, "user_deactivated")
    assert event.detail["successor_id"] == users["ola"] and event.detail["steps_moved"] == len(before)
    assert not events(services, "coordinator_needed")
    # the deactivated user cannot log in; the successor finds the steps in the inbox
    client = app.test_client()
    page = client.get("/logg-inn")
    assert client.post("/logg-inn", data={"username": "kari", "password": PASSWORD,
                                          "csrf_token": csrf_token(page.text)}).status_code != 302
    ola = login_client(app, "ola", PASSWORD)
    assert before[0].task_id in ola.get("/oppgaver").text
    # reactivation lets her log in again, without the roles
    again = admin.post(f"/admin/brukere/{users['kari']}/aktiver", data={"csrf_token": token})
    assert again.status_code == 302
    login_client(app, "kari", PASSWORD)
    assert events(services, "user_reactivated")
    assert admin.post(f"/admin/brukere/{users['kari']}/aktiver", data={"csrf_token": token}).status_code == 400


def test_deactivate_without_successor_orphans_steps_and_tells_the_coordinating_unit(app, admin, services, users):
    case_id = establish(services, users)
    before = kari_tasks(services, case_id, users["kari"])
    token = csrf_token(admin.get(f"/admin/brukere/{users['kari']}").text)
    response = admin.post(f"/admin/brukere/{users['kari']}/deaktiver",
                          data={"csrf_token": token, "successor_id": ""}, follow_redirects=True)
    assert response.status_code == 200 and "trenger ny koordinator" in response.text
    with services.db.session() as s:
        assert current_coordinator(s, case_id) is None
        rows = s.scalars(select(OpenTask).where(OpenTask.task_id.in_([t.task_id for t in before]))).all()
        assert rows and all(r.orphaned and r.assignee_id is None for r in rows if r.lane == "koordinator")
        [mail] = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "ke@example.org",
                                                       OutboxMessage.subject.like("%ny koordinator"))).all()
        assert mail.case_id == case_id and "Emma" not in mail.body  # register data only
    assert [e.case_id for e in events(services, "coordinator_needed")] == [case_id]
    # the coordinating unit sees the orphaned steps on the supervision page
    ke = login_client(app, "ke", PASSWORD)
    page = ke.get("/tilsyn/")
    assert page.status_code == 200 and case_reference(services, case_id) in page.text
    assert "Steg uten noen som kan gjøre det" in page.text
    # an administrator cannot deactivate themselves or the last administrator
    own = admin.post(f"/admin/brukere/{users['admin']}/deaktiver", data={"csrf_token": token})
    assert own.status_code == 400 and "deg selv" in own.text
