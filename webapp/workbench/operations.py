"""What process owners do to the library: drafts, checks, publishing, restoring, migrating.

Each state change is one function here that writes its audit event in the same transaction. The
views only read the request and call these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, undefer

from webapp.audit.operations import record
from webapp.engine.library import content_hash
from webapp.engine.models import ProcessDefinition, ProcessInstance
from webapp.engine.parsing import DiagramError, ParsedLibrary, check_form_schema, validate_process
from webapp.workbench.lint import Finding, lint
from webapp.workbench.models import MigrationRun, ProcessDraft

#: Largest diagram or form a process owner may save or upload.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
#: Most files in an imported zip.
MAX_ZIP_FILES = 200


class WorkbenchError(Exception):
    """Refused with a message for the process owner (Norwegian)."""

    def __init__(self, message: str, findings: list[Finding] | None = None):
        super().__init__(message)
        self.message = message
        self.findings = findings or []


class DraftConflict(WorkbenchError):
    """Someone saved the draft since this editor loaded it."""

    def __init__(self, message: str, revision: int):
        super().__init__(message)
        self.revision = revision


@dataclass
class Catalogue:
    """What a diagram may name: handlers, form providers and lanes (case roles)."""

    handlers: list[str]
    providers: Mapping[str, Iterable[str]]
    roles: Mapping[str, str]  # lane name -> Norwegian label


@dataclass
class Check:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


# --------------------------------------------------------------------------------------------
# Reading the library

def latest_versions(s: Session) -> list[ProcessDefinition]:
    """The newest version of every process, by name."""
    newest = (select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("v"))
              .group_by(ProcessDefinition.process_id).subquery())
    return list(s.scalars(select(ProcessDefinition).join(
        newest, (ProcessDefinition.process_id == newest.c.process_id) & (ProcessDefinition.version == newest.c.v))
        .order_by(ProcessDefinition.name)))


def version(s: Session, process_id: str, number: int | None = None, *, content: bool = False
            ) -> ProcessDefinition | None:
    """One version (the newest without ``number``); ``content`` loads its documents and forms."""
    query = select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
    if number is not None:
        query = query.where(ProcessDefinition.version == number)
    if content:
        query = query.options(undefer(ProcessDefinition.documents), undefer(ProcessDefinition.forms))
    return s.scalar(query.order_by(ProcessDefinition.version.desc()).limit(1))


def library_forms(s: Session) -> dict[str, dict]:
    """Every form the newest versions use ({filename: schema}): what a draft may refer to."""
    forms: dict[str, dict] = {}
    for definition in s.scalars(select(ProcessDefinition).options(undefer(ProcessDefinition.forms))
                                .order_by(ProcessDefinition.version)):
        forms.update(definition.forms or {})  # newer versions last, so they win
    return forms


def draft_forms(s: Session, draft: ProcessDraft) -> dict[str, dict]:
    """The forms a draft sees: the library's, with the draft's own changes on top."""
    return {**library_forms(s), **(draft.forms or {})}


# --------------------------------------------------------------------------------------------
# Checking

def check(documents: Mapping[str, str], process_id: str, main_file: str, forms: Mapping[str, dict],
          catalogue: Catalogue) -> Check:
    """The engine's validation (errors) plus the lint rules, as one list of findings."""
    result = Check()
    try:
        parsed = ParsedLibrary(documents)
    except DiagramError as exc:
        result.findings = [Finding("error", "engine", p.element_id, _located(p)) for p in exc.problems]
        return result
    if process_id not in parsed.process_ids():
        result.findings.append(Finding(
            "error", "process-id", None,
            f"Diagrammet har ingen kjørbar prosess med ID «{process_id}». Prosessens ID kan ikke endres "
            "i et utkast; importer diagrammet som en ny prosess i stedet."))
        return result
    for problem in validate_process(parsed, process_id, forms, catalogue.handlers, catalogue.providers):
        result.findings.append(Finding("error", "engine", problem.element_id, _located(problem)))
    try:
        result.findings.extend(lint(documents[main_file], roles=catalogue.roles))
    except DiagramError as exc:  # parsed above already, so only a changed limit gets here
        result.findings.extend(Finding("error", "engine", p.element_id, p.message) for p in exc.problems)
    return result


def _located(problem) -> str:
    if problem.line and "linje" not in problem.message:
        return f"{problem.message} (linje {problem.line})"
    return problem.message


def check_draft(s: Session, draft: ProcessDraft, catalogue: Catalogue) -> Check:
    return check(draft.documents, draft.process_id, draft.main_file, draft_forms(s, draft), catalogue)


# --------------------------------------------------------------------------------------------
# Drafts

