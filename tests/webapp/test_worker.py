"""The worker loop: rounds go on while work is due, the idle sleep follows the next due time, and
on SQLite the idle worker keeps the WAL small."""
from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from tests.conftest import TEST_CALLS, deploy_test_diagrams, login_client
from tests.webapp.engine.helpers import make_case, open_tasks
from webapp.engine.models import ProcessInstance
from webapp.outbox.models import OutboxMessage
from webapp.worker import _idle, idle_delay, next_due_at, run_forever, run_until_idle

DAY = timedelta(days=1)


@pytest.fixture
def worker_app(make_app):
    app = make_app(WORKER_BATCH=50, WORKER_INTERVAL=10 * 24 * 3600.0, WORKER_MIN_SLEEP=0.2)
    deploy_test_diagrams(app.extensions["ansvarsgruppe"])
    return app


def test_rounds_go_on_while_timers_are_due(worker_app):
    services = worker_app.extensions["ansvarsgruppe"]
    case_id, user_id = make_case(services)
    ids = [services.engine.start(case_id, "timers", actor_id=user_id).instance_id for _ in range(120)]
    services.clock.advance(DAY + timedelta(hours=1))

    busy = run_until_idle(worker_app)

    assert busy.fired == 120
    assert busy.rounds == 4  # 50 + 50 + 20, then one round that finds nothing: no sleep between
    assert sorted(TEST_CALLS) == sorted(f"count:{i}" for i in ids)  # each timer exactly once
    assert run_until_idle(worker_app).fired == 0
    assert all(len(open_tasks(services, i)) == 1 for i in ids)


def test_a_round_limit_caps_the_busy_rounds(worker_app):
    services = worker_app.extensions["ansvarsgruppe"]
    case_id, user_id = make_case(services)
    for _ in range(60):
        services.engine.start(case_id, "timers", actor_id=user_id)
    services.clock.advance(DAY + timedelta(hours=1))
    assert (run_until_idle(worker_app, max_rounds=1).fired, len(TEST_CALLS)) == (50, 50)
    assert run_until_idle(worker_app).fired == 10


def test_the_idle_sleep_follows_the_next_due_time(worker_app):
    services = worker_app.extensions["ansvarsgruppe"]
    interval = worker_app.config["WORKER_INTERVAL"]
    assert next_due_at(services.db) is None
    assert idle_delay(worker_app) == interval  # nothing waits: the longest sleep

    case_id, user_id = make_case(services)
    started = services.engine.start(case_id, "timers", actor_id=user_id)  # its timer: in one day
    assert idle_delay(worker_app) == pytest.approx(DAY.total_seconds(), abs=5)
    services.clock.advance(timedelta(hours=23))
    assert idle_delay(worker_app) == pytest.approx(3600, abs=5)

    with services.db.transaction() as s:  # a scheduled start earlier than the timer
        services.engine.schedule_in(s, case_id, "two_steps", services.clock.now() + timedelta(minutes=10), {},
                                    actor_id=user_id)
    assert idle_delay(worker_app) == pytest.approx(600, abs=5)

    with services.db.transaction() as s:  # a message waiting for its next attempt in one minute
        s.add(OutboxMessage(recipient="kari@example.org", subject="Emne", body="Tekst", status="pending",
                            next_attempt_at=services.clock.now() + timedelta(minutes=1)))
    assert idle_delay(worker_app) == pytest.approx(600, abs=5)  # no SMTP server: mail just waits
    worker_app.config["SMTP_HOST"] = "127.0.0.1"
    assert idle_delay(worker_app) == pytest.approx(60, abs=5)

    services.clock.advance(timedelta(hours=2))  # everything is due, but this round found nothing
    assert idle_delay(worker_app) == worker_app.config["WORKER_MIN_SLEEP"]
    worker_app.config["WORKER_INTERVAL"] = 30.0
    services.clock.advance(-timedelta(hours=3))
    assert idle_delay(worker_app) == 30.0  # capped by WORKER_INTERVAL
    with services.db.session() as s:
        assert s.get(ProcessInstance, started.instance_id).status == "running"


def test_the_worker_sleeps_until_the_next_due_time_and_wakes_for_it(worker_app):
    services = worker_app.extensions["ansvarsgruppe"]
    case_id, user_id = make_case(services)
    started = services.engine.start(case_id, "timers", actor_id=user_id)
    services.clock.advance(DAY - timedelta(seconds=1))  # due in one second, WORKER_INTERVAL is days
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(worker_app, stop))
    thread.start()
    try:
        for _ in range(600):
            if TEST_CALLS:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(30)
    assert TEST_CALLS == [f"count:{started.instance_id}"]


