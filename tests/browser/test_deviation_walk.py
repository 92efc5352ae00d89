"""A deviation in real Chromium: a member records it (after a mistake on the form), the
coordinator cannot close it in the group, the system owner gets an e-mail and closes it."""
import pytest

from tests.browser.conftest import assert_accessible
from tests.browser.test_establishment_walk import as_user
from tests.smtp import start_smtp
from tests.webapp.cases.helpers import establish, municipality
from webapp.outbox.sending import send_due

pytestmark = pytest.mark.browser


def test_deviation_walk(page, live_server, services):
    controller, inbox = start_smtp()
    try:
        users = municipality(services)
        case_id = establish(services, users, until="active")
        base = live_server

        as_user(page, base, "siri")
        page.goto(f"{base}/saker/{case_id}/avvik")
        assert "Ingen avvik er meldt." in page.content()
        assert_accessible(page)
        page.fill("#f-description", "Referatet ble sendt til feil e-postadresse.")
        page.click("button:has-text('Registrer avviket')")
        assert "Dette feltet må fylles ut." in page.content()  # the title was missing
        assert page.input_value("#f-description") == "Referatet ble sendt til feil e-postadresse."
        assert_accessible(page)
        page.fill("#f-title", "Referat til feil mottaker")
        page.click("button:has-text('Registrer avviket')")
        assert "Avviket er registrert. Koordinator følger det opp." in page.content()
        assert "Til oppfølging i gruppen" in page.content()

        as_user(page, base, "kari")
        page.click("text=Følg opp avviket")
        assert "Referatet ble sendt til feil e-postadresse." in page.content()
        assert_accessible(page)
        page.fill("#f-follow_up", "Mottakeren har bekreftet at e-posten er slettet.")
        page.check("label:has-text('Nei, avviket kan ikke lukkes i gruppen')")
        page.fill("#f-escalation_reason", "Adresselisten i fagsystemet er feil.")
        page.click("button:has-text('Registrer oppfølgingen')")

        send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no", limit=50)
        to_sara = [m for m in inbox.messages if m["To"] == "sara@example.org"]
        assert len(to_sara) == 1 and to_sara[0]["Subject"].startswith("Avvik til behandling")

        as_user(page, base, "sara")
        page.click("text=Behandle avvik fra ansvarsgruppe")
        assert "Adresselisten i fagsystemet er feil." in page.content()
        assert_accessible(page)
        page.fill("#f-owner_action", "Leverandøren har rettet adresselisten.")
        page.fill("#f-closing_remark", "Lukket etter kontroll.")
        page.click("button:has-text('Lukk avviket')")

        as_user(page, base, "siri")
        page.goto(f"{base}/saker/{case_id}/avvik")
        assert "Lukket" in page.locator("table").inner_text()
        page.click("summary:has-text('Referat til feil mottaker')")
        assert "Leverandøren har rettet adresselisten." in page.content()
        assert_accessible(page)
    finally:
        controller.stop()
