from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from webapp.auth.models import User
from webapp.auth.operations import authenticate, login_blocked, record_login
from webapp.services import db_session, services

bp = Blueprint("auth", __name__)


def load_user() -> None:
    user_id = session.get("user_id")
    g.user = db_session().get(User, user_id) if user_id else None
    if g.user is not None and not g.user.active:
        session.clear()
        g.user = None


def _clear_session_keeping_language() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


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
            if user is None:
                error, status = _("Feil brukernavn eller passord."), 401
            else:
                _clear_session_keeping_language()
                session["user_id"] = user.id
                session.permanent = True
                return redirect(_safe_next(request.args.get("next")))
    demo_users = current_app.config.get("DEMO_USERS") if current_app.config.get("DEMO") else None
    return render_template("auth/login.html", username=username, error=error, demo_users=demo_users), status


@bp.route("/logg-ut", methods=["POST"])
def logout():
    _clear_session_keeping_language()
    flash(_("Du er logget ut."))
    return redirect(url_for("auth.login"))


@bp.route("/sprak", methods=["POST"])
def language():
    lang = request.form.get("lang")
    if lang in ("nb", "en"):
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
