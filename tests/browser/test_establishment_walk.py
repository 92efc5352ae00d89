"""New users walk the establishment in real Chromium, switching persona by logging in."""
import pytest

from tests.browser.conftest import assert_accessible, login
from tests.webapp.cases.helpers import FIRST_MEETING_IN, PASSWORD, municipality

pytestmark = pytest.mark.browser


@pytest.fixture
def users(services):
    return municipality(services)


def as_user(page, base, username):
    page.goto(f"{base}/oppgaver")
    if page.locator("button:has-text('Logg ut')").count():
        page.click("button:has-text('Logg ut')")
    login(page, base, username, PASSWORD)
    assert page.locator("h1").inner_text() == "Mine oppgaver"


def register_wish(page, base, name="Emma Berg"):
    as_user(page, base, "ola")
    page.click("text=Ny ansvarsgruppe")
    assert_accessible(page)
    page.fill("#f-full_name", name)
    page.fill("#f-birth_date", "2019-05-20")
    page.check("label:has-text('Foresatte')")
    page.fill("#f-requested_by_name", "Anne Berg")
    page.fill("#f-wish", "Foreldrene ønsker at barnehagen og helsestasjonen samarbeider bedre.")
    page.fill("#f-guardians-0-name", "Anne Berg")
    page.select_option("#f-guardians-0-kind", "guardian")
    page.fill("#f-guardians-0-email", "anne@example.org")
    page.click("button:has-text('Registrer ønsket')")
    assert "Ønsket er registrert" in page.content()
    # the registrant keeps sight of the wish
    assert page.locator("h1").inner_text() == "Ønsker jeg har registrert"
    assert "barnehagen og helsestasjonen samarbeider bedre" in page.content()
    assert "Registrert, venter på oppnevning av koordinator" in page.content()
    assert_accessible(page)


def appoint_and_consent(page, base, decision="gitt"):
    as_user(page, base, "ke")
    page.click("text=Oppnevn koordinator")
    assert_accessible(page)
    # the wish and the contact details given with it are beside the appointment form
    panel = page.locator("section[aria-labelledby=h-wish]")
    assert "barnehagen og helsestasjonen samarbeider bedre" in panel.inner_text()
    assert "anne@example.org" in panel.inner_text()
    page.fill("#f-persons_wish", "Ønsker Kari")
    page.select_option("#f-coordinator_user_id", label="Kari Koordinator")
    page.check("label:has-text('Barnekoordinator')")
    page.check("label:has-text('Personens ønske er hørt og vektlagt')")
    page.click("button:has-text('Fullfør steget')")

    as_user(page, base, "kari")
    page.click("text=Informer og innhent skriftlig samtykke")
    assert "Fra retningslinjen" in page.content() and page.locator("[aria-current=step]").count() == 1
    assert "barnehagen og helsestasjonen samarbeider bedre" in page.locator("section[aria-labelledby=h-wish]").inner_text()
    if decision == "gitt":
        page.check("label:has-text('Samtykke er gitt')")
        for statement in ("tverrfaglige sammensetning", "taushetsbelagte", "koordinerende enhet mottar", "frivillig"):
            page.check(f"label:has-text('{statement}')")
    else:
        page.check("label:has-text('Samtykke er ikke gitt')")
        page.fill("#f-refusal_reason", "Familien vil vente")
    page.fill("#f-signed_by", "Anne Berg")
    page.check("label:has-text('På papir')")
    page.fill("#f-signed_on", "2026-01-05")
    page.click("button:has-text('Registrer samtykke')")


