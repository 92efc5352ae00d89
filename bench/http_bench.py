"""HTTP benchmark: the cost of one step as a user sees it, through the real server.

Runs ``ansvarsgruppe serve`` (waitress, no worker) as a subprocess on a free port, on a temporary
SQLite file (or ``--database-url``, e.g. a PostgreSQL database of your own: it is migrated and
filled with benchmark users and cases, never emptied). A generated linear process of 4 user tasks
(lane ``koordinator``, a 2-field JSON Schema form each) is deployed before the server starts; the
server deploys the real library itself at start, as in production.

One *completion* = GET the task page ``/oppgaver/<instance>/<task>`` + POST its form with the CSRF
token (302 to the next task page, or to the case page after the last task), over a keep-alive
connection with the session cookie of a user logged in through ``/logg-inn``.

(a) 1 client: completion median and p95; a raw SpiffWorkflow step with a JSON round trip of the
    same diagram is measured interleaved with it (one raw episode after each HTTP episode), so
    ``http_over_raw`` compares the two on the same machine speed;
(b) 8 concurrent clients (threads), each a distinct coordinator on their own cases: completions/s;
(c) SQL statements and commits per completion, counted in-process with the Flask test client on
    the same database (the server is another process, so it cannot be counted there).

Prints medians and ratios; the last line is one JSON object. Never asserts on time.
Usage: python bench/http_bench.py [--quick] [--database-url URL]
"""
from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from sqlalchemy import select  # noqa: E402

from handlers import REGISTRY  # noqa: E402
from engine_bench import raw_episode as raw_steps  # noqa: E402
from tests.statements import counting  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.auth.operations import create_user  # noqa: E402
from webapp.cases.operations import add_member, open_case  # noqa: E402
from webapp.clock import Clock  # noqa: E402
from webapp.db import Database  # noqa: E402
from webapp.engine.models import OpenTask  # noqa: E402
from webapp.engine.operations import deploy_library  # noqa: E402
from webapp.engine.parsing import ParsedLibrary  # noqa: E402
from webapp.migrate import upgrade  # noqa: E402
from webapp.services import build_engine  # noqa: E402

PROCESS_ID = "http_bench"
TASKS = 4
PASSWORD = "benk-passord-1234"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NOTE = "merknad " * 5


# ------------------------------------------------------------------------------ the process
def step_data(i: int, n: int) -> dict:
    """What the form of task ``i`` (1-based) posts, as the engine stores it."""
    return {f"antall_{i}": n, f"merknad_{i}": NOTE}


def write_library(folder: Path) -> Path:
    """The generated 4-task diagram and its forms; returns the processes folder."""
    processes, forms = folder / "processes", folder / "forms"
    processes.mkdir(parents=True)
    forms.mkdir()
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>"
                   for n in ["start", *(f"task{i}" for i in range(1, TASKS + 1)), "end"])
    tasks, flows, previous = [], [], "start"
    for i in range(1, TASKS + 1):
        tasks.append(
            f'<bpmn:userTask id="task{i}" name="Steg {i}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="http_bench_{i}.json"/>'
            f'</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
        flows.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="task{i}"/>')
        previous = f"task{i}"
        (forms / f"http_bench_{i}.json").write_text(json.dumps({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"Steg {i}", "type": "object", "required": [f"antall_{i}"],
            "properties": {f"antall_{i}": {"type": "integer", "title": "Antall"},
                           f"merknad_{i}": {"type": "string", "title": "Merknad", "maxLength": 500}},
        }, indent=2))
    flows.append(f'<bpmn:sequenceFlow id="f_end" sourceRef="{previous}" targetRef="end"/>')
    (processes / f"{PROCESS_ID}.bpmn").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_http_bench" '
        'targetNamespace="https://ansvarsgruppe.no/bench">\n'
        f'<bpmn:process id="{PROCESS_ID}" name="HTTP-benk" isExecutable="true">\n'
        f'<bpmn:laneSet id="lanes"><bpmn:lane id="lane_k" name="koordinator">{refs}</bpmn:lane></bpmn:laneSet>\n'
        '<bpmn:startEvent id="start"/>\n' + "\n".join(tasks) + '\n<bpmn:endEvent id="end"/>\n'
        + "\n".join(flows) + "\n</bpmn:process>\n</bpmn:definitions>\n")
    return processes


