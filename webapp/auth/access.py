"""Who may do what: login and role guards for views."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, url_for


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


def role_required(*roles: str):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not g.user.has_role(*roles):
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorate


#: what a citizen (the person, a guardian) may reach besides their own pages (blueprint "portal")
CITIZEN_ENDPOINTS = frozenset({"static", "auth.logout", "auth.language", "auth.login"})


def keep_citizens_home():
    """The person and guardians reach their own pages only: any staff page sends them home (a
    redirect, so a link from an e-mail meant for the staff side still lands somewhere useful).
    Their access to case data is decided there (``cases.own_access``), never by staff rules."""
    user = g.get("user")
    if user is None or not user.is_citizen or request.endpoint is None:
        return None
    if request.endpoint in CITIZEN_ENDPOINTS or request.endpoint.startswith(("portal.", "oidc.")):
        return None
    return redirect(url_for("portal.home"))
