"""Test runs of a draft: a throwaway case, with test people, in a throwaway database.

A run is a SQLite file in a temporary directory of its own, migrated (a copy of one migrated
template per process), holding the newest published version of every process copied from the real
database, the municipality's settings, the draft as the newest version of its process, test
people and one test case. The run has its own clock (moved by the process owner), its own engine
(with the real one's handlers, and its parsed specs of the published versions) and its own outbox, which nobody sends.
The only row written to the real database is the audit event ``draft_test_run``.

Runs live in this process (``RUNS``), at most ``MAX_RUNS`` at a time, each for at most
``MAX_AGE``; a finished, discarded or expired run's directory is removed. Behind several web
processes a run is only found by the process that started it (sticky sessions needed).
"""
from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from webapp.audit.access_log import AccessLog
from webapp.audit.operations import record
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import Case, Unit
from webapp.cases.registration import ESTABLISHMENT, register
from webapp.cases.roles import LANE_ROLES
from webapp.clock import OSLO, Clock
from webapp.db import Database
from webapp.engine.library import SpecCache
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance, ScheduledStart
from webapp.engine.runtime import EngineError, Refused, StepFailed
from webapp.engine.positions import element_states
from webapp.migrate import upgrade
from webapp.outbox.models import OutboxMessage
from webapp.services import Services, build_engine
from webapp.settings.models import Setting
from webapp.taskforms.options import option_source
from webapp.taskforms.providers import CHECKS, DEFAULTS, provider_names
from webapp.taskforms.schema import fields_of, posted_values
from webapp.taskforms.submission import read_submission
from webapp.workbench.models import ProcessDraft
from webapp.workbench.operations import (
    Catalogue, WorkbenchError, check_draft, draft_forms, latest_versions, publish_content,
)

#: How long a run lives after it was started.
MAX_AGE = timedelta(hours=1)
#: Runs alive at once in this process (each holds a database file and an engine).
MAX_RUNS = 4
#: Tokens of ended runs remembered, so an old link says "expired" rather than "not found".
REMEMBERED = 500
#: Longest single move of the run's clock by the "days" button.
MAX_ADVANCE_DAYS = 400


class TestRunError(Exception):
    """A run could not be started or used; ``message`` is for the process owner (Norwegian)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RunGone(TestRunError):
    """The run ended (finished, discarded or expired): start a new one."""


class Busy(TestRunError):
    """Every place for a run is taken (``MAX_RUNS``)."""


@dataclass
class TestPerson:
    key: str
    user_id: int
    name: str
    description: str


@dataclass
class TestRun:
    token: str
    draft_id: int
    draft_revision: int
    user_id: int
    process_id: str
    name: str
    main_xml: str
    directory: Path
    services: Services
    case_id: int
    instance_id: int | None
    people: list[TestPerson]
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: what the page shows once the draft's process ended (its database is gone by then)
    final: "Overview | None" = None
    closed: bool = False
    #: outbox messages up to this id were written while the test case was set up (shown apart)
    mail_after: int = 0

    def expired(self, now: float | None = None) -> bool:
        return (now if now is not None else time.monotonic()) - self.started > MAX_AGE.total_seconds()

    @property
    def finished(self) -> bool:
        return self.final is not None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.services.access_log.close()
        finally:
            self.services.db.dispose()
            shutil.rmtree(self.directory, ignore_errors=True)


class Runs:
    """The runs alive in this process, by token; ended ones are remembered as gone."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs: dict[str, TestRun] = {}
        self._gone: OrderedDict[str, tuple[int, int]] = OrderedDict()  # token -> (draft id, user id)

    def _prune(self) -> list[TestRun]:
        now = time.monotonic()
        old = [run for run in self._runs.values() if run.expired(now)]
        for run in old:
            self._forget(run)
        return old

    def _forget(self, run: TestRun) -> None:
        self._runs.pop(run.token, None)
        self._gone[run.token] = (run.draft_id, run.user_id)
        while len(self._gone) > REMEMBERED:
            self._gone.popitem(last=False)

    def reserve(self, user_id: int) -> None:
        """Make room for a new run of ``user_id``: their own earlier runs end; refused when
        others hold every place."""
        with self._lock:
            ended = self._prune() + [run for run in self._runs.values() if run.user_id == user_id]
            for run in ended:
                self._forget(run)
            full = len(self._runs) >= MAX_RUNS
        for run in ended:
            _close_quietly(run)
        if full:
            raise Busy("Det pågår allerede for mange testkjøringer. Prøv igjen om litt.")

    def add(self, run: TestRun) -> None:
        with self._lock:
            self._runs[run.token] = run

    def get(self, token: str, *, draft_id: int, user_id: int) -> TestRun | None:
        """The user's run of this draft; None if no such run (or not theirs); ``RunGone`` if it ended."""
        with self._lock:
            ended = self._prune()
            run = self._runs.get(token)
            gone = self._gone.get(token)
        for old in ended:
            _close_quietly(old)
        if run is not None and (run.draft_id, run.user_id) == (draft_id, user_id):
            return run
        if run is None and gone == (draft_id, user_id):
            raise RunGone("Testkjøringen er avsluttet eller utløpt (en testkjøring varer i en time).")
        return None

    def end(self, run: TestRun) -> None:
        with self._lock:
            self._forget(run)
        _close_quietly(run)

    def end_all(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
            for run in runs:
                self._forget(run)
        for run in runs:
            _close_quietly(run)

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)


