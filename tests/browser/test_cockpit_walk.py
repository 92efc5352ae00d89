"""The system owner's cockpit in real Chromium, on the demo's groups: find the case with an
incident and retry it, find the orphaned step and give it to a member of the case, open the
meeting process's view and see its counts. axe checks every page on the way."""
import pytest
from sqlalchemy import func, select

from tests.browser.conftest import assert_accessible, login
from tests.webapp.cases.helpers import ROOT
from webapp.demo import DEMO_PASSWORD, seed
from webapp.engine.models import Incident, OpenTask
from webapp.engine.operations import deploy_library

pytestmark = pytest.mark.browser


def test_system_owner_acts_on_stuck_cases(page, live_server, app, services):
    deploy_library(services.db, services.clock, ROOT / "processes", ROOT / "forms", services.engine.handlers.keys())
    seed(app)
    base = live_server
    login(page, base, "system", DEMO_PASSWORD)
    page.goto(f"{base}/tilsyn/")
    assert_accessible(page)

    page.click("a:has-text('Feil i et steg')")  # the rule's own list
    row = page.locator("section[aria-labelledby=h-cases] tbody tr", has_text="Feil i et steg").first
    row.locator("input[name=reason]").fill("Fagsystemet svarer igjen")
    row.locator("button:has-text('Prøv igjen')").click()
    assert "1 steg gikk gjennom." in page.content()
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident).where(Incident.status == "open")) == 0

    page.goto(f"{base}/tilsyn/?regel=orphaned_step")
    assert_accessible(page)
    page.locator("section[aria-labelledby=h-cases] tbody tr").first.locator("a:has-text('Gi steget til en annen')").click()
    assert_accessible(page)
    page.locator("input[name=user_id]").first.check()
    page.fill("#reason", "Koordinatoren har sluttet; medlemmet tar steget til ny koordinator er oppnevnt")
    page.click("button[type=submit]:has-text('Gi steget')")
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.orphaned.is_(True))) == 0
    assert "Steg uten noen som kan gjøre det" in page.content()  # back on the cockpit

    page.click("a:has-text('Se prosessene')")
    assert_accessible(page)
    page.click("a[href$='/tilsyn/prosesser/meeting']")
    page.wait_for_function("() => window.ansvarProcessMap && document.querySelector('.pm-badge')")
    badges = page.locator(".pm-badge").all_text_contents()
    # Sofie Dahl at planning; Ida Aas and Jonas Lie (his next meeting, the plan as its agenda) at the agenda
    assert any(b.startswith("1 venter") for b in badges) and any(b.startswith("2 venter") for b in badges), badges
    assert_accessible(page)
