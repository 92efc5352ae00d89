"""What was registered stays visible to those it is for; wishes can be declined or marked as
duplicates; the coordinator corrects the person and the members; forms report every error at once
(issue 10, §1). Real app, real SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import APPOINT, PASSWORD, complete, establish, municipality, open_task, wish
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case, CaseMember, Person
from webapp.engine.models import OpenTask, ProcessInstance
from webapp.settings.operations import change_setting

WISH_TEXT = "Vi trenger bedre samarbeid mellom skole og helsestasjon"
NID = "20051912345"


@pytest.fixture
def users(services):
    return municipality(services)


def login(app, username):
    return login_client(app, username, PASSWORD)


def form(**extra):
    data = {"full_name": "Emma Berg", "birth_date": "2019-05-20", "national_id": NID, "phone": "99887766",
            "email": "emma@example.org", "address": "Storgata 1", "requested_by_kind": "guardian",
            "requested_by_name": "Anne Berg", "wish": WISH_TEXT,
            "guardians-0-name": "Anne Berg", "guardians-0-kind": "guardian", "guardians-0-phone": "41234567",
            "guardians-0-email": "anne@example.org"}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def register(client, **extra):
    return client.post("/saker/ny", data={**form(**extra), "csrf_token": client.token})


def count(services, model):
    with services.db.session() as s:
        return s.scalar(select(func.count(model.id)))


def set_setting(services, key, value):
    with services.db.transaction() as s:
        change_setting(s, key, value, at=services.clock.now(), actor_id=None)


def task_page(client, services, case_id, spec):
    task = open_task(services, case_id, spec)
    return client.get(f"/oppgaver/{task.instance_id}/{task.task_id}")


# ----------------------------------------------------------------------------- validation

def test_registration_reports_every_error_at_once_and_keeps_every_row(app, services, users):
    client = login(app, "ola")
    response = register(client, birth_date="2999-01-01", national_id="123", wish="",
                        **{"guardians-1-name": "Per Berg", "guardians-1-kind": "relative",
                           "guardians-1-email": "ikke-epost"})
    assert response.status_code == 400
    for field in ("birth_date", "national_id", "wish", "guardians-1-email"):
        assert f'id="f-{field}-err"' in response.text, field
    # both guardian rows are shown again, with what was typed
    assert 'value="Anne Berg"' in response.text and 'value="Per Berg"' in response.text
    assert 'value="ikke-epost"' in response.text
    assert count(services, Case) == 0 and count(services, Person) == 0


def test_a_future_birth_date_is_reported_together_with_missing_fields(app, services, users):
    client = login(app, "ola")
    response = register(client, birth_date="2999-01-01", full_name="", requested_by_kind="")
    assert response.status_code == 400
    for field in ("birth_date", "full_name", "requested_by_kind"):
        assert f'id="f-{field}-err"' in response.text, field


# ----------------------------------------------------------------------------- what was registered

def test_the_registrant_keeps_sight_of_the_wish(app, services, users):
    client = login(app, "ola")
    response = register(client)
    assert response.status_code == 302 and "/saker/mine-onsker" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert WISH_TEXT in page.text and "venter på oppnevning av koordinator" in page.text
    with services.db.session() as s:
        case_id = s.scalar(select(Case.id))
    complete(services, case_id, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"])}, users["ke"])
    page = client.get("/saker/mine-onsker")
    assert "Koordinator er oppnevnt" in page.text and WISH_TEXT in page.text
    # someone else's list does not show it
    assert WISH_TEXT not in login(app, "siri").get("/saker/mine-onsker").text


def test_the_wish_is_shown_in_the_appointment_step_and_to_the_coordinator_only(app, services, users):
    assert register(login(app, "ola")).status_code == 302
    with services.db.session() as s:
        case_id = s.scalar(select(Case.id))
    ke = login(app, "ke")
    step = task_page(ke, services, case_id, "appoint")
    assert step.status_code == 200
    for shown in (WISH_TEXT, "99887766", "emma@example.org", "Storgata 1", "41234567", "anne@example.org"):
        assert shown in step.text, shown
    # not on register pages: the case page (register access) and the register
    assert WISH_TEXT not in ke.get(f"/saker/{case_id}").text
    register_page = ke.get("/register")
    assert register_page.status_code == 200 and WISH_TEXT not in register_page.text

    complete(services, case_id, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"])}, users["ke"])
    kari = login(app, "kari")
    assert WISH_TEXT in kari.get(f"/saker/{case_id}").text
    consent = task_page(kari, services, case_id, "consent")
    assert WISH_TEXT in consent.text and "41234567" in consent.text
    # the coordinating unit no longer has a step: the wish is gone from its view
    assert WISH_TEXT not in ke.get(f"/saker/{case_id}").text


# ----------------------------------------------------------------------------- duplicates

def test_a_second_wish_for_the_same_person_asks_for_confirmation(app, services, users):
    client = login(app, "ola")
    assert register(client).status_code == 302
    with services.db.session() as s:
        first = s.scalar(select(Case))
    warned = register(client, wish="Et nytt ønske")
    assert warned.status_code == 200 and first.reference in warned.text
    assert "allerede en åpen sak" in warned.text and "Et nytt ønske" in warned.text
    assert count(services, Case) == 1
    # a confirmation given for another number does not count
    assert register(client, confirm_duplicate="11111111111").status_code == 200 and count(services, Case) == 1
    confirmed = register(client, wish="Et nytt ønske", confirm_duplicate=NID)
    assert confirmed.status_code == 302 and count(services, Case) == 2
    with services.db.session() as s:
        second = s.scalar(select(Case).order_by(Case.id.desc()).limit(1))
    step = task_page(login(app, "ke"), services, second.id, "appoint")
    assert f"Mulig duplikat av {first.reference}" in step.text


def test_no_warning_without_a_national_id_or_for_an_ended_case(app, services, users):
    client = login(app, "ola")
    assert register(client, national_id="").status_code == 302
    assert register(client, national_id="").status_code == 302
    with services.db.transaction() as s:  # the only case with this number is closed
        case = s.scalar(select(Case).order_by(Case.id).limit(1))
        case.status = "closed"
        s.get(Person, case.person_id).national_id = NID
    assert register(client).status_code == 302


# ----------------------------------------------------------------------------- declining

def decide(client, case_id, **data):
    return client.post(f"/saker/{case_id}/onske/behandle", data={**data, "csrf_token": client.token})


def test_the_coordinating_unit_declines_a_wish(app, services, users):
    case_id = wish(services, users)
    ke = login(app, "ke")
    page = ke.get(f"/saker/{case_id}")
    assert 'id="h-decide"' in page.text
    refused = decide(ke, case_id, outcome="declined", reason="")
    assert refused.status_code == 400 and 'id="dw-reason-err"' in refused.text
    assert open_task(services, case_id, "appoint") is not None
    # someone who cannot act on the appointment step gets nothing
    assert decide(login(app, "ulf"), case_id, outcome="declined", reason="Nei").status_code == 404

    done = decide(ke, case_id, outcome="declined", reason="Behovet dekkes av helsestasjonen")
    assert done.status_code == 302
    with services.db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "declined" and case.status_reason == "Behovet dekkes av helsestasjonen"
        assert s.scalar(select(func.count(OpenTask.id)).where(OpenTask.case_id == case_id)) == 0
        assert s.scalar(select(ProcessInstance.status).where(ProcessInstance.case_id == case_id)) == "cancelled"
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.case_id == case_id,
                                                    AuditEvent.kind == "wish_declined")) is not None
    assert "Avslått" in login(app, "ola").get("/saker/mine-onsker").text
    # decided once: a second attempt is refused with a message, not a 500
    assert decide(ke, case_id, outcome="declined", reason="Igjen").status_code == 404


def test_the_coordinating_unit_marks_a_wish_as_a_duplicate(app, services, users):
    first = wish(services, users)
    second = wish(services, users)
    ke = login(app, "ke")
    unknown = decide(ke, second, outcome="duplicate", duplicate_of="AG-1999-9999")
    assert unknown.status_code == 400 and 'id="dw-duplicate_of-err"' in unknown.text
    assert 'value="AG-1999-9999"' in unknown.text
    with services.db.session() as s:
        reference = s.get(Case, first).reference
    assert decide(ke, second, outcome="duplicate", duplicate_of=reference.lower()).status_code == 302
    with services.db.session() as s:
        case = s.get(Case, second)
        assert case.status == "duplicate" and reference in case.status_reason
        assert s.get(Case, first).status == "requested"
    assert "Duplikat" in login(app, "ola").get("/saker/mine-onsker").text


# ----------------------------------------------------------------------------- without a coordinating unit

def test_without_a_coordinating_unit_only_the_receiving_service_appoints(app, services, users):
    set_setting(services, "coordinating_unit_appoints", False)
    ola = login(app, "ola")
    new_page = ola.get("/saker/ny")
    assert "koordinerende enhet" not in new_page.text.lower()
    response = register(ola)
    assert response.status_code == 302
    assert "koordinerende enhet" not in ola.get(response.headers["Location"]).text.lower()
    with services.db.session() as s:
        case_id = s.scalar(select(Case.id))
    assert f"/saker/{case_id}" in ola.get("/oppgaver").text or "Oppnevn koordinator" in ola.get("/oppgaver").text
    ke = login(app, "ke")
    assert "Oppnevn koordinator" not in ke.get("/oppgaver").text
    assert task_page(ke, services, case_id, "appoint").status_code == 404
    case_page = ola.get(f"/saker/{case_id}")
    assert "Tjenesten som mottok ønsket" in case_page.text
    assert "Koordinerende enhet" not in case_page.text


# ----------------------------------------------------------------------------- links and confirmation

def test_other_members_steps_are_text_not_links(app, services, users):
    case_id = establish(services, users, until="proposed")
    siri_task = open_task(services, case_id, "confirm", users["siri"])
    page = login(app, "kari").get(f"/saker/{case_id}")
    assert f"/oppgaver/{siri_task.instance_id}/{siri_task.task_id}" not in page.text
    kari_task = open_task(services, case_id, "confirm", users["kari"])
    assert f"/oppgaver/{kari_task.instance_id}/{kari_task.task_id}" in page.text


def test_a_step_ending_on_the_case_page_is_confirmed(app, services, users):
    case_id = wish(services, users)
    ke = login(app, "ke")
    task = open_task(services, case_id, "appoint")
    response = ke.post(f"/oppgaver/{task.instance_id}/{task.task_id}", data={
        **APPOINT, "wish_weighed": "on", "coordinator_user_id": str(users["kari"]), "csrf_token": ke.token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/saker/{case_id}")
    assert "Steget er fullført: Oppnevn koordinator" in ke.get(response.headers["Location"]).text


def test_staff_without_the_staff_role_see_no_register_link(app, services, users):
    with services.db.transaction() as s:
        from webapp.auth.operations import create_user
        create_user(s, "pia", "Pia Prosess", PASSWORD, roles=("system_owner",), at=services.clock.now())
    pia = login(app, "pia")
    assert "/saker/ny" not in pia.get("/saker/").text and "/saker/ny" not in pia.get("/oppgaver").text
    assert pia.get("/saker/ny").status_code == 404
    assert "/saker/ny" in login(app, "ola").get("/saker/").text


# ----------------------------------------------------------------------------- corrections

def correction(services, case_id, **changes):
    with services.db.session() as s:
        case = s.get(Case, case_id)
        data = {"full_name": case.person.full_name, "birth_date": case.person.birth_date.isoformat(),
                "phone": case.person.phone or "", "email": case.person.email or "",
                "address": case.person.address or ""}
        for m in s.scalars(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.active.is_(True),
                                                    CaseMember.role.in_(("foresatt", "parorende", "medlem")))):
            data.update({f"m-{m.id}-email": m.email or "", f"m-{m.id}-phone": m.phone or "",
                         f"m-{m.id}-role": m.role})
    data.update(changes)
    return data


def member_id(services, case_id, name):
    with services.db.session() as s:
        return s.scalar(select(CaseMember.id).where(CaseMember.case_id == case_id, CaseMember.name == name))


def test_the_coordinator_corrects_the_person_and_the_members(app, services, users):
    case_id = establish(services, users)
    kari = login(app, "kari")
    page = kari.get(f"/saker/{case_id}/rett")
    assert page.status_code == 200 and "Anne Berg" in page.text
    anne = member_id(services, case_id, "Anne Berg")
    bad = kari.post(f"/saker/{case_id}/rett", data={**correction(
        services, case_id, full_name="", birth_date="2999-01-01", national_id="12",
        **{f"m-{anne}-email": "feil", f"m-{anne}-role": "koordinator"}), "csrf_token": kari.token})
    assert bad.status_code == 400
    for error in ("f-full_name-err", "f-birth_date-err", "f-national_id-err", f"m-{anne}-email-err",
                  f"m-{anne}-role-err"):
        assert f'id="{error}"' in bad.text, error
    assert 'value="feil"' in bad.text
    with services.db.session() as s:
        assert s.get(Case, case_id).person.full_name == "Emma Berg"

    ok = kari.post(f"/saker/{case_id}/rett", data={**correction(
        services, case_id, full_name="Emma Berg Hansen", national_id="20051954321", phone="91234567",
        **{f"m-{anne}-email": "anne.berg@example.org", f"m-{anne}-role": "parorende"}), "csrf_token": kari.token})
    assert ok.status_code == 302
    with services.db.session() as s:
        case = s.get(Case, case_id)
        assert case.person.full_name == "Emma Berg Hansen" and case.person.national_id == "20051954321"
        assert case.person.phone == "91234567"
        member = s.get(CaseMember, anne)
        assert (member.email, member.role) == ("anne.berg@example.org", "parorende")
        kinds = s.scalars(select(AuditEvent.kind).where(AuditEvent.case_id == case_id)).all()
        assert "person_corrected" in kinds and "member_corrected" in kinds
        person_event = s.scalar(select(AuditEvent).where(AuditEvent.kind == "person_corrected"))
        assert person_event.actor_id == users["kari"] and "20051954321" not in str(person_event.detail)
    # an empty national id keeps the stored one
    assert kari.post(f"/saker/{case_id}/rett", data={**correction(services, case_id),
                                                     "csrf_token": kari.token}).status_code == 302
    with services.db.session() as s:
        assert s.get(Case, case_id).person.national_id == "20051954321"


def test_only_the_coordinator_corrects(app, services, users):
    case_id = establish(services, users)
    for username in ("siri", "ke", "ulf"):
        client = login(app, username)
        assert client.get(f"/saker/{case_id}/rett").status_code == 404, username
        assert client.post(f"/saker/{case_id}/rett", data={**correction(services, case_id, full_name="X Y"),
                                                           "csrf_token": client.token}).status_code == 404
    with services.db.session() as s:
        assert s.get(Case, case_id).person.full_name == "Emma Berg"


def test_guardian_rows_stay_after_an_error(app, services, users):
    client = login(app, "ola")
    # nothing typed in the guardian table: both rows are still there
    response = register(client, full_name="", **{"guardians-0-name": "", "guardians-0-kind": "",
                                                  "guardians-0-phone": "", "guardians-0-email": ""})
    assert response.status_code == 400
    assert 'id="f-guardians-0-name"' in response.text and 'id="f-guardians-1-name"' in response.text
