"""The person and guardians log in through ID-porten: a real provider (tests/oidc, built on
Authlib's server classes) over real HTTP, never a mocked token. The ID token's ``pid`` is matched
against the keyed digests of the numbers registered for the person and the guardians, and its
``acr`` must be at least the configured minimum."""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import url_for
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.oidc.provider import ACR_HIGH, ACR_SUBSTANTIAL, oidc_provider_fixture
from webapp.auth.models import User, UserSession
from webapp.cases import identity
from webapp.cases.models import CaseMember
from webapp.cases.registration import register
from webapp.config import oidc_from_environment

idporten = oidc_provider_fixture(title="ID-porten (test)")
#: a provider that also offers the lowest level (ID-porten's MinID on "low" in the past)
idporten_with_low = oidc_provider_fixture(
    title="ID-porten med lavt nivå (test)",
    acr_values_supported=("idporten-loa-low", ACR_SUBSTANTIAL, ACR_HIGH))

CALLBACK = "http://localhost/logg-inn/med/idporten/svar"
GUARDIAN_PID = "12048512345"
PERSON_PID = "03030812345"
STRANGER_PID = "24117054321"


def _configure(provider, make_app, **settings):
    provider.reset()
    provider.add_client("ansvarsgruppe", "hemmeleg", [CALLBACK], ["http://localhost/logg-inn"])
    provider.add_account("anne", {"sub": "anne-sub", "pid": GUARDIAN_PID, "name": "Anne Berg"})
    provider.add_account("emma", {"sub": "emma-sub", "pid": PERSON_PID, "name": "Emma Berg"})
    provider.add_account("ukjent", {"sub": "ukjent-sub", "pid": STRANGER_PID, "name": "Ukjent Person"})
    provider.add_account("uten-pid", {"sub": "uten-pid-sub", "name": "Uten Fødselsnummer"})
    return make_app(OIDC_PROVIDERS={"idporten": {"server_metadata_url": provider.discovery_url,
                                                 "client_id": "ansvarsgruppe", "client_secret": "hemmeleg",
                                                 **settings}})


@pytest.fixture
def idporten_app(make_app, idporten):
    return _configure(idporten, make_app)


@pytest.fixture
def case_id(idporten_app, users):
    """A registered wish for a 17-year-old, with the person's and a guardian's national id."""
    services = idporten_app.extensions["ansvarsgruppe"]
    born = date(services.clock.today().year - 17, 1, 15).isoformat()
    return register(services, {
        "full_name": "Emma Berg", "birth_date": born, "national_id": PERSON_PID,
        "requested_by_kind": "guardian", "requested_by_name": "Anne Berg", "wish": "Bedre samarbeid",
        "guardians": [{"name": "Anne Berg", "kind": "guardian", "national_id": GUARDIAN_PID,
                       "email": "anne@example.org"}]}, actor_id=users["ola"])[0]


def _home(app) -> str:
    with app.test_request_context():
        return url_for("portal.home")


def _own_page(client, app, location: str):
    """Follow the login's redirect to the citizen's own pages (the portal may go on to the one
    group's page): a page there, not the login."""
    page = client.get(location, follow_redirects=True)
    assert page.status_code == 200 and page.request.path.startswith(_home(app)), page.request.path
    return page


def _log_in(client, provider, username: str, acr: str = ACR_SUBSTANTIAL, *, http=None):
    start = client.get("/logg-inn/med/idporten")
    assert start.status_code == 302 and start.headers["Location"].startswith(provider.issuer)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    callback = provider.log_in(start.headers["Location"], username, acr=acr, http=http)
    return client.get(callback.removeprefix("http://localhost"))


def _count(services, model) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count(model.id)))


def _member(services, case_id: int, role: str) -> CaseMember:
    with services.db.session() as s:
        return s.scalar(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.role == role))


def _citizen(services, pid: str) -> User | None:
    with services.db.session() as s:
        return s.scalar(select(User).where(User.national_id_digest == identity.digest(pid)))


def test_the_login_page_offers_id_porten_and_asks_for_substantial(idporten_app):
    client = idporten_app.test_client()
    page = client.get("/logg-inn")
    assert "Logg inn med ID-porten" in page.text and "/logg-inn/med/idporten" in page.text
    start = client.get("/logg-inn/med/idporten")
    assert parse_qs(urlsplit(start.headers["Location"]).query)["acr_values"] == [ACR_SUBSTANTIAL]


def test_a_guardian_logs_in_and_lands_on_their_own_pages(idporten_app, idporten, services, case_id):
    client = idporten_app.test_client()
    response = _log_in(client, idporten, "anne")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == _home(idporten_app)
    _own_page(client, idporten_app, response.headers["Location"])
    user = _citizen(services, GUARDIAN_PID)
    assert user is not None and user.is_citizen and user.active and not user.has_role("staff")
    assert _member(services, case_id, "foresatt").user_id == user.id
    assert _member(services, case_id, "bruker").user_id is None  # the person is someone else
    with client.session_transaction() as cookie:
        assert cookie["acr"] == ACR_SUBSTANTIAL and cookie["oidc"]["provider"] == "idporten"
        assert cookie["oidc"]["id_token"]
    assert _count(services, UserSession) == 1
    # a second login finds the same account, nothing new is made
    users_before = _count(services, User)
    again = idporten_app.test_client()
    assert _log_in(again, idporten, "anne", ACR_HIGH).status_code == 302
    assert _count(services, User) == users_before
    with again.session_transaction() as cookie:
        assert cookie["acr"] == ACR_HIGH


