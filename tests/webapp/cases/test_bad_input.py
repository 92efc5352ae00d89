"""Bad input on every establishment form: the page comes back (400) with the input kept and
errors beside the fields; nothing is saved; never a 500."""
import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, complete, establish, municipality, open_task, wish
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case, Person

LONG = "x" * 5000

# step -> (how far to walk, who acts, list of (posted data, field that must show an error))
CASES = {
    "appoint": ("wish", "ke", [
        ({}, "coordinator_user_id"),
        ({"coordinator_user_id": "999999", "coordinator_kind": "coordinator", "wish_weighed": "on"}, "coordinator_user_id"),
        ({"coordinator_user_id": "{kari}", "coordinator_kind": "relay_holder", "wish_weighed": "on"}, "coordinator_kind"),
        ({"coordinator_user_id": "{kari}", "coordinator_kind": "coordinator"}, "wish_weighed"),
        ({"coordinator_user_id": "{kari}", "coordinator_kind": "coordinator", "wish_weighed": "on", "reason": LONG}, "reason"),
    ]),
    "consent": ("appointed", "kari", [
        ({}, "consent_decision"),
        ({"consent_decision": "gitt", "signed_by": "Mor", "signed_how": "paper", "signed_on": "2026-01-05",
          "statement_composition": "on"}, "statement_confidential"),
        ({"consent_decision": "nektet", "signed_by": "Mor", "signed_how": "paper", "signed_on": "2026-01-05"}, "refusal_reason"),
        ({"consent_decision": "gitt", "signed_by": "Mor", "signed_how": "fax", "signed_on": "2026-01-05"}, "signed_how"),
        ({"consent_decision": "gitt", "signed_by": "Mor", "signed_how": "paper", "signed_on": "2026-02-30"}, "signed_on"),
        ({"consent_decision": "gitt", "signed_by": "Mor", "signed_how": "paper", "signed_on": "2999-01-01",
          "statement_composition": "on", "statement_confidential": "on", "statement_registration": "on",
          "statement_voluntary": "on"}, "signed_on"),
    ]),
    "propose": ("consented", "kari", [
        ({"agreed_with_person": "on"}, "members"),
        ({"members-0-name": "Siri", "members-0-user_id": "424242", "agreed_with_person": "on"}, "members.0.user_id"),
        ({"members-0-name": "Siri", "members-0-email": "ikke-epost", "agreed_with_person": "on"}, "members.0.email"),
        ({"members-0-email": "a@b.no", "agreed_with_person": "on"}, "members.0.name"),
        ({"members-0-name": "Siri", "members-999-name": "<script>alert(1)</script>"}, "agreed_with_person"),
    ]),
    "confirm": ("proposed", "siri", [
        ({}, "participates"),
        ({"participates": "ja"}, "mandate"),
        ({"participates": "kanskje"}, "participates"),
    ]),
    "plan_need": ("confirmed", "kari", [
        ({}, "plan_need"),
        ({"plan_need": "ja"}, "plan_need"),
    ]),
    "first_meeting": ("planned", "kari", [
        ({}, "first_meeting_date"),
        ({"first_meeting_date": "15.01.2030"}, "first_meeting_date"),
        ({"first_meeting_date": "2001-01-01"}, "first_meeting_date"),
        ({"first_meeting_date": "2030-01-15", "first_meeting_place": LONG}, "first_meeting_place"),
    ]),
}


CHOICES = {"signed_how", "participates", "plan_need", "consent_decision", "requested_by_kind"}


@pytest.fixture
def users(services):
    return municipality(services)


def login(app, username):
    return login_client(app, username, PASSWORD)


def walk(services, users, how_far):
    """A case whose next step is the one under test."""
    if how_far == "wish":
        return wish(services, users)
    if how_far in ("confirmed", "planned"):
        case_id = establish(services, users, until="proposed")
        complete(services, case_id, "confirm", {"participates": "ja", "mandate": "m"}, users["siri"], users["siri"])
        complete(services, case_id, "confirm", {"participates": "ja", "mandate": "m"}, users["kari"], users["kari"])
        if how_far == "planned":
            complete(services, case_id, "plan_need", {"plan_need": "no"}, users["kari"])
        return case_id
    return establish(services, users, until=how_far)


