"""Scale benchmark on PostgreSQL: page times as the number of groups grows, and the timer sweep.

1. A database of its own (default ``ansvar_bench_scale``, dropped at the end unless ``--keep``),
   migrated, the process library deployed as ``ansvarsgruppe processes deploy`` does, and the
   demo's seven real cases made by the domain code; then copied with SQL to N groups
   (``bench/scale_data.py``), VACUUM ANALYZE after each level (as autovacuum keeps a live database).
2. Per level (1,000, 10,000, 100,000 groups) each page is requested through the Flask test client
   in-process, logged in as real users: median and p95 (ms) and response size. One request over
   ``--page-timeout`` seconds (default 60) is recorded and ends that page's repetitions at that level.
3. Timer sweep: running instances waiting on a timer are made due now (``next_due_at`` in the past)
   and swept by one ``ansvarsgruppe worker --once`` subprocess, then, re-armed, by two side by side;
   each must be checked exactly once (one ``timers_checked`` audit event per instance). The same for
   scheduled starts (two disjoint sets of pending starts made due) and for the outbox (two sets of
   e-mails due now, sent to a real local SMTP server, aiosmtpd in this process, which counts what
   arrives for each recipient).

Prints figures only, never asserts on time; the last stdout line is one JSON object.
Usage: python bench/scale_bench.py [--quick] [--database-url URL] [--keep]
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402

from scale_data import COORD_BASE, COPIES_PER_COORDINATOR, add_access_log, clone, read_template  # noqa: E402
from webapp import create_app, freeze_startup_objects  # noqa: E402
from webapp.clock import Clock  # noqa: E402
from webapp.migrate import upgrade  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://ansvar:ansvar@127.0.0.1:5432/"
DEFAULT_DB = "ansvar_bench_scale"
APP_NAME = "scale_bench_pages"  # application_name of the page requests' connections (to cancel them)
PASSWORD = "demo1234"
CHEAP_HASHING = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 8, "PASSWORD_HASH_PARALLELISM": 1}
#: the measured case: the template's active group with a held meeting (Jonas Lie), in this copy
MEASURED_TEMPLATE_CASE_NAME = "Jonas Lie"
MEASURED_COPY = COPIES_PER_COORDINATOR  # first copy of pool coordinator 1
ACCESS_LOG_ROWS = 10_000
#: seconds to wait for a request that passed the page timeout to end (it is not measured further)
FINISH_AFTER_TIMEOUT = 600


def log(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- database
def prepare_database(args) -> tuple[str, sa.Engine | None, str | None]:
    """The database URL; creates (and later drops) the default database."""
    if args.database_url:
        return args.database_url, None, None
    admin = sa.create_engine(DEFAULT_SERVER + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DEFAULT_DB}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DEFAULT_DB}"'))
    return DEFAULT_SERVER + DEFAULT_DB, admin, DEFAULT_DB


def with_app_name(url: str) -> str:
    return sa.engine.make_url(url).update_query_dict({"application_name": APP_NAME}).render_as_string(
        hide_password=False)


def make_app(url: str):
    """Like tests/conftest.py make_app: the real app on this database (cheap password hashing),
    its startup objects frozen as ``serve`` does."""
    app = create_app({"TESTING": True, "DATABASE_URL": with_app_name(url), "SECRET_KEY": "scale-bench",
                      "SESSION_COOKIE_SECURE": False, **CHEAP_HASHING}, clock=Clock())
    freeze_startup_objects()
    return app


def analyze(engine: sa.Engine) -> float:
    """VACUUM ANALYZE: the statistics, and the visibility map autovacuum keeps in a running
    database (without it, a freshly copied table answers no index-only scan from its index)."""
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- pages
def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("page has no CSRF token")
    return match.group(1)


def login(app, username: str):
    client = app.test_client()
    page = client.get("/logg-inn")
    response = client.post("/logg-inn", data={"username": username, "password": PASSWORD,
                                              "csrf_token": csrf_token(page.text)})
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {response.status_code}")
    return client


def cancel_page_queries(engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name = :name AND state = 'active' AND pid <> pg_backend_pid()"),
                     {"name": APP_NAME})


def timed_get(client, path: str, timeout: float, engine: sa.Engine) -> dict:
    """One GET in a thread: ms, status, bytes, or timed_out / the exception's traceback."""
    result: dict = {}

    def run():
        t0 = time.perf_counter()
        try:
            response = client.get(path)
            result.update(ms=(time.perf_counter() - t0) * 1000, status=response.status_code,
                          bytes=len(response.get_data()))
        except Exception:  # TESTING propagates the view's exception: a 500 in production
            result.update(ms=(time.perf_counter() - t0) * 1000, status=500, error=traceback.format_exc())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        # cancel the query if that is where it hangs; Python work cannot be stopped, so wait for it
        # (bounded) rather than let it compete with the next page's requests for the client and CPU
        cancel_page_queries(engine)
        thread.join(FINISH_AFTER_TIMEOUT)
        return {"timed_out": True, "ms": timeout * 1000, "status": result.get("status"),
                "took_ms": result.get("ms"), "still_running": thread.is_alive()}
    return result


