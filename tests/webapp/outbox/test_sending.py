"""The worker sends the outbox over real SMTP (aiosmtpd); a failing server loses nothing."""
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.smtp import start_smtp
from tests.webapp.cases.helpers import establish, municipality
from tests.webapp.meetings.helpers import prepare
from webapp.cases.models import Case
from webapp.outbox.models import OutboxMessage
from webapp.outbox.operations import Outbox, attachment
from webapp.outbox.sending import send_due
from webapp.settings.operations import change_setting


@pytest.fixture
def smtp():
    controller, inbox = start_smtp()
    yield controller, inbox
    controller.stop()


def _allow_domains(services, value: str) -> None:
    with services.db.transaction() as s:
        change_setting(s, "mail_attachment_domains", value, at=services.clock.now(), actor_id=None)


def test_invitation_outside_the_municipality_is_only_a_link(services, smtp):
    """No health content in plain e-mail: by default an invitation says that something is
    waiting, with the case reference and a link; no names, no agenda, no .ics."""
    controller, inbox = smtp
    users = municipality(services)
    case_id = establish(services, users, until="active")
    prepare(services, users, case_id)
    sent = send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no", limit=500)
    assert sent == len(inbox.messages) and sent > 0
    with services.db.session() as s:
        reference = s.get(Case, case_id).reference
    invitation = next(m for m in inbox.messages if m["To"] == "siri@example.org" and m["Subject"].startswith("Innkalling"))
    assert list(invitation.iter_attachments()) == [] and not invitation.is_multipart()
    text = invitation.get_content()
    assert f"http://127.0.0.1:5000/saker/{case_id}" in text and reference in text
    for message in inbox.messages:  # nothing that names the person or the meeting's content
        whole = message.as_string()
        assert list(message.iter_attachments()) == []
        for word in ("Emma", "Berg", "Skolestart", "skolestart", "Rådhuset", "Siri Skole", "Kari"):
            assert word not in whole, (message["Subject"], word)


def test_invitation_arrives_with_ics(services, smtp):
    controller, inbox = smtp
    users = municipality(services)
    _allow_domains(services, "example.org")  # the municipality's own domain: content may go by e-mail
    case_id = establish(services, users, until="active")
    prepare(services, users, case_id)
    sent = send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no", limit=500)
    assert sent == len(inbox.messages) and sent > 0
    invitation = next(m for m in inbox.messages if m["To"] == "siri@example.org" and m["Subject"].startswith("Innkalling"))
    assert invitation["From"] == "ag@kommune.no"
    [ics] = [part for part in invitation.iter_attachments() if part.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert "Skolestart" in str(event["DESCRIPTION"]) and str(event["LOCATION"]).startswith("Rådhuset")
    assert "mailto:siri@example.org" in [str(a) for a in event.get("ATTENDEE")]
    with services.db.session() as s:
        assert set(s.scalars(select(OutboxMessage.status).where(OutboxMessage.channel == "email"))) == {"sent"}


def test_failing_server_loses_nothing_and_backs_off(services, smtp):
    controller, inbox = smtp
    _allow_domains(services, "example.org")
    with services.db.transaction() as s:
        Outbox(s, services.clock, None).send("a@example.org", "Hei", "Tekst",
                                             [attachment("x.pdf", "application/pdf", b"%PDF-1.4 binary \x00\xff")])
    inbox.refuse = True
    assert send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no") == 0
    with services.db.session() as s:
        message = s.scalar(select(OutboxMessage))
        assert (message.status, message.attempts) == ("pending", 1) and "451" in message.last_error
        first_retry = message.next_attempt_at
    assert send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no") == 0  # not yet due
    # nobody listening at all is also just a failed attempt
    services.clock.advance(timedelta(minutes=1, seconds=1))
    assert send_due(services.db, services.clock, "127.0.0.1", 1, "ag@kommune.no") == 0
    with services.db.session() as s:
        message = s.scalar(select(OutboxMessage))
        assert message.attempts == 2 and message.next_attempt_at - first_retry >= timedelta(minutes=1)
    inbox.refuse = False
    services.clock.advance(timedelta(minutes=3))
    assert send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no") == 1
    [received] = inbox.messages
    [pdf] = list(received.iter_attachments())
    assert pdf.get_content() == b"%PDF-1.4 binary \x00\xff"


def test_outbox_page_shows_messages_and_attachments(app, services):
    from tests.conftest import login_client
    from webapp.auth.operations import create_user
    _allow_domains(services, "example.org")
    with services.db.transaction() as s:
        create_user(s, "sara", "Sara", "passord123", roles=("staff", "system_owner"), at=services.clock.now())
        create_user(s, "kari", "Kari", "passord123", roles=("staff",), at=services.clock.now())
        Outbox(s, services.clock, None).send("a@example.org", "Innkalling", "Tekst",
                                             [attachment("innkalling.ics", "text/calendar", "BEGIN:VCALENDAR")])
    sara = login_client(app, "sara")
    page = sara.get("/utboks")
    assert page.status_code == 200 and "Innkalling" in page.text and "innkalling.ics" in page.text
    with services.db.session() as s:
        message_id = s.scalar(select(OutboxMessage.id))
    download = sara.get(f"/utboks/{message_id}/vedlegg/0")
    assert download.status_code == 200 and download.data == b"BEGIN:VCALENDAR"
    assert sara.get(f"/utboks/{message_id}/vedlegg/5").status_code == 404
    kari = login_client(app, "kari")
    assert kari.get("/utboks").status_code == 404 and kari.get(f"/utboks/{message_id}/vedlegg/0").status_code == 404
