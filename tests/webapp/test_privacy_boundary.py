"""The privacy boundary (DESIGN §6): register-only users — the coordinating unit, the system
owner, supervisors — and the admin never see content.

A marker is planted in every content field: through the real operations and the engine where a
flow writes the field (wish, the person's wish for a coordinator, mandate, matter, needs, agenda,
minutes, measures, absence, approval comment, refusal and withdrawal reasons, closing reasons, a
deviation, a handler's failure message), and then in every text column that
``register_data.CONTENT_COLUMNS`` names, directly in the database (evaluations, transitions, …).
Each register-only user then fetches every GET route of the app with every id that exists, plus
every link on every page reached: nothing is a 500, and no page, CSV, PDF, attachment or error
contains the marker. (No step assigned to a register-only user is open at the end: such a step
shows what it needs — the coordinating unit's appointing shows the wish; see register_data.)
"""
from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from urllib.parse import urldefrag, urljoin, urlsplit

import pypdf
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests.conftest import TEST_HANDLERS, csrf_token, login_client
from tests.webapp.cases.helpers import (
    APPOINT, CONSENT, PASSWORD, complete, establish, municipality, open_task,
)
from tests.webapp.closing.helpers import confirm, request_closing
from tests.webapp.deviations.helpers import record as record_deviation
from tests.webapp.meetings.helpers import hold_data, meeting, members, plan
from webapp.audit.models import AccessLogEntry
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases import consent as consent_service
from webapp.cases.models import Case, CaseMember
from webapp.cases.register_data import CONTENT_COLUMNS, REGISTER_COLUMNS
from webapp.cases.registration import register
from webapp.db import Base
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance
from webapp.engine.runtime import StepFailed
from webapp.meetings.models import Measure, Meeting
from webapp.plans.models import Plan, PlanGoal, PlanVersion
from webapp.outbox.models import OutboxMessage
from webapp.profiles.catalogue import profile_names
from webapp.workbench.models import MigrationRun, ProcessDraft

MARKER = "Qzxmerke"


def marked(what: str) -> str:
    return f"{MARKER} {what}"


def _leaky_record_measure(ctx, **_params):
    """A handler that fails quoting the form's content in its exception."""
    raise RuntimeError(f"kunne ikke registrere tiltaket «{ctx.data.get('description')}» ({ctx.data.get('comment')})")


@pytest.fixture
def app(make_app):
    return make_app(HANDLERS={**TEST_HANDLERS, "record_measure": _leaky_record_measure})


# --- the rule itself ------------------------------------------------------------------------

TEXT_TYPES = (sa.String, sa.Text, sa.JSON, sa.LargeBinary)
NOT_CASE_DATA = {"users", "user_sessions", "login_attempts", "settings", "units", "process_definitions",
                 "process_drafts", "saved_views", "access_log", "alembic_version"}


def test_every_text_column_of_case_data_is_register_data_or_content():
    import webapp.models  # noqa: F401  (every domain's models)

    unclassified = []
    for name, table in Base.metadata.tables.items():
        if name in NOT_CASE_DATA:
            continue
        for column in table.columns:
            if not isinstance(column.type, TEXT_TYPES):
                continue
            content = column.name in CONTENT_COLUMNS.get(name, ())
            register_data = column.name in REGISTER_COLUMNS.get(name, ())
            assert not (content and register_data), f"{name}.{column.name} is classified twice"
            if not (content or register_data):
                unclassified.append(f"{name}.{column.name}")
    assert unclassified == [], ("decide in webapp/cases/register_data.py whether these are register data "
                                f"or content: {unclassified}")


# --- building cases with content ----------------------------------------------------------


def _wish(services, users, name: str, born: str = "2019-05-20") -> int:
    return register(services, {"full_name": name, "birth_date": born, "requested_by_kind": "guardian",
                               "requested_by_name": "Anne Berg", "wish": marked("ønske om gruppe"),
                               "guardians": [{"name": "Anne Berg", "kind": "guardian", "email": "anne@example.org"}]},
                    actor_id=users["ola"])[0]


def _appoint(services, users, case_id):
    complete(services, case_id, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"]),
                                            "persons_wish": marked("ønsker Kari"), "reason": marked("begrunnelse")},
             users["ke"])


def _refused_case(services, users) -> int:
    case_id = _wish(services, users, "Nils Nekt")
    _appoint(services, users, case_id)
    complete(services, case_id, "consent", {**CONSENT, "consent_decision": "nektet",
                                            "refusal_reason": marked("vil ikke dele opplysninger")}, users["kari"])
    return case_id


