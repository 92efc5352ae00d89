"""The individual plan in real Chromium (issue 14): the coordinator records the consent to the
plan and who writes it, the secretary writes goals and measures, the coordinator adopts it with
the person; the plan page, its versions and the archived PDF; the next meeting's agenda proposed
from the plan; progress and a goal achieved recorded in the meeting, as a new plan version with
its changes. With guideline 003's setting the updated plan replaces the minutes: approved and
sent out by the coordinator, archived and in the outbox. axe checks the plan pages and steps.

Establishment up to the plan need ("yes") and the meeting's planning are driven through the
engine; the plan's steps and the meeting's own step are done in the browser."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import approve_and_send_minutes, assert_accessible, login
from tests.browser.test_establishment_walk import as_user
from tests.smtp import start_smtp
from tests.webapp.cases.helpers import PASSWORD, complete, establish, municipality, open_task
from tests.webapp.meetings.helpers import meeting, plan as plan_meeting
from tests.webapp.plans.helpers import adopted_plan, plan_of
from webapp.auth.operations import create_user
from webapp.clock import OSLO
from webapp.meetings.models import Minutes
from webapp.outbox.sending import send_due
from webapp.plans.models import PlanVersion

pytestmark = pytest.mark.browser

GOAL_LONG = "Emma går på skolen sammen med vennene sine"
GOAL_SHORT = "Emma kan være med i friminuttene"
#: description, goal, scope, responsible, how, deadline (days ahead)
MEASURES = [("Assistent i friminuttene", GOAL_SHORT, "Alle friminutt", "Siri Skole", "Fast assistent", 20),
            ("Vennegruppe i klassen", GOAL_LONG, "Ukentlig", "Siri Skole", "Kontaktlæreren leder", 90),
            ("Lekser sammen hjemme", GOAL_LONG, "", "Anne Berg", "", 120)]


@pytest.fixture
def users(services):
    return municipality(services)


@pytest.fixture
def smtp():
    controller, inbox = start_smtp()
    yield controller, inbox
    controller.stop()


def _rows(page, field: str, column: str) -> list[str]:
    """The chosen option's text in each row of a rows field's select column."""
    return page.locator(f"select[id^='f-{field}-'][id$='-{column}']").evaluate_all(
        "els => els.map(e => e.selectedIndex > 0 ? e.options[e.selectedIndex].text : '')")


def _record_progress(page, progress: dict[str, tuple[str, str]]) -> None:
    """In the meeting's step: per measure of the plan (the prefilled rows), its status and progress."""
    chosen = _rows(page, "previous_measures", "measure_id")
    done = set()
    for i, label in enumerate(chosen):
        for description, (status, note) in progress.items():
            if label.startswith(description):
                page.select_option(f"#f-previous_measures-{i}-status", label=status)
                page.fill(f"#f-previous_measures-{i}-progress", note)
                done.add(description)
    assert done == set(progress), chosen


def _version_row(page, number: int):
    return page.locator("table tbody tr").filter(has=page.locator(f"td:first-child:text-is('{number}')"))