def test_establishment_from_wish_to_active_group(page, live_server, services, users):
    base = live_server
    register_wish(page, base)
    appoint_and_consent(page, base)
    # the next step of the same case opens directly for the coordinator
    assert page.locator("h1").inner_text() == "Sett sammen gruppen sammen med personen"
    assert_accessible(page)
    page.select_option("#f-members-0-user_id", label="Siri Skole")
    page.fill("#f-members-0-name", "Siri Skole")
    page.select_option("#f-members-0-unit_id", label="Solbakken skole")
    page.fill("#f-members-1-name", "Per Fastlege")
    page.fill("#f-members-1-email", "per@example.org")
    page.check("label:has-text('Sammensetningen er avtalt')")
    page.click("button:has-text('Fullfør steget')")
    # the coordinator confirms for the outside participant
    assert page.locator("h1").inner_text() == "Bekreft deltakelse og avklar mandat – Per Fastlege"
    page.check("label:has-text('Ja, jeg deltar')")
    page.fill("#f-mandate", "Medisinsk oppfølging")
    page.click("button:has-text('Fullfør steget')")

    as_user(page, base, "siri")
    page.click("text=Bekreft deltakelse og avklar mandat – Siri Skole")
    page.check("label:has-text('Ja, jeg deltar')")
    page.click("button:has-text('Fullfør steget')")
    assert page.locator("#f-mandate-err").inner_text() == "Dette feltet må fylles ut."
    page.fill("#f-mandate", "Tilrettelegging i skolen")
    page.click("button:has-text('Fullfør steget')")

    as_user(page, base, "kari")
    assert_accessible(page)
    page.click("text=Vurder behov for individuell plan")
    page.check("label:has-text('Ja, individuell plan utarbeides')")
    page.click("button:has-text('Fullfør steget')")
    assert page.locator("h1").inner_text() == "Sett dato for første møte"
    first_meeting = (services.clock.today() + FIRST_MEETING_IN).isoformat()
    page.fill("#f-first_meeting_date", first_meeting)
    page.click("button:has-text('Fullfør steget')")
    # the group is active; the first meeting is within the notice period plus the planning lead
    # time, so its episode starts at once and opens directly for the coordinator
    assert page.locator("h1").inner_text() == "Planlegg møtet"
    assert page.input_value("#f-meeting_date") == first_meeting
    page.click("text=Ansvarsgruppe for Emma Berg")
    assert page.locator("h1").inner_text() == "Ansvarsgruppe for Emma Berg"
    assert "Aktiv" in page.locator(".ds-tag").first.inner_text()
    assert "mandat avklart" in page.content()
    assert_accessible(page)


def test_refused_consent(page, live_server, services, users):
    register_wish(page, live_server, "Maja Moe")
    appoint_and_consent(page, live_server, decision="nektet")
    assert page.locator("h1").inner_text() == "Ansvarsgruppe for Maja Moe"
    assert "Ikke opprettet" in page.content() and "Familien vil vente" in page.content()
    assert "Steget er fullført: Informer og innhent skriftlig samtykke" in page.content()
    assert "Ingen åpne oppgaver." in page.content()


def test_withdrawal_after_activation_refuses_members(page, live_server, services, users):
    from tests.webapp.cases.helpers import establish
    case_id = establish(services, users, until="active")
    base = live_server
    as_user(page, base, "siri")
    page.goto(f"{base}/saker/{case_id}")
    assert page.locator("h1").inner_text() == "Ansvarsgruppe for Emma Berg"

    as_user(page, base, "kari")
    page.goto(f"{base}/saker/{case_id}")
    page.click("summary:has-text('Registrer at samtykket er trukket tilbake')")
    page.fill("#stated_by", "Anne Berg (mor)")
    page.click("button:has-text('Registrer tilbaketrekking')")
    page.locator("#reason-err").wait_for(state="visible")  # the reason is required; input kept
    assert page.input_value("#stated_by") == "Anne Berg (mor)"
    page.fill("#reason", "Familien ønsker ikke gruppen lenger")
    page.click("button:has-text('Registrer tilbaketrekking')")
    assert "Samtykket ble trukket tilbake av Anne Berg (mor)" in page.content()

    as_user(page, base, "siri")
    response = page.goto(f"{base}/saker/{case_id}")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Fant ikke siden"
    assert "Emma" not in page.content()


