"""The test OpenID provider is real and follows the standards: driven by Authlib's client side
(discovery, the code flow with PKCE and nonce, the ID token verified against the JWKS, userinfo,
RP-initiated logout), by Authlib's Flask client as the app will use it, and by a real browser."""
from __future__ import annotations

import re
import threading
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError as ClientOAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc import discovery
from authlib.oidc import rpinitiated
from authlib.oidc.core import CodeIDToken
from flask import Flask
from flask import jsonify
from flask import session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.serving import make_server

from tests.browser.conftest import browser, new_context  # noqa: F401  (Chromium through Playwright)
from tests.oidc.provider import ACR_HIGH
from tests.oidc.provider import ACR_SUBSTANTIAL
from tests.oidc.provider import OIDCLoginError
from tests.oidc.provider import OpenIDProvider
from tests.oidc.provider import oidc_provider_fixture

CLIENT_ID = "ansvarsgruppe"
SECRET = "hemmeleg-nok"
CALLBACK = "https://rp.example/auth/callback"
AFTER_LOGOUT = "https://rp.example/"
PID = "01017012345"


def _setup(provider: OpenIDProvider) -> None:
    provider.add_client(CLIENT_ID, SECRET, [CALLBACK], [AFTER_LOGOUT])
    provider.add_account("kari", {"sub": "sub-kari", "pid": PID, "name": "Kari Nordmann"})
    provider.add_account("ola", {"sub": "sub-ola", "pid": "02028054321", "name": "Ola Nordmann"})


idporten = oidc_provider_fixture(scope="module", setup=_setup)


@pytest.fixture(autouse=True)
def _fresh(idporten):
    idporten.reset()


@pytest.fixture
def meta(idporten):
    return requests.get(idporten.discovery_url, timeout=10).json()


def _session(**kwargs) -> OAuth2Session:
    options = {"client_id": CLIENT_ID, "client_secret": SECRET, "scope": "openid profile",
               "redirect_uri": CALLBACK, "code_challenge_method": "S256"}
    options.update(kwargs)
    return OAuth2Session(**options)


def _authorize(meta, client: OAuth2Session, **params):
    """An authorization request with PKCE and a nonce; returns (url, state, verifier, nonce)."""
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(meta["authorization_endpoint"], nonce=nonce,
                                                 code_verifier=verifier, **params)
    return url, state, verifier, nonce


def _log_in_and_fetch(idporten, meta, username="kari", acr=ACR_HIGH, **params):
    client = _session()
    url, state, verifier, nonce = _authorize(meta, client, **params)
    callback = idporten.log_in(url, username, acr=acr)
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier)
    return client, token, nonce


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_discovery_document_is_valid_openid_provider_metadata(idporten, meta):
    metadata = discovery.OpenIDProviderMetadata(meta)
    metadata.validate(metadata_classes=[rpinitiated.OpenIDProviderMetadata])  # raises if invalid

    assert meta["issuer"] == idporten.issuer
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", idporten.issuer)
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                     "end_session_endpoint"):
        assert meta[endpoint].startswith(idporten.issuer + "/")
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["acr_values_supported"] == [ACR_SUBSTANTIAL, ACR_HIGH]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"pid", "acr", "nonce"} <= set(meta["claims_supported"])

    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
    assert "d" not in keys[0]  # the public key only


def test_code_flow_with_pkce_and_nonce_gives_an_id_token_that_verifies_against_the_jwks(
        idporten, meta):
    client = _session()
    url, state, verifier, nonce = _authorize(meta, client, acr_values=ACR_SUBSTANTIAL)
    assert _query(url)["code_challenge_method"] == "S256"

    callback = idporten.log_in(url, "kari", acr=ACR_SUBSTANTIAL)
    assert callback.startswith(CALLBACK + "?")
    assert _query(callback)["state"] == state
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier)
    assert token["token_type"].lower() == "bearer"

    jwks = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    assert id_token.header["kid"] == jwks.keys[0].kid
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": idporten.issuer},
        aud={"essential": True, "value": CLIENT_ID},
        sub={"essential": True, "value": "sub-kari"},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True}, iat={"essential": True},
    ).validate(id_token.claims)
    claims = id_token.claims
    assert claims["pid"] == PID
    assert claims["acr"] == ACR_SUBSTANTIAL
    assert claims["name"] == "Kari Nordmann"
    now = time.time()
    assert claims["iat"] <= now + 1 < claims["exp"] <= now + 3601
    assert claims["auth_time"] <= now + 1
    assert claims["sid"] in {s.sid for s in idporten.sessions()}

    # Authlib's own ID token rules for the code flow, at_hash included.
    code_id_token = CodeIDToken(claims, id_token.header, {"iss": {"values": [idporten.issuer]}},
                                {"nonce": nonce, "client_id": CLIENT_ID,
                                 "access_token": token["access_token"]})
    code_id_token.validate()
    assert "at_hash" in claims

    # A token signed by another key does not verify against the provider's JWKS.
    with OpenIDProvider() as other:
        other_jwks = KeySet.import_key_set(requests.get(other.issuer + "/jwks", timeout=10).json())
    with pytest.raises(JoseError):
        jwt.decode(token["id_token"], other_jwks, algorithms=["RS256"])