def measure_page(client, path: str, reps: int, budget: float, timeout: float, engine: sa.Engine,
                 errors: list, label: str) -> dict:
    """A warm-up request, then up to ``reps`` timed ones (at least 3 unless over ``budget`` seconds)."""
    first = timed_get(client, path, timeout, engine)
    out = {"path": path, "first_ms": round(first["ms"], 1)}
    if first.get("timed_out") or first.get("status") != 200:
        _note(first, out, errors, label, path)
        return out
    times, size, started = [], first["bytes"], time.perf_counter()
    for _ in range(reps):
        if len(times) >= 3 and time.perf_counter() - started > budget:
            break
        got = timed_get(client, path, timeout, engine)
        if got.get("timed_out") or got.get("status") != 200:
            _note(got, out, errors, label, path)
            break
        times.append(got["ms"])
        size = got["bytes"]
    if times:
        out["median_ms"] = round(statistics.median(times), 1)
        out["p95_ms"] = round(_p95(times), 1)
    out.update(bytes=size, reps=len(times))
    return out


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _note(got: dict, out: dict, errors: list, label: str, path: str) -> None:
    if got.get("timed_out"):
        out["timed_out_after_s"] = round(got["ms"] / 1000)
        if got.get("took_ms") is not None:
            out["timed_out_request_took_ms"] = round(got["took_ms"], 1)
        errors.append({"page": label, "path": path, "timed_out": True, "status": got.get("status"),
                       "still_running": got.get("still_running")})
        return
    out["status"] = got.get("status")
    error = {"page": label, "path": path, "status": got.get("status")}
    if got.get("error"):
        error["traceback"] = got["error"]
    errors.append(error)


# --------------------------------------------------------------------------- worker sweeps
def worker_env(url: str, smtp_port: int | None = None) -> dict:
    """The workers' environment: no mail server unless ``smtp_port`` (the outbox sweep's)."""
    env = dict(os.environ, DATABASE_URL=url, ANSVARSGRUPPE_SECRET_KEY="scale-bench")
    env.pop("SMTP_HOST", None)
    if smtp_port is not None:
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_SECURITY="none")
    return env


def run_workers(url: str, count: int, smtp_port: int | None = None) -> tuple[float, list[dict]]:
    """``count`` ``ansvarsgruppe worker --once`` side by side; wall seconds and what each said."""
    command = [str(ROOT / ".venv" / "bin" / "ansvarsgruppe"), "worker", "--once"]
    if not Path(command[0]).exists():
        command = [sys.executable, "-c", "from webapp.cli import main; main()", "worker", "--once"]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(command, cwd=ROOT, env=worker_env(url, smtp_port), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(count)]
    outs = []
    for proc in procs:
        stdout, stderr = proc.communicate()
        fired = re.search(r"fired or started (\d+), sent (\d+)", stdout)
        outs.append({"rc": proc.returncode, "fired": int(fired.group(1)) if fired else None,
                     "sent": int(fired.group(2)) if fired else None,
                     "stderr_tracebacks": stderr.count("Traceback"),
                     **({"stderr_tail": stderr[-2000:]} if proc.returncode or "Traceback" in stderr else {})})
    return time.perf_counter() - t0, outs


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _due_now(engine) -> dict:
    return {"instances": _scalar(engine, "SELECT count(*) FROM process_instances WHERE status = 'running' "
                                         "AND next_due_at <= now()"),
            "scheduled_starts": _scalar(engine, "SELECT count(*) FROM scheduled_starts WHERE status = 'pending' "
                                                "AND due_at <= now()")}


