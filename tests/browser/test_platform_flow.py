"""A user completes a step in the browser; invalid input comes back with the input kept."""
import pytest

from tests.browser.conftest import assert_accessible, login
from tests.conftest import deploy_test_diagrams
from tests.webapp.engine.helpers import make_case

pytestmark = pytest.mark.browser


def test_complete_steps_in_the_browser(page, live_server, services):
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    services.engine.start(case_id, "two_steps", actor_id=user_id)

    login(page, live_server, "kari", "passord123")
    assert page.locator("h1").inner_text() == "Mine oppgaver"
    assert_accessible(page)
    page.click("text=Første steg")
    assert_accessible(page)

    page.fill("#f-x", "tolv")
    page.fill("#f-note", "behold meg")
    page.click("button[type=submit]")
    page.locator(".ds-error-summary").wait_for(state="visible")
    assert page.locator("#f-x-err").inner_text() == "Skriv et helt tall."
    assert page.input_value("#f-x") == "tolv" and page.input_value("#f-note") == "behold meg"
    assert_accessible(page)

    page.fill("#f-x", "9")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Andre steg"  # the next step opened directly
    page.fill("#f-comment", "Ferdig")
    page.check("text=ja")
    page.click("button[type=submit]")
    assert page.url.endswith(f"/saker/{case_id}")
    assert "Ingen åpne oppgaver." in page.content()