def _close_quietly(run: TestRun) -> None:
    with run.lock:
        try:
            run.close()
        except Exception:  # a file already gone: nothing left to clean
            pass


RUNS = Runs()
atexit.register(RUNS.end_all)


# --------------------------------------------------------------------------------------------
# The throwaway database

_template: dict[str, Path] = {}
_template_lock = threading.Lock()


def _migrated_database(directory: Path) -> str:
    """A migrated SQLite file in ``directory``: a copy of this process's migrated template."""
    with _template_lock:
        template = _template.get("path")
        if template is None or not template.exists():
            folder = Path(tempfile.mkdtemp(prefix="ansvarsgruppe-testkjoring-mal-"))
            template = folder / "mal.db"
            upgrade(f"sqlite:///{template}")
            _template["path"] = template
            atexit.register(shutil.rmtree, folder, True)
        path = directory / "testkjoring.db"
        shutil.copy(template, path)
    return f"sqlite:///{path}"


class _RunSpecs(SpecCache):
    """Parsed specs: the published versions' from the app's cache (parsed once, shared), the
    draft's parsed here only, so they go with the run instead of staying in the app's cache."""

    def __init__(self, shared: SpecCache, published: set[tuple[str, str]]):
        super().__init__()
        self._shared, self._published = shared, published

    def get(self, definition: ProcessDefinition):
        if (definition.process_id, definition.content_hash) in self._published:
            return self._shared.get(definition)
        return super().get(definition)

    def forms(self, definition: ProcessDefinition) -> dict:
        if (definition.process_id, definition.content_hash) in self._published:
            return self._shared.forms(definition)
        return super().forms(definition)


def _services(url: str, real: Services, clock: Clock, published: set[tuple[str, str]]) -> Services:
    db = Database(url)
    engine = build_engine(db, clock, real.engine.handlers, specs=_RunSpecs(real.engine.specs, published),
                          limits=real.engine.limits)
    return Services(db=db, clock=clock, engine=engine, access_log=AccessLog(db, flush_seconds=0))


def catalogue(services: Services) -> Catalogue:
    """What a diagram may name here (the lane labels are not needed to check)."""
    return Catalogue(handlers=sorted(services.engine.handlers), providers=provider_names(),
                     roles={role: role for role in LANE_ROLES})


# --------------------------------------------------------------------------------------------
# Starting a run

#: key, name, system roles, description shown beside the run
PEOPLE = [
    ("koordinator", "Kari Koordinator (test)", ("staff",), "koordinator i testsaken"),
    ("medlem", "Siri Skole (test)", ("staff",), "medlem (skolen)"),
    ("registrerer", "Ola Helse (test)", ("staff",), "meldte ønsket"),
    ("enhet", "Kjell Enhet (test)", ("staff", "coordinating_unit"), "koordinerende enhet"),
    ("system", "Sara System (test)", ("staff", "system_owner"), "systemansvarlig"),
]