def timer_sweep(url: str, engine: sa.Engine, timers: int) -> dict:
    """Make ``timers`` waiting instances due, sweep with 1 worker, re-arm, sweep with 2."""
    with engine.begin() as conn:
        ids = list(conn.execute(sa.text(
            "SELECT id FROM process_instances WHERE status = 'running' AND next_due_at > now() "
            "ORDER BY id LIMIT :n"), {"n": timers}).scalars())
    out: dict = {"timers": len(ids), "due_before": _due_now(engine)}
    # whatever the copies made due (their scheduled starts) is done first, unmeasured, so that the
    # idle round below measures a worker's start-up and an empty round only
    out["drained_first_s"] = round(run_workers(url, 1)[0], 2)
    startup, _outs = run_workers(url, 1)  # nothing is due: start-up and an empty round
    out["idle_worker_s"] = round(startup, 2)
    for workers, key in ((1, "one_worker"), (2, "two_workers")):
        with engine.begin() as conn:
            marker = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit_events")).scalar()
            incidents = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM incidents")).scalar()
            conn.execute(sa.text("UPDATE process_instances SET next_due_at = now() - interval '1 minute' "
                                 "WHERE id = ANY(:ids)"), {"ids": ids})
        seconds, outs = run_workers(url, workers)
        with engine.connect() as conn:
            counts = dict(conn.execute(sa.text(
                "SELECT instance_id, count(*) FROM audit_events WHERE id > :m AND kind = 'timers_checked' "
                "GROUP BY instance_id"), {"m": marker}).all())
            new_incidents = conn.execute(sa.text("SELECT count(*) FROM incidents WHERE id > :m"),
                                         {"m": incidents}).scalar()
            still_due = conn.execute(sa.text("SELECT count(*) FROM process_instances WHERE id = ANY(:ids) "
                                             "AND status = 'running' AND next_due_at <= now()"),
                                     {"ids": ids}).scalar()
        wanted = set(ids)
        once = sum(1 for i in ids if counts.get(i) == 1)
        out[f"{key}_s"] = round(seconds, 2)
        out[f"{key}_net_s"] = round(seconds - startup, 2)  # minus an idle worker's start-up and round
        out[f"{key}_per_timer_ms"] = round(max(0.0, seconds - startup) * 1000 / max(1, len(ids)), 2)
        out[key] = {"checked_once": once, "checked_more_than_once": sum(1 for i in ids if counts.get(i, 0) > 1),
                    "not_checked": sum(1 for i in ids if i not in counts),
                    "other_instances_checked": sum(1 for i in counts if i not in wanted),
                    "still_due": still_due, "incidents": new_incidents, "workers": outs}
        log(f"  timer sweep, {workers} worker(s): {len(ids)} timers in {seconds:.1f} s; "
            f"exactly once: {once}/{len(ids)}; incidents {new_incidents}")
    out["fired_exactly_once"] = all(out[k]["checked_once"] == len(ids) and not out[k]["other_instances_checked"]
                                    for k in ("one_worker", "two_workers"))
    out["note"] = ("due = next_due_at moved into the past; the BPMN timers themselves lie in the future, so "
                   "each sweep step restores, refreshes timers, persists, projects and audits "
                   "(timers_checked) but fires no event")
    return out


