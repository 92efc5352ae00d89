"""A small but real OpenID Connect provider for the tests, built on Authlib's server classes.

Logins through ID-porten (the person, guardians) and through the municipality's identity provider
(staff, e.g. Entra ID) are tested against this provider, never against a mocked token. It runs its
own Flask app, served by werkzeug on ``127.0.0.1`` and a free port in a background thread, and keeps
everything in memory: clients, accounts, the provider's own sessions, authorization codes, access
tokens. Its RS256 signing key is generated at start.

What it implements (OpenID Connect Core 1.0, Discovery 1.0, RP-Initiated Logout 1.0, RFC 7636):

- ``GET /.well-known/openid-configuration`` and ``GET /jwks``;
- ``GET /authorize``: the authorization code flow (``response_type=code``). PKCE with ``S256`` is
  required unless the client was added with ``require_pkce=False``; ``nonce`` is required unless the
  provider was made with ``require_nonce=False``, and a nonce can be used only once per client. The
  page is a login form (select "Bruker", select "Sikkerhetsnivå", buttons "Logg inn" and "Avbryt")
  that a real browser can fill in. With a provider session (a cookie of this provider) and no
  ``prompt=login``, the code is issued at once (single sign-on) when the session's level meets the
  lowest requested ``acr_values``;
- ``POST /token``: client authentication ``client_secret_basic`` or ``client_secret_post`` (``none``
  for a public client, then with PKCE). A code is valid for one use within 10 minutes; a second use
  is refused and revokes the tokens the code gave;
- ``GET|POST /userinfo`` with the access token (bearer);
- ``GET|POST /logout``: RP-initiated logout. It ends the provider's session (the cookie's, and the
  one the ``id_token_hint``'s ``sid`` names) and redirects only to a ``post_logout_redirect_uri``
  registered for the client, only with a valid ``id_token_hint`` (unless the client was added with
  ``logout_requires_id_token_hint=False``; then ``client_id`` is enough), adding ``state``.

The ID token carries ``iss``, ``aud`` (the client id, a string), ``exp``, ``iat``, ``auth_time``,
``nonce``, ``acr`` (the level chosen on the login page), ``sid``, ``at_hash`` and every claim of the
account (e.g. ``sub``, ``pid``, ``name``, ``email``, ``preferred_username``); ``/userinfo`` answers
with the account's claims. The account's claims are given whole, whatever the scope. Times are the
real wall clock.

Use::

    from tests.oidc.provider import OpenIDProvider, oidc_provider_fixture

    idporten = oidc_provider_fixture(title="ID-porten (test)")  # in a conftest.py: a session fixture

    def test_login(idporten, client):
        idporten.add_client("ansvarsgruppe", "hemmelig", ["http://localhost/auth/idporten/callback"],
                            ["http://localhost/"])
        idporten.add_account("kari", {"sub": "kari-sub", "pid": "01017012345", "name": "Kari Nordmann"})
        start = client.get("/auth/idporten/login")              # the app redirects to the provider
        callback = idporten.log_in(start.headers["Location"], "kari", acr="idporten-loa-substantial")
        answer = client.get(callback.removeprefix("http://localhost"))   # the app's callback
"""
from __future__ import annotations

import hmac
import html
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask
from flask import Response
from flask import jsonify
from flask import request
from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

ACR_SUBSTANTIAL = "idporten-loa-substantial"
ACR_HIGH = "idporten-loa-high"
IDPORTEN_ACR_VALUES = (ACR_SUBSTANTIAL, ACR_HIGH)  # lowest first

CODE_LIFETIME = 600
TOKEN_LIFETIME = 3600

# Claims the provider sets itself; an account may not carry them.
RESERVED_CLAIMS = frozenset({
    "iss", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "acr", "azp", "at_hash",
    "c_hash", "sid",
})


class OIDCLoginError(RuntimeError):
    """``log_in`` could not log in: the provider refused the authorization request or the form."""


@dataclass(frozen=True)
class Account:
    username: str
    claims: dict


@dataclass(frozen=True)
class ProviderSession:
    """The provider's own login session: who logged in, at what level, when."""
    sid: str
    account: Account
    acr: str
    auth_time: int

    @property
    def username(self) -> str:
        return self.account.username


