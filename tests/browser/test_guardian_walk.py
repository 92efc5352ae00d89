"""The guardian's own pages in real Chromium (issue 15): a guardian logs in through ID-porten (the
real test OpenID provider of tests/oidc, over real HTTP, never a mocked token), gives the written
consent, submits a matter that then appears on the coordinator's agenda step, writes the child's
own description before the meeting, reads the approved minutes afterwards, sees in "who has
looked" that the coordinator opened the case, and logs out here and at ID-porten. axe checks every
portal page on a desktop screen and at phone width (390 x 844).

The coordinator's establishment steps, the minutes and the approvals are driven through the
engine; the guardian's steps, the coordinator's agenda step and the sending of the minutes are
done in the browser."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import approve_and_send_minutes, assert_accessible, login, new_context
from tests.oidc.provider import ACR_SUBSTANTIAL, oidc_provider_fixture
from tests.webapp.cases.helpers import APPOINT, FIRST_MEETING_IN, PASSWORD, complete, municipality, open_task
from tests.webapp.meetings.helpers import hold_data, meeting, plan as plan_meeting
from webapp.auth.models import User, UserSession
from webapp.cases import identity
from webapp.cases.models import Case, CaseMember, Consent
from webapp.cases.registration import register
from webapp.engine.models import OpenTask, ProcessInstance
from webapp.taskforms.providers import DEFAULTS

pytestmark = pytest.mark.browser

idporten = oidc_provider_fixture(title="ID-porten (test)")

GUARDIAN_PID = "12048512345"
CLIENT_ID, CLIENT_SECRET = "ansvarsgruppe", "hemmeleg"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

MATTER = "Skoleskyss etter sommeren"
OWN_DESCRIPTION = "Emma gleder seg til å begynne i andre klasse, men friminuttene er vanskelige"


@pytest.fixture
def app(make_app, idporten):
    """The app with ID-porten configured (the provider's client is registered once the live
    server's address, and so the callback's, is known)."""
    return make_app(OIDC_PROVIDERS={"idporten": {"server_metadata_url": idporten.discovery_url,
                                                 "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}})


@pytest.fixture
def provider(idporten, live_server):
    idporten.reset()
    idporten.add_client(CLIENT_ID, CLIENT_SECRET, [f"{live_server}/logg-inn/med/idporten/svar"],
                        [f"{live_server}/logg-inn"])
    idporten.add_account("anne", {"sub": "anne-sub", "pid": GUARDIAN_PID, "name": "Anne Berg"})
    return idporten


@pytest.fixture
def users(services):
    return municipality(services)


@pytest.fixture
def staff_page(browser):
    """A second browser (its own cookies) for the coordinator."""
    context = new_context(browser)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _wish(services, users) -> int:
    """Emma (7), her wish registered by Ola Helse; her guardian Anne Berg with her national id."""
    born = f"{services.clock.today().year - 7}-05-20"
    return register(services, {
        "full_name": "Emma Berg", "birth_date": born, "requested_by_kind": "guardian",
        "requested_by_name": "Anne Berg", "wish": "Bedre samarbeid",
        "guardians": [{"name": "Anne Berg", "kind": "guardian", "email": "anne@example.org",
                       "national_id": GUARDIAN_PID}]}, actor_id=users["ola"])[0]


def _accessible_everywhere(page) -> None:
    """axe on the page as it is, on a desktop screen and at phone width."""
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    try:
        assert_accessible(page)
    finally:
        page.set_viewport_size(DESKTOP)


def _log_in_with_id_porten(page, base: str, provider, *, form: bool = True) -> None:
    """From the login page through ID-porten: the provider's own page (account, level substantial),
    unless its session still stands (single sign-on), and back to the app."""
    page.goto(f"{base}/logg-inn")
    page.click("text=Logg inn med ID-porten")
    if form:
        page.wait_for_url(f"{provider.issuer}/authorize**")
        assert page.locator("h1").inner_text() == "ID-porten (test)"
        page.get_by_label("Bruker").select_option("anne")
        page.get_by_label("Sikkerhetsnivå").select_option(ACR_SUBSTANTIAL)
        page.click("button:has-text('Logg inn')")
    page.wait_for_url(f"{base}/min-side/**")


def _count(services, model, *where) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _guardian(services) -> User | None:
    with services.db.session() as s:
        return s.scalar(select(User).where(User.national_id_digest == identity.digest(GUARDIAN_PID)))


def _establish_after_consent(services, users, case_id: int) -> None:
    """The coordinator's part of establishment after the guardian's consent, through the engine:
    the members proposed and confirmed, no individual plan, the first meeting three weeks ahead
    (its episode starts at once)."""
    complete(services, case_id, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["siri"]), "name": "Siri Skole", "unit_id": str(users["unit_school"])},
        {"name": "Per Fastlege", "email": "per@example.org"}]}, users["kari"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Skolen"}, users["siri"], users["siri"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Lege"}, users["kari"], users["kari"])
    complete(services, case_id, "plan_need", {"plan_need": "no"}, users["kari"])
    complete(services, case_id, "first_meeting",
             {"first_meeting_date": (services.clock.today() + FIRST_MEETING_IN).isoformat()}, users["kari"])


def test_a_guardian_takes_part_through_the_group_from_login_to_the_minutes(
        page, staff_page, live_server, services, users, provider):
    base = live_server
    page.set_viewport_size(DESKTOP)
    case_id = _wish(services, users)
    complete(services, case_id, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"])}, users["ke"])

    # 1. the guardian logs in through ID-porten and lands on the group's page
    page.goto(f"{base}/logg-inn")
    assert_accessible(page)
    _log_in_with_id_porten(page, base, provider)
    assert urlsplit(page.url).path == f"/min-side/saker/{case_id}"
    assert page.locator("h1").inner_text() == "Ansvarsgruppen for Emma Berg"
    assert "Samtykke trengs" in page.content() and "Kari Koordinator" in page.content()
    _accessible_everywhere(page)
    guardian = _guardian(services)
    assert guardian is not None and guardian.is_citizen
    with services.db.session() as s:
        row = s.scalar(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.role == "foresatt"))
        assert row.user_id == guardian.id

    # 2. the written consent: one statement left out first, an error in words and the others kept
    page.click("text=Les og gi samtykke")
    assert page.locator("h1").inner_text() == "Samtykke til ansvarsgruppen"
    _accessible_everywhere(page)
    boxes = page.locator("form.app-form input[type=checkbox]")
    assert boxes.count() == 4
    for i in range(3):
        boxes.nth(i).check()
    page.click("button:has-text('Gi samtykke')")
    page.locator("#feiloppsummering").wait_for(state="visible")
    error = page.locator("#f-statement_voluntary-err")
    assert error.is_visible() and error.inner_text() == "Dette må bekreftes."
    assert all(boxes.nth(i).is_checked() for i in range(3)) and not boxes.nth(3).is_checked()
    assert _count(services, Consent, Consent.case_id == case_id) == 0
    _accessible_everywhere(page)
    boxes.nth(3).check()
    page.click("button:has-text('Gi samtykke')")
    page.wait_for_url(f"{base}/min-side/saker/{case_id}")
    assert "Takk. Samtykket er gitt" in page.content()
    with services.db.session() as s:
        consent = s.scalar(select(Consent).where(Consent.case_id == case_id))
        assert consent.given and consent.signed_how == "digital" and consent.signed_by == "Anne Berg"
        assert consent.given_by_user_id == guardian.id and consent.assurance_level == ACR_SUBSTANTIAL
    page.click("a:text-is('Samtykket')")
    assert "Samtykket er gitt" in page.content() and "sikkerhetsnivå: idporten-loa-substantial" in page.content()
    _accessible_everywhere(page)

    # 3. establishment to active and the first meeting planned (the engine); the person's step
    # before the meeting is now the guardian's
    _establish_after_consent(services, users, case_id)
    plan_meeting(services, users, case_id, days=30)
    needs = open_task(services, case_id, "needs")
    assert needs is not None and needs.lane == "bruker" and needs.assignee_id == guardian.id
    first = meeting(services, case_id)
    assert first.status == "planned"

    # 4. the guardian: the meeting's page, a matter submitted, the child's own description written
    page.goto(f"{base}/min-side")
    assert urlsplit(page.url).path == f"/min-side/saker/{case_id}"
    assert "Dette venter på deg" in page.content()
    _accessible_everywhere(page)
    page.click("text=Se møtet, meld inn en sak eller si om du kommer")
    assert page.locator("h1").inner_text() == "Møte 1"
    assert "Sakslisten er ikke klar ennå." in page.content()
    _accessible_everywhere(page)
    page.click("text=Meld inn en sak")
    assert page.locator("h1").inner_text() == "Meld inn en sak til møtet"
    _accessible_everywhere(page)
    page.fill("#f-title", MATTER)
    page.fill("#f-description", "Vi vet ikke om Emma får skyss når skolen flytter")
    page.check("label:has-text('Nei, ingen av disse')")
    page.click("button:has-text('Meld inn saken')")
    page.wait_for_url(f"{base}/min-side/saker/{case_id}/moter/{first.id}")
    assert "Takk. Saken er meldt inn" in page.content()
    assert MATTER in page.locator("section[aria-labelledby=saksliste]").inner_text()
    _accessible_everywhere(page)

    page.click("text=Tilbake til gruppen")
    page.click("text=Skriv barnets ønsker og behov før møtet")
    assert page.locator("h1").inner_text() == "Ønsker og behov før møtet"
    _accessible_everywhere(page)
    page.click("button:has-text('Send')")  # nothing written: errors in words, the step still open
    page.locator("#feiloppsummering").wait_for(state="visible")
    assert page.locator("#f-persons_needs-err").inner_text() == "Dette feltet må fylles ut."
    assert open_task(services, case_id, "needs") is not None
    _accessible_everywhere(page)
    page.fill("#f-persons_needs", OWN_DESCRIPTION)
    page.locator("#f-person_attends label:has-text('Ja')").check()
    page.click("button:has-text('Send')")
    page.wait_for_url(f"{base}/min-side/saker/{case_id}")
    assert "Takk. Koordinatoren og gruppen får se det du skrev før møtet." in page.content()
    assert "Dette venter på deg" not in page.content()
    assert open_task(services, case_id, "needs") is None
    assert meeting(services, case_id).persons_needs == OWN_DESCRIPTION

    # 5. the coordinator: the guardian's matter and the child's description on the agenda step;
    # the invitation sent; the case page opened
    login(staff_page, base, "kari", PASSWORD)
    assert staff_page.locator("h1").inner_text() == "Mine oppgaver"
    staff_page.click("text=Sett opp saksliste og send innkalling")
    matters = staff_page.locator("section[aria-labelledby=h-matters]").inner_text()
    assert f"{MATTER} (Anne Berg)" in matters and OWN_DESCRIPTION in matters
    agenda = staff_page.locator("input[id^='f-agenda-'][id$='-title']").evaluate_all("els => els.map(e => e.value)")
    assert MATTER in agenda
    staff_page.check("label:has-text('Sakslisten er avtalt med personen')")
    staff_page.click("button:has-text('Send innkalling')")
    staff_page.wait_for_load_state("load")
    assert meeting(services, case_id).status == "invited"
    staff_page.goto(f"{base}/saker/{case_id}")
    assert "Emma Berg" in staff_page.locator("h1").inner_text()

    # the guardian sees the agenda before the meeting
    page.goto(f"{base}/min-side/saker/{case_id}/moter/{first.id}")
    assert MATTER in page.locator("section[aria-labelledby=saksliste] ol").inner_text()
    assert "Meld inn en sak" not in page.content()  # the agenda has been sent out
    _accessible_everywhere(page)

    # the meeting is held (the minute-taker records the child's own description first) and the
    # members approve the minutes (the engine); the coordinator sends them out in the browser
    data = hold_data(services, case_id)  # moves the clock to the meeting: every session has ended
    with services.db.session() as s:  # the hold step starts from what the guardian wrote
        hold = open_task(services, case_id, "hold_first")
        view = services.engine.task_view(s, s.get(ProcessInstance, hold.instance_id), "hold_first", hold.task_id)
        assert DEFAULTS["meeting_minutes"](s, s.get(Case, case_id), view.data, services.clock.today())[
            "persons_account"] == OWN_DESCRIPTION
    data["persons_account"] = OWN_DESCRIPTION
    complete(services, case_id, "hold_first", data, users["siri"])
    with services.db.session() as s:
        approvals = s.scalars(select(OpenTask).where(OpenTask.case_id == case_id,
                                                     OpenTask.task_spec == "approve")).all()
    for task in approvals:
        services.engine.complete_task(task.instance_id, task.task_id, {"approved": "ja"}, actor_id=task.assignee_id)
    login(staff_page, base, "kari", PASSWORD)
    staff_page.goto(f"{base}/oppgaver")
    approve_and_send_minutes(staff_page, base)
    staff_page.wait_for_load_state("load")
    assert meeting(services, case_id).status == "distributed"

    # 6. the guardian again (ID-porten's own session still stands: no form), the minutes and who has looked
    page.goto(f"{base}/min-side")
    assert urlsplit(page.url).path == "/logg-inn"  # the app's session ended with the clock
    _log_in_with_id_porten(page, base, provider, form=False)
    assert urlsplit(page.url).path == f"/min-side/saker/{case_id}"
    past = page.locator("section[aria-labelledby=tidligere]")
    assert "referatet er godkjent" in past.inner_text()
    _accessible_everywhere(page)
    past.locator("a:has-text('Møte 1')").click()
    assert page.locator("h1").inner_text() == "Møte 1"
    minutes = page.locator("section[aria-labelledby=referat]")
    text = minutes.inner_text()
    assert "Personens egen beskrivelse" in text and OWN_DESCRIPTION in text
    assert "Assistent første uke" in text and "God start planlagt" in text
    assert "Bestille assistent – Siri Skole, frist" in minutes.locator("ul").last.inner_text()  # the new measure
    assert text.index("Personens egen beskrivelse") < text.index("Tjenestenes supplering")
    _accessible_everywhere(page)
    href = minutes.locator("a:has-text('Last ned referatet (PDF)')").get_attribute("href")
    pdf = page.request.get(base + href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    page.click("text=Tilbake til gruppen")
    page.click("text=Hvem har sett saken")
    assert page.locator("h1").inner_text() == "Hvem har sett saken"
    rows = page.locator("table tbody tr").all_inner_texts()
    assert any("Kari Koordinator (Koordinator)" in row for row in rows), rows
    assert any("Anne Berg (Foresatt)" in row for row in rows), rows
    _accessible_everywhere(page)

    # 7. logging out ends the session here and at ID-porten, and comes back to the login page
    assert len(provider.sessions()) == 1
    page.click("button:has-text('Logg ut')")
    page.wait_for_url(f"{base}/logg-inn**")
    assert "Du er logget ut." in page.content()
    assert provider.logouts and provider.logouts[-1].id_token_hint and provider.logouts[-1].ended_sids
    assert provider.sessions() == []
    assert _count(services, UserSession, UserSession.user_id == guardian.id,  # (the first one only expired)
                  UserSession.expires_at > services.clock.now()) == 0
    page.goto(f"{base}/min-side/saker/{case_id}")
    assert urlsplit(page.url).path == "/logg-inn"
    # a new login asks again at ID-porten (its session has ended too)
    page.click("text=Logg inn med ID-porten")
    page.wait_for_url(f"{provider.issuer}/authorize**")
    assert page.get_by_label("Bruker").is_visible()
