"""Browser walks: an administrator deactivates a coordinator and hands the steps over; the inbox
and the case page at phone width (390 px) without sideways scrolling and with the due dates."""
import pytest
from sqlalchemy import select

from tests.browser.conftest import assert_accessible, login
from tests.webapp.cases.helpers import PASSWORD, establish, municipality
from webapp.auth.operations import create_user
from webapp.cases.operations import current_coordinator
from webapp.engine.models import OpenTask

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def seed(services):
    users = municipality(services)
    with services.db.transaction() as s:
        users["admin"] = create_user(s, "admin", "Anne Admin", PASSWORD, roles=("admin",), at=services.clock.now()).id
    return users, establish(services, users)


def test_a_user_deactivated_with_their_steps_handed_over(page, live_server, services, seed):
    users, case_id = seed
    with services.db.session() as s:
        kari_steps = s.scalars(select(OpenTask.task_id).where(OpenTask.assignee_id == users["kari"])).all()
    assert kari_steps
    login(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/admin/brukere")
    assert_accessible(page)
    page.click("table >> text=Kari Koordinator")
    assert page.locator("h1").inner_text() == "Kari Koordinator"
    assert_accessible(page)

    # a bad e-mail address: the message at the field, the input kept, nothing saved
    page.fill("#f-email", "ikke en adresse")
    page.fill("#f-full_name", "Kari K. Koordinator")
    page.click("button:has-text('Lagre endringene')")
    page.locator("#f-email-err").wait_for(state="visible")
    assert page.input_value("#f-full_name") == "Kari K. Koordinator"
    assert_accessible(page)

    page.select_option("#successor", label="Ola Helse (ola)")
    page.click("button:has-text('Deaktiver brukeren')")
    assert "Brukeren er deaktivert" in page.locator(".ds-alert").first.inner_text()
    page.locator("text=Aktiver brukeren igjen").wait_for(state="visible")
    assert_accessible(page)
    with services.db.session() as s:
        assert current_coordinator(s, case_id).user_id == users["ola"]
        moved = s.scalars(select(OpenTask.task_id).where(OpenTask.assignee_id == users["ola"])).all()
    assert set(kari_steps) <= set(moved)

    # Ola finds the steps in the inbox; Kari can no longer log in
    page.context.clear_cookies()
    login(page, live_server, "ola", PASSWORD)
    page.goto(f"{live_server}/oppgaver")
    assert page.locator(f"a[href$='{kari_steps[0]}']").count() == 1
    page.context.clear_cookies()
    login(page, live_server, "kari", PASSWORD)
    assert "/logg-inn" in page.url


def test_inbox_and_case_page_at_phone_width(page, live_server, services, seed):
    users, case_id = seed
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "kari", PASSWORD)
    page.goto(f"{live_server}/oppgaver")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("document.documentElement.scrollWidth")
    # every due-date cell lies within the screen (not cut off in a sideways-scrolling table), labelled
    assert page.evaluate("""() => { const cells = [...document.querySelectorAll('td.app-due')];
        return cells.length > 0 && cells.every(td => { const r = td.getBoundingClientRect();
            return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; }); }""")
    assert "Frist" in page.locator("td.app-due").first.evaluate("td => getComputedStyle(td, '::before').content")
    assert_accessible(page)
    page.select_option("#inbox-vis", "overdue")
    page.click("button:has-text('Vis oppgavene')")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.goto(f"{live_server}/saker/{case_id}")
    page.locator("h1").wait_for(state="visible")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("""() => [document.documentElement.scrollWidth,
        ...[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)
        .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)]""")
    assert_accessible(page)
    # the coordinating unit (more menu items; the register-data view of the case)
    page.context.clear_cookies()
    login(page, live_server, "ke", PASSWORD)
    page.goto(f"{live_server}/saker/{case_id}")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("document.documentElement.scrollWidth")