def test_the_acr_is_the_level_chosen_on_the_page_and_defaults_to_the_requested(idporten, meta):
    _, token, _ = _log_in_and_fetch(idporten, meta, acr=ACR_HIGH, acr_values=ACR_SUBSTANTIAL)
    assert jwt.decode(token["id_token"], KeySet.import_key_set(
        requests.get(meta["jwks_uri"], timeout=10).json())).claims["acr"] == ACR_HIGH

    def preselected(**params):
        url, *_ = _authorize(meta, _session(), **params)
        page = requests.get(url, timeout=10)
        assert page.status_code == 200
        return re.search(r'<option value="([^"]+)" selected>', page.text).group(1)

    assert preselected(acr_values=ACR_SUBSTANTIAL) == ACR_SUBSTANTIAL
    assert preselected(acr_values=f"{ACR_HIGH} {ACR_SUBSTANTIAL}") == ACR_HIGH
    assert preselected() == ACR_HIGH


def test_a_wrong_client_secret_is_refused_at_the_token_endpoint(idporten, meta):
    client = _session()
    url, _, verifier, _ = _authorize(meta, client)
    callback = idporten.log_in(url, "kari")
    wrong = _session(client_secret="feil")
    with pytest.raises(ClientOAuthError) as refused:
        wrong.fetch_token(meta["token_endpoint"], authorization_response=callback,
                          code_verifier=verifier)
    assert refused.value.error == "invalid_client"
    # Refused before the code was looked at: the right client still gets its token.
    assert "id_token" in client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                                            code_verifier=verifier)


def test_a_wrong_code_verifier_is_refused(idporten, meta):
    client = _session()
    url, _, _, _ = _authorize(meta, client)
    callback = idporten.log_in(url, "kari")
    with pytest.raises(ClientOAuthError) as refused:
        client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                           code_verifier=generate_token(48))
    assert refused.value.error == "invalid_grant"


def test_a_code_can_be_used_only_once_and_its_reuse_revokes_its_token(idporten, meta):
    client = _session()
    url, _, verifier, _ = _authorize(meta, client)
    callback = idporten.log_in(url, "kari")
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier)
    assert client.get(meta["userinfo_endpoint"], timeout=10).status_code == 200

    again = _session()
    with pytest.raises(ClientOAuthError) as refused:
        again.fetch_token(meta["token_endpoint"], authorization_response=callback,
                          code_verifier=verifier)
    assert refused.value.error == "invalid_grant"
    revoked = requests.get(meta["userinfo_endpoint"], timeout=10,
                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert revoked.status_code == 401


def test_userinfo_answers_with_the_access_token_only(idporten, meta):
    client, token, _ = _log_in_and_fetch(idporten, meta, username="ola")
    answer = client.get(meta["userinfo_endpoint"], timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"sub": "sub-ola", "pid": "02028054321", "name": "Ola Nordmann"}

    assert requests.get(meta["userinfo_endpoint"], timeout=10).status_code == 401
    bogus = requests.get(meta["userinfo_endpoint"], timeout=10,
                         headers={"Authorization": "Bearer not-a-token"})
    assert bogus.status_code == 401
    assert "invalid_token" in bogus.headers["WWW-Authenticate"]


def test_authorization_requests_without_pkce_or_nonce_or_with_unknown_redirect_are_refused(
        idporten, meta):
    no_pkce = _session(code_challenge_method=None)
    url, _ = no_pkce.create_authorization_url(meta["authorization_endpoint"], nonce="n-1")
    with pytest.raises(OIDCLoginError, match="invalid_request.*code_challenge"):
        idporten.log_in(url, "kari")

    url, _ = _session().create_authorization_url(meta["authorization_endpoint"],
                                                 code_verifier=generate_token(48))
    with pytest.raises(OIDCLoginError, match="invalid_request.*nonce"):
        idporten.log_in(url, "kari")

    url, *_ = _authorize(meta, _session(redirect_uri="https://evil.example/cb"))
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "Location" not in answer.headers
    with pytest.raises(OIDCLoginError):
        idporten.log_in(url, "kari")

    url, *_ = _authorize(meta, _session())
    with pytest.raises(OIDCLoginError, match="Ukjent bruker"):
        idporten.log_in(url, "nobody")


def test_a_nonce_can_be_used_only_once(idporten, meta):
    client = _session()
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], nonce="samme",
                                             code_verifier=verifier)
    idporten.log_in(url, "kari")
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], nonce="samme",
                                             code_verifier=verifier)
    with pytest.raises(OIDCLoginError, match="Replay"):
        idporten.log_in(url, "kari")