def start_run(real: Services, draft_id: int, *, user_id: int) -> TestRun:
    """A new run of an open draft for ``user_id``: the throwaway database seeded and the draft's
    process started for the test case. Raises ``TestRunError`` (nothing is kept) when the draft
    has errors or the case or process cannot be set up."""
    with real.db.session() as s:
        draft = s.get(ProcessDraft, draft_id)
        if draft is None or draft.status != "open":
            raise TestRunError("Utkastet finnes ikke lenger, eller det er publisert eller forkastet.")
        problems = [f for f in check_draft(s, draft, catalogue(real)).errors if f.rule in ("engine", "process-id")]
        if problems:
            raise TestRunError("Utkastet har feil som må rettes før det kan prøvekjøres: "
                               + " ".join(f.message for f in problems[:5]))
        forms = draft_forms(s, draft)
        library = [(d.process_id, d.name, d.version, d.content_hash, d.source_name, d.documents, d.forms, d.note)
                   for d in s.scalars(select(ProcessDefinition).where(
                       ProcessDefinition.id.in_([d.id for d in latest_versions(s)]))
                       .options(undefer(ProcessDefinition.documents), undefer(ProcessDefinition.forms)))]
        settings = [(row.key, row.value) for row in s.scalars(select(Setting))]
        process_id, name, revision = draft.process_id, draft.name, draft.revision
        documents, main_xml = dict(draft.documents), draft.documents[draft.main_file]

    RUNS.reserve(user_id)
    directory = Path(tempfile.mkdtemp(prefix="ansvarsgruppe-testkjoring-"))
    services = None
    try:
        clock = Clock(real.clock.now())
        services = _services(_migrated_database(directory), real, clock, {(d[0], d[3]) for d in library})
        people = _seed(services, library, settings, process_id, documents, forms)
        run = TestRun(token=secrets.token_urlsafe(16), draft_id=draft_id, draft_revision=revision,
                      user_id=user_id, process_id=process_id, name=name, main_xml=main_xml,
                      directory=directory, services=services, case_id=0, instance_id=None, people=people)
        _start_case(run)
    except BaseException:
        if services is not None:
            services.access_log.close()
            services.db.dispose()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    try:
        with real.db.transaction() as s:
            record(s, "draft_test_run", at=real.clock.now(), actor_id=user_id, process=process_id,
                   draft_id=draft_id, revision=revision)
    except BaseException:
        run.close()
        raise
    RUNS.add(run)
    return run


def _seed(services: Services, library, settings, process_id: str, documents: Mapping[str, str],
          forms: Mapping[str, dict]) -> list[TestPerson]:
    now = services.clock.now()
    with services.db.transaction() as s:
        for pid, name, number, digest, source, docs, form_map, note in library:
            s.add(ProcessDefinition(process_id=pid, name=name, version=number, content_hash=digest,
                                    source_name=source, documents=docs, forms=form_map, created_at=now, note=note))
        for key, value in settings:
            s.add(Setting(key=key, value=value, updated_at=now))
        s.flush()
        try:
            publish_content(s, process_id, documents, forms, note="Testkjøring av utkast", actor_id=None, at=now)
        except WorkbenchError:
            pass  # the same content as the newest version: that version is the one run
        people = []
        for key, name, roles, description in PEOPLE:
            user = create_user(s, f"test-{key}", name, secrets.token_urlsafe(24), roles=roles,
                               email=f"{key}@testkjoring.invalid", at=now)
            people.append(TestPerson(key, user.id, name, description))
        for unit_name, kind in (("Testskolen", "school"), ("Testhelsestasjonen", "health")):
            s.add(Unit(name=unit_name, kind=kind))
    return people


def _person(run: TestRun, key: str) -> int:
    return next(p.user_id for p in run.people if p.key == key)