def _withdrawn_case(services, users) -> int:
    case_id = establish(services, users, until="active")
    consent_service.withdraw(services, case_id, stated_by="Anne Berg", reason=marked("vil ikke mer"),
                             actor_id=users["kari"])
    return case_id


def _closed_case(app, services, users) -> int:
    case_id = establish(services, users, until="active")
    kari = login_client(app, "kari")
    response = request_closing(kari, case_id, request_reason=marked("trenger ikke gruppen"))
    assert response.status_code == 302, response.text
    confirm(services, users, case_id, services.clock.today().isoformat(), reason=marked("klarer seg"),
            confirmed_with="Anne Berg")
    with services.db.session() as s:
        assert s.get(Case, case_id).status == "closed"
    return case_id


def _meeting_case(app, services, users) -> int:
    """An active group with a held meeting: matter, needs, agenda, minutes, a measure, approvals
    and the distributed minutes; the measure's follow-up fails in a handler quoting its text."""
    case_id = _wish(services, users, "Emma Berg")
    _appoint(services, users, case_id)
    complete(services, case_id, "consent", CONSENT, users["kari"])
    complete(services, case_id, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["siri"]), "name": "Siri Skole", "unit_id": str(users["unit_school"])},
        {"name": "Per Fastlege", "email": "per@example.org"}]}, users["kari"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": marked("skolens mandat")},
             users["siri"], users["siri"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": marked("legens mandat")},
             users["kari"], users["kari"])
    complete(services, case_id, "plan_need", {"plan_need": "yes"}, users["kari"])
    complete(services, case_id, "first_meeting",
             {"first_meeting_date": (services.clock.today() + timedelta(days=21)).isoformat()}, users["kari"])
    _plan_with_content(services, users, case_id)
    plan(services, users, case_id)
    m = meeting(services, case_id)
    kari = login_client(app, "kari")
    page = kari.get(f"/saker/{case_id}/moter/{m.id}/meld-sak")
    response = kari.post(f"/saker/{case_id}/moter/{m.id}/meld-sak", data={
        "title": marked("sak"), "description": marked("beskrivelse"), "screening": "none",
        "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302, response.text
    complete(services, case_id, "needs", {"persons_needs": marked("behov"), "person_attends": "ja"}, users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": marked("punkt")}]},
             users["kari"])
    services.clock.set(meeting(services, case_id).starts_at + timedelta(hours=2))
    ids = members(services, case_id)
    data = hold_data(services, case_id, measures=[
        {"description": marked("tiltak"), "responsible_member_id": str(ids["Siri Skole"]),
         "deadline": (services.clock.now().date() + timedelta(days=40)).isoformat()}],
        next_date=services.clock.now().date() + timedelta(days=120))
    data.update({"persons_account": marked("personens ord"), "services_account": marked("tjenestenes ord"),
                 "summary": marked("oppsummering"), "next_meeting_theme": marked("tema"),
                 "items": [{"title": marked("punkt"), "discussion": marked("drøfting"),
                            "conclusion": marked("konklusjon")}]})
    data["attendance"][2]["absence_reason"] = marked("fravær")
    plan_measure = min(m for m in _plan_measure_ids(services, case_id))
    data.update({"previous_measures": [{"measure_id": str(plan_measure), "status": "open",
                                        "progress": marked("fremdrift")}],
                 "new_goals": [{"term": "short", "text": marked("nytt mål i møtet")}]})
    complete(services, case_id, "hold_first", data, users["siri"])
    with services.db.session() as s:
        approvals = s.scalars(select(OpenTask).where(OpenTask.case_id == case_id,
                                                     OpenTask.task_spec == "approve")).all()
    for task in approvals:
        services.engine.complete_task(task.instance_id, task.task_id,
                                      {"approved": "ja", "comment": marked("kommentar")}, actor_id=task.assignee_id)
    if open_task(services, case_id, "finalize") is not None:
        complete(services, case_id, "finalize", {"confirmed": True, "final_note": marked("merknad")}, users["kari"])
    follow = open_task(services, case_id, "follow")
    assert follow is not None
    with pytest.raises(StepFailed):
        services.engine.complete_task(follow.instance_id, follow.task_id,
                                      {"outcome": "done", "comment": marked("gjennomført")}, actor_id=users["siri"])
    record_deviation(services, users, case_id, title=marked("avvik"), description=marked("avviksbeskrivelse"))
    return case_id


def _plan_with_content(services, users, case_id) -> None:
    """The individual plan (its episode started when the need was assessed as "yes"): consent,
    the person's own words, goals, measures and the adoption note, each with the marker."""
    ids = members(services, case_id)
    complete(services, case_id, "plan_consent", {
        "consent_decision": "gitt", "signed_by": "Anne Berg", "signed_how": "paper",
        "signed_on": services.clock.today().isoformat(), "participants": [str(ids["Siri Skole"])],
        "writer_member_id": str(ids["Siri Skole"])}, users["kari"])
    complete(services, case_id, "goals", {
        "whats_important": marked("hva er viktig"), "resources": marked("ressurser"), "needs": marked("planbehov"),
        "new_goals": [{"term": "long", "text": marked("planmål")}], "contribution_person": marked("bidrag"),
        "contribution_services": marked("tjenestebidrag"), "contribution_relatives": marked("pårørendebidrag"),
        "cooperation": marked("samarbeid")}, users["siri"])
    with services.db.session() as s:
        goal = s.scalar(select(PlanGoal.id).join(Plan, Plan.id == PlanGoal.plan_id).where(Plan.case_id == case_id))
    complete(services, case_id, "measures", {"new_measures": [
        {"description": marked("plantiltak"), "goal_id": str(goal), "scope": marked("omfang"), "how": marked("hvordan"),
         "responsible_member_id": str(ids["Siri Skole"]),
         "deadline": (services.clock.today() + timedelta(days=60)).isoformat()}]}, users["siri"])
    today = services.clock.today()
    complete(services, case_id, "adopt", {
        "decision": "adopt", "agreed_with_person": True, "period_from": today.isoformat(),
        "revision_due_on": (today + timedelta(days=180)).isoformat(), "note": marked("vedtaksmerknad")}, users["kari"])


def _plan_measure_ids(services, case_id) -> list[int]:
    with services.db.session() as s:
        return list(s.scalars(select(Measure.id).where(Measure.case_id == case_id, Measure.goal_id.is_not(None))))


def _plant_in_every_content_column(services) -> None:
    """The marker in every text column of CONTENT_COLUMNS (JSON and binary columns get theirs
    through the flows above), in every row."""
    with services.db.transaction() as s:
        tables = Base.metadata.tables
        for name, columns in CONTENT_COLUMNS.items():
            table = tables[name]
            texts = [c for c in table.columns if c.name in columns and isinstance(c.type, (sa.String, sa.Text))
                     and not isinstance(c.type, sa.JSON)]
            if texts:
                s.execute(table.update().values({c.name: sa.literal(MARKER + " ") + sa.func.coalesce(c, "")
                                                 for c in texts}))


# --- reading everything as a register-only user -------------------------------------------


def _text_of(response) -> str:
    body = response.get_data()
    if body.startswith(b"%PDF"):
        reader = pypdf.PdfReader(io.BytesIO(body))
        return "\n".join(page.extract_text() or "" for page in reader.pages) + body.decode("latin-1")
    return body.decode("utf-8", errors="replace")


def _known_urls(app, services) -> list[str]:
    """Every GET route of the app with every id that exists (new routes are covered by default;
    a route with an argument this test does not know fails the test)."""
    with services.db.session() as s:
        values = {
            "case_id": list(s.scalars(select(Case.id))),
            "meeting_id": list(s.scalars(select(Meeting.id))),
            "message_id": list(s.scalars(select(OutboxMessage.id))),
            "user_id": list(s.scalars(select(User.id))),
            "index": list(range(max([len(m.attachments or []) for m in s.scalars(select(OutboxMessage))] + [1]))),
            # the workbench (process owners and administrators only)
            "process_id": sorted(set(s.scalars(select(ProcessDefinition.process_id)))),
            "number": sorted(set(s.scalars(select(ProcessDefinition.version)))
                             | set(s.scalars(select(PlanVersion.number)))),
            "draft_id": list(s.scalars(select(ProcessDraft.id))),
            "run_id": list(s.scalars(select(MigrationRun.id))),
            "element_id": ["plan"],
            "token": ["finnes-ikke"],
            "name": profile_names(),  # municipality profiles (administrators only)
            # the supervisors' actions (their confirmation pages)
            "incident_id": list(s.scalars(select(Incident.id))),
            "open_task_id": list(s.scalars(select(OpenTask.id))),
            "instance_id": list(s.scalars(select(ProcessInstance.id))),
        }
        tasks = [(t.instance_id, t.task_id) for t in s.scalars(select(OpenTask))]
        case_tasks = [(t.case_id, t.instance_id, t.task_id) for t in s.scalars(select(OpenTask))]
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        arguments = sorted(rule.arguments)
        if arguments == ["draft_id", "instance_id", "task_id", "token"]:  # a test run's step: none exists
            combos = []
        elif arguments == ["instance_id", "task_id"]:
            combos = [{"instance_id": i, "task_id": t} for i, t in tasks]
        elif arguments == ["case_id", "instance_id", "task_id"]:  # the person's own step (portal)
            combos = [{"case_id": c, "instance_id": i, "task_id": t} for c, i, t in case_tasks]
        else:
            unknown = [a for a in arguments if a not in values]
            assert not unknown, f"{rule.rule}: give this test the ids for {unknown}"
            combos = [{}]
            for argument in arguments:
                combos = [{**c, argument: v} for c in combos for v in values[argument]]
        with app.test_request_context():
            from flask import url_for
            urls += [url_for(rule.endpoint, **combo) for combo in combos]
    return urls


LINK = re.compile(r'href="([^"]+)"')


def _crawl(app, services, client, who: str) -> int:
    queue = ["/", "/oppgaver", "/tilsyn/", "/register", "/register/tall.csv", "/utboks",
             *_known_urls(app, services), "/saker/999999", "/finnes-ikke"]
    seen: set[str] = set()
    fetched = 0
    while queue and fetched < 1500:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        fetched += 1
        assert response.status_code in (200, 302, 303, 403, 404), f"{who} GET {url}: {response.status_code}"
        text = _text_of(response)
        found = text.casefold().find(MARKER.casefold())
        assert found < 0, f"{who} sees content on {url}: …{text[max(0, found - 300):found + 100]}…"
        if response.status_code in (302, 303):
            queue.append(urldefrag(urljoin(url, response.headers["Location"]))[0])
        elif response.mimetype == "text/html":
            for link in LINK.findall(text):
                target = urldefrag(urljoin(url, html.unescape(link)))[0]
                parts = urlsplit(target)
                if parts.netloc not in ("", "localhost") or parts.path.startswith(("/static", "/logg-ut")):
                    continue
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return fetched


def test_register_only_users_never_see_content(app, services):
    users = municipality(services)
    with services.db.transaction() as s:
        users["adam"] = create_user(s, "adam", "Adam Admin", PASSWORD, roles=("staff", "admin"),
                                    at=services.clock.now(), email="adam@example.org").id
    cases = [_refused_case(services, users), _withdrawn_case(services, users), _closed_case(app, services, users),
             _meeting_case(app, services, users)]
    with services.db.session() as s:
        assert s.scalar(select(Incident).where(Incident.status == "open")) is not None
        assert MARKER in s.scalar(select(Incident.message).where(Incident.status == "open"))
        assert any(a for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == cases[-1]))
                   for a in m.attachments)
    _plant_in_every_content_column(services)
    # the marker is there for those who may read it: the coordinator
    kari = login_client(app, "kari")
    assert MARKER in kari.get(f"/saker/{cases[-1]}").text

    for who in ("ke", "sara", "adam"):
        client = login_client(app, who)
        if who != "adam":  # not vacuous: the register-only users do read every case's register data
            assert all(client.get(f"/saker/{case_id}").status_code == 200 for case_id in cases)
            assert client.get("/tilsyn/").status_code == 200
        assert _crawl(app, services, client, who) > 20


def test_outbox_attachments_only_for_full_access_and_logged(app, services):
    users = municipality(services)
    with services.db.transaction() as s:
        users["adam"] = create_user(s, "adam", "Adam Admin", PASSWORD, roles=("staff", "admin"),
                                    at=services.clock.now(), email="adam@example.org").id
    case_id = establish(services, users, until="active")
    plan(services, users, case_id)
    complete(services, case_id, "needs", {"persons_needs": "x", "person_attends": "ja"}, users["kari"])
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Skolestart"}]},
             users["kari"])
    with services.db.session() as s:
        message = next(m for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id))
                       if m.attachments)
    url = f"/utboks/{message.id}/vedlegg/0"
    for who in ("sara", "adam"):
        client = login_client(app, who)
        assert url not in client.get("/utboks").text
        assert client.get(url).status_code == 404
    with services.db.transaction() as s:  # the system owner is also the group's coordinator
        s.add(CaseMember(case_id=case_id, user_id=users["sara"], name="Sara System", role="koordinator"))
    sara = login_client(app, "sara")
    assert url in sara.get("/utboks").text
    assert sara.get(url).status_code == 200
    with services.db.session() as s:
        logged = s.scalars(select(AccessLogEntry).where(AccessLogEntry.page == "outbox_attachment")).all()
    assert [(r.user_id, r.case_id) for r in logged] == [(users["sara"], case_id)]