def raw_episode(serializer, spec, subs, n: int) -> list[float]:
    """One episode in memory with a JSON round trip per step (bench/engine_bench.py's, with this
    diagram's data); returns the time of each of the 4 steps."""
    return raw_steps(serializer, spec, subs, [step_data(i, n) for i in range(1, TASKS + 1)])


def seed(db: Database, clock: Clock, engine, users: int, episodes_per_user: list[int], tag: str):
    """``users`` coordinators, each with their own cases and one started instance per case.
    Returns [(username, [first task path, ...]), ...]."""
    result = []
    for u in range(users):
        username = f"httpbenk_{tag}_{u}"
        with db.transaction() as s:
            user = create_user(s, username, f"Benk Koordinator {u}", PASSWORD, at=clock.now())
            case_ids = []
            for e in range(episodes_per_user[u]):
                case = open_case(s, f"HTTP-benk {u}/{e}", at=clock.now())
                add_member(s, case, user.full_name, "koordinator", at=clock.now(), user_id=user.id)
                case_ids.append(case.id)
            user_id = user.id
        paths = []
        for case_id in case_ids:
            started = engine.start(case_id, PROCESS_ID, actor_id=user_id)
            with db.session() as s:
                task_id = s.scalar(select(OpenTask.task_id).where(OpenTask.instance_id == started.instance_id))
            paths.append(f"/oppgaver/{started.instance_id}/{task_id}")
        result.append((username, paths))
    return result


# ------------------------------------------------------------------------------ an HTTP client
class Client:
    """One browser: a keep-alive connection and its cookies."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, response.getheader("Location") or "", text

    def login(self, username: str) -> None:
        status, _, page = self.request("GET", "/logg-inn")
        token = CSRF.search(page)
        assert status == 200 and token, f"login page: HTTP {status}"
        status, _, page = self.request("POST", "/logg-inn", {"username": username, "password": PASSWORD,
                                                            "csrf_token": token.group(1)})
        assert status == 302, f"login as {username}: HTTP {status}\n{page[:500]}"

    def completion(self, path: str, i: int, n: int) -> str:
        """GET the task page, POST its form; returns where the POST redirects."""
        status, _, page = self.request("GET", path)
        token = CSRF.search(page)
        assert status == 200 and token, f"GET {path}: HTTP {status}\n{page[:500]}"
        form = {k: str(v) for k, v in step_data(i, n).items()}
        status, location, page = self.request("POST", path, {**form, "csrf_token": token.group(1)})
        assert status == 302, f"POST {path}: HTTP {status}\n{page[:500]}"
        return urlsplit(location).path

    def episode(self, first: str, n: int) -> list[float]:
        """The 4 completions of one instance; returns the time of each."""
        times, path = [], first
        instance = first.split("/")[2]
        for i in range(1, TASKS + 1):
            t0 = time.perf_counter()
            path = self.completion(path, i, n)
            times.append(time.perf_counter() - t0)
            expected = f"/oppgaver/{instance}/" if i < TASKS else "/saker/"
            assert path.startswith(expected), f"step {i} redirected to {path}"
        return times

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    """``ansvarsgruppe serve`` on ``url``: the console script of this venv if there is one."""
    script = Path(sys.executable).parent / "ansvarsgruppe"
    command = ([str(script)] if script.exists()
               else [sys.executable, "-c", "import sys; from webapp.cli import main; sys.exit(main())"])
    env = {**os.environ, "DATABASE_URL": url, "ANSVARSGRUPPE_SECRET_KEY": secrets.token_hex(32),
           "ANSVARSGRUPPE_INSECURE_COOKIES": "1"}  # plain http on localhost: no Secure cookie
    for key in ("PROCESSES_DIR", "FORMS_DIR", "ANSVARSGRUPPE_PROCESSES_DIR", "ANSVARSGRUPPE_FORMS_DIR"):
        env.pop(key, None)  # the server deploys the real library
    with open(log, "wb") as out:
        return subprocess.Popen([*command, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--threads", "8", "--no-worker"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark dies, even by SIGKILL (Linux only)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def wait_until_up(server: subprocess.Popen, port: int, log: Path, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/logg-inn")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer within {limit:.0f} s:\n{log.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen | None) -> None:
    if server is None or server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# ------------------------------------------------------------------------------ measurements
def count_statements(url: str, users: list[tuple[str, list[str]]]) -> dict:
    """Statements and commits per completion, in-process: the Flask test client runs the same
    code path as the server (``create_app`` with the same defaults, the same views, engine and
    database code); only the WSGI server in front differs, and it sends no SQL. The first episode
    warms the caches (parsed spec, templates) and is not counted.

    Writes a request defers (the access log's batches, if the app batches them) are not in the
    request's own window: the background flush is held off here and run once at the end, and
    what it sends is reported apart (``deferred_*``, amortised over the counted completions; the
    server writes one such batch per flush interval however many completions it holds)."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
                      "SESSION_COOKIE_SECURE": False, "ACCESS_LOG_FLUSH_SECONDS": 3600})
    services = app.extensions["ansvarsgruppe"]
    engine = services.db.engine
    username, paths = users[0]
    client = app.test_client()
    token = CSRF.search(client.get("/logg-inn").text).group(1)
    assert client.post("/logg-inn", data={"username": username, "password": PASSWORD,
                                          "csrf_token": token}).status_code == 302

    def flush_deferred() -> None:
        access_log = getattr(services, "access_log", None)
        if access_log is not None and hasattr(access_log, "flush"):
            access_log.flush()

    totals = dict.fromkeys(("get_statements", "get_commits", "post_statements", "post_commits",
                            "all_statements", "all_commits"), 0)
    n = 0
    for e, first in enumerate(paths):
        path = first
        with counting(engine) as everything:  # the episode's requests and the deferred writes
            for i in range(1, TASKS + 1):
                with counting(engine) as get:
                    page = client.get(path)
                assert page.status_code == 200, f"GET {path}: HTTP {page.status_code}"
                form = {k: str(v) for k, v in step_data(i, e).items()}
                with counting(engine) as post:
                    response = client.post(path, data={**form, "csrf_token": CSRF.search(page.text).group(1)})
                assert response.status_code == 302, f"POST {path}: HTTP {response.status_code}"
                path = urlsplit(response.headers["Location"]).path
                for name, counts in (("get", get), ("post", post)):
                    if e:
                        totals[f"{name}_statements"] += len(counts)
                        totals[f"{name}_commits"] += counts.commits
            flush_deferred()
        if e == 0:
            continue  # warm-up
        n += TASKS
        totals["all_statements"] += len(everything)
        totals["all_commits"] += everything.commits
    services.db.dispose()
    per = {k: v / n for k, v in totals.items()}
    per["statements"] = per["get_statements"] + per["post_statements"]
    per["commits"] = per["get_commits"] + per["post_commits"]
    per["deferred_statements"] = per["all_statements"] - per["statements"]
    per["deferred_commits"] = per["all_commits"] - per["commits"]
    per["completions"] = n
    return per


