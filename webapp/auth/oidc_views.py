"""Logging in through an OpenID provider (webapp/auth/oidc.py): the redirect to the provider, the
way back with the authorization code (staff to their inbox, the person and guardians through
ID-porten to their own pages), and logging out at the provider too."""
from __future__ import annotations

from authlib.common.errors import AuthlibBaseError
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from webapp.auth import oidc
from webapp.auth.models import User
from webapp.auth.operations import end_session, record_login, start_session
from webapp.auth.signin import open_browser_session
from webapp.cases import identity
from webapp.portal.operations import link_citizen
from webapp.services import db_session, services

bp = Blueprint("oidc", __name__)


def _provider(name: str) -> oidc.Provider:
    provider = oidc.providers().get(name)
    if provider is None:
        abort(404)
    return provider


def _refused(message: str, status: int):
    """A login that did not give a session: a clear page, nothing stored."""
    return render_template("auth/oidc_refused.html", message=message), status


@bp.get("/logg-inn/med/<name>")
def start(name: str):
    provider = _provider(name)
    next_page = request.args.get("next") or ""
    session["oidc_next"] = next_page if next_page.startswith("/") and not next_page.startswith("//") else ""
    extra = {"acr_values": provider.settings["acr_values"]} if provider.settings.get("acr_values") else {}
    return oidc.client(name).authorize_redirect(url_for("oidc.callback", name=name, _external=True), **extra)


@bp.get("/logg-inn/med/<name>/svar")
def callback(name: str):
    provider = _provider(name)
    if request.args.get("error"):
        return _refused(_("Innloggingen ble avbrutt hos %(provider)s. Ingenting er lagret; prøv igjen.",
                          provider=provider.title), 400)
    try:
        token = oidc.client(name).authorize_access_token()
    except (AuthlibBaseError, ValueError, KeyError, OSError):
        current_app.logger.warning("OpenID login failed at %s", name, exc_info=True)
        return _refused(_("Innloggingen kunne ikke fullføres. Ingenting er lagret; prøv igjen."), 400)
    claims = token.get("userinfo") or {}
    if provider.kind == "citizen":
        return _citizen_login(provider, token, claims)
    user = _staff_user(provider, claims)
    if user is None:
        return _refused(_("Du er logget inn hos %(provider)s, men har ingen konto her. Kontakt en "
                          "administrator i kommunen.", provider=provider.title), 403)
    now = services().clock.now()
    with services().db.transaction() as s:
        record_login(s, user.username, request.remote_addr or "?", True, now)
        end_session(s, session.get("sid"))
        sid = start_session(s, user.id, now=now, lifetime=current_app.permanent_session_lifetime)
    next_page = session.get("oidc_next") or ""
    open_browser_session(user, sid, oidc={"provider": name, "id_token": token.get("id_token")})
    return redirect(next_page or url_for("tasks.inbox"))


def _citizen_login(provider: oidc.Provider, token: dict, claims: dict):
    """ID-porten: the person or a guardian, by the ID token's ``pid`` at an ``acr`` at least the
    provider's minimum. The account is made or linked (``portal.operations.link_citizen``) in the
    same transaction as the session; a refusal stores nothing."""
    acr = claims.get("acr")
    if not provider.acr_ok(acr):
        return _refused(_("Innloggingen hos %(provider)s hadde for lavt sikkerhetsnivå for denne tjenesten. "
                          "Logg inn på nytt med MinID, BankID eller et annet middel på nivå betydelig eller "
                          "høyt. Ingenting er lagret.", provider=provider.title), 403)
    digest = identity.digest(str(claims.get("pid") or ""))
    if digest is None:
        return _refused(_("%(provider)s oppga ikke et gyldig fødselsnummer, så vi kan ikke finne deg. "
                          "Ingenting er lagret; prøv igjen.", provider=provider.title), 403)
    now = services().clock.now()
    db_session().rollback()  # no read transaction open across the write (SQLite's WAL)
    for attempt in (1, 2):  # a first login twice at once: the second finds the account the first made
        try:
            with services().db.transaction() as s:
                user = link_citizen(s, digest, at=now, reassign=services().engine.reassign)
                if user is not None:
                    record_login(s, user.username, request.remote_addr or "?", True, now)
                    end_session(s, session.get("sid"))
                    sid = start_session(s, user.id, now=now, lifetime=current_app.permanent_session_lifetime)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if user is None:
        return _refused(_("Du er logget inn med %(provider)s, men vi finner ingen ansvarsgruppe der du er "
                          "personen selv eller foresatt. Ingen konto er opprettet. Kontakt koordinatoren "
                          "eller kommunen.", provider=provider.title), 403)
    next_page = session.get("oidc_next") or ""
    open_browser_session(user, sid, oidc={"provider": provider.name, "id_token": token.get("id_token")}, acr=acr)
    return redirect(next_page or url_for("portal.home"))


def _staff_user(provider: oidc.Provider, claims: dict) -> User | None:
    """The active staff account the token names (user name or e-mail, case-insensitive)."""
    values = [str(claims[c]).strip() for c in provider.settings.get("username_claims", ()) if claims.get(c)]
    if not values:
        return None
    lowered = [v.casefold() for v in values]
    candidates = db_session().scalars(select(User).where(
        User.active.is_(True), or_(func.lower(User.username).in_(lowered), func.lower(User.email).in_(lowered))))
    return next((u for u in candidates if u.has_role("staff")), None)


def logout_url(state: dict | None) -> str | None:
    """Where logout sends the browser when the login came from a provider that ends its own
    session too (RP-initiated logout), else None."""
    if not state or state.get("provider") not in oidc.providers():
        return None
    try:
        metadata = oidc.client(state["provider"]).load_server_metadata()
    except (AuthlibBaseError, ValueError, OSError):
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    from urllib.parse import urlencode
    params = {"post_logout_redirect_uri": url_for("auth.login", _external=True),
              "client_id": oidc.client(state["provider"]).client_id}
    if state.get("id_token"):
        params["id_token_hint"] = state["id_token"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