def _wal_size(db_url: str) -> int:
    path = db_url.removeprefix("sqlite:///") + "-wal"
    return os.path.getsize(path) if os.path.exists(path) else 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_idle_worker_keeps_sqlite_wal_small(worker_app, db_url):
    services = worker_app.extensions["ansvarsgruppe"]
    case_id, user_id = make_case(services)
    largest = 0
    for n in range(150):  # 300 steps, each read like the task view does it
        started = services.engine.start(case_id, "two_steps", actor_id=user_id)
        with services.db.session() as reader:
            instance = reader.get(ProcessInstance, started.instance_id)
            assert instance.status == "running"
            [task] = open_tasks(services, started.instance_id)
            reader.rollback()  # the view ends its read before the step (webapp/tasks/views.py)
            services.engine.complete_task(started.instance_id, task.task_id, {"x": 1}, actor_id=user_id)
            assert reader.scalar(select(func.count()).select_from(ProcessInstance)) == n + 1
        largest = max(largest, _wal_size(db_url))
    assert largest < 8 * 1024 * 1024

    # a read transaction held open keeps the checkpoint from emptying the WAL ...
    held = services.db.session()
    held.scalar(select(func.count()).select_from(ProcessInstance))
    services.engine.start(case_id, "two_steps", actor_id=user_id)
    _idle(worker_app)
    assert _wal_size(db_url) > 0
    held.close()
    # ... and once it is closed the idle worker's checkpoint truncates it
    _idle(worker_app)
    assert _wal_size(db_url) == 0


def test_the_task_view_holds_no_read_transaction_across_the_step(worker_app, monkeypatch):
    services = worker_app.extensions["ansvarsgruppe"]
    case_id, user_id = make_case(services)
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    reading, complete = [], services.engine.complete_task

    def watched(*args, **kwargs):  # the real step, noting whether the request's read is still open
        reading.append(g.db_session.in_transaction())
        return complete(*args, **kwargs)

    monkeypatch.setattr(services.engine, "complete_task", watched)
    client = login_client(worker_app, "kari")
    response = client.post(f"/oppgaver/{started.instance_id}/{task.task_id}",
                           data={"x": "4", "csrf_token": client.token})
    assert response.status_code == 302, response.text
    assert reading == [False]
    assert [t.title for t in open_tasks(services, started.instance_id)] == ["Andre steg"]


def test_a_message_added_wakes_the_idle_worker_at_once(make_app):
    """Nothing is due and WORKER_INTERVAL is days: the worker sleeps. A transaction that puts an
    e-mail in the outbox wakes it (NOTIFY on PostgreSQL, an in-process event on SQLite)."""
    from tests.smtp import start_smtp
    from webapp.outbox.operations import Outbox

    controller, inbox = start_smtp()
    app = make_app(WORKER_INTERVAL=10 * 24 * 3600.0, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    services = app.extensions["ansvarsgruppe"]
    case_id, _user_id = make_case(services)
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app, stop))
    thread.start()
    try:
        stop.wait(1.0)  # the worker has found nothing and sleeps
        assert inbox.messages == []
        with services.db.transaction() as s:
            Outbox(s, services.clock, case_id).send("ola@example.org", "Innkalling", "Hei", plain=True)
        for _ in range(200):
            if inbox.messages:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(30)
        controller.stop()
    assert [m["To"] for m in inbox.messages] == ["ola@example.org"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_notify_from_another_process_wakes_the_listener(make_app, db_url):
    """Another worker machine's commit reaches this worker through PostgreSQL alone."""
    import time

    import psycopg
    from sqlalchemy.engine import make_url

    from webapp.wakeups import CHANNEL, LOCAL, Listener

    app = make_app()
    listener = Listener(app.extensions["ansvarsgruppe"].db)
    listener.arm()  # an earlier test's commit in this process may have left the event set
    woke, notified = [], []

    def sleep():
        listener.wait(60)
        woke.append(time.monotonic())

    thread = threading.Thread(target=sleep)
    thread.start()
    time.sleep(0.5)
    url = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        notified.append(time.monotonic())
        other.execute(f"SELECT pg_notify('{CHANNEL}', '')")
    thread.join(30)
    listener.close()
    # woken by the NOTIFY: not before it was sent, long before the 60 s wait ran out, and not by
    # a commit in this process
    assert not LOCAL.is_set()
    assert woke and notified[0] <= woke[0] < notified[0] + 30