def test_duplicate_wish_is_warned_and_declined(page, live_server, services, users):
    base = live_server
    register_wish(page, base)
    page.goto(f"{base}/saker/ny")
    page.fill("#f-full_name", "Emma Berg")
    page.fill("#f-birth_date", "2999-05-20")  # an error together with the others, in one round
    page.click("button:has-text('Registrer ønsket')")
    for field in ("birth_date", "requested_by_kind", "wish"):
        page.locator(f"#f-{field}-err").wait_for(state="visible")
    assert page.locator("#f-guardians-1-name").count() == 1  # both guardian rows are still there
    assert_accessible(page)
    page.fill("#f-birth_date", "2019-05-20")
    page.check("label:has-text('Personen selv')")
    page.fill("#f-wish", "Samme ønske en gang til")
    page.fill("#f-national_id", "20051912345")
    page.click("button:has-text('Registrer ønsket')")
    assert "Ønsket er registrert" in page.content()
    page.goto(f"{base}/saker/ny")
    page.fill("#f-full_name", "Emma Berg")
    page.fill("#f-birth_date", "2019-05-20")
    page.check("label:has-text('Personen selv')")
    page.fill("#f-wish", "Tredje gang")
    page.fill("#f-national_id", "20051912345")
    page.click("button:has-text('Registrer ønsket')")
    assert "Personen har allerede en åpen sak" in page.content()
    assert page.input_value("#f-wish") == "Tredje gang"
    assert_accessible(page)
    page.click("button:has-text('Registrer ønsket likevel')")
    assert "Ønsket er registrert" in page.content()

    as_user(page, base, "ke")
    page.locator("a:has-text('Oppnevn koordinator')").last.click()
    assert "Mulig duplikat av" in page.content()
    page.click("text=Avslå ønsket eller merk det som duplikat")
    page.click("summary:has-text('Ønsket skal ikke føre til oppnevning av koordinator')")
    page.check("label:has-text('Duplikat av en annen sak')")
    page.click("button:has-text('Avslutt ønsket')")
    page.locator("#dw-duplicate_of-err").wait_for(state="visible")  # waits for the page the click loads
    assert_accessible(page)
    reference = page.locator(".ds-alert:has-text('Mulig duplikat av')").inner_text().split("av ")[1].split(":")[0]
    page.fill("#dw-duplicate_of", reference)
    page.click("button:has-text('Avslutt ønsket')")
    assert "Ønsket er merket som duplikat." in page.content() and "Ingen åpne oppgaver." in page.content()

    as_user(page, base, "ola")
    page.goto(f"{base}/saker/mine-onsker")
    assert "Duplikat" in page.content()


def test_coordinator_corrects_the_person_and_members(page, live_server, services, users):
    from tests.webapp.cases.helpers import establish
    case_id = establish(services, users, until="active")
    base = live_server
    as_user(page, base, "kari")
    page.goto(f"{base}/saker/{case_id}")
    page.click("text=Rett opplysninger om personen og medlemmene")
    assert_accessible(page)
    page.fill("#f-full_name", "")
    page.fill("#f-phone", "91234567")
    page.locator("input[id$='-email']").first.fill("feil")
    page.click("button:has-text('Lagre rettingene')")
    page.locator("#f-full_name-err").wait_for(state="visible")
    page.locator("#feiloppsummering").wait_for(state="visible")
    assert page.input_value("#f-phone") == "91234567"
    assert_accessible(page)
    page.fill("#f-full_name", "Emma Berg Hansen")
    page.locator("input[id$='-email']").first.fill("anne.berg@example.org")
    page.click("button:has-text('Lagre rettingene')")
    assert "Opplysningene er rettet." in page.content()
    assert "Opplysninger om personen rettet" in page.content()


def test_login_page_is_accessible(page, live_server):
    page.goto(f"{live_server}/logg-inn")
    assert_accessible(page)
