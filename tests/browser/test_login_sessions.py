"""Logins in the browser: logout ends the session for every copy of the cookie; a NUL byte in a
URL gets a clear, accessible page."""
import pytest

from tests.browser.conftest import assert_accessible, login, new_context
from tests.webapp.cases.helpers import PASSWORD, municipality

pytestmark = pytest.mark.browser


def test_a_copied_cookie_dies_with_logout(browser, page, live_server, services):
    municipality(services)
    login(page, live_server, "kari", PASSWORD)
    assert page.url.endswith("/oppgaver")
    assert_accessible(page)
    thief = new_context(browser)
    try:
        thief.add_cookies(page.context.cookies())
        stolen = thief.new_page()
        stolen.goto(f"{live_server}/oppgaver")
        assert stolen.url.endswith("/oppgaver")  # the copy works while kari is logged in

        page.click("form[action='/logg-ut'] button")
        assert "/logg-inn" in page.url and "Du er logget ut." in page.content()
        stolen.goto(f"{live_server}/oppgaver")
        assert "/logg-inn" in stolen.url  # and not after she logged out
    finally:
        thief.close()


def test_a_nul_byte_in_a_url_gets_a_clear_page(page, live_server, services):
    municipality(services)
    response = page.goto(f"{live_server}/logg-inn?next=%2Foppgaver%00")
    assert response.status == 400
    assert page.locator("h1").inner_text() == "Ugyldig tegn"
    assert "Teksten inneholder et tegn som ikke er tillatt (NUL)." in page.content()
    assert_accessible(page)
