"""Access by need: every route that shows or changes case data, for every kind of user."""
import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, establish, municipality, open_task, wish
from webapp.audit.models import AccessLogEntry, AuditEvent


@pytest.fixture
def users(services):
    return municipality(services)


def client_for(app, username):
    return login_client(app, username, PASSWORD)


def test_member_of_case_a_cannot_reach_case_b(app, services, users):
    case_a = establish(services, users, until="active")
    case_b = establish(services, users, until="proposed")  # Siri has an open task in B ...
    siri_b = open_task(services, case_b, "confirm", users["siri"])
    ola = client_for(app, "ola")  # ... Ola has no role in either case
    assert ola.get(f"/saker/{case_a}").status_code == 404
    assert ola.get(f"/saker/{case_b}").status_code == 404
    # by task id: neither reading nor posting works, and the refusal looks like "not found"
    url = f"/oppgaver/{siri_b.instance_id}/{siri_b.task_id}"
    assert ola.get(url).status_code == 404
    response = ola.post(url, data={"participates": "ja", "mandate": "x", "csrf_token": ola.token})
    assert response.status_code == 404
    assert "Siri" not in response.text and "Emma" not in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.kind == "task_completed", AuditEvent.actor_id == users["ola"])) == 0
    # the task is still open for Siri
    assert open_task(services, case_b, "confirm", users["siri"]).task_id == siri_b.task_id
    # other case pages
    for path in (f"/saker/{case_b}/innsyn",):
        assert ola.get(path).status_code == 404
    assert ola.post(f"/saker/{case_a}/samtykke/trekk-tilbake",
                    data={"stated_by": "x", "reason": "y", "csrf_token": ola.token}).status_code == 404


def test_a_member_cannot_act_on_another_members_task_in_the_same_case(app, services, users):
    case_id = establish(services, users, until="proposed")
    kari_task = open_task(services, case_id, "confirm", users["kari"])
    siri = client_for(app, "siri")
    assert siri.get(f"/saker/{case_id}").status_code == 200  # she is a member, consent in force
    url = f"/oppgaver/{kari_task.instance_id}/{kari_task.task_id}"
    assert siri.get(url).status_code == 404
    assert siri.post(url, data={"participates": "nei", "csrf_token": siri.token}).status_code == 404


def test_before_consent_only_coordinator_and_unit_see_the_case(app, services, users):
    case_id = establish(services, users, until="appointed")
    with services.db.transaction() as s:  # a member added before consent
        from webapp.cases.models import Case
        from webapp.cases.operations import add_member
        add_member(s, s.get(Case, case_id), "Siri Skole", "medlem", at=services.clock.now(), user_id=users["siri"])
    assert client_for(app, "kari").get(f"/saker/{case_id}").status_code == 200
    assert client_for(app, "siri").get(f"/saker/{case_id}").status_code == 404
    register_view = client_for(app, "ke").get(f"/saker/{case_id}")
    assert register_view.status_code == 200 and "registeropplysninger" in register_view.text
    assert "Tidslinje" not in register_view.text and "Bedre samarbeid" not in register_view.text


def test_coordinating_unit_sees_register_data_but_no_content(app, services, users):
    case_id = establish(services, users, until="active")
    page = client_for(app, "ke").get(f"/saker/{case_id}")
    assert page.status_code == 200
    assert "Kari Koordinator" in page.text and "Aktiv" in page.text  # who and status
    assert "Tidslinje" not in page.text and "Mandat avklart" not in page.text  # no content
    assert "Anne Berg" not in page.text.split("Samtykke")[-1].split("</section>")[0]  # signer not shown
    sara = client_for(app, "sara").get(f"/saker/{case_id}")
    assert sara.status_code == 200 and "Tidslinje" not in sara.text


def test_withdrawn_consent_refuses_members_at_once(app, services, users):
    case_id = establish(services, users, until="active")
    siri = client_for(app, "siri")
    assert siri.get(f"/saker/{case_id}").status_code == 200
    kari = client_for(app, "kari")
    page = kari.get(f"/saker/{case_id}")
    response = kari.post(f"/saker/{case_id}/samtykke/trekk-tilbake",
                         data={"stated_by": "Anne Berg", "reason": "Vil avslutte", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert siri.get(f"/saker/{case_id}").status_code == 404
    coordinator_view = kari.get(f"/saker/{case_id}")
    assert coordinator_view.status_code == 200 and "Samtykket ble trukket tilbake av Anne Berg" in coordinator_view.text


def test_withdrawal_form_keeps_input_on_error(app, services, users):
    case_id = establish(services, users, until="active")
    kari = client_for(app, "kari")
    response = kari.post(f"/saker/{case_id}/samtykke/trekk-tilbake",
                         data={"stated_by": "Anne Berg", "reason": "", "csrf_token": kari.token})
    assert response.status_code == 400 and "Skriv hva personen sa" in response.text
    assert 'value="Anne Berg"' in response.text
    assert client_for(app, "siri").get(f"/saker/{case_id}").status_code == 200  # nothing changed


def test_every_view_is_logged_and_the_coordinator_can_see_who_looked(app, services, users):
    case_id = establish(services, users, until="active")
    client_for(app, "siri").get(f"/saker/{case_id}")
    client_for(app, "ke").get(f"/saker/{case_id}")
    kari = client_for(app, "kari")
    log = kari.get(f"/saker/{case_id}/innsyn")
    assert log.status_code == 200
    assert "Siri Skole" in log.text and "Kjell Enhet" in log.text and "Registeropplysninger" in log.text
    with services.db.session() as s:
        pages = s.execute(select(AccessLogEntry.user_id, AccessLogEntry.page)
                          .where(AccessLogEntry.case_id == case_id)).all()
    assert (users["siri"], "case") in pages and (users["ke"], "case_register") in pages
    assert (users["kari"], "access_log") in pages
    # members other than the coordinator cannot open the log
    assert client_for(app, "siri").get(f"/saker/{case_id}/innsyn").status_code == 404


def test_task_page_view_is_logged(app, services, users):
    case_id = wish(services, users)
    task = open_task(services, case_id, "appoint")
    ke = client_for(app, "ke")
    assert ke.get(f"/oppgaver/{task.instance_id}/{task.task_id}").status_code == 200
    with services.db.session() as s:
        assert s.scalar(select(AccessLogEntry.page).where(AccessLogEntry.case_id == case_id,
                                                          AccessLogEntry.user_id == users["ke"])) == "task"
