"""A whole meeting cycle in real Chromium, from planning to approved and distributed minutes;
the mail is caught by a real local SMTP server."""
import re
from datetime import datetime, time
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import approve_and_send_minutes, assert_accessible
from tests.browser.test_establishment_walk import as_user
from tests.smtp import start_smtp
from tests.webapp.cases.helpers import establish, municipality
from tests.webapp.meetings.helpers import weekday_after
from webapp.clock import OSLO
from webapp.outbox.sending import send_due

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp():
    controller, inbox = start_smtp()
    yield controller, inbox
    controller.stop()


def test_meeting_cycle(page, live_server, services, smtp):
    controller, inbox = smtp
    users = municipality(services)
    case_id = establish(services, users, until="active")
    base = live_server
    day = weekday_after(services, 30)

    as_user(page, base, "siri")  # a member submits a matter before the agenda is set
    page.goto(f"{base}/saker/{case_id}")
    page.click("text=Meld inn sak")
    page.fill("#f-title", "Skolestart til høsten")
    page.check("label:has-text('Nei, ingen av disse')")
    page.click("button:has-text('Meld inn saken')")
    assert "Saken er meldt inn til møtet." in page.content()

    as_user(page, base, "kari")
    page.click("text=Planlegg møtet")
    assert_accessible(page)
    page.fill("#f-meeting_date", day.isoformat())
    page.fill("#f-meeting_time", "10:00")
    page.fill("#f-place", "Rådhuset, møterom 2")
    page.locator("#f-minute_taker_member_id label:has-text('Siri Skole')").check()
    page.click("button:has-text('Fullfør steget')")
    assert page.locator("h1").inner_text() == "Avklar personens behov og ønsker før møtet"
    page.fill("#f-persons_needs", "Emma vil snakke om skolestart")
    page.check("label:has-text('Ja')")
    page.click("button:has-text('Fullfør steget')")
    assert page.locator("h1").inner_text() == "Sett opp saksliste og send innkalling"
    assert page.input_value("#f-agenda-0-title") == "Gjennomgang av retningslinjer for møtene"
    assert "Skolestart til høsten" in page.content()
    assert_accessible(page)
    page.check("label:has-text('Sakslisten er avtalt med personen')")
    page.click("button:has-text('Send innkalling')")

    # the minutes are written once the meeting has started
    services.clock.set(datetime.combine(day, time(12, 0), OSLO))
    as_user(page, base, "siri")
    page.click("text=Hold første møte og skriv referat")
    assert_accessible(page)
    assert page.locator("input[name$='-present']:checked").count() == 0  # nobody pre-checked as present
    page.check("#f-attendance-0-present")
    page.check("label:has-text('Kommunens retningslinjer for møtene er gjennomgått')")
    page.check("label:has-text('Ingen tidligere referat')")
    page.fill("#f-persons_account", "Emma gleder seg til skolen")
    page.fill("#f-items-1-discussion", "Behov for assistent")
    page.fill("#f-items-1-conclusion", "Assistent første uke")
    page.fill("#f-new_measures-0-description", "Bestille assistent")
    page.select_option("#f-new_measures-0-responsible_member_id", label="Siri Skole")
    page.fill("#f-new_measures-0-deadline", day.replace(year=day.year + 1).isoformat())
    page.fill("#f-summary", "God start planlagt")
    page.locator("fieldset:has-text('Trengs et samarbeidsmøte') label:has-text('Nei')").check()
    page.click("button:has-text('Lagre referatet')")
    # Siri's next step in the same meeting opens at once: approving the minutes; following up
    # her new measure waits in the inbox
    assert page.locator("h1").inner_text().startswith("Godkjenn referatet")
    assert "Assistent første uke" in page.content()
    page.goto(f"{base}/oppgaver")
    assert page.locator("a:has-text('Følg opp tiltak – frist')").count() == 1
    page.click("text=Godkjenn referatet")
    page.check("label:has-text('Ja, referatet er riktig')")
    page.click("button:has-text('Fullfør steget')")

    as_user(page, base, "kari")
    approve_and_send_minutes(page, base)

    page.goto(f"{base}/saker/{case_id}")
    assert "Referat sendt ut" in page.content() and "Bestille assistent" in page.content()
    assert_accessible(page)
    href = page.locator("a:has-text('PDF')").first.get_attribute("href")
    pdf = page.request.get(base + href)
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    # the worker sends the outbox to the SMTP server
    sent = send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no", limit=500)
    assert sent == len(inbox.messages)
    to_siri = {m["Subject"].split(" ")[0]: m for m in inbox.messages if m["To"] == "siri@example.org"}
    # no health content in plain e-mail (example.org is not the municipality's own domain): the
    # messages say that something is waiting and link to it; no .ics, no PDF, no agenda
    invitation = to_siri["Innkalling"]
    assert list(invitation.iter_attachments()) == [] and f"/saker/{case_id}" in invitation.get_content()
    assert "Skolestart" not in invitation.as_string() and "Rådhuset" not in invitation.as_string()
    minutes = to_siri["Referat"]
    assert list(minutes.iter_attachments()) == []
    link = re.search(r"https?://\S+", minutes.get_content()).group(0)
    followed = page.request.get(base + urlsplit(link).path)  # the link leads a member to the minutes
    assert followed.ok and followed.body().startswith(b"%PDF")