def _step(run: TestRun, task_spec: str, data: dict, actor: str, assignee: str | None = None) -> None:
    """One step of the test case's establishment, done by a test person."""
    services = run.services
    with services.db.session() as s:
        query = select(OpenTask).where(OpenTask.case_id == run.case_id, OpenTask.task_spec == task_spec)
        if assignee is not None:
            query = query.where(OpenTask.assignee_id == _person(run, assignee))
        task = s.scalar(query.order_by(OpenTask.id).limit(1))
    if task is None:
        raise TestRunError(f"Testsaken kunne ikke etableres: steget «{task_spec}» i etableringen ble ikke åpnet.")
    try:
        services.engine.complete_task(task.instance_id, task.task_id, data, actor_id=_person(run, actor))
    except EngineError as exc:
        raise TestRunError(f"Testsaken kunne ikke etableres: steget «{task.title}» feilet ({exc}).") from None


def _start_case(run: TestRun) -> None:
    """The test case, and the draft's process running for it (the episode the domain starts, where
    the domain starts one; otherwise started directly)."""
    services = run.services
    today = services.clock.today()
    born = date(today.year - 10, 5, 20).isoformat()
    run.case_id = register(services, {
        "full_name": "Testperson Testesen", "birth_date": born, "requested_by_kind": "guardian",
        "requested_by_name": "Tina Testesen", "wish": "Testkjøring av et utkast",
        "guardians": [{"name": "Tina Testesen", "kind": "guardian", "email": "foresatt@testkjoring.invalid"}]},
        actor_id=_person(run, "registrerer"))[0]
    if run.process_id != ESTABLISHMENT:
        _establish(run, today)
        _stop_other_episodes(run)
        with services.db.session() as s:
            run.mail_after = s.scalar(select(func.max(OutboxMessage.id))) or 0
    run.instance_id = _draft_instance(run)
    if run.instance_id is None:
        _start_draft(run, today)
        run.instance_id = _draft_instance(run)
    if run.instance_id is None:
        raise TestRunError("Prosessen i utkastet kunne ikke startes for testsaken.")


def _establish(run: TestRun, today: date) -> None:
    """The test case as an active group (the library's establishment), first meeting in three weeks."""
    with run.services.db.session() as s:
        school = s.scalar(select(Unit.id).where(Unit.name == "Testskolen"))
    coordinator, member = _person(run, "koordinator"), _person(run, "medlem")
    _step(run, "appoint", {"coordinator_user_id": str(coordinator), "coordinator_kind": "child_coordinator",
                           "wish_weighed": True, "persons_wish": "Ingen ønsker"}, "enhet")
    _step(run, "consent", {"consent_decision": "gitt", "statement_composition": True, "statement_confidential": True,
                           "statement_registration": True, "statement_voluntary": True,
                           "signed_by": "Tina Testesen", "signed_how": "paper", "signed_on": today.isoformat()},
          "koordinator")
    _step(run, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(member), "name": "Siri Skole (test)", "unit_id": str(school)},
        {"name": "Per Fastlege (test)", "email": "fastlege@testkjoring.invalid"}]}, "koordinator")
    _step(run, "confirm", {"participates": "ja", "mandate": "Skolen"}, "medlem", "medlem")
    _step(run, "confirm", {"participates": "ja", "mandate": "Lege"}, "koordinator", "koordinator")
    _step(run, "plan_need", {"plan_need": "yes"}, "koordinator")
    _step(run, "first_meeting", {"first_meeting_date": (today + timedelta(days=21)).isoformat()}, "koordinator")


def _stop_other_episodes(run: TestRun) -> None:
    """Only the draft's process runs in the test case: other episodes and starts are cancelled."""
    services, reason = run.services, "Testkjøring: bare utkastets prosess kjører"
    with services.db.transaction(serialised=True) as s:
        for instance in services.engine.lock_running(s, run.case_id):
            if instance.definition.process_id != run.process_id:
                services.engine.cancel_in(s, instance, reason, actor_id=None)
        others = s.scalars(select(ScheduledStart.process_id).where(
            ScheduledStart.case_id == run.case_id, ScheduledStart.status == "pending",
            ScheduledStart.process_id != run.process_id).distinct()).all()
        for other in others:
            services.engine.cancel_scheduled_in(s, run.case_id, process_id=other, reason=reason)


