"""The supervisors' process map in Chromium: overlays with the figures, heat markers, incident
badges, a click on an element opens its cases; a case's episodes with the path; axe on each page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import assert_accessible, login
from tests.webapp.cases.helpers import APPOINT, PASSWORD, complete, municipality, wish
from webapp.engine.models import Incident, ProcessInstance

pytestmark = pytest.mark.browser


def test_process_map_and_case_episodes(app, services, live_server, page):
    users = municipality(services)
    start = services.clock.now()
    first = wish(services, users, name="Første Person")
    services.clock.set(start + timedelta(days=40))
    wish(services, users, name="Andre Person")
    appointed = wish(services, users, name="Tredje Person")
    complete(services, appointed, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"])}, users["ke"])
    services.clock.set(start + timedelta(days=45))
    with services.db.transaction() as s:
        instance = s.scalar(select(ProcessInstance).where(ProcessInstance.case_id == first))
        s.add(Incident(instance_id=instance.id, status="open", task_spec="record_appointment", pending={},
                       message="hemmelig", created_at=services.clock.now()))
    login(page, live_server, "ke", PASSWORD)
    page.goto(f"{live_server}/tilsyn/prosesser/")
    assert_accessible(page)
    page.goto(f"{live_server}/tilsyn/prosesser/establishment")
    page.locator("#process-map .djs-container").wait_for(state="visible")
    page.wait_for_function("() => window.ansvarProcessMap && document.querySelector('.pm-badge')")
    badge = page.locator(".pm-badge").first.text_content()
    assert badge == "2 venter · median 25 d · lengst 45 d", badge
    assert page.locator(".pm-incident-badge").filter(has_text="1 feil").count() == 1
    assert page.evaluate("() => document.querySelectorAll('#process-map .heat-2').length") == 1
    assert_accessible(page)
    page.locator('#process-map [data-element-id="appoint"]').first.click()
    page.wait_for_url("**/element/appoint")
    assert page.locator("tbody tr").count() == 2  # the two cases waiting to be appointed
    assert_accessible(page)
    page.goto(f"{live_server}/tilsyn/prosesser/sak/{appointed}")
    page.wait_for_function("() => document.querySelectorAll('.path-current').length > 0")
    page.wait_for_function("() => document.querySelectorAll('.path-done').length >= 3")
    assert page.locator(".ansvar-path-badge").first.text_content() == "Nå her"
    assert_accessible(page)