def start_sweep(url: str, engine: sa.Engine, starts: int) -> dict:
    """Two disjoint sets of ``starts`` pending scheduled starts made due: 1 worker, then 2."""
    with engine.begin() as conn:
        ids = list(conn.execute(sa.text("SELECT id FROM scheduled_starts WHERE status = 'pending' "
                                        "AND due_at > now() ORDER BY id LIMIT :n"), {"n": 2 * starts}).scalars())
    sets = {"one_worker": ids[0::2], "two_workers": ids[1::2]}  # interleaved: the same mix of processes
    out: dict = {"starts": len(sets["one_worker"])}
    startup, _outs = run_workers(url, 1)
    out["idle_worker_s"] = round(startup, 2)
    for workers, key in ((1, "one_worker"), (2, "two_workers")):
        chosen = sets[key]
        with engine.begin() as conn:
            marker = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM process_instances")).scalar()
            incidents = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM incidents")).scalar()
            mix = dict(conn.execute(sa.text("SELECT process_id, count(*) FROM scheduled_starts "
                                            "WHERE id = ANY(:ids) GROUP BY 1"), {"ids": chosen}).all())
            conn.execute(sa.text("UPDATE scheduled_starts SET due_at = now() - interval '1 minute' "
                                 "WHERE id = ANY(:ids)"), {"ids": chosen})
        seconds, outs = run_workers(url, workers)
        with engine.connect() as conn:
            started = conn.execute(sa.text(
                "SELECT count(*) FROM scheduled_starts WHERE id = ANY(:ids) AND status = 'started' "
                "AND instance_id IS NOT NULL"), {"ids": chosen}).scalar()
            per_row = conn.execute(sa.text(
                "SELECT count(*) FROM process_instances i JOIN scheduled_starts s ON s.instance_id = i.id "
                "WHERE s.id = ANY(:ids)"), {"ids": chosen}).scalar()
            new_instances = conn.execute(sa.text(
                "SELECT count(*) FROM process_instances WHERE id > :m"), {"m": marker}).scalar()
            new_incidents = conn.execute(sa.text("SELECT count(*) FROM incidents WHERE id > :m"),
                                         {"m": incidents}).scalar()
        out[f"{key}_s"] = round(seconds, 2)
        out[f"{key}_net_s"] = round(seconds - startup, 2)
        out[f"{key}_per_start_ms"] = round(max(0.0, seconds - startup) * 1000 / max(1, len(chosen)), 2)
        out[key] = {"processes": mix, "started": started, "instances_linked": per_row,
                    "instances_created": new_instances, "incidents": new_incidents, "workers": outs}
        log(f"  scheduled starts, {workers} worker(s): {len(chosen)} in {seconds:.1f} s; started {started}, "
            f"instances created {new_instances}; incidents {new_incidents}")
    out["started_exactly_once"] = all(out[k]["started"] == len(sets[k]) == out[k]["instances_created"]
                                      for k in sets)
    return out