def _draft_definition_id(s, process_id: str) -> int | None:
    return s.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_id == process_id)
                    .order_by(ProcessDefinition.version.desc()).limit(1))


def _draft_instance(run: TestRun) -> int | None:
    with run.services.db.session() as s:
        return s.scalar(select(ProcessInstance.id).where(
            ProcessInstance.case_id == run.case_id,
            ProcessInstance.definition_id == _draft_definition_id(s, run.process_id))
            .order_by(ProcessInstance.id).limit(1))


def _start_draft(run: TestRun, today: date) -> None:
    """The draft's process was not started by the establishment: a scheduled start is brought
    forward by moving the clock to it; a deviation or a closing is reported through the domain;
    any other process starts without start data."""
    services = run.services
    with services.db.session() as s:
        due = s.scalar(select(ScheduledStart.due_at).where(
            ScheduledStart.case_id == run.case_id, ScheduledStart.process_id == run.process_id,
            ScheduledStart.status == "pending").order_by(ScheduledStart.due_at).limit(1))
    if due is not None:
        if due > services.clock.now():
            services.clock.set(due)
            run.notes.append(f"Prosessen starter planlagt {due.astimezone(OSLO):%d.%m.%Y}; "
                             "testklokken er spolt fram dit.")
        services.engine.start_due_scheduled()
        return
    try:
        if run.process_id == "deviation":
            from webapp.deviations.recording import report
            report(services, run.case_id, {"title": "Testavvik", "description": "Et avvik meldt i testkjøringen.",
                                           "happened_on": today.isoformat()},
                   reporter_id=_person(run, "medlem"), reporter_name="Siri Skole (test)")
        elif run.process_id == "measure":
            _start_measure(run, today)
        elif run.process_id == "closing":
            from webapp.closing.actions import request_closing
            request_closing(services, run.case_id, initiated_by="guardian", requested_by_name="Tina Testesen",
                            reason="Testkjøring av avslutningen.", actor_id=_person(run, "koordinator"))
        else:
            services.engine.start(run.case_id, run.process_id, actor_id=_person(run, "koordinator"), data={})
    except StepFailed:
        pass  # the instance is kept with its incident, which the run page shows
    except EngineError as exc:
        raise TestRunError(f"Prosessen i utkastet kunne ikke startes ({exc}).") from None
    except Exception as exc:  # a domain rule refused (e.g. DomainError): say what
        raise TestRunError(f"Prosessen i utkastet kunne ikke startes: {getattr(exc, 'message', None) or exc}") from None


def _start_measure(run: TestRun, today: date) -> None:
    """A measure agreed for the test case's planned meeting (the school member responsible, due in
    two weeks) and its follow-up started, with the start data the minutes' handler gives it."""
    from types import SimpleNamespace

    from handlers.meetings import measure_start_data
    from webapp.cases.models import CaseMember
    from webapp.meetings.models import Measure
    from webapp.meetings.operations import current_meeting

    services = run.services
    with services.db.transaction(serialised=True) as s:
        case = s.get(Case, run.case_id)
        meeting = current_meeting(s, case.id)
        member = s.scalar(select(CaseMember).where(CaseMember.case_id == case.id,
                                                   CaseMember.user_id == _person(run, "medlem")))
        if meeting is None or member is None:
            raise TestRunError("Testsaken har ikke noe møte å knytte et tiltak til.")
        measure = Measure(case_id=case.id, meeting_id=meeting.id, description="Testtiltak",
                          responsible_member_id=member.id, deadline=today + timedelta(days=14), status="open",
                          created_at=services.clock.now())
        s.add(measure)
        s.flush()
        data = measure_start_data(SimpleNamespace(session=s, clock=services.clock, case=case), measure)
        services.engine.start_in(s, case.id, run.process_id, actor_id=_person(run, "koordinator"), data=data)


# --------------------------------------------------------------------------------------------
# Reading a run

@dataclass
class OpenStep:
    instance_id: int
    task_id: str
    task_spec: str
    title: str
    process: str
    lane: str | None
    holder_id: int | None
    holder_name: str | None
    due_at: datetime | None


