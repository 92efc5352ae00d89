"""The rest of the person's and guardians' pages in Chromium at phone width (390 px), with axe
(issue 15; the guardian's whole walk is test_guardian_walk.py): the list of a guardian's groups,
the plan, answering a meeting, asking for one, the withdrawal page, and the young person's answer
about the guardians' access. Bad input keeps what was written."""
from datetime import date

import pytest
from sqlalchemy import select

from tests.browser.conftest import assert_accessible, login
from tests.webapp.cases.helpers import PASSWORD, establish, municipality
from tests.webapp.plans.helpers import adopted_plan
from tests.webapp.portal.helpers import citizen, establish_named, link
from webapp.cases.models import Case
from webapp.meetings.models import MeetingReply, MeetingRequest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def users(services):
    return municipality(services)


def test_a_guardians_pages_on_a_phone(page, live_server, services, users):
    emma = establish(services, users)
    adopted_plan(services, users, emma)
    ola = establish_named(services, users, "Ola Berg")
    citizen(services, "anne", "Anne Berg", email="anne@example.org")
    link(services, emma, "foresatt", "anne")
    link(services, ola, "foresatt", "anne")
    page.set_viewport_size(PHONE)
    login(page, live_server, "anne", PASSWORD)
    page.goto(f"{live_server}/min-side")
    cards = page.locator(".app-portal-list li").all_inner_texts()
    assert len(cards) == 2 and any("Emma Berg" in c for c in cards) and any("Ola Berg" in c for c in cards)
    assert_accessible(page)

    page.locator("li:has-text('Emma Berg') a:has-text('Åpne gruppen')").click()
    assert "Ansvarsgruppen for Emma Berg" in page.locator("h1").inner_text()
    page.locator("a:has-text('Les planen og tiltakene')").click()
    assert page.locator("h1").inner_text() == "Individuell plan"
    assert_accessible(page)

    page.goto(f"{live_server}/min-side/saker/{emma}")
    page.locator("a:has-text('Se møtet')").click()
    page.locator("section[aria-labelledby=svar] a").click()
    page.fill("#f-note", "Jeg er på jobb den dagen")
    page.click("button[type=submit]")  # no answer chosen
    assert page.locator("#f-note").input_value() == "Jeg er på jobb den dagen"
    assert page.locator(".ds-error-summary, [data-color=danger]").count() >= 1
    assert_accessible(page)
    page.check("input[name=attends][value=nei]")
    page.click("button[type=submit]")
    assert "Takk for svaret" in page.content()
    with services.db.session() as s:
        reply = s.scalar(select(MeetingReply))
        assert reply.attends is False and reply.note == "Jeg er på jobb den dagen"

    page.goto(f"{live_server}/min-side/saker/{emma}")
    page.locator("a:has-text('Be om et møte')").click()
    page.click("button[type=submit]")  # empty
    assert_accessible(page)
    page.fill("#f-reason", "Vi vil snakke om skoleskyssen")
    page.click("button[type=submit]")
    assert "Koordinatoren har fått beskjed" in page.content()
    with services.db.session() as s:
        assert s.scalar(select(MeetingRequest.reason)) == "Vi vil snakke om skoleskyssen"

    page.goto(f"{live_server}/min-side/saker/{emma}/samtykke")
    assert_accessible(page)
    page.locator("a:has-text('Trekk samtykket tilbake')").click()
    assert page.locator("h1").inner_text() == "Trekk samtykket tilbake"
    assert_accessible(page)


def test_the_young_person_decides_on_the_guardians_access(page, live_server, services, users):
    born = date(services.clock.today().year - 17, 1, 15).isoformat()
    case_id = establish(services, users, born=born)
    citizen(services, "emma", "Emma Berg", email="emma@example.org")
    link(services, case_id, "bruker", "emma")
    page.set_viewport_size(PHONE)
    login(page, live_server, "emma", PASSWORD)
    page.goto(f"{live_server}/min-side")
    assert "Ansvarsgruppen for Emma Berg" in page.locator("h1").inner_text()
    assert_accessible(page)
    page.locator("a:has-text('Foresattes innsyn')").click()
    page.click("button[type=submit]")  # no answer
    assert_accessible(page)
    page.check("input[name=guardians_may_see][value=ja]")
    page.click("button[type=submit]")
    assert "Svaret ditt er lagret" in page.content()
    with services.db.session() as s:
        assert s.get(Case, case_id).guardians_may_see is True