def open_draft(s: Session, process_id: str, *, from_version: int | None = None, actor_id: int | None,
               at: datetime) -> ProcessDraft:
    """A new draft from a version (the newest by default)."""
    source = version(s, process_id, from_version, content=True)
    if source is None:
        raise WorkbenchError(f"Prosessen «{process_id}» har ingen versjon {from_version or ''}".strip() + ".")
    parsed = ParsedLibrary(source.documents, check_schema=False)
    draft = ProcessDraft(process_id=process_id, name=source.name, base_version=source.version,
                         main_file=parsed.file_of(process_id), documents=dict(source.documents), forms={},
                         revision=1, status="open", created_by_id=actor_id, created_at=at,
                         updated_by_id=actor_id, updated_at=at)
    s.add(draft)
    s.flush()
    record(s, "draft_opened", at=at, actor_id=actor_id, process=process_id, draft_id=draft.id,
           from_version=source.version)
    return draft


def save_draft(s: Session, draft_id: int, *, revision: int, actor_id: int | None, at: datetime,
               xml: str | None = None, forms: Mapping[str, dict] | None = None) -> ProcessDraft:
    """Store a new main diagram and/or changed forms, if the draft is still at ``revision``
    (compare and set in one UPDATE: of two saves from the same revision, the second is refused)."""
    draft = s.get(ProcessDraft, draft_id)
    if draft is None or draft.status != "open":
        raise WorkbenchError("Utkastet finnes ikke lenger, eller det er publisert eller forkastet.")
    values: dict = {"revision": ProcessDraft.revision + 1, "updated_by_id": actor_id, "updated_at": at}
    if xml is not None:
        _limit(xml, "Diagrammet")
        values["documents"] = {**draft.documents, draft.main_file: xml}
    if forms is not None:
        values["forms"] = {**(draft.forms or {}), **forms}
    done = s.execute(update(ProcessDraft).where(ProcessDraft.id == draft_id, ProcessDraft.revision == revision,
                                                ProcessDraft.status == "open").values(**values)
                     .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        s.refresh(draft)
        from webapp.auth.models import User
        who = s.get(User, draft.updated_by_id) if draft.updated_by_id else None
        raise DraftConflict(
            f"Utkastet ble lagret av {who.full_name if who else 'en annen'} etter at du åpnet det, så endringene "
            "dine er ikke lagret. Kopier det du vil beholde, last siden på nytt og gjør endringene igjen.",
            draft.revision)
    s.refresh(draft)
    record(s, "draft_saved", at=at, actor_id=actor_id, process=draft.process_id, draft_id=draft.id,
           revision=draft.revision, forms=sorted(forms or {}))
    return draft


def parse_form(text: str) -> dict:
    """A form's JSON text as a schema, or WorkbenchError saying what is wrong."""
    import json
    _limit(text, "Skjemaet")
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"Skjemaet er ikke gyldig JSON: linje {exc.lineno}, kolonne {exc.colno}.") from None
    except RecursionError:
        raise WorkbenchError("Skjemaet er for dypt nøstet.") from None
    problem = check_form_schema(schema)
    if problem:
        raise WorkbenchError(problem[:1].upper() + problem[1:])
    return schema


def discard_draft(s: Session, draft: ProcessDraft, *, actor_id: int | None, at: datetime) -> None:
    draft.status = "discarded"
    draft.updated_by_id, draft.updated_at = actor_id, at
    record(s, "draft_discarded", at=at, actor_id=actor_id, process=draft.process_id, draft_id=draft.id)


def _limit(text: str, what: str) -> None:
    if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
        raise WorkbenchError(f"{what} er for stort (mer enn {MAX_UPLOAD_BYTES // (1024 * 1024)} MB).")


# --------------------------------------------------------------------------------------------
# Publishing and restoring

def publish_draft(s: Session, draft: ProcessDraft, catalogue: Catalogue, *, note: str, accept_reason: str = "",
                  actor_id: int | None, at: datetime) -> ProcessDefinition:
    """The draft as a new immutable version. Refused while errors remain, or while warnings
    remain and no reason for accepting them is given."""
    note = note.strip()
    if not note:
        raise WorkbenchError("Skriv hva som er endret og hvorfor.")
    result = check_draft(s, draft, catalogue)
    if result.errors:
        raise WorkbenchError("Utkastet har feil som må rettes før det kan publiseres.", result.findings)
    if result.warnings and not accept_reason.strip():
        raise WorkbenchError("Utkastet har advarsler. Rett dem, eller skriv hvorfor de kan godtas.", result.findings)
    definition = publish_content(s, draft.process_id, draft.documents, draft_forms(s, draft), note=note,
                              actor_id=actor_id, at=at)
    draft.status, draft.published_version = "published", definition.version
    draft.updated_by_id, draft.updated_at = actor_id, at
    record(s, "process_published", at=at, actor_id=actor_id, process=draft.process_id, version=definition.version,
           draft_id=draft.id, note=note, warnings=[f.message for f in result.warnings],
           accept_reason=accept_reason.strip() or None)
    return definition


