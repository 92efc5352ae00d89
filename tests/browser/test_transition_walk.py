"""A transition in real Chromium: the coordinator adds one on the transitions page, reviews the
composition before school start (kindergarten out, school in) and renews the consent."""
import pytest

from tests.browser.conftest import assert_accessible
from tests.browser.test_establishment_walk import as_user
from tests.webapp.cases.helpers import establish
from tests.webapp.transitions.helpers import add_kindergarten_member, town

pytestmark = pytest.mark.browser


def test_transition_review_walk(page, live_server, services):
    users = town(services)  # 12 January 2026
    case_id = establish(services, users, born="2020-11-01")  # school start 15.08.2026: the review starts at once
    add_kindergarten_member(services, users, case_id)
    base = live_server

    as_user(page, base, "kari")
    page.goto(f"{base}/saker/{case_id}/overganger")
    assert "Skolestart" in page.content() and "Under gjennomgang" in page.content()
    assert_accessible(page)
    page.select_option("#f-kind", label="Flytting til egen bolig")
    page.fill("#f-description", "Flytter til egen bolig i Sentrum")
    page.fill("#f-on_date", "2010-01-01")
    page.click("button:has-text('Legg til overgangen')")
    assert "Datoen kan ikke være tilbake i tid." in page.content()
    assert page.input_value("#f-description") == "Flytter til egen bolig i Sentrum"
    page.fill("#f-on_date", "2039-06-01")
    page.click("button:has-text('Legg til overgangen')")
    assert "Overgangen er registrert." in page.content() and "01.06.2038" in page.content()

    page.goto(f"{base}/oppgaver")
    page.click("text=Gjennomgå sammensetningen før overgangen – Skolestart 15.08.2026")
    assert "Fra retningslinjen" in page.content() and "Samtykket gjelder" in page.content()
    assert_accessible(page)
    page.select_option("#f-leaving-0-member_id", label="Bente Barnehage")
    page.fill("#f-leaving-0-reason", "Emma begynner på skolen")
    page.fill("#f-joining-0-name", "Tor Lærer")
    page.select_option("#f-joining-0-user_id", label="Tor Lærer")
    page.select_option("#f-joining-0-unit_id", label="Solbakken skole")
    page.fill("#f-handover-0-from", "Solsikken barnehage")
    page.fill("#f-handover-0-to", "Solbakken skole")
    page.fill("#f-handover-0-what", "Tilrettelegging og assistent")
    page.fill("#f-handover-0-on", "2026-08-15")
    page.fill("#f-summary", "Skolen overtar ansvaret fra barnehagen")
    page.click("button:has-text('Registrer gjennomgangen')")

    page.goto(f"{base}/oppgaver")
    page.click("text=Informer personen og forny samtykket – Skolestart 15.08.2026")
    assert "Endringen personen samtykker til" in page.content() and "Tor Lærer" in page.content()
    assert_accessible(page)
    page.check("label:has-text('Personen (og foresatte) er informert')")
    page.fill("#f-informed_on", "2026-01-12")
    page.check("label:has-text('Samtykket er fornyet')")
    for statement in ("tverrfaglige sammensetning", "taushetsbelagte", "koordinerende enhet mottar", "frivillig"):
        page.check(f"label:has-text('{statement}')")
    page.fill("#f-signed_by", "Anne Berg")
    page.check("label:has-text('På papir')")
    page.fill("#f-signed_on", "2026-01-12")
    page.click("button:has-text('Registrer samtykket')")

    page.goto(f"{base}/saker/{case_id}/overganger")
    content = page.content()
    assert "Gjennomgått" in content and "Samtykke fornyet" in content
    assert "Solsikken barnehage → Solbakken skole: Tilrettelegging og assistent (15.08.2026)" in content
    assert_accessible(page)
    page.goto(f"{base}/saker/{case_id}")
    members = page.locator("section[aria-labelledby=h-members]").inner_text()
    assert "Tor Lærer" in members and "Bente Barnehage" not in members