def test_cancel_on_the_login_page_answers_access_denied_with_the_state(idporten, meta):
    url, state, _, _ = _authorize(meta, _session())
    callback = idporten.deny(url)
    assert callback.startswith(CALLBACK + "?")
    assert _query(callback)["error"] == "access_denied"
    assert _query(callback)["state"] == state


def test_single_sign_on_and_logout_to_the_registered_uri_only(idporten, meta):
    # Log in with a browser-like session that keeps the provider's cookie.
    http = requests.Session()
    client = _session()
    url, _, verifier, _ = _authorize(meta, client, acr_values=ACR_SUBSTANTIAL)
    callback = idporten.log_in(url, "kari", acr=ACR_SUBSTANTIAL, http=http)
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier)
    [sso] = idporten.sessions()
    assert (sso.username, sso.acr) == ("kari", ACR_SUBSTANTIAL)

    # Single sign-on: the provider's session answers at once, at its level or a lower one ...
    url, state, _, _ = _authorize(meta, _session())
    again = http.get(url, allow_redirects=False, timeout=10)
    assert again.status_code == 302 and _query(again.headers["Location"])["state"] == state
    url, *_ = _authorize(meta, _session(), acr_values=ACR_SUBSTANTIAL)
    assert http.get(url, allow_redirects=False, timeout=10).status_code == 302
    # ... but a higher level, or prompt=login, asks again.
    url, *_ = _authorize(meta, _session(), acr_values=ACR_HIGH)
    assert http.get(url, allow_redirects=False, timeout=10).status_code == 200
    url, *_ = _authorize(meta, _session(), prompt="login")
    assert http.get(url, allow_redirects=False, timeout=10).status_code == 200

    logout = meta["end_session_endpoint"]
    # An unregistered post_logout_redirect_uri: logged out, but no redirect.
    answer = http.get(logout, allow_redirects=False, timeout=10, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://evil.example/"})
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert "Du er logget ut" in answer.text
    assert idporten.sessions() == []
    assert idporten.logouts[-1].ended_sids == (sso.sid,)
    assert idporten.logouts[-1].redirect_uri is None

    # After logout the provider shows the login page again.
    url, *_ = _authorize(meta, _session())
    assert http.get(url, allow_redirects=False, timeout=10).status_code == 200

    # The registered URI with a valid id_token_hint: redirected there, with the state.
    answer = requests.get(logout, allow_redirects=False, timeout=10, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT,
        "state": "s-1"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == AFTER_LOGOUT + "?state=s-1"
    assert idporten.logouts[-1].client_id == CLIENT_ID
    assert idporten.logouts[-1].sub == "sub-kari"

    # Without id_token_hint the provider does not redirect (ID-porten's rule) ...
    answer = requests.get(logout, allow_redirects=False, timeout=10, params={
        "client_id": CLIENT_ID, "post_logout_redirect_uri": AFTER_LOGOUT})
    assert answer.status_code == 200 and "Location" not in answer.headers
    # ... and a forged id_token_hint is an error, not a redirect.
    head, payload, signature = token["id_token"].split(".")
    forged = ".".join([head, payload, signature[::-1]])
    answer = requests.get(logout, allow_redirects=False, timeout=10, params={
        "id_token_hint": forged, "post_logout_redirect_uri": AFTER_LOGOUT})
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_a_client_may_log_out_without_id_token_hint_when_added_so(idporten, meta):
    idporten.add_client("staff-app", "s", ["https://rp.example/staff/cb"],
                        ["https://rp.example/staff/"], logout_requires_id_token_hint=False)
    answer = requests.get(meta["end_session_endpoint"], allow_redirects=False, timeout=10, params={
        "client_id": "staff-app", "post_logout_redirect_uri": "https://rp.example/staff/"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://rp.example/staff/"
    # Another client's URI is not a valid target.
    answer = requests.get(meta["end_session_endpoint"], allow_redirects=False, timeout=10, params={
        "client_id": "staff-app", "post_logout_redirect_uri": AFTER_LOGOUT})
    assert answer.status_code == 200


def test_authlib_flask_client_logs_in_and_out_as_the_app_will(idporten):
    """The way the app uses it: Authlib's Flask client with the discovery document, the Flask test
    client for the app and ``log_in`` for the provider's page."""
    idporten.add_client("flask-rp", "flask-secret", ["http://localhost/callback"],
                        ["http://localhost/"])
    app = Flask("rp")
    app.secret_key = "test"
    oauth = OAuth(app)
    oauth.register("idporten", client_id="flask-rp", client_secret="flask-secret",
                   server_metadata_url=idporten.discovery_url,
                   client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"})

    @app.get("/login")
    def login():
        return oauth.idporten.authorize_redirect("http://localhost/callback",
                                                 acr_values=ACR_SUBSTANTIAL)

    @app.get("/callback")
    def callback():
        try:
            token = oauth.idporten.authorize_access_token()
        except ClientOAuthError as error:
            return jsonify(error=error.error), 400
        session["id_token"] = token["id_token"]
        return jsonify(dict(token["userinfo"]))

    @app.get("/logout")
    def logout():
        return oauth.idporten.logout_redirect(post_logout_redirect_uri="http://localhost/",
                                              id_token_hint=session["id_token"])

    with app.test_client() as rp:
        start = rp.get("/login")
        assert start.status_code == 302
        callback_url = idporten.log_in(start.headers["Location"], "kari", acr=ACR_SUBSTANTIAL)
        answer = rp.get(callback_url.removeprefix("http://localhost"))
        assert answer.status_code == 200, answer.text
        userinfo = answer.get_json()
        assert (userinfo["pid"], userinfo["acr"], userinfo["iss"]) == (
            PID, ACR_SUBSTANTIAL, idporten.issuer)

        # A replayed callback (same code, state already used) is refused by the client.
        assert rp.get(callback_url.removeprefix("http://localhost")).status_code != 200

        out = rp.get("/logout")
        assert out.status_code == 302
        after = requests.get(out.headers["Location"], allow_redirects=False, timeout=10)
        assert after.status_code == 302
        assert after.headers["Location"].startswith("http://localhost/?state=")

        # Cancel on the provider's page: the client sees access_denied.
        start = rp.get("/login")
        denied = rp.get(idporten.deny(start.headers["Location"]).removeprefix("http://localhost"))
        assert denied.status_code == 400 and denied.get_json() == {"error": "access_denied"}


def test_stop_closes_the_port():
    provider = OpenIDProvider().start()
    issuer = provider.issuer
    assert requests.get(issuer + "/jwks", timeout=10).status_code == 200
    provider.stop()
    provider.stop()  # twice is fine
    with pytest.raises(requests.ConnectionError):
        requests.get(issuer + "/jwks", timeout=10)


@pytest.fixture
def callback_server():
    """A real page for the client's redirect_uri (a browser follows the provider's redirect)."""
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<!doctype html><title>callback</title><p>callback</p>"]

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/callback"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.mark.browser
def test_a_real_browser_logs_in_on_the_page(idporten, meta, browser, callback_server):  # noqa: F811
    idporten.add_client("browser-rp", SECRET, [callback_server])
    client = _session(client_id="browser-rp", redirect_uri=callback_server)
    url, state, verifier, nonce = _authorize(meta, client, acr_values=ACR_SUBSTANTIAL)
    context = new_context(browser)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(url)
        assert page.get_by_role("heading").inner_text() == "ID-porten (test)"
        assert page.get_by_label("Sikkerhetsnivå").input_value() == ACR_SUBSTANTIAL
        page.get_by_label("Bruker").select_option("kari")
        page.get_by_label("Sikkerhetsnivå").select_option(ACR_HIGH)
        page.get_by_role("button", name="Logg inn").click()
        page.wait_for_url(callback_server + "?**")
        callback = page.url
        assert _query(callback)["state"] == state

        # The provider's session cookie makes the next request a single sign-on: no page.
        url2, state2, _, _ = _authorize(meta, _session(client_id="browser-rp",
                                                       redirect_uri=callback_server))
        page.goto(url2)
        assert page.url.startswith(callback_server + "?")
        assert _query(page.url)["state"] == state2
    finally:
        context.close()
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier)
    claims = jwt.decode(token["id_token"], KeySet.import_key_set(
        requests.get(meta["jwks_uri"], timeout=10).json())).claims
    assert (claims["pid"], claims["acr"], claims["nonce"]) == (PID, ACR_HIGH, nonce)