def test_the_person_logs_in_and_is_linked_to_their_own_row(idporten_app, idporten, services, case_id):
    client = idporten_app.test_client()
    response = _log_in(client, idporten, "emma")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == _home(idporten_app)
    _own_page(client, idporten_app, response.headers["Location"])
    user = _citizen(services, PERSON_PID)
    assert user is not None and user.is_citizen
    assert _member(services, case_id, "bruker").user_id == user.id
    assert _member(services, case_id, "foresatt").user_id is None


def test_a_pid_that_matches_no_one_gets_a_clear_page_and_no_account(idporten_app, idporten, services, case_id):
    users_before = _count(services, User)
    client = idporten_app.test_client()
    response = _log_in(client, idporten, "ukjent")
    assert response.status_code == 403
    assert "finner ingen ansvarsgruppe der du er personen selv eller foresatt" in response.text
    assert "Ingen konto er opprettet" in response.text
    assert _count(services, User) == users_before and _citizen(services, STRANGER_PID) is None
    assert _count(services, UserSession) == 0
    with client.session_transaction() as cookie:
        assert "sid" not in cookie
    # a token without a pid at all is refused likewise
    response = _log_in(idporten_app.test_client(), idporten, "uten-pid")
    assert response.status_code == 403 and "gyldig fødselsnummer" in response.text
    assert _count(services, User) == users_before and _count(services, UserSession) == 0


def test_a_level_below_the_minimum_is_refused_and_nothing_is_stored(make_app, idporten_with_low, users):
    app = _configure(idporten_with_low, make_app)
    services = app.extensions["ansvarsgruppe"]
    born = date(services.clock.today().year - 40, 1, 15).isoformat()
    case_id = register(services, {"full_name": "Emma Berg", "birth_date": born, "national_id": PERSON_PID,
                                  "requested_by_kind": "person", "wish": "Bedre samarbeid"},
                       actor_id=users["ola"])[0]
    users_before = _count(services, User)
    client = app.test_client()
    response = _log_in(client, idporten_with_low, "emma", "idporten-loa-low")
    assert response.status_code == 403 and "for lavt sikkerhetsnivå" in response.text
    assert _count(services, User) == users_before and _count(services, UserSession) == 0
    assert _member(services, case_id, "bruker").user_id is None
    with client.session_transaction() as cookie:
        assert "sid" not in cookie


def test_a_stricter_minimum_asks_for_it_and_refuses_substantial(make_app, idporten, users):
    app = _configure(idporten, make_app, minimum_acr=ACR_HIGH)
    services = app.extensions["ansvarsgruppe"]
    born = date(services.clock.today().year - 40, 1, 15).isoformat()
    register(services, {"full_name": "Emma Berg", "birth_date": born, "national_id": PERSON_PID,
                        "requested_by_kind": "person", "wish": "Bedre samarbeid"}, actor_id=users["ola"])
    users_before = _count(services, User)
    client = app.test_client()
    start = client.get("/logg-inn/med/idporten")
    assert parse_qs(urlsplit(start.headers["Location"]).query)["acr_values"] == [ACR_HIGH]
    refused = _log_in(client, idporten, "emma", ACR_SUBSTANTIAL)
    assert refused.status_code == 403 and "for lavt sikkerhetsnivå" in refused.text
    assert _count(services, User) == users_before
    accepted = _log_in(app.test_client(), idporten, "emma", ACR_HIGH)
    assert accepted.status_code == 302 and _count(services, User) == users_before + 1


def test_logging_out_ends_the_session_here_and_at_id_porten(idporten_app, idporten, services, case_id):
    client = idporten_app.test_client()
    browser = requests.Session()  # the browser's side at the provider (its session cookie)
    response = _log_in(client, idporten, "anne", http=browser)
    home = _own_page(client, idporten_app, response.headers["Location"])
    assert len(idporten.sessions()) == 1
    out = client.post("/logg-ut", data={"csrf_token": csrf_token(home.text)})
    assert out.status_code == 302 and out.headers["Location"].startswith(idporten.issuer + "/logout")
    assert _count(services, UserSession) == 0
    assert client.get(_home(idporten_app)).status_code == 302  # back to the login
    with client.session_transaction() as cookie:
        assert "sid" not in cookie and "acr" not in cookie and "oidc" not in cookie
    back = browser.get(out.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"].startswith("http://localhost/logg-inn")
    assert idporten.logouts and idporten.logouts[-1].id_token_hint and idporten.logouts[-1].ended_sids
    assert idporten.sessions() == []
    browser.close()


def test_a_citizen_cannot_open_staff_pages(idporten_app, idporten, case_id):
    client = idporten_app.test_client()
    assert _log_in(client, idporten, "anne").status_code == 302
    for page in ("/saker/", f"/saker/{case_id}", "/oppgaver"):
        response = client.get(page)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == _home(idporten_app)


def test_id_porten_is_configured_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANSVARSGRUPPE_OIDC_IDPORTEN_METADATA_URL",
                       "https://idporten.no/.well-known/openid-configuration")
    monkeypatch.setenv("ANSVARSGRUPPE_OIDC_IDPORTEN_CLIENT_ID", "klient")
    monkeypatch.setenv("ANSVARSGRUPPE_OIDC_IDPORTEN_CLIENT_SECRET", "hemmeleg")
    monkeypatch.setenv("ANSVARSGRUPPE_OIDC_IDPORTEN_MINIMUM_ACR", ACR_HIGH)
    assert oidc_from_environment()["idporten"] == {
        "server_metadata_url": "https://idporten.no/.well-known/openid-configuration",
        "client_id": "klient", "client_secret": "hemmeleg", "minimum_acr": ACR_HIGH}
