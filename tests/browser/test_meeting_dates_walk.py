"""Meeting dates in real Chromium (issue 10 §1): a meeting moved at the late-notice step and then
held, and minutes corrected and approved again; axe checks on every new page."""
import io
from datetime import datetime, time, timedelta

import pytest
from pypdf import PdfReader

from tests.browser.conftest import approve_and_send_minutes, assert_accessible
from tests.browser.test_establishment_walk import as_user
from tests.webapp.cases.helpers import complete, establish, municipality
from tests.webapp.meetings.helpers import hold_data, plan, prepare, weekday_after
from webapp.clock import OSLO

pytestmark = pytest.mark.browser


def test_a_meeting_moved_and_then_held(page, live_server, services):
    users = municipality(services)
    case_id = establish(services, users, until="active")
    base = live_server
    plan(services, users, case_id, days=5)  # too late for 14 days' notice
    complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])

    as_user(page, base, "kari")
    page.click("text=Sett opp saksliste og send innkalling")
    page.check("label:has-text('Sakslisten er avtalt med personen')")
    page.click("button:has-text('Send innkalling')")
    assert page.locator("h1").inner_text().startswith("Innkallingen er for sen")
    assert_accessible(page)
    earliest_text = page.locator("#earliest-date").inner_text()
    earliest = datetime.strptime(earliest_text.split(":")[-1].strip(), "%d.%m.%Y").date()
    too_soon = earliest - timedelta(days=1)
    page.check("label:has-text('Flytte møtet til en ny dato')")
    page.fill("#f-new_date", too_soon.isoformat())
    page.fill("#f-new_time", "09:00")
    page.click("button:has-text('Fullfør steget')")
    # a clear message naming the earliest date; the input kept; the step not left
    assert f"Tidligste mulige dato er {earliest:%d.%m.%Y}" in page.locator("#f-new_date-err").inner_text()
    assert page.input_value("#f-new_date") == too_soon.isoformat()
    assert_accessible(page)
    new_day = weekday_after(services, (earliest - services.clock.today()).days + 2)
    page.fill("#f-new_date", new_day.isoformat())
    page.click("button:has-text('Fullfør steget')")

    page.goto(f"{base}/saker/{case_id}")
    assert f"{new_day:%d.%m.%Y}" in page.content()  # the case page shows the moved date
    page.goto(f"{base}/oppgaver")
    assert page.locator("tr:has-text('Hold første møte')").count() == 0  # Siri's step, not Kari's

    services.clock.set(datetime.combine(new_day, time(11, 0), OSLO))  # after the meeting has started
    as_user(page, base, "siri")
    row = page.locator("tr:has-text('Hold første møte og skriv referat')")
    assert f"{new_day:%d.%m.%Y}" in row.inner_text()  # the step's due date moved with the meeting
    page.click("text=Hold første møte og skriv referat")
    page.check("label:has-text('Kommunens retningslinjer for møtene er gjennomgått')")
    page.check("label:has-text('Ingen tidligere referat')")
    page.check("#f-attendance-0-present")
    page.fill("#f-attendance-1-absence_reason", "Syk")
    page.check("#f-attendance-1-present")  # contradictory: absent and present
    page.fill("#f-persons_account", "Emma gleder seg til skolen")
    page.fill("#f-summary", "God start")
    page.fill("#f-next_meeting_date", new_day.isoformat())  # the same day: not after this meeting
    page.locator("fieldset:has-text('Trengs et samarbeidsmøte') label:has-text('Nei')").check()
    page.click("button:has-text('Lagre referatet')")
    assert "Neste møte må være etter dette møtet" in page.locator("#f-next_meeting_date-err").inner_text()
    assert "forfall" in page.locator("#f-attendance-1-present-err").inner_text()
    assert page.input_value("#f-summary") == "God start"  # the input kept
    assert_accessible(page)
    page.uncheck("#f-attendance-1-present")
    page.fill("#f-next_meeting_date", (new_day + timedelta(days=90)).isoformat())
    page.click("button:has-text('Lagre referatet')")
    assert page.locator("h1").inner_text().startswith("Godkjenn referatet")
    assert "Syk" in page.content()  # listed as absent in the minutes beside the form


