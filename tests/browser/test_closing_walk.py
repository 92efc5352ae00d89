"""New users walk, in real Chromium: a yearly evaluation that decides to close the group, the
closing with final minutes, a closing on the guardians' wish, and re-establishment."""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.browser.conftest import assert_accessible
from tests.browser.test_establishment_walk import as_user
from tests.webapp.cases.helpers import establish, municipality
from webapp.clock import OSLO

pytestmark = pytest.mark.browser


@pytest.fixture
def users(services):
    return municipality(services)


@pytest.fixture
def case_id(services, users, clock):
    clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=OSLO))
    return establish(services, users, until="active")


def confirm_and_close(page, *, today: str, in_meeting: bool):
    assert page.locator("h1").inner_text() == "Bekreft avslutningen med personen"
    assert "Ønske om avslutning" in page.content()  # the context panel
    assert_accessible(page)
    page.check("label:has-text('Ja, gruppen avsluttes')")
    page.fill("#f-confirmed_with", "Anne Berg")
    page.fill("#f-confirmed_on", today)
    page.fill("#f-reason", "Målene i planen er nådd")
    page.check("label:has-text('Ja, det skrives sluttreferat')" if in_meeting else "#f-closing_meeting-2")
    page.click("button:has-text('Registrer')")


def test_evaluation_decides_to_close_then_the_group_is_reestablished(page, live_server, services, users,
                                                                      case_id, clock):
    base = live_server
    clock.set(datetime(2027, 1, 12, 9, 0, tzinfo=OSLO))
    services.engine.fire_due_timers()
    as_user(page, base, "kari")
    page.click("text=Evaluer ansvarsgruppen")
    assert "Siden forrige evaluering" in page.content() and "Fra retningslinjen" in page.content()
    assert_accessible(page)
    page.fill("#f-composition", "Riktige tjenester")
    page.fill("#f-atmosphere", "Godt samarbeid")
    page.fill("#f-efficiency", "Korte møter")
    page.fill("#f-work", "Tiltakene er gjennomført")
    page.fill("#f-persons_view", "Emma og Anne mener gruppen ikke trengs lenger")
    page.check("#f-still_needed-2")  # Nei
    page.check("label:has-text('Gruppen avsluttes')")
    page.click("button:has-text('Registrer evalueringen')")
    # a decision to close needs a reason: the page comes back with the input kept
    assert "Begrunnelse for beslutningen" in page.locator(".ds-error-summary").inner_text()
    assert page.input_value("#f-persons_view") == "Emma og Anne mener gruppen ikke trengs lenger"
    page.fill("#f-decision_reason", "Målene er nådd")
    page.click("button:has-text('Registrer evalueringen')")
    # the closing is now in the coordinator's inbox
    page.click("text=Mine oppgaver")
    page.click("text=Bekreft avslutningen med personen")
    confirm_and_close(page, today="2027-01-12", in_meeting=True)
    assert page.locator("h1").inner_text() == "Skriv sluttreferat"
    assert_accessible(page)
    page.fill("#f-meeting_date", "2027-01-12")
    page.fill("#f-present", "Kari, Siri, Anne og Emma")
    page.fill("#f-summary", "Gruppen avsluttes etter et godt år")
    page.fill("#f-next_steps", "Skolen følger opp")
    page.click("button:has-text('Registrer sluttreferat og avslutt')")
    assert "Avsluttet" in page.locator("#h-closing + p").inner_text()
    assert page.locator("a:has-text('Avslutningsmelding (PDF)')").count() == 1
    assert_accessible(page)

    # the coordinating unit re-establishes the group on a changed need
    as_user(page, base, "ke")
    page.goto(f"{base}/saker/{case_id}")
    assert "Gruppen avsluttes etter et godt år" not in page.content()  # register view only
    page.click("summary:has-text('Opprett gruppen på nytt')")
    page.click("button:has-text('Registrer nytt ønske')")
    assert page.locator("#re-wish-err").count() == 1
    page.check("label:has-text('Foresatte')")
    page.fill("#re-requested_by_name", "Anne Berg")
    page.fill("#re-wish", "Emma begynner på ungdomsskolen og trenger gruppen igjen")
    page.click("button:has-text('Registrer nytt ønske')")
    assert "Nytt samtykke kreves" in page.content()
    assert "Opprettet på nytt etter" in page.content()
    assert_accessible(page)
    page.click("text=Mine oppgaver")
    assert page.locator("text=Oppnevn koordinator").count() == 1


def test_closing_on_the_guardians_wish(page, live_server, services, users, case_id):
    base = live_server
    as_user(page, base, "kari")
    page.goto(f"{base}/saker/{case_id}")
    page.click("summary:has-text('Personen eller foresatte ønsker å avslutte gruppen')")
    page.check("#cl-initiated_by-guardian")
    page.fill("#cl-requested_by_name", "Anne Berg")
    page.click("button:has-text('Start avslutning')")
    assert page.locator("#cl-request_reason-err").count() == 1  # missing: kept, not saved
    assert page.input_value("#cl-requested_by_name") == "Anne Berg"
    page.fill("#cl-request_reason", "Familien flytter og ønsker å avslutte")
    page.click("button:has-text('Start avslutning')")
    assert "Avslutningen er startet" in page.content()
    page.click("text=Bekreft avslutningen med personen")
    confirm_and_close(page, today="2026-01-12", in_meeting=False)
    assert "Avsluttet" in page.content()
    as_user(page, base, "siri")
    assert page.goto(f"{base}/saker/{case_id}").status == 404
