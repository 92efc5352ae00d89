from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from webapp.auth.models import User
from webapp.auth.oidc import providers
from webapp.auth.oidc_views import logout_url
from webapp.auth.signin import clear_keeping_language, open_browser_session
from webapp.auth.operations import (LANGUAGES, authenticate, end_session, login_blocked, record_login,
                                    session_user, set_language, start_session)
from webapp.services import db_session, services

bp = Blueprint("auth", __name__)


def load_user() -> None:
    """``g.user`` from the session cookie's token, checked against its server-side row: a cookie
    whose session was ended (logout, deactivation, new password) or has expired opens nothing.
    Static files are public and need no user: no lookup for them."""
    if request.endpoint == "static":
        g.user = None
        return
    token = session.get("sid")
    g.user = session_user(db_session(), token, services().clock.now()) if token else None
    if token and g.user is None:
        clear_keeping_language()


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("tasks.inbox")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("tasks.inbox")
    return target


@bp.route("/logg-inn", methods=["GET", "POST"])
def login():
    username = ""
    error = None
    status = 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:80]
        password = request.form.get("password") or ""
        ip = request.remote_addr or "?"
        services_ = services()
        now = services_.clock.now()
        if login_blocked(db_session(), username, ip, now):
            error, status = _("For mange mislykkede forsøk. Vent et kvarter og prøv igjen."), 429
        else:
            user = authenticate(db_session(), username, password) if username and password else None
            with services_.db.transaction() as s:
                record_login(s, username, ip, user is not None, now)
                token = None
                if user is not None:
                    end_session(s, session.get("sid"))  # a new login replaces this browser's old one
                    token = start_session(s, user.id, now=now, lifetime=current_app.permanent_session_lifetime)
            if user is None:
                error, status = _("Feil brukernavn eller passord."), 401
            else:
                open_browser_session(user, token)
                return redirect(_safe_next(request.args.get("next")))
    demo_users = current_app.config.get("DEMO_USERS") if current_app.config.get("DEMO") else None
    return render_template("auth/login.html", username=username, error=error, demo_users=demo_users,
                           providers=providers().values()), status


@bp.route("/logg-ut", methods=["POST"])
def logout():
    token = session.get("sid")
    if token:
        with services().db.transaction() as s:
            end_session(s, token)
    provider_logout = logout_url(session.get("oidc"))  # logged in at a provider: log out there too
    clear_keeping_language()
    flash(_("Du er logget ut."))
    return redirect(provider_logout or url_for("auth.login"))


@bp.route("/sprak", methods=["POST"])
def language():
    """The language of the interface, for this browser and, when logged in, kept on the account."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        if g.user is not None:
            user_id = g.user.id
            db_session().rollback()  # no read transaction open across the write (SQLite's WAL)
            with services().db.transaction() as s:
                set_language(s, s.get(User, user_id), lang, at=services().clock.now())
    return redirect(_safe_next(request.form.get("next")))
