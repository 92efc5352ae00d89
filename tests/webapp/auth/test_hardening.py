"""Equal work for unknown users, the client address behind a trusted proxy, security headers."""
import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select, update

from tests.conftest import CHEAP_PASSWORD_HASHING, csrf_token
from tests.webapp.cases.helpers import PASSWORD, municipality
from webapp.auth import passwords
from webapp.auth.models import LoginAttempt, User
from webapp.config import waitress_options


@pytest.fixture
def users(services):
    return municipality(services)


def attempt(client, username, password, **headers):
    page = client.get("/logg-inn")
    return client.post("/logg-inn", headers=headers, data={
        "username": username, "password": password, "csrf_token": csrf_token(page.text)})


class CountingHasher(PasswordHasher):
    """The configured hasher, counting its verifications and the cost of each verified hash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified: list[tuple[int, int, int]] = []

    def verify(self, hash, password):
        params = extract_parameters(hash if isinstance(hash, str) else hash.decode())
        self.verified.append((params.time_cost, params.memory_cost, params.parallelism))
        return super().verify(hash, password)


@pytest.fixture
def hasher(app, monkeypatch):
    counting = CountingHasher(time_cost=CHEAP_PASSWORD_HASHING["PASSWORD_HASH_TIME_COST"],
                              memory_cost=CHEAP_PASSWORD_HASHING["PASSWORD_HASH_MEMORY_COST"],
                              parallelism=CHEAP_PASSWORD_HASHING["PASSWORD_HASH_PARALLELISM"])
    monkeypatch.setattr(passwords, "_hasher", counting)
    monkeypatch.setattr(passwords, "_dummy_hash", None)
    return counting


COST = (CHEAP_PASSWORD_HASHING["PASSWORD_HASH_TIME_COST"], CHEAP_PASSWORD_HASHING["PASSWORD_HASH_MEMORY_COST"],
        CHEAP_PASSWORD_HASHING["PASSWORD_HASH_PARALLELISM"])


def test_an_unknown_username_costs_one_verification_like_a_known_one(app, users, hasher):
    assert attempt(app.test_client(), "kari", "feil").status_code == 401
    assert hasher.verified == [COST]
    assert attempt(app.test_client(), "finnes-ikke", "feil").status_code == 401
    assert hasher.verified == [COST, COST]  # one verification of a hash with the same cost
    assert attempt(app.test_client(), "finnes-heller-ikke", PASSWORD).status_code == 401
    assert hasher.verified == [COST] * 3


def test_a_deactivated_user_costs_the_same_and_is_refused(app, services, users, hasher):
    with services.db.transaction() as s:
        s.execute(update(User).where(User.id == users["ulf"]).values(active=False))
    response = attempt(app.test_client(), "ulf", PASSWORD)
    assert response.status_code == 401 and "Feil brukernavn eller passord" in response.text
    assert hasher.verified == [COST]


def test_the_dummy_hash_follows_the_configured_cost(make_app):
    make_app(PASSWORD_HASH_TIME_COST=2, PASSWORD_HASH_MEMORY_COST=16)
    params = extract_parameters(passwords.dummy_hash())
    assert (params.time_cost, params.memory_cost) == (2, 16)
    make_app()
    params = extract_parameters(passwords.dummy_hash())
    assert (params.time_cost, params.memory_cost) == COST[:2]


def recorded_addresses(services) -> list[str]:
    with services.db.session() as s:
        return list(s.scalars(select(LoginAttempt.ip).order_by(LoginAttempt.id)))


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(app, services, users):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    attempt(client, "kari", "feil", **{"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"})
    assert recorded_addresses(services) == ["10.0.0.2"]
    assert "Strict-Transport-Security" not in client.get("/logg-inn", headers={
        "X-Forwarded-Proto": "https"}).headers


def test_x_forwarded_for_is_honoured_behind_one_trusted_proxy(make_app, users):
    app = make_app(TRUSTED_PROXIES=1)
    services = app.extensions["ansvarsgruppe"]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    attempt(client, "kari", "feil", **{"X-Forwarded-For": "198.51.100.1, 203.0.113.5"})
    assert recorded_addresses(services) == ["203.0.113.5"]  # the address the proxy saw, not a forged one
    for _ in range(5):  # so one attacker behind the proxy does not block another user behind it
        attempt(client, "kari", "feil", **{"X-Forwarded-For": "203.0.113.5"})
    assert attempt(client, "kari", PASSWORD, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert attempt(client, "kari", PASSWORD, **{"X-Forwarded-For": "198.51.100.20"}).status_code == 302
    secure = app.test_client().get("/logg-inn", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_security_headers(make_app, users):
    app = make_app()
    page = app.test_client().get("/logg-inn")
    assert "camera=()" in page.headers["Permissions-Policy"]
    assert "geolocation=()" in page.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in page.headers  # plain http: browsers ignore it anyway
    https = app.test_client().get("/logg-inn", base_url="https://localhost")
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Permissions-Policy" in https.headers
    always = make_app(HSTS_ALWAYS=True, HSTS_MAX_AGE=600).test_client().get("/logg-inn")
    assert always.headers["Strict-Transport-Security"] == "max-age=600"
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                 "Permissions-Policy", "Cache-Control"):
        assert len(page.headers.getlist(name)) == 1, name  # each once
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"


def test_a_views_own_header_is_kept(make_app):
    """The security headers fill in what a response lacks; a header the view set stays as set."""
    app = make_app()

    @app.get("/egen-header")
    def own_header():
        return "ok", 200, {"Cache-Control": "private, max-age=60", "x-frame-options": "SAMEORIGIN"}

    page = app.test_client().get("/egen-header")
    assert page.headers.getlist("Cache-Control") == ["private, max-age=60"]
    assert page.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


@contextmanager
def served(app):
    """``app`` behind a real waitress server with the options ``ansvarsgruppe serve`` uses."""
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=2, **waitress_options(app.config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        def close_all():
            for dispatcher in list(server._map.values()):
                dispatcher.close()
        server.trigger.pull_trigger(close_all)
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()


def login_over_http(base: str, forwarded_for: str) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token = csrf_token(opener.open(f"{base}/logg-inn").read().decode())
    request = urllib.request.Request(f"{base}/logg-inn", headers={"X-Forwarded-For": forwarded_for}, data=(
        urllib.parse.urlencode({"username": "kari", "password": "feil", "csrf_token": token}).encode()))
    try:
        return opener.open(request).status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("proxies, recorded", [(0, "127.0.0.1"), (1, "203.0.113.5")])
def test_the_served_app_reads_the_client_address_as_configured(make_app, users, proxies, recorded):
    app = make_app(TRUSTED_PROXIES=proxies)
    with served(app) as base:
        assert login_over_http(base, "203.0.113.5") == 401
    assert recorded_addresses(app.extensions["ansvarsgruppe"]) == [recorded]
