"""The supervision page (/tilsyn): register data only, and every case listed is access-logged."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import establish, municipality, open_task
from tests.webapp.meetings.helpers import plan
from webapp.audit.models import AccessLogEntry
from webapp.engine.models import Incident, OpenTask, ProcessInstance


def _logged(services, page):
    with services.db.session() as s:
        return [(r.user_id, r.case_id) for r in
                s.scalars(select(AccessLogEntry).where(AccessLogEntry.page == page).order_by(AccessLogEntry.id))]


def test_overdue_step_shows_its_name_only_and_the_read_is_logged(app, services):
    users = municipality(services)
    case_id = establish(services, users, until="active")
    plan(services, users, case_id)
    task = open_task(services, case_id, "needs")
    with services.db.transaction() as s:  # a step whose title carries a detail (as an older diagram's would)
        s.execute(sa.update(OpenTask).where(OpenTask.id == task.id).values(
            title=f"{task.title} – Emma vil snakke om skolestart"))
    services.clock.set(services.clock.now() + timedelta(days=60))  # the step is overdue
    sara = login_client(app, "sara")
    page = sara.get("/tilsyn/")
    assert page.status_code == 200
    assert task.title in page.text and "skolestart" not in page.text
    assert _logged(services, "supervision") == [(users["sara"], case_id)]
    # the coordinator, who may read the case, sees the whole title on the case page
    kari = login_client(app, "kari")
    assert "Emma vil snakke om skolestart" in kari.get(f"/saker/{case_id}").text
    assert "skolestart" not in login_client(app, "ke").get(f"/saker/{case_id}").text


def test_incident_shows_the_rule_and_the_step_not_the_message(app, services):
    users = municipality(services)
    case_id = establish(services, users, until="active")
    with services.db.transaction() as s:
        instance = s.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                            .order_by(ProcessInstance.id).limit(1))  # the establishment
        s.add(Incident(instance_id=instance.id, status="open", task_spec="plan_need", pending={},
                       message="handler failed: Emma er redd for skolestart", created_at=services.clock.now()))
    ke = login_client(app, "ke")
    page = ke.get("/tilsyn/")
    assert page.status_code == 200
    assert "redd for skolestart" not in page.text
    assert "Feil i et steg" in page.text and "plan_need" not in page.text  # the step by its name
    assert _logged(services, "supervision") == [(users["ke"], case_id)]


def test_submit_matter_page_is_access_logged(app, services):
    users = municipality(services)
    case_id = establish(services, users, until="active")
    plan(services, users, case_id)
    with services.db.session() as s:
        from webapp.meetings.models import Meeting
        meeting_id = s.scalar(select(Meeting.id).where(Meeting.case_id == case_id))
    kari = login_client(app, "kari")
    assert kari.get(f"/saker/{case_id}/moter/{meeting_id}/meld-sak").status_code == 200
    assert _logged(services, "submit_matter") == [(users["kari"], case_id)]