def restore_version(s: Session, process_id: str, number: int, *, note: str, actor_id: int | None,
                    at: datetime) -> ProcessDefinition:
    """An old version's content published again as the newest version."""
    old = version(s, process_id, number, content=True)
    if old is None:
        raise WorkbenchError(f"Prosessen har ingen versjon {number}.")
    note = note.strip() or f"Gjenopprettet versjon {number}."
    definition = publish_content(s, process_id, old.documents, old.forms, note=note, actor_id=actor_id, at=at)
    record(s, "process_restored", at=at, actor_id=actor_id, process=process_id, version=definition.version,
           restored_version=number, note=note)
    return definition


def publish_content(s: Session, process_id: str, documents: Mapping[str, str], forms: Mapping[str, dict], *,
                 note: str, actor_id: int | None, at: datetime) -> ProcessDefinition:
    """A new version of ``process_id`` from checked content (the files and forms it uses are
    kept); refused when it equals the newest version. The caller records the audit event."""
    parsed = ParsedLibrary(documents, check_schema=False)
    files = parsed.files_for(process_id)
    spec, subs = parsed.specs(process_id)
    from webapp.engine.parsing import form_name, iter_task_specs
    used = sorted({f for ts in iter_task_specs(spec, subs) if (f := form_name(ts))})
    kept_documents = {f: documents[f] for f in files}
    kept_forms = {f: forms[f] for f in used}
    digest = content_hash(kept_documents, kept_forms)
    latest = version(s, process_id)
    if latest is not None and latest.content_hash == digest:
        raise WorkbenchError(f"Innholdet er det samme som i gjeldende versjon ({latest.version}); "
                             "ingenting å publisere.")
    definition = ProcessDefinition(
        process_id=process_id, name=parsed.name_of(process_id), version=(latest.version if latest else 0) + 1,
        content_hash=digest, source_name=files[0] if len(files) == 1 else ", ".join(files),
        documents=kept_documents, forms=kept_forms, created_at=at, note=note, published_by_id=actor_id)
    s.add(definition)
    s.flush()
    return definition


# --------------------------------------------------------------------------------------------
# Migration

def instances_to_move(s: Session, process_id: str, to_version: int) -> list[int]:
    """Running instances of ``process_id`` on any other version."""
    return list(s.scalars(
        select(ProcessInstance.id).join(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id, ProcessDefinition.version != to_version,
               ProcessInstance.status.in_(("running", "incident")))
        .order_by(ProcessInstance.id)))


def run_migration(services, process_id: str, to_version: int, instance_ids: list[int] | None, *,
                  dry_run: bool, actor_id: int | None, limit: int | None = None) -> MigrationRun:
    """Check (``dry_run``) or move the chosen instances (all on other versions by default: the
    safe ones move, the others stay); ``limit`` checks only the first ones. Each moved instance gets its own audit event from the
    engine; a real run is kept as a report with an audit event, a dry run only returned."""
    with services.db.session() as s:
        candidates = instances_to_move(s, process_id, to_version)
    wanted = set(instance_ids or ())
    chosen = candidates if instance_ids is None else [i for i in candidates if i in wanted]
    chosen = chosen[:limit] if limit is not None else chosen
    results = services.engine.migrate(chosen, process_id, to_version, dry_run=dry_run, actor_id=actor_id)
    rows = [{"instance_id": r.instance_id, "case_id": r.case_id, "from_version": r.from_version,
             "can_move": r.can_move, "moved": r.moved, "reasons": list(r.reasons)} for r in results]
    now = services.clock.now()
    run = MigrationRun(process_id=process_id, to_version=to_version, dry_run=dry_run, results=rows,
                       moved=sum(r.moved for r in results), stayed=sum(not r.can_move for r in results),
                       actor_id=actor_id, at=now)
    if dry_run:
        return run  # a dry run is shown, not kept
    with services.db.transaction() as s:
        s.add(run)
        s.flush()
        record(s, "process_migration", at=now, actor_id=actor_id, process=process_id, to_version=to_version,
               run_id=run.id, moved=run.moved, stayed=run.stayed)
        s.expunge(run)
    return run


def main_file(definition: ProcessDefinition) -> str:
    """The file of a version that holds the process itself."""
    documents = definition.documents
    if len(documents) == 1:
        return next(iter(documents))
    return ParsedLibrary(documents, check_schema=False).file_of(definition.process_id)