@dataclass(frozen=True)
class LogoutRecord:
    """One call of ``/logout`` that passed validation."""
    client_id: str | None
    sub: str | None
    ended_sids: tuple[str, ...]
    id_token_hint: bool
    redirect_uri: str | None  # where the provider redirected (with state), None if it did not


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str | None  # None: a public client (token_endpoint_auth_method "none")
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    require_pkce: bool = True
    logout_requires_id_token_hint: bool = True

    @property
    def client_metadata(self) -> dict:
        return {"redirect_uris": list(self.redirect_uris),
                "post_logout_redirect_uris": list(self.post_logout_redirect_uris)}

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        return scope or ""

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        if self.client_secret is None or client_secret is None:
            return False
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        if endpoint != "token":
            return True
        if self.client_secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    session: ProviderSession
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.session.auth_time

    def get_acr(self):
        return self.session.acr


@dataclass
class Token(TokenMixin):
    access_token: str
    client: Client
    scope: str
    session: ProviderSession
    code: str | None
    issued_at: float
    expires_in: int
    revoked: bool = False

    def check_client(self, client):
        return client.client_id == self.client.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.session

    def get_client(self):
        return self.client


class _AuthorizationCodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code, request):
        self.server.provider._save_code(code, request)

    def query_authorization_code(self, code, client):
        return self.server.provider._redeem_code(code, client)

    def delete_authorization_code(self, authorization_code):
        pass  # already taken out of the store when it was redeemed (one use, even concurrently)

    def authenticate_user(self, authorization_code):
        return authorization_code.session


class _S256CodeChallenge(CodeChallenge):
    """PKCE as ID-porten does it: only ``S256``; required unless the client says otherwise."""
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            if grant.request.client.require_pkce:
                raise InvalidRequestError("Missing 'code_challenge'")
        elif data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be 'S256'")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: OpenIDProvider):
        super().__init__(require_nonce=provider.require_nonce)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        return self.provider._nonce_used(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client):
        return self.provider._key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.provider._key.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        return {"iss": self.provider.issuer, "aud": client.get_client_id()}

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        claims["sid"] = authorization_code.session.sid
        return claims

    def generate_user_info(self, user, scope):
        return self.provider._user_info(user)


class _BearerTokenValidator(BearerTokenValidator):
    def __init__(self, provider: OpenIDProvider):
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string):
        return self.provider._token(token_string)


class _UserInfoEndpoint(UserInfoEndpoint):
    def __init__(self, provider: OpenIDProvider, resource_protector):
        super().__init__(resource_protector=resource_protector)
        self.provider = provider

    def get_issuer(self):
        return self.provider.issuer

    def generate_user_info(self, user, scope):
        return self.provider._user_info(user)

    def resolve_private_key(self):
        return self.provider._key

    def get_supported_algorithms(self):
        return ["RS256"]


