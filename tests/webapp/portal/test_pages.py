"""What the person's pages show of the group's work: the next meeting and its agenda, the
approved minutes (not before), the adopted plan, and the dates that concern them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.webapp.cases.helpers import complete
from tests.webapp.meetings.helpers import hold_data, meeting, plan
from tests.webapp.plans.helpers import adopted_plan
from tests.webapp.portal.helpers import citizen_client, guardian_case, user_id
from webapp.engine.models import OpenTask


def _needs_and_agenda(services, users, case_id):
    complete(services, case_id, "needs", {"persons_needs": "Emma vil snakke om skolestart", "person_attends": "ja"},
             user_id(services, "anne"))
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Skolestart"}]},
             users["kari"])


def test_the_meeting_its_agenda_and_the_approved_minutes(app, services, users):
    case_id = guardian_case(services, users)
    day = plan(services, users, case_id)
    _needs_and_agenda(services, users, case_id)
    m = meeting(services, case_id)
    anne = citizen_client(app, "anne")
    overview = anne.get(f"/min-side/saker/{case_id}")
    assert f"/min-side/saker/{case_id}/moter/{m.id}" in overview.text and "Rådhuset" in overview.text
    assert f"{day:%d.%m.%Y}" in overview.text  # among the dates that concern her
    page = anne.get(f"/min-side/saker/{case_id}/moter/{m.id}")
    assert page.status_code == 200 and "Skolestart" in page.text and "Referat" not in page.text

    complete(services, case_id, "hold_first", hold_data(services, case_id), users["siri"])
    anne = citizen_client(app, "anne")  # the clock has moved past the meeting: a new login
    held = anne.get(f"/min-side/saker/{case_id}/moter/{m.id}")
    assert "Referatet kommer her når det er godkjent." in held.text and "Assistent første uke" not in held.text
    assert anne.get(f"/min-side/saker/{case_id}/moter/{m.id}/referat.pdf").status_code == 404

    with services.db.session() as s:
        approvals = s.scalars(select(OpenTask).where(OpenTask.task_spec == "approve")).all()
    for t in approvals:
        services.engine.complete_task(t.instance_id, t.task_id, {"approved": "ja"}, actor_id=t.assignee_id)
    complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])
    assert meeting(services, case_id).status == "distributed"
    approved = anne.get(f"/min-side/saker/{case_id}/moter/{m.id}")
    assert "Assistent første uke" in approved.text and "Emma gleder seg til skolen" in approved.text
    pdf = anne.get(f"/min-side/saker/{case_id}/moter/{m.id}/referat.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "Møte 1" in anne.get(f"/min-side/saker/{case_id}").text  # among the past meetings
    # no reply to a meeting that is over
    assert anne.get(f"/min-side/saker/{case_id}/moter/{m.id}/svar").status_code == 404


def test_the_adopted_plan_and_her_measures(app, services, users):
    case_id = guardian_case(services, users)
    anne = citizen_client(app, "anne")
    assert anne.get(f"/min-side/saker/{case_id}/plan").status_code == 404  # nothing adopted yet
    adopted_plan(services, users, case_id)
    page = anne.get(f"/min-side/saker/{case_id}/plan")
    assert page.status_code == 200
    for text in ("Emma går på skolen sammen med vennene sine", "Assistent i friminuttene", "Lekser sammen hjemme"):
        assert text in page.text
    overview = anne.get(f"/min-side/saker/{case_id}").text
    assert f"/min-side/saker/{case_id}/plan" in overview
    assert "Lekser sammen hjemme" in overview  # a measure she is responsible for, with its deadline
    assert "Vennegruppe i klassen" not in overview  # the school's: on the plan, not among her dates
    later = services.clock.today() + timedelta(days=90)
    assert f"{later:%d.%m.%Y}" in overview
