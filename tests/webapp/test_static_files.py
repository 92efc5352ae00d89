"""Static files: pages name them with a version, browsers may keep a versioned file for a year,
and serving one asks nothing of the database."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.conftest import login_client
from tests.statements import counting
from tests.webapp.cases.helpers import municipality

APP_CSS = Path(__file__).resolve().parents[2] / "webapp" / "static" / "css" / "app.css"


def _stylesheets(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)


def test_pages_name_static_files_by_their_content(app, services):
    municipality(services)
    client = login_client(app, "kari")
    links = _stylesheets(client.get("/oppgaver").text)
    digest = hashlib.sha256(APP_CSS.read_bytes()).hexdigest()[:12]
    assert f"/static/css/app.css?v={digest}" in links
    assert all("?v=" in link for link in links), links


def test_a_versioned_file_is_kept_and_others_are_revalidated(app, services):
    municipality(services)
    client = login_client(app, "kari")
    link = next(link for link in _stylesheets(client.get("/oppgaver").text) if "app.css" in link)
    kept = client.get(link)
    assert kept.status_code == 200
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert kept.data == APP_CSS.read_bytes()
    for unversioned in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(unversioned)  # a font named by a stylesheet; an old or made-up version
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert client.get("/static/css/finnes-ikke.css").status_code == 404


def test_serving_a_static_file_reads_nothing_from_the_database(app, services):
    municipality(services)
    client = login_client(app, "kari")  # a logged-in browser: its session is not looked up for a file
    link = next(link for link in _stylesheets(client.get("/oppgaver").text) if "app.css" in link)
    with counting(services.db.engine) as counted:
        assert client.get(link).status_code == 200
    assert len(counted) == 0, counted.report()


def test_kept_urls_follow_the_script_root(app, services):
    """Templates keep a URL that takes no values (or only a static file's name) once built; an app
    mounted under a prefix (``SCRIPT_NAME``) still gets its own prefixed URLs, and a view's own
    headers (the login page's) are still sent with the security headers added."""
    municipality(services)
    client = app.test_client()
    plain = client.get("/logg-inn").text
    mounted = client.get("/logg-inn", environ_overrides={"SCRIPT_NAME": "/ag"}).text
    assert any(link.startswith("/static/css/app.css?v=") for link in _stylesheets(plain))
    assert any(link.startswith("/ag/static/css/app.css?v=") for link in _stylesheets(mounted))
    assert not any(link.startswith("/static/") for link in _stylesheets(mounted))
    again = client.get("/logg-inn").text  # the kept URL of the first root is still its own
    assert _stylesheets(again) == _stylesheets(plain)
