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
