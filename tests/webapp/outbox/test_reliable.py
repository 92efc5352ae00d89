"""Mail that always goes out (issue 10 §3): a poisoned address, a failing message, a crashed
worker or a hung relay never stops the other messages or the web application. Real aiosmtpd
servers, a real socket that never answers, SQLite and PostgreSQL."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token, deploy_test_diagrams, login_client
from tests.smtp import HungServer, self_signed_certificate, start_smtp, start_smtp_with
from tests.statements import counting
from tests.webapp.engine.helpers import make_case
from webapp.auth.operations import create_user
from webapp.engine.models import OpenTask
from webapp.outbox.models import OutboxMessage
from webapp.outbox.operations import INVALID_RECIPIENT, Outbox
from webapp.outbox.sending import CLAIM_BATCH, CLAIM_TIMEOUT, MAX_ATTEMPTS, SmtpSettings, _claim_batch, send_due
from webapp.worker import run_once

POISON = "per@x.no\r\nBcc: alle@example.org"


@pytest.fixture
def smtp():
    controller, inbox = start_smtp()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.stop()


def _queue(services, *recipients, subject="Hei"):
    with services.db.transaction() as s:
        outbox = Outbox(s, services.clock, None)
        return [outbox.send(r, subject, "Tekst").id if r else None for r in recipients]


def _statuses(services) -> dict[str, str]:
    with services.db.session() as s:
        return {m.recipient: m.status for m in s.scalars(select(OutboxMessage))}


def _recipients(inbox) -> list[str]:
    return sorted(m["To"] for m in inbox.messages)


def test_poisoned_address_never_holds_back_the_healthy_messages(services, smtp):
    controller, inbox = smtp
    _queue(services, "a@example.org")
    # an address with a line break written before the forms refused it (old data) ...
    with services.db.transaction() as s:
        s.add(OutboxMessage(channel="email", recipient=POISON, subject="Hei", body="Tekst", attachments=[],
                            created_at=services.clock.now(), next_attempt_at=services.clock.now()))
    # ... and one that reaches the outbox today: refused there, parked, never sent
    _queue(services, POISON, "b@example.org", "c@example.org")
    settings = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no")
    assert send_due(services.db, services.clock, settings) == 3
    assert _recipients(inbox) == ["a@example.org", "b@example.org", "c@example.org"]
    for _ in range(3):  # later rounds send nothing twice and never try the poisoned one again
        services.clock.advance(timedelta(hours=1))
        assert send_due(services.db, services.clock, settings) == 0
    assert len(inbox.messages) == 3
    assert all("alle@example.org" not in str(m) for m in inbox.messages)
    with services.db.session() as s:
        poisoned = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == POISON)).all()
        assert [(m.status, m.last_error) for m in poisoned] == [("failed", INVALID_RECIPIENT)] * 2
        assert {m.status for m in s.scalars(select(OutboxMessage).where(OutboxMessage.recipient != POISON))} == {"sent"}


def test_a_failing_message_is_retried_alone_then_parked_for_the_administrator(app, services, smtp):
    controller, inbox = smtp
    settings = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no")
    _queue(services, "fails@example.org", subject="Innkalling til ansvarsgruppemøte")
    _queue(services, "ok@example.org")

    refused = "fails@example.org"

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address == refused:
            return "451 4.7.1 <fails@example.org> greylisted"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    controller.handler.handle_RCPT = handle_RCPT

    assert send_due(services.db, services.clock, settings) == 1
    assert _recipients(inbox) == ["ok@example.org"]
    for _ in range(MAX_ATTEMPTS - 1):
        assert _statuses(services)["fails@example.org"] == "pending"
        services.clock.advance(timedelta(days=1))
        _queue(services, "ok@example.org")  # new messages keep going out meanwhile
        assert send_due(services.db, services.clock, settings) == 1
    assert len(inbox.messages) == MAX_ATTEMPTS and _recipients(inbox) == ["ok@example.org"] * MAX_ATTEMPTS
    with services.db.session() as s:
        parked = s.scalar(select(OutboxMessage).where(OutboxMessage.recipient == refused))
        assert (parked.status, parked.attempts) == ("failed", MAX_ATTEMPTS)
        assert parked.last_error == "SMTPRecipientsRefused: 451 4.7.1 <fails@example.org> greylisted"
        create_user(s, "ada", "Ada Admin", "passord123", roles=("staff", "admin"), at=services.clock.now())
        s.commit()
    page = login_client(app, "ada").get("/utboks")
    assert page.status_code == 200
    assert "1 e-post kunne ikke sendes" in page.text
    assert f'data-outbox-failed="{parked.id}"' in page.text and "greylisted" in page.text
    services.clock.advance(timedelta(days=30))
    assert send_due(services.db, services.clock, settings) == 0  # parked: never tried again


def test_permanent_refusal_is_parked_at_once_and_the_error_carries_no_content(services, smtp):
    controller, inbox = smtp

    async def handle_DATA(server, session, envelope):
        return "554 5.6.0 message refused"
    controller.handler.handle_DATA = handle_DATA
    with services.db.transaction() as s:
        Outbox(s, services.clock, None).send("a@example.org", "Emne med innhold", "Hemmelig brødtekst")
    assert send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no") == 0
    with services.db.session() as s:
        message = s.scalar(select(OutboxMessage))
        assert (message.status, message.attempts) == ("failed", 1)
        assert message.last_error == "SMTPDataError: 554 5.6.0 message refused"


def test_a_message_left_in_sending_by_a_crashed_worker_goes_out_after_the_claim_timeout(services, smtp):
    controller, inbox = smtp
    _queue(services, "a@example.org")
    claimed = _claim_batch(services.db, services.clock, CLAIM_BATCH)  # the worker claims, commits ... and dies
    assert len(claimed) == 1 and _statuses(services) == {"a@example.org": "sending"}
    settings = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no")
    assert send_due(services.db, services.clock, settings) == 0  # the claim still holds
    services.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    assert send_due(services.db, services.clock, settings) == 1
    assert _recipients(inbox) == ["a@example.org"] and _statuses(services) == {"a@example.org": "sent"}
    with services.db.session() as s:
        assert s.scalar(select(OutboxMessage.attempts)) == 2


def test_message_id_is_made_with_make_msgid(services, smtp):
    controller, inbox = smtp
    _queue(services, "a@example.org", "b@example.org")
    send_due(services.db, services.clock, "127.0.0.1", controller.port, "ag@kommune.no")
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(set(ids)) == 2 and all(i.startswith("<") and i.endswith("@kommune.no>") for i in ids)


def test_authentication_and_starttls(services, tmp_path, monkeypatch):
    import ssl
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # the client trusts this test certificate only
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    controller, inbox = start_smtp_with(tls_context=server_tls, require_starttls=True, login=("ag", "hemmelig"))
    try:
        _queue(services, "a@example.org")
        wrong = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no", security="starttls",
                             username="ag", password="feil")
        assert send_due(services.db, services.clock, wrong) == 0
        with services.db.session() as s:
            assert s.scalar(select(OutboxMessage.last_error)).startswith("SMTPAuthenticationError: 535")
        services.clock.advance(timedelta(minutes=2))
        plain = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no", username="ag", password="hemmelig")
        assert send_due(services.db, services.clock, plain) == 0  # the server demands STARTTLS first
        services.clock.advance(timedelta(minutes=5))
        right = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no", security="starttls",
                             username="ag", password="hemmelig")
        assert send_due(services.db, services.clock, right) == 1
        assert inbox.logins == ["ag"] and _recipients(inbox) == ["a@example.org"]
    finally:
        controller.stop()


def test_implicit_tls(services, tmp_path, monkeypatch):
    import ssl
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    controller, inbox = start_smtp_with(tls_context=server_tls, implicit_tls=True)
    try:
        _queue(services, "a@example.org")
        settings = SmtpSettings.from_config({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port,
                                             "SMTP_SECURITY": "ssl", "MAIL_FROM": "ag@kommune.no"})
        assert send_due(services.db, services.clock, settings) == 1
        assert _recipients(inbox) == ["a@example.org"]
    finally:
        controller.stop()


def test_settings_from_config():
    assert SmtpSettings.from_config({"SMTP_HOST": "smtp", "SMTP_SECURITY": "starttls"}).port == 587
    assert SmtpSettings.from_config({"SMTP_HOST": "smtp", "SMTP_SECURITY": "SSL"}).port == 465
    assert SmtpSettings.from_config({"SMTP_HOST": "smtp", "SMTP_TIMEOUT": "2.5"}).timeout == 2.5
    with pytest.raises(ValueError):
        SmtpSettings.from_config({"SMTP_HOST": "smtp", "SMTP_SECURITY": "tls-maybe"})


def test_smtp_timeout_bounds_a_hung_server(services, hung):
    _queue(services, "a@example.org")
    settings = SmtpSettings("127.0.0.1", hung.port, "ag@kommune.no", timeout=0.2)
    assert send_due(services.db, services.clock, settings) == 0
    assert hung.accepted.is_set()
    with services.db.session() as s:
        message = s.scalar(select(OutboxMessage))
        assert (message.status, message.attempts) == ("pending", 1)
        assert message.last_error.endswith("e-posttjeneren svarte ikke innen tidsfristen")


def test_requests_are_served_while_the_worker_waits_on_a_hung_server(make_app, hung):
    """The worker claims a message, commits and waits on a relay that never answers (bounded by
    SMTP_TIMEOUT); meanwhile logging in, opening pages and completing a step all work, on SQLite
    too (no write lock is held while SMTP is talked to)."""
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=hung.port, SMTP_TIMEOUT=60, MAIL_FROM="ag@kommune.no")
    services = app.extensions["ansvarsgruppe"]
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    with services.db.session() as s:
        task = s.scalar(select(OpenTask).where(OpenTask.instance_id == started.instance_id))
    _queue(services, "a@example.org")

    worker = threading.Thread(target=run_once, args=(app,))
    worker.start()
    try:
        assert hung.accepted.wait(30), "the worker never connected"
        client = login_client(app, "kari")  # login writes (session row, audit) and answers 302
        assert client.get("/oppgaver").status_code == 200
        page = client.get(f"/oppgaver/{started.instance_id}/{task.task_id}")
        assert page.status_code == 200
        done = client.post(f"/oppgaver/{started.instance_id}/{task.task_id}",
                           data={"x": "9", "csrf_token": csrf_token(page.text)})
        assert done.status_code == 302
        assert client.get(done.headers["Location"]).status_code == 200
        assert worker.is_alive()  # all of the above happened while the relay held the worker
        assert _statuses(services) == {"a@example.org": "sending"}
    finally:
        hung.hang_up()  # the relay goes away: the attempt fails at once instead of after 60 s
        worker.join(90)
    assert not worker.is_alive()
    with services.db.session() as s:
        message = s.scalar(select(OutboxMessage))
        assert (message.status, message.attempts) == ("pending", 1) and message.last_error


def test_two_workers_side_by_side_send_each_message_once(services, smtp):
    controller, inbox = smtp
    recipients = [f"m{i}@example.org" for i in range(20)]
    _queue(services, *recipients)
    settings = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no")
    counts: list[int] = []
    workers = [threading.Thread(target=lambda: counts.append(send_due(services.db, services.clock, settings)))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert sum(counts) == 20 and _recipients(inbox) == sorted(recipients)
    assert set(_statuses(services).values()) == {"sent"}


def test_messages_are_claimed_and_marked_in_batches(services, smtp):
    """Two short transactions per batch of CLAIM_BATCH messages, not two per message (10,000
    messages in a sweep). A failing message in a batch is marked alone while the rest go out:
    test_poisoned_address_never_holds_back_the_healthy_messages sends such a batch."""
    controller, inbox = smtp
    recipients = [f"m{i:02}@example.org" for i in range(CLAIM_BATCH + 5)]
    _queue(services, *recipients)
    settings = SmtpSettings("127.0.0.1", controller.port, "ag@kommune.no")
    with counting(services.db.engine) as counted:
        assert send_due(services.db, services.clock, settings) == len(recipients)
    # two batches (claim, mark), and the claim that finds nothing more
    assert counted.commits == 5, counted.report()
    assert _recipients(inbox) == recipients
    assert set(_statuses(services).values()) == {"sent"}
