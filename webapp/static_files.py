"""Static files (Designsystemet's CSS and fonts, our CSS, the editor bundle): versioned URLs that
browsers keep, instead of asking again on every page.

``url_for('static', filename=...)`` gets ``?v=`` and the first 12 hex digits of the file's SHA-256;
a response for such a URL may be kept for a year (``immutable``): a new release changes the
digest, so the page names a new URL (an old or made-up ``v`` gets the short lifetime below). Files named from inside a stylesheet (the fonts) cannot
carry a version; browsers keep them an hour, then ask again (answered ``304`` if unchanged).
Before this, every page view made seven conditional requests for files that never change, each
with a session lookup in the database.
"""
from __future__ import annotations

import hashlib

from flask import Flask, request
from werkzeug.security import safe_join

#: a versioned file: its URL changes with its content
VERSIONED = "public, max-age=31536000, immutable"
#: a file named by a stylesheet (a font): kept an hour, then revalidated
UNVERSIONED = "public, max-age=3600"


def register(app: Flask) -> None:
    digests: dict[str, str] = {}

    def digest(filename: str) -> str:
        """The file's version: read once per process (the files ship with a release), and on
        every call in debug mode, where they are edited while the server runs."""
        found = digests.get(filename)
        if found is None or app.debug:
            path = safe_join(app.static_folder or "", filename)
            try:
                with open(path or "", "rb") as file:
                    found = hashlib.sha256(file.read()).hexdigest()[:12]
            except OSError:  # no such file: the URL stays as it was and answers 404
                found = ""
            digests[filename] = found
        return found

    @app.url_defaults
    def versioned(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            version = digest(values.get("filename") or "")
            if version:
                values["v"] = version

    @app.after_request
    def cached(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            current = request.args.get("v") == digest((request.view_args or {}).get("filename") or "")
            response.headers["Cache-Control"] = VERSIONED if current else UNVERSIONED
        return response
