"""Staff log in through the municipality's OpenID provider: a real provider (tests/oidc, built on
Authlib's server classes) over real HTTP, never a mocked token."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.oidc.provider import OIDCLoginError, oidc_provider_fixture
from webapp.auth.models import User, UserSession

provider = oidc_provider_fixture(title="Kommunens innlogging (test)")
CALLBACK = "http://localhost/logg-inn/med/staff/svar"


@pytest.fixture
def oidc_app(make_app, provider, users):
    provider.reset()
    provider.add_client("ansvarsgruppe", "hemmeleg", [CALLBACK], ["http://localhost/logg-inn"])
    provider.add_account("kari", {"sub": "kari-sub", "preferred_username": "KARI", "name": "Kari Koordinator"})
    provider.add_account("ukjent", {"sub": "x-1", "preferred_username": "ukjent", "email": "ukjent@example.org"})
    provider.add_account("sara-epost", {"sub": "s-1", "email": "sara@example.org"})
    return make_app(OIDC_PROVIDERS={"staff": {"server_metadata_url": provider.discovery_url,
                                              "client_id": "ansvarsgruppe", "client_secret": "hemmeleg"}})


def _log_in(client, provider, username: str):
    start = client.get("/logg-inn/med/staff?next=/saker/")
    assert start.status_code == 302 and start.headers["Location"].startswith(provider.issuer)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    callback = provider.log_in(start.headers["Location"], username)
    return client.get(callback.removeprefix("http://localhost"))


def _sessions(services) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count(UserSession.id)))


def test_the_login_page_offers_the_provider(oidc_app):
    page = oidc_app.test_client().get("/logg-inn")
    assert "Logg inn med Kommunens pålogging" in page.text and "/logg-inn/med/staff" in page.text


def test_a_staff_member_logs_in_by_user_name_and_out_at_the_provider_too(oidc_app, provider, services):
    client = oidc_app.test_client()
    response = _log_in(client, provider, "kari")
    assert response.status_code == 302 and response.headers["Location"] == "/saker/"
    inbox = client.get("/oppgaver")
    assert inbox.status_code == 200 and "Kari Koordinator" in inbox.text
    assert _sessions(services) == 1
    csp = inbox.headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer}" in csp
    # logging out ends our session and sends the browser to the provider's logout
    out = client.post("/logg-ut", data={"csrf_token": csrf_token(inbox.text)})
    assert out.status_code == 302 and out.headers["Location"].startswith(provider.issuer + "/logout")
    assert client.get("/oppgaver").status_code == 302 and _sessions(services) == 0
    back = requests.get(out.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"].startswith("http://localhost/logg-inn")
    assert provider.logouts and provider.logouts[-1].id_token_hint


def test_an_email_claim_matches_a_staff_account(oidc_app, provider, services):
    client = oidc_app.test_client()
    assert _log_in(client, provider, "sara-epost").status_code == 302
    assert "Sara System" in client.get("/oppgaver").text


def test_a_token_that_matches_no_one_gets_a_clear_page_and_no_account(oidc_app, provider, services):
    with services.db.session() as s:
        before = s.scalar(select(func.count(User.id)))
    client = oidc_app.test_client()
    response = _log_in(client, provider, "ukjent")
    assert response.status_code == 403 and "har ingen konto her" in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(User.id))) == before
    assert _sessions(services) == 0 and client.get("/oppgaver").status_code == 302


def test_a_cancelled_or_forged_answer_gives_a_page_not_a_session(oidc_app, provider, services):
    client = oidc_app.test_client()
    start = client.get("/logg-inn/med/staff")
    cancelled = client.get(provider.deny(start.headers["Location"]).removeprefix("http://localhost"))
    assert cancelled.status_code == 400 and "avbrutt" in cancelled.text
    start = client.get("/logg-inn/med/staff")
    callback = provider.log_in(start.headers["Location"], "kari")
    forged = callback.replace("state=", "state=x")
    assert client.get(forged.removeprefix("http://localhost")).status_code == 400
    assert _sessions(services) == 0
    # an unknown provider name is simply not there
    assert client.get("/logg-inn/med/idporten").status_code == 404
    with pytest.raises(OIDCLoginError):
        provider.log_in(client.get("/logg-inn/med/staff").headers["Location"], "finnes-ikke")
