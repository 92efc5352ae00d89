"""Closing a group (on the guardians' wish, after a consent withdrawal), what it ends, the report,
access afterwards, and re-establishment."""
from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, complete, open_task
from tests.webapp.closing.helpers import FINAL_MINUTES, confirm, request_closing
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case, CaseClosure, CaseMember, Consent
from webapp.engine.models import ProcessInstance
from webapp.evaluations.models import Evaluation
from webapp.meetings.models import Meeting
from webapp.outbox.models import OutboxMessage
from webapp.settings.operations import change_setting


def login(app, username):
    return login_client(app, username, PASSWORD)


def _close(app, services, users, case_id, *, in_meeting=False):
    kari = login(app, "kari")
    assert request_closing(kari, case_id).status_code == 302
    today = services.clock.today().isoformat()
    confirm(services, users, case_id, today, closing_meeting="ja" if in_meeting else "nei")
    if in_meeting:
        complete(services, case_id, "final_minutes", {**FINAL_MINUTES, "meeting_date": today}, users["kari"])
    return kari


def test_closing_on_the_guardians_wish_with_final_minutes(app, services, users, case_id):
    kari = _close(app, services, users, case_id, in_meeting=True)
    with services.db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "closed" and case.closed_at is not None
        closure = s.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id))
        assert closure.initiated_by == "guardian" and closure.requested_by_name == "Anne Berg"
        assert closure.confirmed_with_person and closure.reason == "Emma klarer seg godt uten gruppen"
        assert closure.reported_to == "coordinating_unit" and closure.coordinator_user_id == users["kari"]
        assert closure.coordinator_access_until == services.clock.today().replace(year=services.clock.today().year + 1)
        assert not s.scalars(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.active.is_(True))).all()
        assert all(c.ended_at is not None for c in s.scalars(select(Consent).where(Consent.case_id == case_id)))
        assert {e.status for e in s.scalars(select(Evaluation).where(Evaluation.case_id == case_id))} == {"cancelled"}
        assert {m.status for m in s.scalars(select(Meeting).where(Meeting.case_id == case_id))} == {"cancelled"}
        running = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                          ProcessInstance.status == "running")).all()
        assert running == []
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
        report = [m for m in mails if m.recipient == "ke@example.org" and "avsluttet" in m.subject]
        # no health content in plain e-mail (example.org is not an own domain): a link, no name
        assert len(report) == 1 and "Emma" not in report[0].body and f"/saker/{case_id}" in report[0].body
        assert "Emma klarer seg" not in report[0].body  # the reason is content, not register data
        assert any(m.recipient == "siri@example.org" and "avsluttet" in m.subject for m in mails)
    pdf = kari.get(f"/saker/{case_id}/avslutning.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    for expected in ("Avslutning av ansvarsgruppe", "Emma klarer seg godt uten gruppen", "Anne Berg",
                     "Gruppen avsluttes etter god innsats", "Skolen følger opp som vanlig", "Siri Skole"):
        assert expected in text, expected


def test_access_after_closing(app, services, users, case_id, clock):
    _close(app, services, users, case_id)
    siri, ke = login(app, "siri"), login(app, "ke")
    assert siri.get(f"/saker/{case_id}").status_code == 404
    page = login(app, "kari").get(f"/saker/{case_id}")
    assert page.status_code == 200 and "Emma klarer seg godt uten gruppen" in page.text
    register = ke.get(f"/saker/{case_id}")
    assert register.status_code == 200 and "Emma klarer seg godt uten gruppen" not in register.text
    assert ke.get(f"/saker/{case_id}/avslutning.pdf").status_code == 404
    # the coordinator's read access ends after the configured period
    clock.advance(timedelta(days=366))
    assert login(app, "kari").get(f"/saker/{case_id}").status_code == 404
    assert ke.get(f"/saker/{case_id}").status_code == 302  # a year later the session has ended
    assert login(app, "ke").get(f"/saker/{case_id}").status_code == 200


