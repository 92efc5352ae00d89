"""Starting the work on a plan from the case page, after the establishment said "no" or "later"."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import complete, establish, open_task
from tests.webapp.plans.helpers import plan_of
from webapp.cases.models import Case, CaseMember
from webapp.plans.models import Plan
from webapp.settings.operations import change_setting


def _case_without_plan(services, users) -> int:
    """An active group without a current plan: the establishment's "yes" started a plan
    episode, and the person refused consent to it."""
    case_id = establish(services, users)
    complete(services, case_id, "plan_consent", {"consent_decision": "nektet", "signed_by": "Anne Berg",
                                            "signed_how": "paper", "signed_on": services.clock.today().isoformat(),
                                            "refusal_reason": "Ikke nå"}, users["kari"])
    assert plan_of(services, case_id).status == "refused"
    return case_id


def _plans(services, case_id) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count(Plan.id)).where(Plan.case_id == case_id))


def test_the_coordinator_starts_a_plan_on_the_case_page(app, services, users):
    case_id = _case_without_plan(services, users)
    kari = login_client(app, "kari")
    page = kari.get(f"/saker/{case_id}")
    assert "Start arbeidet med plan" in page.text and "Stafettlogg (0–18 år)" not in page.text
    response = kari.post(f"/saker/{case_id}/plan/start", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    plan = plan_of(services, case_id)
    assert plan.status == "consent_pending" and plan.kind == "individual_plan" and _plans(services, case_id) == 2
    assert open_task(services, case_id, "plan_consent") is not None
    with services.db.session() as s:
        assert s.get(Case, case_id).individual_plan == "yes"
    # a second start while the plan is current is refused with a message; nothing is added
    page = kari.get(f"/saker/{case_id}")
    assert "Start arbeidet med plan" not in page.text
    response = kari.post(f"/saker/{case_id}/plan/start", data={"csrf_token": csrf_token(page.text)},
                         follow_redirects=True)
    assert "Gruppen har allerede en plan." in response.text and _plans(services, case_id) == 2


def test_a_relay_log_only_where_the_municipality_uses_it(app, services, users):
    case_id = _case_without_plan(services, users)
    kari = login_client(app, "kari")
    page = kari.get(f"/saker/{case_id}")
    response = kari.post(f"/saker/{case_id}/plan/start", data={"csrf_token": csrf_token(page.text),
                                                                "kind": "relay_log"}, follow_redirects=True)
    assert "Kommunen bruker ikke stafettlogg" in response.text and _plans(services, case_id) == 1
    with services.db.transaction() as s:
        change_setting(s, "uses_relay_log", True, at=services.clock.now(), actor_id=None)
    page = kari.get(f"/saker/{case_id}")
    assert "Stafettlogg (0–18 år)" in page.text
    kari.post(f"/saker/{case_id}/plan/start", data={"csrf_token": csrf_token(page.text), "kind": "relay_log"})
    assert plan_of(services, case_id).kind == "relay_log"


def test_only_the_coordinator_starts_a_plan_and_only_with_a_csrf_token(app, services, users):
    case_id = _case_without_plan(services, users)
    siri = login_client(app, "siri")
    page = siri.get(f"/saker/{case_id}")
    assert page.status_code == 200 and "Start arbeidet med plan" not in page.text
    assert siri.post(f"/saker/{case_id}/plan/start", data={"csrf_token": csrf_token(page.text)}).status_code == 404
    kari = login_client(app, "kari")
    assert kari.post(f"/saker/{case_id}/plan/start", data={}).status_code == 400
    assert _plans(services, case_id) == 1
