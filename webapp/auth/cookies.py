"""The browser's signed session cookie (Flask's), with its signer built once.

Flask builds the cookie's signing serializer anew when it opens a session and again when it saves
one, and itsdangerous tests the serializer with a trial encoding each time it is built: about an
eighth of a short request. The serializer holds only the keys and settings, so one per set of
keys serves every request and thread.
"""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        found = self._serializers.get(keys)
        if found is None:
            found = self._serializers[keys] = super().get_signing_serializer(app)
        return found
