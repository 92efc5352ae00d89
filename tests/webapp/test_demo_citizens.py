"""The demo's person and guardian logins (issue 15): Jonas Lie (16) sees his own group, its next
meeting, his plan and the approved minutes of the first meeting; Tor Hansen, guardian of Emil,
is asked for the consent the group waits for. Both reach their own pages only."""
from pathlib import Path

import pytest

from tests.conftest import login_client
from webapp.demo import DEMO_PASSWORD, seed
from webapp.engine.operations import deploy_library


@pytest.fixture
def demo(app, services):
    root = Path(__file__).resolve().parents[2]
    deploy_library(services.db, services.clock, root / "processes", root / "forms", sorted(services.engine.handlers))
    assert seed(app)
    return app


def _client(app, username):
    return login_client(app, username, DEMO_PASSWORD)


def test_jonas_sees_his_group_meeting_plan_and_minutes(demo):
    client = _client(demo, "jonas")
    home = client.get("/min-side", follow_redirects=True)
    text = home.get_data(as_text=True)
    assert home.status_code == 200 and "Ansvarsgruppen for Jonas Lie" in text
    assert "Kari Koordinator" in text and "Neste møte" in text and "Les planen og tiltakene" in text
    assert "Møte 1" in text  # its minutes are approved
    staff_page = client.get("/saker/", follow_redirects=False)  # staff pages send him home
    assert staff_page.status_code == 302 and staff_page.headers["Location"].endswith("/min-side")


def test_tor_is_asked_for_the_consent(demo):
    client = _client(demo, "tor")
    page = client.get("/min-side", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Ansvarsgruppen for Emil Hansen" in text and "Les og gi samtykke" in text
    consent = client.get(page.request.path + "/samtykke")
    assert consent.status_code == 200 and "Gi samtykke" in consent.get_data(as_text=True)