def test_plan_written_adopted_on_the_agenda_and_updated_in_the_meeting(page, live_server, services, users):
    case_id = establish(services, users, until="active")  # the plan need assessed "yes"
    base = live_server
    today = services.clock.today()

    # the coordinator: the person's consent to the plan, who takes part and who writes it
    as_user(page, base, "kari")
    page.click("text=Innhent samtykke og avklar hvem som deltar i planarbeidet")
    assert_accessible(page)
    page.check("label:has-text('Ja, samtykke er gitt')")
    page.fill("#f-signed_by", "Anne Berg")
    page.check("label:has-text('På papir')")
    page.fill("#f-signed_on", today.isoformat())
    for name in ("Emma Berg", "Anne Berg", "Kari Koordinator", "Siri Skole"):
        page.locator("#f-participants label", has_text=name).check()
    page.select_option("#f-writer_member_id", label="Siri Skole")
    page.click("button:has-text('Registrer samtykket')")
    page.wait_for_load_state("load")
    assert plan_of(services, case_id).status == "drafting"

    # the secretary: what matters to Emma, two goals; then three measures, each with its goal
    as_user(page, base, "siri")
    page.click("text=Skriv planen: hva er viktig for deg, og mål")
    assert_accessible(page)
    page.fill("#f-whats_important", "Å ha venner og å få være med på det klassen gjør")
    page.fill("#f-resources", "Emma er nysgjerrig og glad i musikk")
    page.fill("#f-needs", "Hjelp i overganger og friminutt")
    page.select_option("#f-new_goals-0-term", label="Langsiktig")
    page.fill("#f-new_goals-0-text", GOAL_LONG)
    page.select_option("#f-new_goals-1-term", label="Kortsiktig")
    page.fill("#f-new_goals-1-text", GOAL_SHORT)
    page.fill("#f-contribution_services", "Skolen har assistent i friminuttene")
    page.click("button:has-text('Lagre målene')")
    assert page.locator("h1").inner_text().startswith("Skriv planen: tiltak")
    assert_accessible(page)
    for i, (description, goal, scope, responsible, how, days) in enumerate(MEASURES):
        page.fill(f"#f-new_measures-{i}-description", description)
        if i < 2:  # the third measure's goal is left out first: an error, nothing lost
            term = "kortsiktig" if goal == GOAL_SHORT else "langsiktig"
            page.select_option(f"#f-new_measures-{i}-goal_id", label=f"{goal} ({term})")
        page.fill(f"#f-new_measures-{i}-scope", scope)
        page.select_option(f"#f-new_measures-{i}-responsible_member_id", label=responsible)
        page.fill(f"#f-new_measures-{i}-how", how)
        page.fill(f"#f-new_measures-{i}-deadline", (today + timedelta(days=days)).isoformat())
    page.click("button:has-text('Lagre tiltakene')")
    page.locator("#f-new_measures-2-goal_id-err").wait_for(state="visible")
    assert page.input_value("#f-new_measures-2-description") == "Lekser sammen hjemme"
    assert page.input_value("#f-new_measures-0-description") == "Assistent i friminuttene"
    assert_accessible(page)
    page.select_option("#f-new_measures-2-goal_id", label=f"{GOAL_LONG} (langsiktig)")
    page.click("button:has-text('Lagre tiltakene')")
    page.wait_for_load_state("load")
    assert open_task(services, case_id, "adopt") is not None

    # the coordinator adopts it with the person
    as_user(page, base, "kari")
    page.click("text=Vedta planen sammen med personen")
    assert GOAL_LONG in page.locator("section[aria-labelledby=h-plan-context]").inner_text()
    assert_accessible(page)
    page.check("label:has-text('Planen vedtas')")
    page.check("label:has-text('Planen er gått gjennom og avtalt med personen')")
    page.fill("#f-note", "Første plan, gått gjennom med Emma og Anne")
    page.click("button:has-text('Registrer')")
    page.wait_for_load_state("load")
    assert plan_of(services, case_id).status == "adopted"

    # the plan page: goals with their measures; the history: the adopted version, archived
    page.goto(f"{base}/saker/{case_id}")
    page.click("text=Se planen")
    assert page.locator("h1").inner_text() == "Individuell plan"
    goals = page.locator("section[aria-labelledby=h-goals]").inner_text()
    assert GOAL_LONG in goals and GOAL_SHORT in goals
    assert all(description in goals for description, *_rest in MEASURES)
    assert "Vedtatt" in page.content()
    assert_accessible(page)
    page.click("text=Versjoner og endringer")
    assert page.locator("h1").inner_text() == "Versjoner av planen"
    adopted = _version_row(page, 3)
    assert "vedtatt" in adopted.inner_text() and "Arkivert PDF" in adopted.inner_text()
    assert_accessible(page)
    pdf = page.request.get(base + adopted.locator("a:has-text('Arkivert PDF')").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # the first meeting (planned through the engine): its agenda is proposed from the plan
    day = plan_meeting(services, users, case_id, days=30)
    complete(services, case_id, "needs", {"persons_needs": "Emma vil snakke om friminuttene", "person_attends": "ja"},
             users["kari"])
    page.goto(f"{base}/oppgaver")
    page.click("text=Sett opp saksliste og send innkalling")
    agenda = page.locator("input[id^='f-agenda-'][id$='-title']").evaluate_all("els => els.map(e => e.value)")
    assert f"Mål: {GOAL_LONG}" in agenda and f"Mål: {GOAL_SHORT}" in agenda
    due = (today + timedelta(days=20)).strftime("%d.%m.%Y")  # the measure due before the meeting
    assert f"Tiltak: Assistent i friminuttene (frist {due})" in agenda
    assert not any("Lekser" in title for title in agenda)  # due after the meeting: not proposed
    assert_accessible(page)
    page.check("label:has-text('Sakslisten er avtalt med personen')")
    page.click("button:has-text('Send innkalling')")
    page.wait_for_load_state("load")
    assert meeting(services, case_id).status == "invited"

    # the meeting: progress per measure of the plan, the short-term goal achieved
    services.clock.set(datetime.combine(day, time(12, 0), OSLO))
    as_user(page, base, "siri")
    page.click("text=Hold første møte og skriv referat")
    assert_accessible(page)
    page.check("#f-attendance-0-present")
    page.check("label:has-text('Kommunens retningslinjer for møtene er gjennomgått')")
    page.check("label:has-text('Ingen tidligere referat')")
    page.fill("#f-persons_account", "Emma har fått venner i friminuttene")
    _record_progress(page, {"Assistent i friminuttene": ("Gjennomført", "Assistenten er på plass"),
                            "Vennegruppe i klassen": ("Pågår", "Første samling holdt"),
                            "Lekser sammen hjemme": ("Pågår", "Lekser to dager i uka")})
    goal_rows = _rows(page, "goal_changes", "goal_id")
    assert any(label.startswith(GOAL_SHORT) for label in goal_rows), goal_rows
    short_row = next(i for i, label in enumerate(goal_rows) if label.startswith(GOAL_SHORT))
    page.select_option(f"#f-goal_changes-{short_row}-status", label="Nådd")
    page.fill("#f-summary", "Friminuttene fungerer; vennegruppen fortsetter")
    page.locator("fieldset:has-text('Trengs et samarbeidsmøte') label:has-text('Nei')").check()
    page.click("button:has-text('Lagre referatet')")
    assert page.locator("h1").inner_text().startswith("Godkjenn referatet")
    page.check("label:has-text('Ja, referatet er riktig')")
    page.click("button:has-text('Fullfør steget')")
    page.wait_for_load_state("load")
    as_user(page, base, "kari")
    approve_and_send_minutes(page, base)
    page.wait_for_load_state("load")

    # the plan's history: a new version from the meeting, and what changed since the adopted one
    page.goto(f"{base}/saker/{case_id}/plan/versjoner")
    updated = _version_row(page, 4)
    assert "oppdatert i møte" in updated.inner_text() and "Oppdatert i møte 1" in updated.inner_text()
    page.select_option("#fra", "3")
    page.select_option("#til", "4")
    page.click("button:has-text('Se endringene')")
    assert page.locator("h1").inner_text() == "Endringer fra versjon 3 til versjon 4"
    goal_changes = page.locator("section[aria-labelledby=h-goal-changes]").inner_text()
    assert f"Endret mål: {GOAL_SHORT}" in goal_changes and "Nådd" in goal_changes
    measure_changes = page.locator("section[aria-labelledby=h-measure-changes]").inner_text()
    assert "Endret tiltak: Assistent i friminuttene" in measure_changes and "Gjennomført" in measure_changes
    assert "Første samling holdt" in measure_changes
    assert_accessible(page)
    page.goto(f"{base}/saker/{case_id}/plan")
    assert "Nådd" in page.locator("section[aria-labelledby=h-goals]").inner_text()

    # the approved minutes are archived as PDF
    page.goto(f"{base}/saker/{case_id}")
    assert "Referat sendt ut" in page.content()
    minutes_pdf = page.request.get(base + page.locator("a[href$='/referat.pdf']").first.get_attribute("href"))
    assert minutes_pdf.ok and minutes_pdf.body().startswith(b"%PDF")
    with services.db.session() as s:
        minutes = s.scalar(select(Minutes).where(Minutes.meeting_id == meeting(services, case_id).id))
        assert minutes.status == "approved" and minutes.archived_pdf.startswith(b"%PDF")
        assert minutes.content.get("plan_version") == 4


def test_with_003_the_updated_plan_replaces_the_minutes(page, live_server, services, users, smtp):
    controller, inbox = smtp
    case_id = establish(services, users, until="active")
    plan_id = adopted_plan(services, users, case_id)  # consent, goals, measures, adopted: versions 1-3
    base = live_server
    with services.db.transaction() as s:
        create_user(s, "adam", "Adam Admin", PASSWORD, roles=("admin",), at=services.clock.now())

    # the administrator turns on guideline 003's setting
    login(page, base, "adam", PASSWORD)
    page.goto(f"{base}/admin/innstillinger")
    page.check("#s-plan_replaces_minutes")
    page.click("button:has-text('Lagre innstillingene')")
    assert "Innstillingene er lagret." in page.content()
    assert page.is_checked("#s-plan_replaces_minutes")

    # the meeting is planned and the invitation sent (engine)
    day = plan_meeting(services, users, case_id, days=30)
    complete(services, case_id, "needs", {"persons_needs": "Emma vil snakke om friminuttene", "person_attends": "ja"},
             users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Planen"}]},
             users["kari"])
    services.clock.set(datetime.combine(day, time(12, 0), OSLO))

    # the minute-taker holds the meeting and updates the plan: no minutes step
    as_user(page, base, "siri")
    assert page.locator("a:has-text('Hold første møte og skriv referat')").count() == 0
    page.click("text=Hold møtet og oppdater planen")
    assert page.locator("h1").inner_text().startswith("Hold møtet og oppdater planen")
    assert_accessible(page)
    page.check("#f-attendance-0-present")
    page.fill("#f-persons_account", "Emma vil gjerne begynne i korps")
    _record_progress(page, {"Assistent i friminuttene": ("Gjennomført", "Assistenten er på plass"),
                            "Vennegruppe i klassen": ("Pågår", "To samlinger holdt"),
                            "Lekser sammen hjemme": ("Pågår", "Går fint")})
    page.select_option("#f-new_goals-0-term", label="Langsiktig")
    page.fill("#f-new_goals-0-text", "Emma har en fritidsaktivitet")
    page.fill("#f-new_measures-0-description", "Prøve korps")
    page.select_option("#f-new_measures-0-goal_id", label=f"{GOAL_LONG} (langsiktig)")
    page.select_option("#f-new_measures-0-responsible_member_id", label="Anne Berg")
    page.fill("#f-new_measures-0-deadline", (day + timedelta(days=60)).isoformat())
    page.click("button:has-text('Lagre møtet og planen')")
    page.wait_for_load_state("load")
    assert open_task(services, case_id, "approve") is None

    # the coordinator approves the updated plan and sends it out
    as_user(page, base, "kari")
    assert page.locator("a:has-text('Godkjenn referatet')").count() == 0
    page.click("text=Godkjenn og send ut den oppdaterte planen")
    assert "Prøve korps" in page.locator("section[aria-labelledby=h-plan-context]").inner_text()
    assert_accessible(page)
    page.check("label:has-text('Den oppdaterte planen er gått gjennom med personen og godkjent')")
    page.click("button:has-text('Godkjenn og send planen')")
    page.wait_for_load_state("load")

    # the plan's new version: from the meeting, approved and archived as PDF
    page.goto(f"{base}/saker/{case_id}/plan/versjoner")
    row = _version_row(page, 4)
    assert "oppdatert i møte" in row.inner_text() and "godkjent" in row.inner_text()
    assert "Arkivert PDF" in row.inner_text()
    assert_accessible(page)
    pdf = page.request.get(base + row.locator("a:has-text('Arkivert PDF')").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    with services.db.session() as s:
        version = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan_id, PlanVersion.number == 4))
        assert version.source == "meeting" and version.archived_pdf == pdf.body()

    # sent by the worker; the outbox lists it as sent
    subject = "Oppdatert plan etter ansvarsgruppemøte 1"
    send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no", limit=500)
    assert any(m["Subject"].startswith(subject) and m["To"] == "siri@example.org" for m in inbox.messages)
    # the guardian is told on her own pages, in a notice without the plan (issue 15)
    assert any(m["Subject"].startswith("Ansvarsgruppe: noe venter på deg") and m["To"] == "anne@example.org"
               for m in inbox.messages)
    as_user(page, base, "sara")
    page.goto(f"{base}/utboks")
    rows = {text.split("\t")[1]: text for text in page.locator("tbody tr", has_text=subject).all_inner_texts()}
    emailed = {"kari@example.org", "siri@example.org", "per@example.org"}
    assert set(rows) == emailed | {"Emma Berg (brev)"}, rows
    assert all(rows[address].endswith("sendt (1 forsøk)") for address in emailed)
    assert "skrives ut" in rows["Emma Berg (brev)"]  # no e-mail address: a letter with the plan to print
    assert_accessible(page)


