"""This browser's side of a login, the same for a password and an OpenID provider: the signed
cookie holds the server-side session's token and the language; nothing else survives a login or
a logout."""
from __future__ import annotations

from flask import session

from webapp.auth.models import User
from webapp.auth.operations import LANGUAGES


def clear_keeping_language() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def open_browser_session(user: User, token: str, **extra) -> None:
    """The cookie after a successful login: the session token, the account's language (it
    follows the user) or the one chosen before, and ``extra`` (e.g. the provider's ID token)."""
    clear_keeping_language()
    if user.language in LANGUAGES:
        session["lang"] = user.language
    session.update(extra)
    session["sid"] = token
    session.permanent = True
