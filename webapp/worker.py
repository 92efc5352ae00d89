"""The background worker: fires due timers and sends the outbox. Run several side by side on
PostgreSQL (``ansvarsgruppe worker``); ``demo``/``serve`` run one in a thread."""
from __future__ import annotations

import logging
import threading

from flask import Flask

from webapp.auth.operations import prune_logins
from webapp.outbox.sending import SmtpSettings, send_due

log = logging.getLogger(__name__)


def run_once(app: Flask) -> tuple[int, int]:
    """One round: start due episodes and fire due timers, then send the outbox. A failure in one
    part is logged and never keeps the other from running (each instance or message that fails
    becomes an incident or a retry of its own inside the engine and the sender)."""
    with app.app_context():  # handlers writing mail read BASE_URL from the app's config
        return _round(app)


def _round(app: Flask) -> tuple[int, int]:
    services = app.extensions["ansvarsgruppe"]
    fired = sent = 0
    try:
        fired = services.engine.fire_due_timers()
    except Exception:
        log.exception("firing due timers failed")
    try:
        sent = send_due(services.db, services.clock, SmtpSettings.from_config(app.config))
    except Exception:
        log.exception("sending the outbox failed")
    try:
        with services.db.transaction() as session:
            prune_logins(session, services.clock.now())
    except Exception:
        log.exception("pruning old login attempts failed")
    return fired, sent


def run_forever(app: Flask, stop: threading.Event) -> None:
    interval = float(app.config["WORKER_INTERVAL"])
    while not stop.is_set():
        try:
            run_once(app)
        except Exception:  # keep the worker alive; the failure is logged and retried next round
            log.exception("worker round failed")
        stop.wait(interval)


def start_thread(app: Flask) -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app, stop), name="ansvarsgruppe-worker", daemon=True)
    thread.start()
    return stop
