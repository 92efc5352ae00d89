"""The weekly digest (issue 13): on the configured weekday (Oslo), once per ISO week, to the
coordinating unit and the system owner only, with counts per rule and a link — never a case."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.smtp import start_smtp
from webapp.audit.models import AuditEvent
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.operations import change_status, open_case
from webapp.clock import OSLO
from webapp.outbox.models import OutboxMessage
from webapp.settings.operations import change_setting
from webapp.supervision.digest import KIND, send_digest_if_due
from webapp.worker import run_until_idle

#: Monday 30 November 2026, ISO week 49 (Oslo)
MONDAY = datetime(2026, 11, 30, 7, 0, tzinfo=OSLO)
BASE_URL = "https://ansvar.kommune.example"
TITLE = "Ansvarsgruppe for Hemmelig Hansen"
PEOPLE = {  # username: (roles, e-mail, active)
    "ke": (("staff", "coordinating_unit"), "ke@kommune.example", True),
    "sara": (("staff", "system_owner"), "sara@annet.example", True),
    "begge": (("staff", "coordinating_unit", "system_owner"), "begge@kommune.example", True),
    "kari": (("staff",), "kari@kommune.example", True),
    "adm": (("staff", "admin"), "adm@kommune.example", True),
    "gammel": (("staff", "coordinating_unit"), "gammel@kommune.example", False),
    "uten": (("staff", "system_owner"), None, True),
}
RECIPIENTS = ["begge@kommune.example", "ke@kommune.example", "sara@annet.example"]


@pytest.fixture
def digest_app(make_app):
    return make_app(BASE_URL=BASE_URL)


@pytest.fixture
def world(digest_app, clock):
    """The people above and one group stuck without a coordinator (the only stuck case)."""
    services = digest_app.extensions["ansvarsgruppe"]
    clock.set(MONDAY - timedelta(days=10))
    with services.db.transaction() as s:
        for username, (roles, email, active) in PEOPLE.items():
            user = create_user(s, username, username.title(), "passord123", roles=roles, email=email,
                               at=clock.now())
            user.active = active
        case = open_case(s, TITLE, at=clock.now())
        change_status(s, case, "establishing", at=clock.now(), actor_id=None)
        reference = case.reference
    return digest_app, reference


def _due(app) -> int:
    """One worker's check, in the app context a worker round runs in (BASE_URL, the locale)."""
    with app.app_context():
        return send_digest_if_due(app.extensions["ansvarsgruppe"])


def _messages(services) -> list[OutboxMessage]:
    with services.db.session() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _events(services) -> list[AuditEvent]:
    with services.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.kind == KIND).order_by(AuditEvent.id)))


def test_sent_on_the_weekday_only_and_once_per_week(world, clock):
    app, _reference = world
    services = app.extensions["ansvarsgruppe"]
    clock.set(MONDAY - timedelta(days=1))  # Sunday
    assert _due(app) == 0
    clock.set(MONDAY)
    assert _due(app) == 3
    assert _due(app) == 0  # the next round the same day
    clock.set(MONDAY + timedelta(hours=16))  # late Monday evening, still the same day in Oslo
    assert _due(app) == 0
    clock.set(MONDAY + timedelta(days=1))
    assert _due(app) == 0
    assert len(_messages(services)) == 3
    clock.set(MONDAY + timedelta(days=7))  # the next Monday: a new week
    assert _due(app) == 3
    assert [e.detail["week"] for e in _events(services)] == ["2026-W49", "2026-W50"]
    assert len(_messages(services)) == 6


def test_the_weekday_is_a_setting(world, clock):
    app, _reference = world
    services = app.extensions["ansvarsgruppe"]
    with services.db.transaction() as s:
        change_setting(s, "supervision_digest_weekday", "2", at=clock.now(), actor_id=None)
    clock.set(MONDAY)
    assert _due(app) == 0
    clock.set(MONDAY + timedelta(days=2, hours=-6))  # Wednesday 01:00 Oslo (Tuesday evening in UTC)
    assert _due(app) == 3
    assert _due(app) == 0


def test_only_the_two_roles_with_an_address_get_it_and_it_names_no_case(world, clock):
    app, reference = world
    services = app.extensions["ansvarsgruppe"]
    clock.set(MONDAY)
    _due(app)
    messages = _messages(services)
    assert sorted(m.recipient for m in messages) == RECIPIENTS  # not kari, adm, the inactive or the one without e-mail
    for m in messages:
        assert m.case_id is None and m.status == "pending" and m.attachments == []
        assert m.subject == "Ukesoversikt: saker som står fast (uke 49)"
        # also to an address outside the municipality's domains the counts go as written (no content)
        assert "Gruppe uten koordinator: 1" in m.body
        assert "Steg over fristen: 0" in m.body and "Feil i et steg: 0" in m.body
        assert "Til sammen: 1" in m.body
        assert f"{BASE_URL}/tilsyn/" in m.body
        assert reference not in m.body and "Hemmelig" not in m.body and "Hansen" not in m.body
    event = _events(services)[0]
    assert event.case_id is None and event.detail["total"] == 1 and event.detail["recipients"] == 3


def test_nobody_to_tell_sends_nothing_and_records_nothing(digest_app, clock):
    services = digest_app.extensions["ansvarsgruppe"]
    app = digest_app
    clock.set(MONDAY)
    with services.db.transaction() as s:
        create_user(s, "kari", "Kari", "passord123", email="kari@kommune.example", at=clock.now())
    assert _due(app) == 0
    assert _messages(services) == [] and _events(services) == []


def test_two_workers_at_once_send_one_digest(world, make_app, clock):
    app, _reference = world
    services = app.extensions["ansvarsgruppe"]
    other = make_app(BASE_URL=BASE_URL)  # a second process on the same database
    clock.set(MONDAY)
    start = threading.Barrier(2)
    results: list[int] = []

    def worker(one):
        start.wait()
        results.append(_due(one))

    threads = [threading.Thread(target=worker, args=(a,)) for a in (app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [0, 3]
    assert len(_events(services)) == 1 and len(_messages(services)) == 3


def test_a_worker_round_delivers_it_over_smtp(make_app, world, clock):
    _app, reference = world
    controller, inbox = start_smtp()
    try:
        app = make_app(BASE_URL=BASE_URL, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port,
                       MAIL_FROM="ansvarsgruppe@kommune.example")
        clock.set(MONDAY)
        busy = run_until_idle(app)
        assert busy.sent == 3
        assert sorted(m["To"] for m in inbox.messages) == RECIPIENTS
        mail = inbox.messages[0]
        assert mail["Subject"] == "Ukesoversikt: saker som står fast (uke 49)"
        text = mail.get_content()
        assert "Gruppe uten koordinator: 1" in text and f"{BASE_URL}/tilsyn/" in text
        assert reference not in text and "Hemmelig" not in text
        assert run_until_idle(app).sent == 0  # a later round (or a restarted worker) sends nothing more
        clock.set(MONDAY + timedelta(days=7))
        assert run_until_idle(app).sent == 3
        assert len(inbox.messages) == 6
    finally:
        controller.stop()


def test_not_sent_while_every_recipient_is_inactive(world, clock):
    app, _reference = world
    services = app.extensions["ansvarsgruppe"]
    with services.db.transaction() as s:
        for user in s.scalars(select(User)):
            user.active = False
    clock.set(MONDAY)
    assert _due(app) == 0