@dataclass
class Overview:
    status: str  # running | completed | incident | cancelled
    now: datetime
    next_due: datetime | None
    steps: list[OpenStep]
    incidents: list[tuple[int, str, str | None, str]]  # (id, message, element, process name)
    mail: list[OutboxMessage]
    setup_mail: list[OutboxMessage]  # written while the test case was set up, before the draft's process
    path: dict


def overview(run: TestRun) -> Overview:
    """What the run page shows. Once the draft's process has ended, this last view is kept and the
    run's database removed."""
    if run.final is not None:
        return run.final
    services = run.services
    with services.db.session() as s:
        main = s.get(ProcessInstance, run.instance_id)
        steps = [_open_step(s, run, task) for task in s.scalars(
            select(OpenTask).where(OpenTask.case_id == run.case_id).order_by(OpenTask.id))]
        incidents = [(incident.id, incident.message, incident.task_spec, instance.definition.name)
                     for incident, instance in s.execute(
                         select(Incident, ProcessInstance).join(ProcessInstance)
                         .where(ProcessInstance.case_id == run.case_id, Incident.status == "open")
                         .order_by(Incident.id))]
        mail = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        result = Overview(status=main.status, now=services.clock.now(), next_due=_next_due(s, run),
                          steps=steps, incidents=incidents, mail=[m for m in mail if m.id > run.mail_after],
                          setup_mail=[m for m in mail if m.id <= run.mail_after], path=path(run, s, main))
        s.expunge_all()
    if result.status in ("completed", "cancelled"):
        run.final = result
        run.close()
    return result


def _open_step(s, run: TestRun, task: OpenTask) -> OpenStep:
    holder = task.assignee_id
    if holder is None and task.lane:
        holders = run.services.engine.hooks.resolve_role(s, run.case_id, task.lane)
        holder = holders[0] if holders else None
    instance = s.get(ProcessInstance, task.instance_id)
    return OpenStep(task.instance_id, task.task_id, task.task_spec, task.title, instance.definition.name,
                    task.lane, holder, s.get(User, holder).full_name if holder else None, task.due_at)


def _next_due(s, run: TestRun) -> datetime | None:
    timers = s.scalars(select(ProcessInstance.next_due_at).where(
        ProcessInstance.case_id == run.case_id, ProcessInstance.status == "running",
        ProcessInstance.next_due_at.is_not(None))).all()
    starts = s.scalars(select(ScheduledStart.due_at).where(
        ScheduledStart.case_id == run.case_id, ScheduledStart.status == "pending")).all()
    return min([*timers, *starts], default=None)


def path(run: TestRun, s, instance: ProcessInstance) -> dict:
    """The diagram and where the run went: bpmn ids of the finished elements and of those waiting
    (ready steps, timers, events), from the stored state of the draft's instance."""
    spec, subs = run.services.engine.specs.get(instance.definition)
    found = element_states(spec, instance.state or {}, subs)
    done, current = list(found.done), list(found.current)
    return {"xml": run.main_xml, "done": done, "current": current}


# --------------------------------------------------------------------------------------------
# Acting in a run

@dataclass
class StepPage:
    step: OpenStep
    case: Case
    schema: dict
    fields: list
    values: dict
    documentation: str | None
    steps: list


def step_page(run: TestRun, instance_id: int, task_id: str, *, values: dict | None = None) -> StepPage | None:
    """An open step of the test case as its form page shows it (None: not open)."""
    if run.finished or run.closed:
        return None
    services, today = run.services, run.services.clock.today()
    with services.db.session() as s:
        task = s.scalar(select(OpenTask).where(OpenTask.case_id == run.case_id, OpenTask.instance_id == instance_id,
                                               OpenTask.task_id == task_id))
        if task is None:
            return None
        instance = s.get(ProcessInstance, instance_id)
        case = s.get(Case, run.case_id)
        view = services.engine.task_view(s, instance, task.task_spec, task_id)
        if values is None:
            defaults = DEFAULTS.get(view.properties.get("formDefaults"))
            values = defaults(s, case, view.data, today) if defaults else {}
            values.update({k: v for k, v in view.data.items() if k in view.schema.get("properties", {})})
        page = StepPage(step=_open_step(s, run, task), case=case, schema=view.schema,
                        fields=fields_of(view.schema, option_source(s, case, today)), values=values,
                        documentation=view.documentation, steps=services.engine.episode_steps(s, instance))
        s.expunge_all()
        return page


