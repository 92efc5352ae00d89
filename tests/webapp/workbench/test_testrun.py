"""Test runs of a draft: a throwaway case in a throwaway database, stepped through in the real
form pages; the real database gets only the audit event."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from flask import Blueprint
from sqlalchemy import func, select

from tests.conftest import FAILING, login_client
from tests.webapp.cases.helpers import PASSWORD, municipality
from webapp.audit.models import AuditEvent
from webapp.auth.operations import create_user
from webapp.cases.models import Case
from webapp.engine.models import OpenTask, ProcessDefinition, ProcessInstance, ScheduledStart
from webapp.outbox.models import OutboxMessage
from webapp.workbench import testrun
from webapp.workbench.models import ProcessDraft
from webapp.workbench.operations import open_draft

COMMENT_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Kommentar", "type": "object",
    "required": ["comment", "agree"],
    "properties": {"comment": {"type": "string", "title": "Kommentar", "minLength": 1, "maxLength": 50},
                   "agree": {"type": "string", "title": "Enig?", "enum": ["ja", "nei"]}},
}

#: a user task, a service task that fails until told not to (then sends mail), and a one-day timer
SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_small" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="smaaprove" name="Liten prøve" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_k" name="koordinator">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>ask</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>call</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="ask" name="Fyll ut kommentaren">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="testrun_comment.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="call" name="Kall tjenesten">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="test_explode" resultVariable="answer"/>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:intermediateCatchEvent id="wait" name="Vent en dag">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end" name="Ferdig"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="call"/>
    <bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="wait"/>
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def web(app):
    """The app with the test-run blueprint (and, until the lead registers it, a stand-in for the
    workbench pages the templates link to)."""
    if "workbench" not in app.blueprints:
        stub = Blueprint("workbench", __name__)
        stub.add_url_rule("/prosesser", "library", lambda: "")
        stub.add_url_rule("/prosesser/<process_id>", "process", lambda process_id: "")
        stub.add_url_rule("/prosesser/utkast/<id:draft_id>", "editor", lambda draft_id: "")
        app.register_blueprint(stub)
    if "testrun" not in app.blueprints:
        from webapp.workbench.testrun_views import bp
        app.register_blueprint(bp)
    return app


@pytest.fixture
def people(services):
    ids = municipality(services)
    with services.db.transaction() as s:
        for username, roles in (("per", ("process_owner",)), ("pia", ("process_owner",))):
            ids[username] = create_user(s, username, username.title(), PASSWORD, roles=roles,
                                        at=services.clock.now()).id
    return ids


@pytest.fixture(autouse=True)
def _end_runs():
    yield
    testrun.RUNS.end_all()


def _draft(services, people, **fields) -> int:
    with services.db.transaction() as s:
        draft = ProcessDraft(created_by_id=people["per"], updated_by_id=people["per"], revision=1, status="open",
                             **fields)
        s.add(draft)
        s.flush()
        return draft.id


def _small_draft(services, people, xml: str = SMALL) -> int:
    return _draft(services, people, process_id="smaaprove", name="Liten prøve", main_file="smaaprove.bpmn",
                  documents={"smaaprove.bpmn": xml}, forms={"testrun_comment.json": COMMENT_FORM})


def _counts(services) -> dict:
    with services.db.session() as s:
        return {model.__name__: s.scalar(select(func.count()).select_from(model))
                for model in (Case, ProcessInstance, OpenTask, OutboxMessage, ScheduledStart, ProcessDefinition)}


def _audit(services, kind: str) -> list[AuditEvent]:
    with services.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def _path(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="path-config">(.*?)</script>', page, re.S)
    assert match, "page has no path config"
    return json.loads(match.group(1))


def _step_link(page: str, title: str) -> str:
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        if title in row:
            return html.unescape(re.search(r'href="([^"]+/steg/[^"]+)"', row).group(1))
    raise AssertionError(f"no open step {title!r} on the page")


def _start(client, draft_id: int) -> str:
    response = client.post(f"/prosesser/utkast/{draft_id}/testkjoring/", data={"csrf_token": client.token})
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def test_a_run_steps_through_the_draft_and_leaves_the_real_database_alone(web, services, people):
    draft_id = _small_draft(services, people)
    before = _counts(services)
    client = login_client(web, "per")
    start_page = client.get(f"/prosesser/utkast/{draft_id}/testkjoring/")
    assert start_page.status_code == 200 and "Start testkjøringen" in start_page.text

    run_url = _start(client, draft_id)
    page = client.get(run_url)
    assert page.status_code == 200
    assert "Kari Koordinator (test)" in page.text  # the step's holder is a test person
    path = _path(page.text)
    assert "<bpmn:process id=\"smaaprove\"" in path["xml"]
    assert path["current"] == ["ask"] and "start" in path["done"]

    # the step in the same form the staff see; an error keeps the input (400), nothing is done
    step_url = _step_link(page.text, "Fyll ut kommentaren")
    form = client.get(step_url)
    assert form.status_code == 200 and 'name="comment"' in form.text and "Enig?" in form.text
    too_long = "for lang kommentar " * 5
    refused = client.post(step_url, data={"csrf_token": client.token, "comment": too_long, "agree": "ja"})
    assert refused.status_code == 400
    assert html.escape(too_long.strip()) in refused.text or too_long.strip() in html.unescape(refused.text)
    assert "ds-error-summary" in refused.text
    assert _path(client.get(run_url).text)["current"] == ["ask"]

    # done: the service task fails (an incident with its message), then succeeds on retry
    done = client.post(step_url, data={"csrf_token": client.token, "comment": "Greit", "agree": "ja"})
    assert done.status_code == 302
    page = client.get(run_url).text
    assert "tjenesten svarte ikke" in page and "Prøv igjen" in page
    incident_id = re.search(r'/feil/(\d+)"', page).group(1)
    FAILING["on"] = False
    retried = client.post(f"{run_url}/feil/{incident_id}", data={"csrf_token": client.token})
    assert retried.status_code == 302
    page = client.get(run_url).text
    assert "E-post som ville blitt sendt" in page
    assert "ke@example.org" in page and "Gikk bra" in page  # shown, never sent
    # the mail of setting up the test case is shown apart, after the draft's
    assert page.index("Gikk bra") < page.index("E-post fra oppsettet av testsaken") < page.index(
        "Ansvarsgruppen er opprettet")
    assert "Ingen feil." in page
    path = _path(page)
    assert {"start", "ask", "call"} <= set(path["done"]) and path["current"] == ["wait"]

    # the timer, with the button: the run reaches its end and its database is removed
    run = testrun.RUNS.get(run_url.rsplit("/", 1)[1], draft_id=draft_id, user_id=people["per"])
    directory = run.directory
    assert directory.exists()
    assert client.post(f"{run_url}/spol-fram", data={"csrf_token": client.token}).status_code == 302
    page = client.get(run_url).text
    assert "Testkjøringen er ferdig" in page
    assert {"start", "ask", "call", "wait", "end"} <= set(_path(page)["done"])
    assert _path(page)["current"] == []
    assert "Gikk bra" in page  # the last view is kept
    assert not directory.exists()
    assert not any(key[0] == "smaaprove" for key in services.engine.specs._specs)  # parsed for the run only

    # the real database: only the audit event
    assert _counts(services) == before
    events = _audit(services, "draft_test_run")
    assert [(e.actor_id, e.detail["draft_id"], e.detail["process"]) for e in events] == [
        (people["per"], draft_id, "smaaprove")]
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nothing queued to send


def test_a_draft_of_the_meeting_starts_as_the_domain_starts_it(web, services, people):
    with services.db.transaction() as s:
        draft = open_draft(s, "meeting", actor_id=people["per"], at=services.clock.now())
        draft.documents = {**draft.documents, draft.main_file: draft.documents[draft.main_file].replace(
            'name="Planlegg møtet"', 'name="Planlegg møtet (ny tekst)"')}
        draft_id = draft.id
    before = _counts(services)
    client = login_client(web, "per")
    run_url = _start(client, draft_id)
    page = client.get(run_url).text
    assert "Planlegg møtet (ny tekst)" in page  # the draft's version runs, started by the establishment
    assert _path(page)["current"] == ["plan"]
    assert "begin" in _path(page)["done"]
    form = client.get(_step_link(page, "Planlegg møtet (ny tekst)"))
    assert form.status_code == 200
    assert "Siri Skole (test)" in form.text  # the minute taker's options come from the test case

    # a number of days that is not one is refused with a message, the clock stays
    bad = client.post(f"{run_url}/spol-fram", data={"csrf_token": client.token, "dager": "-3"}, follow_redirects=True)
    assert bad.status_code == 200 and "Skriv et helt antall dager" in bad.text
    run = testrun.RUNS.get(run_url.rsplit("/", 1)[1], draft_id=draft_id, user_id=people["per"])
    before_clock = run.services.clock.now()
    moved = client.post(f"{run_url}/spol-fram", data={"csrf_token": client.token, "dager": "3"}, follow_redirects=True)
    assert "Testklokken er nå" in moved.text
    assert timedelta(days=3) <= run.services.clock.now() - before_clock < timedelta(days=3, minutes=1)
    assert services.clock.now() - before_clock < timedelta(minutes=1)  # the app's own clock stays

    assert client.post(f"{run_url}/avslutt", data={"csrf_token": client.token}).status_code == 302
    assert not run.directory.exists()
    gone = client.get(run_url)
    assert gone.status_code == 410 and "Start en ny testkjøring" in gone.text
    assert _counts(services) == before


def test_a_run_expires_after_an_hour(web, services, people):
    draft_id = _small_draft(services, people)
    client = login_client(web, "per")
    run_url = _start(client, draft_id)
    run = testrun.RUNS.get(run_url.rsplit("/", 1)[1], draft_id=draft_id, user_id=people["per"])
    run.started -= testrun.MAX_AGE.total_seconds() + 1
    page = client.get(run_url)
    assert page.status_code == 410 and "utløpt" in page.text
    assert not run.directory.exists()
    assert len(testrun.RUNS) == 0


def test_a_new_run_ends_the_users_earlier_one_and_runs_are_limited(web, services, people, monkeypatch):
    draft_id = _small_draft(services, people)
    owner = login_client(web, "per")
    first = _start(owner, draft_id)
    second = _start(owner, draft_id)
    assert owner.get(first).status_code == 410
    assert owner.get(second).status_code == 200
    monkeypatch.setattr(testrun, "MAX_RUNS", 1)
    other = login_client(web, "pia")
    busy = other.post(f"/prosesser/utkast/{draft_id}/testkjoring/", data={"csrf_token": other.token})
    assert busy.status_code == 503 and "for mange testkjøringer" in busy.text
    assert owner.get(second).status_code == 200  # someone else's run is left alone
    assert len(_audit(services, "draft_test_run")) == 2


def test_only_the_process_owner_who_started_it_sees_a_run(web, services, people):
    draft_id = _small_draft(services, people)
    owner = login_client(web, "per")
    run_url = _start(owner, draft_id)
    staff = login_client(web, "kari")
    assert staff.get(f"/prosesser/utkast/{draft_id}/testkjoring/").status_code == 404
    assert staff.post(f"/prosesser/utkast/{draft_id}/testkjoring/", data={"csrf_token": staff.token}).status_code == 404
    assert staff.get(run_url).status_code == 404
    other = login_client(web, "pia")
    refused = other.get(run_url)
    assert refused.status_code == 404 and "Fant ikke testkjøringen" in refused.text
    unknown = owner.get(f"/prosesser/utkast/{draft_id}/testkjoring/finnes-ikke")
    assert unknown.status_code == 404 and "Fant ikke testkjøringen" in unknown.text
    assert owner.get(f"/prosesser/utkast/{draft_id}/testkjoring/{'x' * 500}").status_code == 404
    assert owner.get("/prosesser/utkast/999999/testkjoring/").status_code == 404
    assert owner.get(f"{run_url}/steg/1/ukjent", follow_redirects=True).status_code == 200
    assert owner.post(f"{run_url}/feil/12345", data={"csrf_token": owner.token},
                      follow_redirects=True).text.count("Feilen finnes ikke") == 1


def test_a_draft_with_errors_is_not_run(web, services, people):
    draft_id = _small_draft(services, people, SMALL.replace('id="test_explode"', 'id="no_such_handler"'))
    before = _counts(services)
    client = login_client(web, "per")
    response = client.post(f"/prosesser/utkast/{draft_id}/testkjoring/", data={"csrf_token": client.token})
    assert response.status_code == 400
    assert "feil som må rettes" in response.text
    assert len(testrun.RUNS) == 0
    assert _audit(services, "draft_test_run") == []
    assert _counts(services) == before
    # without its CSRF token nothing starts
    assert client.post(f"/prosesser/utkast/{draft_id}/testkjoring/").status_code == 400


@pytest.mark.parametrize("process_id, current", [
    ("establishment", ["appoint"]), ("evaluation", ["evaluate"]), ("transition_review", ["review"]),
    ("deviation", ["follow", "followup_overdue"]), ("closing", ["confirm_closing"]), ("measure", ["follow", "overdue"]),
])
def test_every_process_of_the_library_can_be_test_run(web, services, people, process_id, current):
    """Each started the way the domain starts it (scheduled ones by moving the run's clock)."""
    with services.db.transaction() as s:
        draft_id = open_draft(s, process_id, actor_id=people["per"], at=services.clock.now()).id
    client = login_client(web, "per")
    page = client.get(_start(client, draft_id))
    assert page.status_code == 200
    path = _path(page.text)
    assert "start" in path["done"] and path["current"] == current
    assert "Ingen feil." in page.text