class _EndSessionEndpoint(EndSessionEndpoint):
    def __init__(self, provider: OpenIDProvider):
        super().__init__()
        self.provider = provider

    def get_server_jwks(self):
        return KeySet([self.provider._key])

    def get_algorithms(self):
        return ["RS256"]

    def is_post_logout_redirect_uri_legitimate(self, request, post_logout_redirect_uri, client,
                                               logout_hint):
        return (not client.logout_requires_id_token_hint
                and request.payload.data.get("client_id") == client.client_id)

    def end_session(self, end_session_request):
        self.provider._end_session(end_session_request)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class OpenIDProvider:
    """A real OpenID Connect provider on ``http://127.0.0.1:<free port>``.

    ``title`` heads the login page (tell the ID-porten and the municipality's provider apart);
    ``acr_values_supported`` lists the levels lowest first (the login page's choices);
    ``require_nonce`` refuses authorization requests without ``nonce``; ``single_sign_on`` lets the
    provider's own session (its cookie) log in again without the form.
    """

    def __init__(self, *, title: str = "ID-porten (test)",
                 acr_values_supported: tuple[str, ...] | list[str] = IDPORTEN_ACR_VALUES,
                 require_nonce: bool = True, single_sign_on: bool = True):
        if not acr_values_supported:
            raise ValueError("acr_values_supported must not be empty")
        self.title = title
        self.acr_values_supported = tuple(acr_values_supported)
        self.require_nonce = require_nonce
        self.single_sign_on = single_sign_on
        self.logouts: list[LogoutRecord] = []
        self._lock = threading.RLock()
        self._clients: dict[str, Client] = {}
        self._accounts: dict[str, Account] = {}
        self._sessions: dict[str, ProviderSession] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._redeemed_codes: set[str] = set()
        self._tokens: dict[str, Token] = {}
        self._nonces: set[tuple[str, str]] = set()
        self._key: RSAKey | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self._issuer: str | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> OpenIDProvider:
        """Generate the signing key, bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the provider is already running")
        self._key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"},
                                        auto_kid=True)
        app = self._create_app()
        self._server = make_server("127.0.0.1", 0, app, threaded=True,
                                   request_handler=_QuietHandler)
        self._issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._cookie_name = f"oidc_op_{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"oidc-provider-{self._server.server_port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread and close the socket. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> OpenIDProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- configuration ----------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        if self._issuer is None:
            raise RuntimeError("the provider is not started")
        return self._issuer

    @property
    def discovery_url(self) -> str:
        """``server_metadata_url`` for Authlib's client."""
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def metadata(self) -> dict:
        """The discovery document."""
        issuer = self.issuer
        with self._lock:
            account_claims = {name for account in self._accounts.values() for name in account.claims}
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "scopes_supported": ["openid", "profile", "email"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                      "none"],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": list(self.acr_values_supported),
            "claims_supported": sorted({"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
                                        "acr", "sid", "at_hash"} | account_claims),
            "ui_locales_supported": ["nb"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
        }

    def add_client(self, client_id: str, client_secret: str | None, redirect_uris,
                   post_logout_redirect_uris=(), *, require_pkce: bool = True,
                   logout_requires_id_token_hint: bool = True) -> Client:
        """Register (or replace) a client. ``client_secret=None`` makes a public client."""
        client = Client(client_id=client_id, client_secret=client_secret,
                        redirect_uris=list(redirect_uris),
                        post_logout_redirect_uris=list(post_logout_redirect_uris),
                        require_pkce=require_pkce,
                        logout_requires_id_token_hint=logout_requires_id_token_hint)
        with self._lock:
            self._clients[client_id] = client
        return client

    def add_account(self, username: str, claims: dict) -> Account:
        """Register (or replace) a test account. ``sub`` defaults to the username."""
        reserved = RESERVED_CLAIMS & set(claims)
        if reserved:
            raise ValueError(f"the provider sets these claims itself: {sorted(reserved)}")
        account = Account(username=username, claims={"sub": username, **claims})
        with self._lock:
            self._accounts[username] = account
        return account

    def reset(self) -> None:
        """Forget sessions, codes, tokens, used nonces and the logout records; keep clients and
        accounts (for a provider shared by many tests)."""
        with self._lock:
            self._sessions.clear()
            self._codes.clear()
            self._redeemed_codes.clear()
            self._tokens.clear()
            self._nonces.clear()
            self.logouts.clear()

    def sessions(self) -> list[ProviderSession]:
        """The provider's open sessions (logins not yet ended by ``/logout``)."""
        with self._lock:
            return list(self._sessions.values())

    # -- driving the login without a browser ------------------------------------------------------

    def log_in(self, authorize_url: str, username: str, acr: str = ACR_HIGH, *,
               http: requests.Session | None = None) -> str:
        """Log ``username`` in at level ``acr`` for the authorization request ``authorize_url`` (the
        URL the client redirected to) by filling in the login form over HTTP; return the URL the
        provider redirects to: the client's redirect_uri with ``code`` and ``state``.

        Raises ``OIDCLoginError`` if the provider refuses the request (an error page or a redirect
        with ``error``) or the form (unknown user or level). Pass ``http`` (a ``requests.Session``)
        to keep the provider's session cookie, e.g. to test single sign-on and logout."""
        return self._submit(authorize_url, {"username": username, "acr": acr, "action": "login"},
                            http, expect_error=False)

    def deny(self, authorize_url: str, *, http: requests.Session | None = None) -> str:
        """Press "Avbryt" on the login page; return the redirect to the client with
        ``error=access_denied`` (and ``state``)."""
        return self._submit(authorize_url, {"action": "cancel"}, http, expect_error=True)

    def _submit(self, authorize_url, form, http, expect_error):
        if not authorize_url.startswith(f"{self.issuer}/authorize"):
            raise ValueError(f"not an authorization request to {self.issuer}: {authorize_url}")
        own = http is None
        http = http or requests.Session()
        try:
            page = http.get(authorize_url, allow_redirects=False, timeout=10)
            if page.is_redirect:  # an error for the client, or single sign-on
                return self._checked_redirect(page, expect_error)
            if page.status_code != 200:
                raise OIDCLoginError(f"authorization request refused ({page.status_code}): "
                                     f"{page.text}")
            answer = http.post(authorize_url, data=form, allow_redirects=False, timeout=10)
            if not answer.is_redirect:
                raise OIDCLoginError(f"login form refused ({answer.status_code}): {answer.text}")
            return self._checked_redirect(answer, expect_error)
        finally:
            if own:
                http.close()

    @staticmethod
    def _checked_redirect(response, expect_error):
        location = response.headers["Location"]
        params = parse_qs(urlsplit(location).query)
        if "error" in params and not expect_error:
            raise OIDCLoginError(f"the provider answered {params['error'][0]}: "
                                 f"{params.get('error_description', [''])[0]} ({location})")
        return location

    # -- storage used by the Authlib classes ------------------------------------------------------

    def _query_client(self, client_id):
        with self._lock:
            return self._clients.get(client_id)

    def _save_code(self, code, req):
        data = req.payload.data
        item = AuthorizationCode(
            code=code, client_id=req.client.client_id, redirect_uri=req.payload.redirect_uri,
            scope=req.scope, session=req.user, nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires_at=time.time() + CODE_LIFETIME)
        with self._lock:
            self._codes[code] = item
            if item.nonce:
                self._nonces.add((item.client_id, item.nonce))

    def _redeem_code(self, code, client):
        """Take the code out of the store (one use); a code used before revokes its tokens."""
        with self._lock:
            if code in self._redeemed_codes:
                for token in self._tokens.values():
                    if token.code == code:
                        token.revoked = True
                return None
            item = self._codes.get(code)
            if item is None or item.client_id != client.client_id:
                return None
            del self._codes[code]
            self._redeemed_codes.add(code)
            if time.time() >= item.expires_at:
                return None
            return item

    def _save_token(self, token, req):
        code = req.authorization_code.code if req.authorization_code else None
        item = Token(access_token=token["access_token"], client=req.client,
                     scope=token.get("scope", ""), session=req.user, code=code,
                     issued_at=time.time(), expires_in=int(token.get("expires_in", TOKEN_LIFETIME)))
        with self._lock:
            self._tokens[item.access_token] = item

    def _token(self, access_token):
        with self._lock:
            return self._tokens.get(access_token)

    def _nonce_used(self, client_id, nonce):
        with self._lock:
            return (client_id, nonce) in self._nonces

    def _user_info(self, session: ProviderSession) -> UserInfo:
        return UserInfo(dict(session.account.claims))

    def _end_session(self, req):
        claims = req.id_token_claims or {}
        sids = {request.cookies.get(self._cookie_name), claims.get("sid")} - {None}
        with self._lock:
            ended = tuple(sorted(sid for sid in sids if self._sessions.pop(sid, None)))
            self.logouts.append(LogoutRecord(
                client_id=req.client.client_id if req.client else None, sub=claims.get("sub"),
                ended_sids=ended, id_token_hint=req.id_token_claims is not None,
                redirect_uri=req.redirect_uri))

    # -- the provider's Flask app -----------------------------------------------------------------

    def _create_app(self) -> Flask:
        app = Flask(f"oidc_provider_{id(self)}")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": TOKEN_LIFETIME}
        server = AuthorizationServer(app, query_client=self._query_client,
                                     save_token=self._save_token)
        server.provider = self
        server.register_grant(_AuthorizationCodeGrant,
                              [_S256CodeChallenge(required=True), _OpenIDCode(self)])
        protector = ResourceProtector()
        protector.register_token_validator(_BearerTokenValidator(self))
        server.register_endpoint(_UserInfoEndpoint(self, protector))
        server.register_endpoint(_EndSessionEndpoint(self))

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(self.metadata)

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([self._key]).as_dict(private=False))

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            if request.method == "GET":
                return self._authorize_get(server)
            return self._authorize_post(server)

        @app.post("/token")
        def token():
            return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo():
            return server.create_endpoint_response("userinfo")

        @app.route("/logout", methods=["GET", "POST"])
        def logout():
            try:
                end_session = server.validate_endpoint_request("end_session")
            except OAuth2Error as error:
                return self._page("Utlogging feilet",
                                  f"<p>{html.escape(error.description or error.error)}</p>", 400)
            response = server.create_endpoint_response("end_session", end_session)
            if response is None:
                response = self._page("Logget ut", "<p>Du er logget ut.</p>")
            response.delete_cookie(self._cookie_name, path="/")
            return response

        return app

    def _current_session(self) -> ProviderSession | None:
        if not self.single_sign_on:
            return None
        sid = request.cookies.get(self._cookie_name)
        with self._lock:
            session = self._sessions.get(sid) if sid else None
            if session and self._accounts.get(session.username) is not session.account:
                return None  # the account was replaced since
        return session

    def _authorize_get(self, server):
        session = self._current_session()
        try:
            grant = server.get_consent_grant(end_user=session)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        prompts = request.args.get("prompt", "").split()
        if session and "login" not in prompts and self._meets(session.acr, self._requested_acr()):
            return server.create_authorization_response(grant=grant, grant_user=session)
        return self._login_page(grant)

    def _authorize_post(self, server):
        try:
            grant = server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        if request.form.get("action") == "cancel":
            return server.create_authorization_response(grant=grant, grant_user=None)
        username = request.form.get("username", "")
        acr = request.form.get("acr", "")
        with self._lock:
            account = self._accounts.get(username)
        if account is None:
            return self._login_page(grant, "Ukjent bruker." if username else "Velg en bruker.", 400)
        if acr not in self.acr_values_supported:
            return self._login_page(grant, "Ukjent sikkerhetsnivå.", 400)
        session = ProviderSession(sid=secrets.token_urlsafe(16), account=account, acr=acr,
                                  auth_time=int(time.time()))
        old_sid = request.cookies.get(self._cookie_name)
        with self._lock:
            if old_sid:
                self._sessions.pop(old_sid, None)
            self._sessions[session.sid] = session
        response = server.create_authorization_response(grant=grant, grant_user=session)
        if self.single_sign_on:
            response.set_cookie(self._cookie_name, session.sid, path="/", httponly=True,
                                samesite="Lax")
        return response

    def _requested_acr(self) -> list[str]:
        requested = request.values.get("acr_values", "").split()
        return [value for value in requested if value in self.acr_values_supported]

    def _meets(self, acr: str, requested: list[str]) -> bool:
        """Whether a session at ``acr`` meets the lowest of the requested levels."""
        if not requested:
            return True
        rank = self.acr_values_supported.index
        return rank(acr) >= min(rank(value) for value in requested)

    def _default_acr(self) -> str:
        requested = self._requested_acr()
        if requested:
            return requested[0]
        return ACR_HIGH if ACR_HIGH in self.acr_values_supported else self.acr_values_supported[-1]

    def _login_page(self, grant, error: str | None = None, status: int = 200) -> Response:
        esc = html.escape
        chosen = request.form.get("username", "")
        with self._lock:
            accounts = list(self._accounts.values())
        users = ['<option value="">Velg bruker</option>'] + [
            f'<option value="{esc(a.username)}"{" selected" if a.username == chosen else ""}>'
            f'{esc(a.claims.get("name", a.username))} ({esc(a.username)})</option>'
            for a in accounts]
        default_acr = request.form.get("acr") or self._default_acr()
        levels = [f'<option value="{esc(v)}"{" selected" if v == default_acr else ""}>{esc(v)}'
                  f'</option>' for v in self.acr_values_supported]
        message = f'<p role="alert">{esc(error)}</p>' if error else ""
        body = f"""<p>Innlogging til {esc(grant.request.client.client_id)}</p>
{message}<form method="post" action="{esc(request.full_path)}">
<p><label for="username">Bruker</label>
<select id="username" name="username">{"".join(users)}</select></p>
<p><label for="acr">Sikkerhetsnivå</label>
<select id="acr" name="acr">{"".join(levels)}</select></p>
<p><button type="submit" name="action" value="login">Logg inn</button>
<button type="submit" name="action" value="cancel">Avbryt</button></p>
</form>"""
        return self._page(self.title, body, status)

    def _page(self, heading: str, body: str, status: int = 200) -> Response:
        page = f"""<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>{html.escape(heading)}</title></head>
<body><main><h1>{html.escape(heading)}</h1>
{body}
</main></body></html>"""
        return Response(page, status=status, mimetype="text/html")


def oidc_provider_fixture(*, scope: str = "session", name: str | None = None, setup=None,
                          **options):
    """Return a pytest fixture that starts one ``OpenIDProvider(**options)`` for ``scope`` and stops
    it afterwards. ``setup(provider)``, if given, runs once after start (add clients, accounts).
    Assign it in a conftest or test module; the variable's name is the fixture's name unless
    ``name`` is given::

        idporten = oidc_provider_fixture(title="ID-porten (test)")
        municipality = oidc_provider_fixture(title="Kommunens innlogging (test)")
    """
    import pytest

    def provider_fixture():
        provider = OpenIDProvider(**options).start()
        try:
            if setup is not None:
                setup(provider)
            yield provider
        finally:
            provider.stop()

    if name is not None:
        return pytest.fixture(scope=scope, name=name)(provider_fixture)
    return pytest.fixture(scope=scope)(provider_fixture)