def one_client(port: int, username: str, paths: list[str], serializer, spec, subs):
    """HTTP episodes with a raw episode after each (interleaved: both meet the same machine)."""
    client = Client(port)
    client.login(username)
    client.episode(paths[0], 0)  # warm-up: connection, the server's caches
    http_times, raw = [], []
    for e, first in enumerate(paths[1:], start=1):
        http_times += client.episode(first, e)
        raw += raw_episode(serializer, spec, subs, e)
    client.close()
    return http_times, raw


def many_clients(port: int, users: list[tuple[str, list[str]]]) -> tuple[list[float], float]:
    """Each client (thread) logs in as its own coordinator and works through its own cases; all
    start together. Returns every completion's time and the wall time."""
    clients = [Client(port) for _ in users]
    for client, (username, _paths) in zip(clients, users):
        client.login(username)
    barrier = threading.Barrier(len(users) + 1)
    times: list[float] = []
    errors: list[BaseException] = []

    def work(client: Client, paths: list[str]) -> None:
        barrier.wait()
        try:
            for e, first in enumerate(paths):
                times.extend(client.episode(first, e))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c, paths)) for c, (_u, paths) in zip(clients, users)]
    for thread in threads:
        thread.start()
    barrier.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    for client in clients:
        client.close()
    if errors:
        raise errors[0]
    return times, wall


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under 3 minutes)")
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://user:pw@host/db (migrated "
                        "and filled with benchmark data); default: a temporary SQLite file")
    args = parser.parse_args()
    # (1-client episodes incl. warm-up, episodes per client with 8 clients, counted episodes + warm-up)
    single_eps, multi_eps, count_eps = (41, 10, 6) if args.quick else (121, 30, 11)
    clients = 8
    began = time.perf_counter()

    # SIGTERM/SIGHUP end the run through the finally blocks (server stopped, temp folder removed)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))

    server = None
    with tempfile.TemporaryDirectory(prefix="http_bench_") as tmp_name:
        tmp = Path(tmp_name)
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        database = "postgresql" if url.startswith("postgresql") else "sqlite" if url.startswith("sqlite") else url.split(":")[0]
        try:
            processes = write_library(tmp / "library")
            parsed = ParsedLibrary({p.name: p.read_text() for p in processes.glob("*.bpmn")})
            spec, subs = parsed.specs(PROCESS_ID)
            serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

            upgrade(url)
            db, clock = Database(url), Clock()
            deploy_library(db, clock, processes, processes.parent / "forms", REGISTRY.keys())
            engine = build_engine(db, clock, REGISTRY)
            tag = secrets.token_hex(3)  # fresh usernames, so a reused database works too
            single = seed(db, clock, engine, 1, [single_eps], tag + "a")
            multi = seed(db, clock, engine, clients, [multi_eps] * clients, tag + "b")
            counted = seed(db, clock, engine, 1, [count_eps], tag + "c")
            db.dispose()

            counts = count_statements(url, counted)

            log, port = tmp / "server.log", free_port()
            t0 = time.perf_counter()
            server = start_server(url, port, log)
            wait_until_up(server, port, log)
            startup = time.perf_counter() - t0

            for _ in range(3):
                raw_episode(serializer, spec, subs, 0)  # warm up
            gc.collect()
            gc.disable()  # like timeit, in this process (the client and the raw steps)
            http_times, raw = one_client(port, *single[0], serializer, spec, subs)
            multi_times, wall = many_clients(port, multi)
            gc.enable()
        finally:
            stop_server(server)
            if server is not None and (tmp / "server.log").exists():
                text = (tmp / "server.log").read_text(errors="replace")
                if sys.exc_info()[0] is not None:  # failing: show what the server said
                    print("server log (end):\n" + text[-4000:], file=sys.stderr)
                elif text.count("Traceback"):
                    print(f"note: the server logged {text.count('Traceback')} traceback(s)", file=sys.stderr)

    http_ms = statistics.median(http_times) * 1000
    http_p95 = p95(http_times) * 1000
    raw_ms = statistics.median(raw) * 1000
    single_rate = len(http_times) / sum(http_times)
    multi_rate = len(multi_times) / wall
    multi_ms = statistics.median(multi_times) * 1000

    print(f"database {database}; server up in {startup:.1f} s (imports, deploying the library)")
    print(f"(a) 1 client, completion (GET task page + POST form, 302): median {http_ms:.1f} ms, "
          f"p95 {http_p95:.1f} ms over {len(http_times)} completions; {single_rate:.1f} completions/s")
    print(f"    raw SpiffWorkflow step with JSON round trip, interleaved: median {raw_ms:.2f} ms over "
          f"{len(raw)} steps; http/raw ratio {http_ms / raw_ms:.1f}")
    print(f"(b) {clients} clients: {multi_rate:.1f} completions/s ({len(multi_times)} in {wall:.1f} s), "
          f"completion median {multi_ms:.1f} ms, p95 {p95(multi_times) * 1000:.1f} ms; "
          f"{multi_rate / single_rate:.2f}x one client")
    print(f"(c) per completion, in the requests: {counts['statements']:.2f} SQL statements (GET "
          f"{counts['get_statements']:.2f}, POST {counts['post_statements']:.2f}), {counts['commits']:.2f} "
          f"commits (GET {counts['get_commits']:.2f}, POST {counts['post_commits']:.2f}); deferred (the "
          f"batched access log, flushed once per episode here): {counts['deferred_statements']:.2f} "
          f"statements, {counts['deferred_commits']:.2f} commits; in-process test client, "
          f"{counts['completions']} completions")
    print(f"total {time.perf_counter() - began:.1f} s")
    print(json.dumps({
        "database": database,
        "http_over_raw": round(http_ms / raw_ms, 3),
        "completion_median_ms": round(http_ms, 3), "completion_p95_ms": round(http_p95, 3),
        "completions_per_s_1_client": round(single_rate, 2),
        "completions_per_s_8_clients": round(multi_rate, 2),
        "completion_median_ms_8_clients": round(multi_ms, 3),
        "statements_per_completion": round(counts["statements"], 2),
        "commits_per_completion": round(counts["commits"], 2),
        "deferred_statements_per_completion": round(counts["deferred_statements"], 3),
        "deferred_commits_per_completion": round(counts["deferred_commits"], 3),
        "raw_step_ms": round(raw_ms, 3), "server_startup_s": round(startup, 2),
    }))


if __name__ == "__main__":
    main()