def test_an_invited_meeting_moved_from_the_case_page(page, live_server, services):
    """After the invitation the coordinator moves the meeting: a too early date is refused with the
    input kept, then the new date is on the case page and in the hold step's due date."""
    users = municipality(services)
    case_id = establish(services, users, until="active")
    prepare(services, users, case_id, days=30)
    base = live_server
    as_user(page, base, "kari")
    page.goto(f"{base}/saker/{case_id}")
    page.click("a:has-text('Flytt møtet')")
    assert page.locator("h1").inner_text().startswith("Flytt møte")
    assert_accessible(page)
    too_soon = weekday_after(services, 3)
    page.fill("#f-new_date", too_soon.isoformat())
    page.fill("#f-new_time", "09:30")
    page.click("button:has-text('Flytt møtet')")
    assert "Tidligste mulige dato" in page.locator("#f-new_date-err").inner_text()
    assert page.input_value("#f-new_date") == too_soon.isoformat() and page.input_value("#f-new_time") == "09:30"
    assert_accessible(page)
    new_day = weekday_after(services, 40)
    page.fill("#f-new_date", new_day.isoformat())
    page.fill("#f-new_time", "13:00")
    page.click("button:has-text('Flytt møtet')")
    assert f"Møtet er flyttet til {new_day:%d.%m.%Y} kl. 13:00" in page.content()
    assert f"{new_day:%d.%m.%Y} kl. 13:00" in page.locator("#h-meetings ~ div").inner_text()
    as_user(page, base, "siri")
    assert f"{new_day:%d.%m.%Y}" in page.locator("tr:has-text('Hold første møte og skriv referat')").inner_text()


def test_minutes_corrected_and_approved_again(page, live_server, services):
    users = municipality(services)
    case_id = establish(services, users, until="active")
    base = live_server
    prepare(services, users, case_id)
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[]), users["siri"])

    as_user(page, base, "kari")
    page.locator("a:has-text('Godkjenn referatet')").first.click()
    page.check("label:has-text('Nei, noe må rettes')")
    page.fill("#f-comment", "Anne Berg var til stede")
    page.click("button:has-text('Fullfør steget')")
    page.goto(f"{base}/oppgaver")
    while page.locator("a:has-text('Godkjenn referatet')").count():
        page.locator("a:has-text('Godkjenn referatet')").first.click()
        page.check("label:has-text('Ja, referatet er riktig')")
        page.click("button:has-text('Fullfør steget')")
        page.goto(f"{base}/oppgaver")
    as_user(page, base, "siri")
    page.locator("a:has-text('Godkjenn referatet')").first.click()
    page.check("label:has-text('Ja, referatet er riktig')")
    page.click("button:has-text('Fullfør steget')")
    page.goto(f"{base}/oppgaver")
    page.click("text=Rett referatet")
    assert_accessible(page)
    assert "Anne Berg var til stede" in page.content()  # the remark beside the form
    page.fill("#f-correction", "Anne Berg ført opp som til stede")
    page.fill("#f-summary", "God start planlagt, Anne var med")
    page.click("button:has-text('Send rettet referat til godkjenning')")
    page.goto(f"{base}/oppgaver")
    page.locator("a:has-text('Godkjenn referatet')").first.click()
    assert "God start planlagt, Anne var med" in page.content()
    page.check("label:has-text('Ja, referatet er riktig')")
    page.click("button:has-text('Fullfør steget')")

    as_user(page, base, "kari")
    approve_and_send_minutes(page, base, accessible=True)
    page.goto(f"{base}/saker/{case_id}")
    href = page.locator("a:has-text('PDF')").first.get_attribute("href")
    pdf = page.request.get(base + href)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    for expected in ("Rettelser", "Anne Berg var til stede", "Anne Berg ført opp som til stede",
                     "Referatet ble godkjent"):
        assert expected in text, expected
