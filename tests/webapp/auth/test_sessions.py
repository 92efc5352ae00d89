"""Server-side sessions: a cookie opens pages only while its session row lives."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, municipality
from webapp.auth.models import LoginAttempt, User, UserSession
from webapp.auth.operations import create_user, end_user_sessions
from webapp.worker import run_once


@pytest.fixture
def users(services):
    return municipality(services)


def stolen(app, victim):
    """A second browser holding a copy of ``victim``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", victim.get_cookie("session").value)
    return thief


def sessions(services) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count(UserSession.id)))


def test_a_stolen_cookie_is_refused_after_logout(app, services, users):
    kari = login_client(app, "kari")
    thief = stolen(app, kari)
    assert thief.get("/oppgaver").status_code == 200  # before logout the copy works (it is the same login)
    assert sessions(services) == 1
    assert kari.post("/logg-ut", data={"csrf_token": kari.token}).status_code == 302
    assert sessions(services) == 0
    response = thief.get("/oppgaver")
    assert response.status_code == 302 and response.headers["Location"].startswith("/logg-inn")
    assert thief.get("/saker/1").status_code == 302


def test_logout_ends_only_its_own_session(app, services, users):
    phone, laptop = login_client(app, "kari"), login_client(app, "kari")
    assert sessions(services) == 2
    phone.post("/logg-ut", data={"csrf_token": phone.token})
    assert phone.get("/oppgaver").status_code == 302
    assert laptop.get("/oppgaver").status_code == 200


def test_a_new_login_replaces_the_old_session_of_that_browser(app, services, users):
    client = login_client(app, "kari")
    old = stolen(app, client)
    page = client.get("/logg-inn")
    assert client.post("/logg-inn", data={"username": "siri", "password": PASSWORD,
                                          "csrf_token": csrf_token(page.text)}).status_code == 302
    assert sessions(services) == 1
    assert old.get("/oppgaver").status_code == 302
    assert "Siri Skole" in client.get("/oppgaver").text


def test_ending_a_users_sessions_logs_out_every_browser_of_that_user(app, services, users):
    """What deactivation and a new password do (webapp.admin.operations)."""
    kari, siri = login_client(app, "kari"), login_client(app, "siri")
    thief = stolen(app, kari)
    with services.db.transaction() as s:
        end_user_sessions(s, users["kari"])
    assert kari.get("/oppgaver").status_code == 302
    assert thief.get("/oppgaver").status_code == 302
    assert siri.get("/oppgaver").status_code == 200  # others keep theirs
    assert sessions(services) == 1


def test_a_deactivated_user_is_refused_even_with_a_live_session(app, services, users):
    kari = login_client(app, "kari")
    with services.db.transaction() as s:
        s.execute(update(User).where(User.id == users["kari"]).values(active=False))
    assert kari.get("/oppgaver").status_code == 302


def test_a_session_expires_after_the_session_lifetime(make_app, services, users):
    app = make_app(PERMANENT_SESSION_LIFETIME=3600)
    client = login_client(app, "kari")
    services_ = app.extensions["ansvarsgruppe"]
    services_.clock.advance(timedelta(minutes=59))
    assert client.get("/oppgaver").status_code == 200
    services_.clock.advance(timedelta(minutes=2))
    assert client.get("/oppgaver").status_code == 302


def test_a_cookie_from_before_server_side_sessions_opens_nothing(app, users):
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"] = users["kari"]  # the signed cookie of the old scheme
    assert client.get("/oppgaver").status_code == 302
    with client.session_transaction() as cookie:
        cookie["sid"] = "gjettet"
    assert client.get("/oppgaver").status_code == 302


def test_the_worker_prunes_old_login_attempts_and_expired_sessions(app, services, users):
    client = app.test_client()
    page = client.get("/logg-inn")
    client.post("/logg-inn", data={"username": "kari", "password": "feil", "csrf_token": csrf_token(page.text)})
    login_client(app, "kari")

    def counts():
        with services.db.session() as s:
            return s.scalar(select(func.count(LoginAttempt.id))), s.scalar(select(func.count(UserSession.id)))

    run_once(app)
    assert counts() == (2, 1)  # nothing old yet
    services.clock.advance(timedelta(days=1))
    recent = login_client(app, "siri")  # a new login, a day later
    run_once(app)
    assert counts() == (3, 1)  # kari's session expired after 8 hours; siri's lives
    assert recent.get("/oppgaver").status_code == 200
    services.clock.advance(timedelta(days=29, hours=1))
    run_once(app)
    assert counts() == (1, 0)  # kari's attempts are over 30 days old; siri's is not


@pytest.mark.parametrize("action", ["passord", "deaktiver"])
def test_a_stolen_cookie_is_refused_after_a_password_reset_or_deactivation(app, services, users, action):
    with services.db.transaction() as s:
        create_user(s, "anne", "Anne Admin", PASSWORD, roles=("staff", "admin"), at=services.clock.now())
    admin, kari = login_client(app, "anne"), login_client(app, "kari")
    thief = stolen(app, kari)
    response = admin.post(f"/admin/brukere/{users['kari']}/{action}", data={"csrf_token": admin.token})
    assert response.status_code in (200, 302), response.text
    assert kari.get("/oppgaver").status_code == 302
    assert thief.get("/oppgaver").status_code == 302
    assert admin.get("/oppgaver").status_code == 200
    if action == "deaktiver":  # reactivation lets kari log in again, but revives no old cookie
        assert admin.post(f"/admin/brukere/{users['kari']}/aktiver", data={"csrf_token": admin.token}).status_code == 302
        assert thief.get("/oppgaver").status_code == 302
        assert login_client(app, "kari").get("/oppgaver").status_code == 200


def test_the_cookie_is_written_when_the_session_changes_not_on_every_page(app, users):
    """The login's session ends a fixed time after login, so re-signing the cookie on every
    response would only cost time (``SESSION_REFRESH_EACH_REQUEST`` is off)."""
    kari = login_client(app, "kari")
    kari.get("/oppgaver")  # the CSRF token, if this page is the first to need one, is stored now
    assert "Set-Cookie" not in kari.get("/oppgaver").headers
    changed = kari.post("/sprak", data={"lang": "nn", "csrf_token": kari.token, "next": "/oppgaver"})
    assert "Set-Cookie" in changed.headers  # the language is kept in the session
    assert kari.get("/oppgaver").status_code == 200


def test_the_cookie_signer_is_built_once_per_key_and_a_new_key_ends_old_cookies(app, users):
    """The signing serializer is kept between requests (building it cost an eighth of a short
    request); a changed secret key gets its own, so cookies signed with the old key open nothing."""
    kari = login_client(app, "kari")
    assert kari.get("/oppgaver").status_code == 200
    kept = app.session_interface.get_signing_serializer(app)
    assert kari.get("/oppgaver").status_code == 200
    assert app.session_interface.get_signing_serializer(app) is kept
    app.secret_key = "another-secret"
    assert app.session_interface.get_signing_serializer(app) is not kept
    response = kari.get("/oppgaver")
    assert response.status_code == 302 and response.headers["Location"].startswith("/logg-inn")
