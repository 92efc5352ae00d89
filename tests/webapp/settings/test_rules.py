"""The settings without a rule before (guidelines 003 and 004): invitations by post to everyone,
who sends the minutes, and reports of start and status to the system owner."""
from sqlalchemy import select

from tests.webapp.cases.helpers import complete, establish
from tests.webapp.meetings.helpers import hold_data, meeting, prepare
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case
from webapp.cases.operations import change_status
from webapp.engine.models import OpenTask
from webapp.outbox.models import OutboxMessage
from webapp.settings.operations import change_setting


def set_(services, key, value):
    with services.db.transaction() as s:
        change_setting(s, key, value, at=services.clock.now(), actor_id=None)


def messages(services, **where):
    with services.db.session() as s:
        query = select(OutboxMessage)
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return s.scalars(query.order_by(OutboxMessage.id)).all()


def invitation_letters(services, case_id):
    return [m for m in messages(services, case_id=case_id, channel="letter") if m.subject.startswith("Innkalling")]


def test_invitations_by_post_to_everyone(services, users, case_id):
    prepare(services, users, case_id)  # default: letters only for members without an e-mail address
    assert not {m.recipient for m in invitation_letters(services, case_id)} & {"Siri Skole", "Anne Berg", "Per Fastlege"}


def test_invitations_by_post_setting_makes_letters_for_all(services, users):
    set_(services, "invitations_by_post", True)  # 003 (Lund)
    case_id = establish(services, users)
    prepare(services, users, case_id)
    letters = invitation_letters(services, case_id)
    mailed = [m for m in messages(services, case_id=case_id, channel="email") if m.subject.startswith("Innkalling")]
    assert {m.recipient for m in letters} >= {"Siri Skole", "Anne Berg", "Per Fastlege"}
    assert {m.recipient for m in mailed} >= {"siri@example.org", "per@example.org"}  # the e-mails still go
    # the guardian's e-mail is the notice that links to her own pages
    assert any(m.recipient == "anne@example.org" and "/min-side/" in m.body
               for m in messages(services, case_id=case_id, channel="email"))
    assert all(m.status == "to_print" and m.attachments[0]["content_type"] == "application/pdf" for m in letters)


def _finalize(services, users, case_id):
    prepare(services, users, case_id)
    services.clock.set(meeting(services, case_id).starts_at)
    complete(services, case_id, "hold_first", hold_data(services, case_id), users["siri"])
    with services.db.session() as s:
        tasks = s.scalars(select(OpenTask).where(OpenTask.task_spec == "approve")).all()
    for t in tasks:
        services.engine.complete_task(t.instance_id, t.task_id, {"approved": "ja"}, actor_id=t.assignee_id)
    complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])
    with services.db.session() as s:
        return s.scalar(select(AuditEvent).where(AuditEvent.kind == "minutes_sent_by", AuditEvent.case_id == case_id))


def test_minutes_sent_by_the_coordinator_by_default(services, users, case_id):
    event = _finalize(services, users, case_id)  # 002 (Salangen)
    assert event.detail["role"] == "koordinator" and event.detail["name"] == "Kari Koordinator"


def test_minutes_sent_by_the_minute_taker_without_a_plan(services, users):
    set_(services, "minutes_sent_by", "minute_taker_without_plan")  # 003 (Lund)
    case_id = establish(services, users)  # the helper's group has an individual plan
    with services.db.transaction() as s:
        s.get(Case, case_id).individual_plan = "no"
    event = _finalize(services, users, case_id)
    assert event.detail["role"] == "referent" and event.detail["name"] == "Siri Skole"


def test_reports_to_the_system_owner(services, users):
    case_id = establish(services, users)
    assert not messages(services, recipient="sara@example.org")  # off by default
    set_(services, "report_to_system_owner", True)  # 004
    second = establish(services, users)
    with services.db.session() as s:
        reference, first = s.get(Case, second).reference, s.get(Case, case_id).reference
    [started] = messages(services, recipient="sara@example.org")
    assert started.subject == f"Ansvarsgruppe {reference} er startet" and started.case_id == second
    with services.db.transaction() as s:
        change_status(s, s.get(Case, second), "consent_withdrawn", at=services.clock.now(), actor_id=None,
                      reason="Emma vil ikke mer")
        change_status(s, s.get(Case, case_id), "closed", at=services.clock.now(), actor_id=None, reason="x")
    sent = messages(services, recipient="sara@example.org")
    assert [m.subject for m in sent[1:]] == [f"Ansvarsgruppe {reference}: ny status «samtykke trukket tilbake»",
                                             f"Ansvarsgruppe {first}: ny status «avsluttet»"]
    assert all("Emma" not in m.subject + m.body and "vil ikke" not in m.body for m in sent)  # register data only
    with services.db.transaction() as s:  # before the start the system owner hears nothing
        case = s.get(Case, second)
        case.activated_at = None
        change_status(s, case, "establishing", at=services.clock.now(), actor_id=None)
    assert len(messages(services, recipient="sara@example.org")) == 3