class FormRefused(TestRunError):
    """The form has errors: ``values`` (the input) and ``errors`` go back to the page."""

    def __init__(self, values: dict, errors: dict):
        super().__init__("Skjemaet har feil.")
        self.values, self.errors = values, errors


def _usable(run: TestRun) -> None:
    if run.finished or run.closed:
        raise TestRunError("Testkjøringen er ferdig; start en ny for å prøve igjen.")


def complete_step(run: TestRun, instance_id: int, task_id: str, form) -> tuple[str, bool]:
    """Complete an open step with the posted form, as the test person who holds it, in the run's
    engine (the same reading and checks as the staff's task page). Returns what happened, for the
    page, and whether the step failed (an incident); raises ``FormRefused`` on errors in the form, ``TestRunError`` if the step is not open."""
    _usable(run)
    services = run.services
    now, today = services.clock.now(), services.clock.today()
    with services.db.session() as s:
        task = s.scalar(select(OpenTask).where(OpenTask.case_id == run.case_id, OpenTask.instance_id == instance_id,
                                               OpenTask.task_id == task_id))
        if task is None:
            raise TestRunError("Steget er ikke åpent lenger.")
        actor, title = _open_step(s, run, task).holder_id, task.title

    def check(s, instance, data):
        case = s.get(Case, run.case_id)
        view = services.engine.task_view(s, instance, task.task_spec, task_id, data=data)
        options = option_source(s, case, today)
        submission = read_submission(view.schema, form, today=today, options=options)
        rule = CHECKS.get(view.properties.get("formCheck"))
        if rule is not None:
            for key, message in rule(s, case, view.data, submission.data, now).items():
                submission.errors.setdefault(key, message)
            if submission.errors and not submission.values:
                submission.values = posted_values(view.schema, form, options=options)
        if not submission.ok:
            raise Refused(submission)
        return submission.data

    try:
        services.engine.complete_task(instance_id, task_id, None, actor_id=actor, check=check)
    except Refused as refused:
        raise FormRefused(refused.detail.values, refused.detail.errors) from None
    except StepFailed as exc:
        return f"Steget «{title}» feilet i prosessen: {exc}", True
    except EngineError as exc:
        raise TestRunError(f"Steget kunne ikke fullføres ({exc}).") from None
    return f"Steget er fullført: {title}", False


def advance(run: TestRun, days: int | None = None) -> datetime | None:
    """Move the run's clock to the next due timer or scheduled start (or ``days`` ahead) and run
    what fell due. Returns the new time, or None when nothing waits and no days were given."""
    _usable(run)
    services = run.services
    if days is None:
        with services.db.session() as s:
            due = _next_due(s, run)
        if due is None:
            return None
        if due > services.clock.now():
            services.clock.set(due)
    else:
        services.clock.advance(timedelta(days=max(1, min(int(days), MAX_ADVANCE_DAYS))))
    services.engine.fire_due_timers()
    return services.clock.now()


def retry(run: TestRun, incident_id: int) -> tuple[str, bool]:
    """Run a failed step again (as the supervision page does)."""
    _usable(run)
    services = run.services
    with services.db.session() as s:
        found = s.scalar(select(Incident.id).join(ProcessInstance).where(
            Incident.id == incident_id, ProcessInstance.case_id == run.case_id, Incident.status == "open"))
    if found is None:
        raise TestRunError("Feilen finnes ikke, eller den er allerede løst.")
    try:
        services.engine.retry(incident_id, actor_id=None)
    except StepFailed as exc:
        return f"Steget feilet igjen: {exc}", True
    except EngineError as exc:
        raise TestRunError(f"Steget kunne ikke kjøres på nytt ({exc}).") from None
    return "Steget ble kjørt på nytt.", False
