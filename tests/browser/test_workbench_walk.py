"""A process owner's day in the workbench, in real Chromium: open the meeting process, add a step
with a new form, see the error pinned on it, fix it, rename a step, publish with a note, compare
v1 and v2, move the demo's running meetings (one cannot move, and says why), and a coordinator
then gets the new step. axe checks every page of the workbench."""
import json

import pytest

from tests.browser.conftest import assert_accessible, login
from tests.webapp.meetings.helpers import weekday_after
from webapp.demo import DEMO_PASSWORD, seed
from webapp.engine.operations import deploy_library
from tests.webapp.cases.helpers import ROOT

pytestmark = pytest.mark.browser

NEW_STEP = "Avtal oppfølging med familien"
FORM = {"type": "object", "title": NEW_STEP, "required": ["agreed"],
        "properties": {"agreed": {"type": "string", "title": "Hva ble avtalt med familien?", "maxLength": 2000}}}


def _editor_ready(page) -> None:
    page.locator("#canvas .djs-container").wait_for(state="visible")
    page.wait_for_function("() => window.ansvarEditor && window.ansvarEditor.modeler")


def _select(page, element_id: str) -> None:
    """Click the element on the canvas (a click on an element already selected unselects it)."""
    selected = "(id) => window.ansvarEditor.modeler.get('selection').get().some(e => e.id === id)"
    if not page.evaluate(selected, element_id):
        page.locator(f"#canvas .djs-shape[data-element-id='{element_id}'] .djs-hit").first.click()
    page.wait_for_function(selected, arg=element_id)


def _rename(page, element_id: str, name: str) -> None:
    """Select the element on the canvas and type its name in the properties panel."""
    _select(page, element_id)
    field = page.locator("#properties textarea[name='name'], #properties input[name='name']").first
    if not field.is_visible():  # the panel's "Generelt" group starts closed
        page.locator("#properties .bio-properties-panel-group-header:has-text('Generelt')").click()
    field.fill(name)
    field.press("Tab")


def _save(page, expect: str) -> None:
    page.click("#save-draft")
    page.wait_for_function("(t) => document.querySelector('#save-status').textContent.includes(t)", arg=expect)


def test_process_owner_changes_the_meeting_process(page, live_server, app, services):
    deploy_library(services.db, services.clock, ROOT / "processes", ROOT / "forms", services.engine.handlers.keys())
    seed(app)
    base = live_server
    login(page, base, "prosess", DEMO_PASSWORD)
    page.goto(f"{base}/prosesser/")
    assert_accessible(page)
    page.click("a:has-text('Møte i ansvarsgruppen')")
    assert_accessible(page)
    page.click("button:has-text('Nytt utkast fra versjon 1')")
    _editor_ready(page)
    assert_accessible(page)

    # a new user task after "Planlegg møtet", in the coordinator's lane: bpmn-js's own append
    # (the context pad's gesture), then the old flow moved to start from it
    new_id = page.evaluate("""() => {
        const m = window.ansvarEditor.modeler, reg = m.get('elementRegistry');
        const plan = reg.get('plan');
        const task = m.get('autoPlace').append(plan, m.get('elementFactory').createShape({type: 'bpmn:UserTask'}));
        const old = reg.get('f2');
        m.get('modeling').reconnectStart(old, task, {x: task.x + task.width, y: task.y + task.height / 2});
        return task.id;
    }""")
    _rename(page, new_id, NEW_STEP)
    _save(page, "Lagret.")
    # the engine's check: a user task without a form, pinned on the new element and listed
    problem = page.locator(f"#problem-list li[data-element-id='{new_id}'][data-severity='error']").first
    problem.wait_for(state="visible")
    assert page.locator(f".djs-overlays[data-container-id='{new_id}'] .ansvar-badge--error").count() == 1
    problem.locator("button").click()
    assert page.evaluate("() => window.ansvarEditor.modeler.get('selection').get().map(e => e.id)") == [new_id]

    _rename(page, "plan", "Planlegg møtet med familien")  # a completed step changes: some cannot move
    _save(page, "Lagret.")

    # the form and the guideline text of the new step
    page.reload()
    _editor_ready(page)
    page.click(f"a:has-text('{NEW_STEP}')")
    page.fill("#form_name", "oppfolging.json")
    page.fill("#schema-text", json.dumps(FORM, ensure_ascii=False, indent=2))
    page.locator("#form-preview :text('Hva ble avtalt med familien?')").wait_for(state="visible")
    page.fill("#documentation", "Avtal med familien hvem som følger opp hva (retningslinje 002).")
    assert_accessible(page)
    page.click("button:has-text('Lagre i utkastet')")
    _editor_ready(page)
    assert page.locator(f"#problem-list li[data-element-id='{new_id}'][data-severity='error']").count() == 0

    page.click("a:has-text('Publiser')")
    assert_accessible(page)
    assert NEW_STEP in page.content()
    page.fill("#note", "Nytt steg: oppfølging avtales med familien etter planleggingen.")
    if page.locator("#accept_reason").count():
        page.fill("#accept_reason", "Advarslene gjelder steg vi ikke har endret.")
    page.click("button:has-text('Publiser')")
    assert "Versjon 2 er publisert." in page.content()

    page.click("a:has-text('Endringer fra v1')")
    page.locator("#diff-b .djs-container").wait_for(state="visible")
    assert_accessible(page)
    page.wait_for_function(f"() => document.querySelector(\"#diff-b [data-element-id='{new_id}']\")"
                           ".classList.contains('diff-added')")
    assert page.locator("#diff-a [data-element-id='plan'].diff-changed").count() == 1
    assert "Planlegg møtet med familien" in page.content()

    # migration: Sofie Dahl's meeting waits at planning (moves); Ida Aas's first meeting and Jonas
    # Lie's next one have been planned (they stay)
    page.goto(f"{base}/prosesser/meeting/flytting")
    assert_accessible(page)
    rows = [text for text in page.locator("tbody tr").all_inner_texts()]
    assert len(rows) == 3
    stay = [text for text in rows if "Nei" in text]
    assert len(stay) == 2 and all("Planlegg møtet" in text for text in stay)
    page.click("button:has-text('Flytt alle som kan flyttes')")
    assert_accessible(page)
    report = page.locator("tbody").inner_text()
    assert "Flyttet" in report and "Står igjen" in report
    page.goto(f"{base}/prosesser/")
    assert "2 kan ikke flyttes" in page.content()

    # the coordinator plans Sofie Dahl's meeting on the new version and gets the new step
    login(page, base, "kari", DEMO_PASSWORD)
    page.click("text=Planlegg møtet med familien")
    page.fill("#f-meeting_date", weekday_after(services, 30).isoformat())
    page.fill("#f-meeting_time", "10:00")
    page.fill("#f-place", "Rådhuset")
    page.locator("#f-minute_taker_member_id label").first.check()
    page.click("button:has-text('Fullfør steget')")
    assert page.locator("h1").inner_text() == NEW_STEP
    page.goto(f"{base}/oppgaver")
    assert NEW_STEP in page.content()