def outbox_sweep(url: str, engine: sa.Engine, messages: int) -> dict:
    """``messages`` e-mails due now, sent by 1 worker, then as many others by 2, to a real local
    SMTP server; each recipient must receive exactly one."""
    from aiosmtpd.controller import Controller  # the test extra: pip install -e '.[test]'

    received: collections.Counter = collections.Counter()

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            received.update(envelope.rcpt_tos)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    out: dict = {"messages": messages}
    try:
        with engine.begin() as conn:  # the copies' own e-mails (cloned as pending) wait: each sweep sends its own
            out["set_aside"] = conn.execute(sa.text(
                "UPDATE outbox_messages SET next_attempt_at = now() + interval '1 year' "
                "WHERE status IN ('pending', 'sending')")).rowcount
        startup, _outs = run_workers(url, 1, port)  # nothing is due: start-up and an empty round
        out["idle_worker_s"] = round(startup, 2)
        for workers, key in ((1, "one_worker"), (2, "two_workers")):
            prefix = f"bench-{key}-"
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO outbox_messages (channel, recipient, subject, body, attachments, status, "
                    "attempts, next_attempt_at, created_at) SELECT 'email', :prefix || g || '@example.no', "
                    "'Innkalling til møte i ansvarsgruppen', :body, '[]', 'pending', 0, "
                    "now() - interval '1 minute', now() FROM generate_series(1, :n) AS g"),
                    {"prefix": prefix, "n": messages,
                     "body": "Du er invitert til møte i ansvarsgruppen. Logg inn for å se innkallingen.\n" * 4})
            seconds, outs = run_workers(url, workers, port)
            with engine.connect() as conn:
                statuses = dict(conn.execute(sa.text(
                    "SELECT status, count(*) FROM outbox_messages WHERE recipient LIKE :p GROUP BY 1"),
                    {"p": prefix + "%"}).all())
            ours = [r for r in received if r.startswith(prefix)]
            once = sum(1 for r in ours if received[r] == 1)
            out[f"{key}_s"] = round(seconds, 2)
            out[f"{key}_net_s"] = round(seconds - startup, 2)
            out[f"{key}_per_message_ms"] = round(max(0.0, seconds - startup) * 1000 / max(1, messages), 2)
            out[key] = {"statuses": statuses, "received_once": once,
                        "received_more_than_once": sum(1 for r in ours if received[r] > 1),
                        "not_received": messages - len(ours), "workers": outs}
            log(f"  outbox, {workers} worker(s): {messages} e-mails in {seconds:.1f} s; received exactly once: "
                f"{once}/{messages}; statuses {statuses}")
        out["sent_exactly_once"] = all(out[k]["received_once"] == messages and out[k]["statuses"] == {"sent": messages}
                                       for k in ("one_worker", "two_workers"))
    finally:
        controller.stop()
    return out


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 groups, 2,000 timers (< 5 min)")
    parser.add_argument("--database-url", help="an existing PostgreSQL database (emptied schema expected)")
    parser.add_argument("--keep", action="store_true", help="keep the created database")
    parser.add_argument("--levels", help="comma-separated group counts (default 1000,10000,100000)")
    parser.add_argument("--timers", type=int, help="timers in the sweep (default 10000; quick 2000)")
    parser.add_argument("--starts", type=int, help="scheduled starts per sweep (default 1000; quick 200)")
    parser.add_argument("--outbox", type=int, help="e-mails per outbox sweep (default 10000; quick 2000)")
    parser.add_argument("--page-timeout", type=float, default=60.0)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")] if args.levels else (
        [1000, 10000] if args.quick else [1000, 10000, 100000])
    timers = args.timers or (2000 if args.quick else 10000)
    starts = args.starts if args.starts is not None else (200 if args.quick else 1000)
    outbox = args.outbox if args.outbox is not None else (2000 if args.quick else 10000)
    # p95 of 40 is the third slowest; of 15 it was nearly the slowest, one hiccup of a shared machine
    reps, budget = (5, 6.0) if args.quick else (40, 60.0)

    t_all = time.perf_counter()
    url, admin, created = prepare_database(args)
    engine = sa.create_engine(url)
    result: dict = {"database": "postgresql", "quick": args.quick, "levels": {}, "generate_s": {},
                    "errors": []}
    try:
        t0 = time.perf_counter()
        upgrade(url)
        app = make_app(url)
        from webapp.cli import _deploy
        from webapp.demo import seed
        _deploy(app)  # as `ansvarsgruppe processes deploy`
        seed(app)  # the demo's real cases through the domain code
        result["generate_s"]["seed"] = round(time.perf_counter() - t0, 2)
        with engine.connect() as conn:
            kari = conn.execute(sa.text("SELECT id FROM users WHERE username = 'kari'")).scalar()
            template = read_template(conn, kari)
            measured_template = conn.execute(sa.text("SELECT c.id FROM cases c JOIN persons p ON p.id = c.person_id "
                                                     "WHERE p.full_name = :n"),
                                             {"n": MEASURED_TEMPLATE_CASE_NAME}).scalar()
        log(f"seeded {template.cases_per_copy} cases in {result['generate_s']['seed']} s; "
            f"rows per copy: {template.max_ids}")

        case_id = reference = None
        coordinator = f"koord{MEASURED_COPY // COPIES_PER_COORDINATOR:06d}"
        clients: dict = {}
        for level in levels:
            copies = max(0, math.ceil((level - template.cases_per_copy) / template.cases_per_copy) - template.copies)
            t0 = time.perf_counter()
            per_table = clone(engine, template, copies) if copies else {}
            gen = {"copies": copies, "clone_s": round(time.perf_counter() - t0, 2),
                   "slowest_tables": {k: round(v, 2) for k, v in sorted(per_table.items(), key=lambda kv: -kv[1])[:4]}}
            if case_id is None:
                case_id = template.copy_id("cases", measured_template, MEASURED_COPY)
                add_access_log(engine, case_id, COORD_BASE + MEASURED_COPY // COPIES_PER_COORDINATOR,
                               ACCESS_LOG_ROWS, app.extensions["ansvarsgruppe"].clock.now())
                reference = _scalar(engine, "SELECT reference FROM cases WHERE id = :id", id=case_id)
            gen["analyze_s"] = round(analyze(engine), 2)
            with engine.connect() as conn:
                groups = conn.execute(sa.text("SELECT count(*) FROM cases")).scalar()
                sizes = {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar()
                         for t in ("process_instances", "open_tasks", "audit_events", "access_log", "case_members")}
            gen["groups"], gen["rows"] = groups, sizes
            result["generate_s"][str(level)] = gen
            log(f"level {level}: {groups} groups ({copies} copies in {gen['clone_s']} s, analyze "
                f"{gen['analyze_s']} s); rows {sizes}")

            if not clients:
                clients = {u: login(app, u) for u in ("ke", "system", coordinator)}
            pages = {
                "inbox_coordinating_unit": ("ke", "/oppgaver"),
                "inbox_coordinator": (coordinator, "/oppgaver"),
                "register": ("ke", "/register"),
                "register_search_name": ("ke", "/register?q=Haugen"),
                "register_search_reference": ("ke", f"/register?q={reference}"),
                "supervision": ("system", "/tilsyn/"),
                "supervision_newest_first": ("system", "/tilsyn/?sortering=nyest"),
                "supervision_meeting_due": ("system", "/tilsyn/?regel=meeting_due"),
                "supervision_stuck_90_days": ("ke", "/tilsyn/?dager=90&alder=primary"),
                "supervision_processes": ("system", "/tilsyn/prosesser/"),
                "supervision_process_meeting": ("system", "/tilsyn/prosesser/meeting"),
                "supervision_element_plan": ("system", "/tilsyn/prosesser/meeting/element/plan"),
                "supervision_case_episodes": ("system", f"/tilsyn/prosesser/sak/{case_id}"),
                "figures_csv": ("ke", "/register/tall.csv"),
                "case": (coordinator, f"/saker/{case_id}"),
                "access_log": (coordinator, f"/saker/{case_id}/innsyn"),
            }
            figures = {}
            for name, (user, path) in pages.items():
                errors: list = []
                figures[name] = measure_page(clients[user], path, reps, budget, args.page_timeout, engine,
                                             errors, name)
                for error in errors:
                    error["level"] = level
                result["errors"] += errors
                got = figures[name]
                log(f"  {name:<26} median {got.get('median_ms', '-'):>9} ms  p95 {got.get('p95_ms', '-'):>9} ms  "
                    f"{got.get('bytes', '-'):>9} bytes  ({got.get('reps', 0)} reps)"
                    + (f"  ERROR {got.get('status')}" if "status" in got else "")
                    + (f"  TIMED OUT after {got['timed_out_after_s']} s" if "timed_out_after_s" in got else ""))
            result["levels"][str(level)] = figures

        app.extensions["ansvarsgruppe"].db.dispose()
        t0 = time.perf_counter()
        result["sweep"] = timer_sweep(url, engine, timers)
        if starts:
            result["scheduled_starts"] = start_sweep(url, engine, starts)
        if outbox:
            result["outbox"] = outbox_sweep(url, engine, outbox)
        result["sweep_s"] = round(time.perf_counter() - t0, 1)
    finally:
        engine.dispose()
        if admin is not None:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)'))
            admin.dispose()
    result["total_s"] = round(time.perf_counter() - t_all, 1)
    for error in result["errors"]:
        if "traceback" in error:
            log(f"ERROR on {error['page']} at {error['level']}:\n{error['traceback']}")
            error["traceback"] = error["traceback"][-1500:]
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
