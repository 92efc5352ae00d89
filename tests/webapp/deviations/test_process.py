"""The deviation process through the engine: closed in the group, sent to the system owner by the
coordinator or by the deadline, and the deadline taken from the settings."""
from datetime import timedelta

from sqlalchemy import select

from tests.webapp.deviations.helpers import complete, deviation, record, task_of
from webapp.audit.models import AuditEvent
from webapp.deviations.operations import open_count
from webapp.engine.models import ProcessInstance
from webapp.outbox.models import OutboxMessage
from webapp.settings.operations import change_setting


def kinds(services, case_id):
    with services.db.session() as s:
        return [e.kind for e in s.scalars(select(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.kind.like("deviation_%")).order_by(AuditEvent.id))]


def instance_status(services, deviation_id):
    with services.db.session() as s:
        return s.get(ProcessInstance, deviation(services, deviation_id).instance_id).status


def test_closed_in_the_group(services, users, case_id):
    deviation_id = record(services, users, case_id)
    task = task_of(services, deviation_id, "follow")
    assert task.assignee_id == users["kari"] and task.lane == "koordinator"
    assert task.title.startswith("Følg opp avviket – meldt ")
    assert "Journalnotat" not in task.title  # task titles are register data: no deviation content
    with services.db.session() as s:
        assert open_count(s, case_id) == 1
    complete(services, deviation_id, "follow", {"follow_up": "Mottakeren har slettet e-posten", "decision": "closed"},
             users["kari"])
    d = deviation(services, deviation_id)
    assert (d.status, d.closed_in_group, d.closed_by_id) == ("closed", True, users["kari"])
    assert d.follow_up == "Mottakeren har slettet e-posten" and d.escalated_at is None
    assert instance_status(services, deviation_id) == "completed"
    assert kinds(services, case_id) == ["deviation_recorded", "deviation_closed_in_group"]
    with services.db.session() as s:
        assert open_count(s, case_id) == 0
        assert s.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "sara@example.org")) is None


def test_cannot_be_closed_goes_to_the_system_owner(services, users, case_id):
    deviation_id = record(services, users, case_id)
    complete(services, deviation_id, "follow", {"follow_up": "Snakket med avsenderen",
                                                "decision": "cannot_close",
                                                "escalation_reason": "Feilen ligger i kommunens fagsystem"},
             users["kari"])
    d = deviation(services, deviation_id)
    assert (d.status, d.closed_in_group) == ("escalated", False)
    assert d.escalation_reason == "Feilen ligger i kommunens fagsystem" and d.escalated_at is not None
    handle = task_of(services, deviation_id, "handle")
    assert handle.lane == "systemansvarlig" and handle.assignee_id == users["sara"]
    with services.db.session() as s:
        mail = s.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "sara@example.org"))
        assert mail is not None and "Avvik til behandling" in mail.subject
        assert "Journalnotat" not in mail.body and "Emma" not in mail.body  # no content by e-mail
        assert open_count(s, case_id) == 1
    complete(services, deviation_id, "handle", {"owner_action": "Meldt til leverandøren av fagsystemet",
                                                "closing_remark": "Rettet i versjon 4.2"}, users["sara"])
    d = deviation(services, deviation_id)
    assert (d.status, d.closed_by_id) == ("closed", users["sara"])
    assert "Meldt til leverandøren" in d.system_owner_action and "Rettet i versjon 4.2" in d.system_owner_action
    assert instance_status(services, deviation_id) == "completed"
    assert kinds(services, case_id) == ["deviation_recorded", "deviation_not_closed_in_group",
                                        "deviation_escalated", "deviation_closed_by_system_owner"]


def test_unanswered_follow_up_escalates_after_the_settings_days(services, users, case_id):
    deviation_id = record(services, users, case_id)
    services.clock.advance(timedelta(days=13, hours=23))
    services.engine.fire_due_timers()
    assert deviation(services, deviation_id).status == "open"
    assert task_of(services, deviation_id, "follow") is not None
    services.clock.advance(timedelta(hours=1, minutes=1))
    assert services.engine.fire_due_timers() == 1
    d = deviation(services, deviation_id)
    assert d.status == "escalated" and d.closed_in_group is False and d.follow_up is None
    assert "14 dager" in d.escalation_reason
    assert task_of(services, deviation_id, "follow") is None
    assert task_of(services, deviation_id, "handle").assignee_id == users["sara"]


def test_the_deadline_is_read_from_the_settings_when_the_deviation_is_recorded(services, users, case_id):
    before = record(services, users, case_id)
    with services.db.transaction() as s:
        change_setting(s, "deviation_followup_days", 3, at=services.clock.now(), actor_id=None)
    after = record(services, users, case_id, title="Møte holdt uten innkalling")
    assert task_of(services, after, "follow").due_at < task_of(services, before, "follow").due_at
    services.clock.advance(timedelta(days=2, hours=23))
    services.engine.fire_due_timers()
    assert deviation(services, after).status == "open"
    services.clock.advance(timedelta(hours=1, minutes=1))
    services.engine.fire_due_timers()
    assert deviation(services, after).status == "escalated"
    assert "3 dager" in deviation(services, after).escalation_reason
    assert deviation(services, before).status == "open"  # recorded under the old setting: 14 days
    services.clock.advance(timedelta(days=11))
    services.engine.fire_due_timers()
    assert deviation(services, before).status == "escalated"