def test_closing_reported_to_the_system_owner_by_setting(app, services, users, case_id):
    with services.db.transaction() as s:
        change_setting(s, "closing_reported_to", "system_owner", at=services.clock.now(), actor_id=None)
    _close(app, services, users, case_id)
    with services.db.session() as s:
        recipients = {m.recipient for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.case_id == case_id, OutboxMessage.subject.like("Ansvarsgruppe avsluttet%")))}
        assert recipients == {"sara@example.org"}
        assert s.scalar(select(CaseClosure.reported_to)) == "system_owner"


def test_not_confirmed_the_group_goes_on(app, services, users, case_id):
    assert request_closing(login(app, "kari"), case_id).status_code == 302
    confirm(services, users, case_id, services.clock.today().isoformat(), confirmed="nei",
            reason="Emma ønsker likevel å fortsette")
    with services.db.session() as s:
        assert s.get(Case, case_id).status == "active"
        assert s.scalar(select(CaseClosure.status)) == "not_closed"
        assert s.scalar(select(Evaluation.status).where(Evaluation.case_id == case_id)) == "scheduled"
    assert open_task(services, case_id, "final_minutes") is None


def test_a_second_closing_request_while_one_runs_is_refused(app, services, users, case_id):
    kari = login(app, "kari")
    assert request_closing(kari, case_id).status_code == 302
    again = request_closing(kari, case_id)
    assert again.status_code == 400 and "allerede startet" in again.text


def test_consent_withdrawal_leads_to_closing(app, services, users, case_id):
    kari = login(app, "kari")
    token = csrf_token(kari.get(f"/saker/{case_id}").text)
    assert kari.post(f"/saker/{case_id}/samtykke/trekk-tilbake",
                     data={"stated_by": "Anne Berg", "reason": "Ønsker ikke gruppen", "csrf_token": token}).status_code == 302
    task = open_task(services, case_id, "confirm_closing", users["kari"])
    assert task is not None
    with services.db.session() as s:
        assert s.scalar(select(CaseClosure.initiated_by)) == "consent_withdrawal"
    confirm(services, users, case_id, services.clock.today().isoformat())
    with services.db.session() as s:
        assert s.get(Case, case_id).status == "closed"


def test_reestablishment(app, services, users, case_id):
    _close(app, services, users, case_id)
    ke = login(app, "ke")
    token = csrf_token(ke.get(f"/saker/{case_id}").text)
    response = ke.post(f"/saker/{case_id}/gjenopprett", data={
        "requested_by_kind": "guardian", "requested_by_name": "Anne Berg",
        "wish": "Emma skal begynne på ungdomsskolen og trenger gruppen igjen", "csrf_token": token})
    assert response.status_code == 302
    with services.db.session() as s:
        new = s.scalar(select(Case).where(Case.previous_case_id == case_id))
        old = s.get(Case, case_id)
        assert new.status == "requested" and new.person_id == old.person_id and new.reference != old.reference
        assert {(m.name, m.role) for m in new.members} == {("Emma Berg", "bruker"), ("Anne Berg", "foresatt")}
        assert s.scalar(select(Consent.id).where(Consent.case_id == new.id)) is None  # new consent required
        event = s.scalar(select(AuditEvent).where(AuditEvent.case_id == old.id, AuditEvent.kind == "case_reestablished"))
        assert event.detail["new_case_id"] == new.id and event.detail["title"].endswith(new.reference)
        assert old.status == "closed"
    assert response.headers["Location"].endswith(f"/saker/{new.id}")
    assert open_task(services, new.id, "appoint") is not None
    page = ke.get(f"/saker/{new.id}")
    assert old.reference in page.text
    again = ke.post(f"/saker/{case_id}/gjenopprett", data={
        "requested_by_kind": "guardian", "requested_by_name": "Anne Berg", "wish": "Igjen", "csrf_token": token})
    assert again.status_code == 400 and "allerede opprettet på nytt" in again.text


def test_only_a_closed_group_can_be_reestablished(app, services, users, case_id):
    ke = login(app, "ke")
    token = csrf_token(ke.get(f"/saker/{case_id}").text)
    response = ke.post(f"/saker/{case_id}/gjenopprett", data={
        "requested_by_kind": "guardian", "requested_by_name": "Anne", "wish": "x", "csrf_token": token})
    assert response.status_code == 404