def test_the_demo_proposes_jonas_lies_next_agenda_from_his_plan(page, live_server, app, services):
    """The demo's promise: Jonas Lie's adopted plan is on its page, and the coordinator who opens
    his next meeting's agenda step finds the plan's goals and the measure due by then proposed."""
    from webapp.demo import DEMO_PASSWORD, seed
    from webapp.engine.operations import deploy_library
    from tests.webapp.cases.helpers import ROOT

    deploy_library(services.db, services.clock, ROOT / "processes", ROOT / "forms", services.engine.handlers.keys())
    seed(app)
    base = live_server
    login(page, base, "kari", DEMO_PASSWORD)
    page.goto(f"{base}/oppgaver")
    row = page.locator("tbody tr", has_text="Jonas Lie").filter(has_text="Sett opp saksliste og send innkalling")
    row.locator("a:has-text('Sett opp saksliste og send innkalling')").click()
    agenda = page.locator("input[id^='f-agenda-'][id$='-title']").evaluate_all("els => els.map(e => e.value)")
    assert agenda[:3] == ["Mål: Jonas fullfører videregående på elektrofag",
                          "Mål: Jonas har søkt og fått plass på elektrofag til høsten",
                          "Mål: Jonas har en fast fritidsaktivitet sammen med jevnaldrende"], agenda
    assert any(title.startswith("Tiltak: Søknad til videregående sammen med rådgiver") for title in agenda)
    assert_accessible(page)
    page.click("text=Ansvarsgruppe for Jonas Lie")
    page.click("text=Se planen")
    assert "Vedtatt" in page.content() and "Hospitering på elektrofag" in page.content()
    page.click("text=Versjoner og endringer")
    assert "Arkivert PDF" in _version_row(page, 3).inner_text()