def test_process_owner_test_runs_a_draft_to_its_end(page, live_server, app, services):
    """A draft of the closing process runs in a throwaway database, through the real form pages,
    to its end; the path is drawn and nothing reaches the real database but the audit event."""
    from sqlalchemy import func, select

    from tests.webapp.cases.helpers import PASSWORD, municipality
    from webapp.auth.operations import create_user
    from webapp.cases.models import Case
    from webapp.outbox.models import OutboxMessage

    municipality(services)
    with services.db.transaction() as s:
        create_user(s, "per", "Per Prosesseier", PASSWORD, roles=("process_owner",), at=services.clock.now())
    base = live_server
    login(page, base, "per", PASSWORD)
    page.goto(f"{base}/prosesser/closing")
    page.click("button:has-text('Nytt utkast fra versjon 1')")
    _editor_ready(page)
    page.click("a:has-text('Testkjør utkastet')")
    assert_accessible(page)
    page.click("button:has-text('Start testkjøringen')")
    page.locator("#path-canvas .djs-container").wait_for(state="visible")
    assert_accessible(page)
    page.click("a:has-text('Fullfør')")
    assert_accessible(page)
    page.click("button:has-text('Registrer')")  # nothing filled in: errors, nothing done
    assert "Begrunnelse" in page.content() and page.locator(".ds-error-summary, [role=alert]").count() >= 1
    page.check("label:has-text('Ja, gruppen avsluttes')")
    page.fill("#f-confirmed_with", "Anne Berg")
    page.fill("#f-confirmed_on", services.clock.today().isoformat())
    page.fill("#f-reason", "Målene er nådd.")
    page.check("label:has-text('Nei') >> nth=-1")
    page.click("button:has-text('Registrer')")
    page.locator("text=Testkjøringen er ferdig").first.wait_for(state="visible")
    page.wait_for_function("() => document.querySelectorAll('#path-canvas .path-done').length >= 2")
    with services.db.session() as s:  # the real database: no case, no mail
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_administrator_previews_and_applies_a_profile(page, live_server, app, services):
    """The profile pages: what Lund's guideline changes, shown before it is applied."""
    from tests.webapp.cases.helpers import PASSWORD, municipality
    from webapp.auth.operations import create_user
    from webapp.settings.operations import get_setting

    municipality(services)
    with services.db.transaction() as s:
        create_user(s, "adam", "Adam Admin", PASSWORD, roles=("admin",), at=services.clock.now())
    login(page, live_server, "adam", PASSWORD)
    page.goto(f"{live_server}/admin/profiler/")
    assert_accessible(page)
    page.click("a[href$='/admin/profiler/lund']")
    assert_accessible(page)
    assert "Innkallingen sendes også som brev" in page.content()  # invitations by post: off → on
    page.click("button:has-text('Ta i bruk profilen')")
    with services.db.session() as s:
        assert get_setting(s, "invitations_by_post") is True
