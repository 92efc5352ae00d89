"""Bad input on both steps of the transition review: 400, the input kept, nothing saved."""
import pytest
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD
from tests.webapp.transitions.helpers import (
    add_kindergarten_member, complete_step, member_ids, review_task, start_review, transitions,
)

PANELS = {"review": ("Medlemmer nå", "Samtykket gjelder", "Bente Barnehage"),
          "consent": ("Endringen personen samtykker til", "Går ut", "Gruppen etter endringen")}
from webapp.audit.models import AuditEvent

REVIEW = [
    ({}, "summary"),
    ({"summary": "S", "leaving-0-member_id": "424242", "leaving-0-reason": "Slutter"}, "leaving.0.member_id"),
    ({"summary": "S", "leaving-0-member_id": "{bente}"}, "leaving.0.reason"),
    ({"summary": "S", "leaving-0-member_id": "{emma}", "leaving-0-reason": "Personen selv"}, "leaving.0.member_id"),
    ({"summary": "S", "joining-0-email": "tor@example.org"}, "joining.0.name"),
    ({"summary": "S", "joining-0-name": "Tor", "joining-0-email": "ikke-en-adresse"}, "joining.0.email"),
    ({"summary": "S", "joining-0-name": "Tor", "joining-0-user_id": "abc"}, "joining.0.user_id"),
    ({"summary": "S", "handover-0-from": "Barnehagen", "handover-0-what": "Alt", "handover-0-on": "2027-08-15"},
     "handover.0.to"),
    ({"summary": "S", "handover-0-from": "Barnehagen", "handover-0-to": "Skolen", "handover-0-what": "Alt",
      "handover-0-on": "15. august"}, "handover.0.on"),
    ({"summary": "S", "new_coordinator_user_id": "999999", "coordinator_kind": "coordinator"}, "new_coordinator_user_id"),
    ({"summary": "S", "new_coordinator_user_id": "{kari}", "coordinator_kind": "coordinator"}, "new_coordinator_user_id"),
    ({"summary": "S", "new_coordinator_user_id": "{ola}"}, "coordinator_kind"),
    ({"summary": "S", "new_coordinator_user_id": "{ola}", "coordinator_kind": "sjef"}, "coordinator_kind"),
    ({"summary": "S", "overlap_until": "2026-12-01"}, "new_coordinator_user_id"),
    ({"summary": "S", "new_coordinator_user_id": "{ola}", "coordinator_kind": "coordinator",
      "overlap_until": "2026-01-01"}, "overlap_until"),
    ({"summary": "x" * 4001}, "summary"),
]

CONSENT = [
    ({}, "person_informed"),
    ({"person_informed": "on", "consent_renewed": "ja"}, "informed_on"),
    ({"person_informed": "on", "informed_on": "2026-08-14"}, "consent_renewed"),
    ({"person_informed": "on", "informed_on": "2026-08-14", "consent_renewed": "kanskje"}, "consent_renewed"),
    ({"person_informed": "on", "informed_on": "2030-01-01", "consent_renewed": "nei", "refusal_reason": "Nei"},
     "informed_on"),
    ({"person_informed": "on", "informed_on": "2026-08-14", "consent_renewed": "ja", "signed_by": "Anne Berg",
      "signed_how": "paper", "signed_on": "2026-08-14"}, "statement_composition"),
    ({"person_informed": "on", "informed_on": "2026-08-14", "consent_renewed": "ja", "statement_composition": "on",
      "statement_confidential": "on", "statement_registration": "on", "statement_voluntary": "on",
      "signed_how": "paper", "signed_on": "2026-08-14"}, "signed_by"),
    ({"person_informed": "on", "informed_on": "2026-08-14", "consent_renewed": "ja", "statement_composition": "on",
      "statement_confidential": "on", "statement_registration": "on", "statement_voluntary": "on",
      "signed_by": "Anne Berg", "signed_how": "paper", "signed_on": "2031-01-01"}, "signed_on"),
    ({"person_informed": "on", "informed_on": "2026-08-14", "consent_renewed": "nei"}, "refusal_reason"),
]


def at_step(services, users, case_id, step):
    bente = add_kindergarten_member(services, users, case_id)
    school = start_review(services, case_id)
    if step == "consent":
        complete_step(services, school, "review", {
            "leaving": [{"member_id": str(bente), "reason": "Skolestart"}], "summary": "Barnehagen går ut"}, users["kari"])
    return review_task(services, school, step)


@pytest.mark.parametrize("step, attempts", [("review", REVIEW), ("consent", CONSENT)])
def test_bad_input(app, services, users, case_id, step, attempts):
    task = at_step(services, users, case_id, step)
    kari = login_client(app, "kari", PASSWORD)
    page = f"/oppgaver/{task.instance_id}/{task.task_id}"
    shown = kari.get(page)
    assert shown.status_code == 200 and "Fra retningslinjen" in shown.text and "Skolestart" in shown.text
    assert all(text in shown.text for text in PANELS[step])
    ids = {"{bente}": member_ids(services, case_id)["Bente Barnehage"],
           "{emma}": member_ids(services, case_id)["Emma Berg"], "{kari}": users["kari"], "{ola}": users["ola"]}
    with services.db.session() as s:
        before = s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login"))
    for data, field in attempts:
        posted = {k: str(ids.get(v, v)) for k, v in data.items()}
        response = kari.post(page, data={**posted, "csrf_token": kari.token})
        assert response.status_code == 400, (data, response.status_code)
        assert f'id="f-{field.replace(".", "-")}-err"' in response.text, (field, data)
        assert "Rett opp dette" in response.text
        for key, value in posted.items():
            choice = key.endswith(("_id", "kind", "consent_renewed", "signed_how")) or value == "on"
            if len(value) < 100 and not choice:
                assert value in response.text, (field, key)  # the input is kept
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind != "login")) == before
    assert review_task(services, transitions(services, case_id)["school_start"], step).task_id == task.task_id
