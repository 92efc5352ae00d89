from datetime import timedelta

import pytest
from argon2 import extract_parameters

from tests.conftest import CHEAP_PASSWORD_HASHING, csrf_token
from tests.webapp.cases.helpers import PASSWORD, municipality
from webapp.auth.models import User
from webapp.auth.passwords import check_password


@pytest.fixture
def users(services):
    return municipality(services)


def attempt(client, username, password):
    page = client.get("/logg-inn")
    return client.post("/logg-inn", data={"username": username, "password": password,
                                          "csrf_token": csrf_token(page.text)})


def client_at(app, ip: str):
    """A browser at address ``ip`` (no proxy in front)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_login_and_logout(app, users):
    client = app.test_client()
    assert attempt(client, "kari", "feil").status_code == 401
    response = attempt(client, "kari", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/oppgaver"
    inbox = client.get("/oppgaver")
    assert inbox.status_code == 200 and "Kari Koordinator" in inbox.text
    assert client.post("/logg-ut", data={"csrf_token": csrf_token(inbox.text)}).status_code == 302
    assert client.get("/oppgaver").status_code == 302


def test_login_is_rate_limited_per_username(app, services, users):
    client = app.test_client()
    for _ in range(5):
        assert attempt(client, "kari", "feil").status_code == 401
    blocked = attempt(client, "kari", PASSWORD)  # even the right password is refused now
    assert blocked.status_code == 429 and "For mange mislykkede forsøk" in blocked.text
    assert attempt(client, "siri", PASSWORD).status_code == 302  # other users are not affected
    services.clock.advance(timedelta(minutes=16))
    assert attempt(app.test_client(), "kari", PASSWORD).status_code == 302


def test_an_attacker_elsewhere_does_not_lock_the_user_out(app, users):
    attacker = client_at(app, "203.0.113.9")
    for _ in range(5):
        assert attempt(attacker, "kari", "feil").status_code == 401
    assert attempt(attacker, "kari", PASSWORD).status_code == 429  # this address is done with kari
    assert attempt(client_at(app, "198.51.100.7"), "kari", PASSWORD).status_code == 302  # kari is not


def test_a_success_resets_the_count_of_that_address(app, users):
    client = app.test_client()
    for _ in range(4):
        assert attempt(client, "kari", "feil").status_code == 401
    assert attempt(client, "kari", PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt(app.test_client(), "kari", "feil").status_code == 401  # 4 since the success
    assert attempt(app.test_client(), "kari", PASSWORD).status_code == 302


def test_distributed_guessing_gets_one_guess_per_address(app, users):
    for ip in ("203.0.113.1", "203.0.113.2"):  # 10 failures on kari from two addresses
        for _ in range(5):
            assert attempt(client_at(app, ip), "kari", "feil").status_code == 401
    third = client_at(app, "203.0.113.3")
    assert attempt(third, "kari", "feil").status_code == 401  # a fresh address: one guess
    assert attempt(third, "kari", "feil").status_code == 429  # and no second one
    assert attempt(third, "kari", PASSWORD).status_code == 429
    fourth = client_at(app, "203.0.113.4")
    assert attempt(fourth, "kari", PASSWORD).status_code == 302  # kari herself still gets in


def test_spraying_from_one_address_never_blocks_another_users_right_password(app, users):
    shared = "192.0.2.50"  # e.g. everyone behind one proxy without TRUSTED_PROXIES
    for i in range(20):
        assert attempt(client_at(app, shared), f"ukjent{i}", "feil").status_code == 401
    assert attempt(client_at(app, shared), "ukjent0", "feil").status_code == 429  # one guess per name
    assert attempt(client_at(app, shared), "ukjent0", PASSWORD).status_code == 429
    assert attempt(client_at(app, shared), "kari", PASSWORD).status_code == 302  # colleagues get in
    assert attempt(client_at(app, shared), "siri", "feil").status_code == 401  # one guess on siri
    assert attempt(client_at(app, shared), "siri", PASSWORD).status_code == 429


def test_csrf_is_required_on_every_post(app, users):
    client = app.test_client()
    assert client.post("/logg-inn", data={"username": "kari", "password": PASSWORD}).status_code == 400
    attempt(client, "kari", PASSWORD)
    for path in ("/logg-ut", "/sprak", "/saker/ny", "/saker/1/samtykke/trekk-tilbake",
                 "/oppgaver/1/x", "/tilsyn/handlinger/hendelser/1/prov-igjen"):
        response = client.post(path, data={"lang": "en"})
        assert response.status_code == 400, path
        assert "Skjemaet er utløpt" in response.text


def test_open_redirects_are_refused(app, users):
    client = app.test_client()
    page = client.get("/logg-inn?next=https://evil.example/")
    response = client.post("/logg-inn?next=https://evil.example/", data={
        "username": "kari", "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    assert response.headers["Location"] == "/oppgaver"


def test_session_cookie_is_secure_by_default(make_app, users):
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = client.get("/logg-inn")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_password_hashed_with_another_cost_is_rehashed_at_login(make_app, services, users):
    def stored() -> str:
        with services.db.session() as s:
            return s.get(User, users["kari"]).password_hash

    old = stored()
    app = make_app(PASSWORD_HASH_TIME_COST=2, PASSWORD_HASH_MEMORY_COST=16)  # the cost is raised
    assert attempt(app.test_client(), "kari", "feil").status_code == 401
    assert stored() == old  # a failed login changes nothing
    assert attempt(app.test_client(), "kari", PASSWORD).status_code == 302  # the old hash still verifies
    new = stored()
    assert (extract_parameters(old).time_cost, extract_parameters(old).memory_cost) == (
        CHEAP_PASSWORD_HASHING["PASSWORD_HASH_TIME_COST"], CHEAP_PASSWORD_HASHING["PASSWORD_HASH_MEMORY_COST"])
    assert (extract_parameters(new).time_cost, extract_parameters(new).memory_cost) == (2, 16)
    assert check_password(new, PASSWORD)
    assert attempt(app.test_client(), "kari", PASSWORD).status_code == 302
    assert stored() == new  # the same cost again: left alone