@pytest.mark.parametrize("step", list(CASES))
def test_bad_input_is_refused_kept_and_not_saved(app, services, users, step):
    how_far, who, attempts = CASES[step]
    case_id = walk(services, users, how_far)
    task = open_task(services, case_id, step, users[who] if step == "confirm" else None)
    assert task is not None
    client = login(app, who)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    token = csrf_token(client.get(url).text)
    with services.db.session() as s:
        before = s.scalar(select(func.count(AuditEvent.id)))
    for data, field in attempts:
        posted = {k: v.replace("{kari}", str(users["kari"])) for k, v in data.items()}
        response = client.post(url, data={**posted, "csrf_token": token})
        assert response.status_code == 400, (step, data, response.status_code)
        assert f'id="f-{field.replace(".", "-")}-err"' in response.text or f'id="f-{field}-err"' in response.text, (step, field)
        assert "ds-error-summary" in response.text
        for key, value in posted.items():  # the input is kept (escaped), except values a select refused
            refused_choice = key == field and key in CHOICES  # an option that does not exist cannot be re-selected
            if value and value != LONG and "-999-" not in key and not value.isdigit() and not refused_choice \
                    and key != "coordinator_kind":
                assert value.replace("<", "&lt;").replace(">", "&gt;") in response.text, (step, key)
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id))) == before  # nothing saved
    assert open_task(services, case_id, step, users[who] if step == "confirm" else None).task_id == task.task_id


def test_bad_input_on_the_wish_form(app, services, users):
    client = login(app, "ola")
    token = csrf_token(client.get("/saker/ny").text)
    attempts = [
        ({}, "full_name"),
        ({"full_name": "Emma", "birth_date": "2999-01-01", "requested_by_kind": "person", "wish": "x"}, "birth_date"),
        ({"full_name": "Emma", "birth_date": "2019-05-20", "requested_by_kind": "person", "wish": "x",
          "national_id": "123"}, "national_id"),
        ({"full_name": "Emma", "birth_date": "2019-05-20", "requested_by_kind": "naboen", "wish": "x"}, "requested_by_kind"),
        ({"full_name": "Emma", "birth_date": "2019-05-20", "requested_by_kind": "person", "wish": "x",
          "guardians-0-name": "Anne", "guardians-0-email": "feil"}, "guardians-0-email"),
        ({"full_name": "Emma", "birth_date": "2019-05-20", "requested_by_kind": "person", "wish": LONG}, "wish"),
    ]
    for data, field in attempts:
        response = client.post("/saker/ny", data={**data, "csrf_token": token})
        assert response.status_code == 400, data
        assert f'id="f-{field}-err"' in response.text, field
        if data.get("full_name"):
            assert 'value="Emma"' in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 0 and s.scalar(select(func.count(Person.id))) == 0
    ok = client.post("/saker/ny", data={"full_name": "Emma Berg", "birth_date": "2019-05-20",
                                        "requested_by_kind": "guardian", "requested_by_name": "Anne",
                                        "wish": "Samarbeid", "guardians-0-name": "Anne Berg",
                                        "guardians-0-kind": "guardian", "csrf_token": token})
    assert ok.status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(Case.status)) == "requested"


def test_malformed_urls_are_404(app, services, users):
    client = login(app, "kari")
    # (a NUL byte in the path is a 400 with its own message: tests/webapp/test_nul_bytes.py)
    for path in ("/saker/abc", "/saker/-1", "/saker/99999999999999999999",
                 "/oppgaver/abc/def", "/saker/1/innsyn", "/finnes-ikke", "/saker/1/rett", "/saker/mine-onsker/x"):
        assert client.get(path).status_code == 404, path
