"""The process library: diagrams and forms on disk become immutable, versioned definitions.

A definition's version changes only when its content (diagram files + referenced forms) changes,
identified by a SHA-256 content hash. Parsed specs are cached in memory per definition id, so a
step never re-parses XML.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from webapp.engine import timers
from webapp.engine.models import ProcessDefinition
from webapp.engine.parsing import (
    DiagramError, ParsedLibrary, Problem, form_name, iter_task_specs, load_form_file,
    validate_process,
)


@dataclass
class LibrarySource:
    """Diagram documents and forms read from disk (or uploaded)."""

    documents: dict[str, str] = field(default_factory=dict)
    forms: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_directory(processes_dir: Path, forms_dir: Path) -> LibrarySource:
    source = LibrarySource()
    for path in sorted(processes_dir.glob("*.bpmn")) + sorted(processes_dir.glob("*.dmn")):
        data = path.read_bytes()
        try:
            source.documents[path.name] = data.decode("utf-8")
        except UnicodeDecodeError:
            source.problems.append(Problem(path.name, None, None, "filen er ikke UTF-8-tekst"))
    if forms_dir.is_dir():
        for path in sorted(forms_dir.glob("*.json")):
            try:
                source.forms[path.name] = load_form_file(path.name, path.read_bytes())
            except DiagramError as exc:
                source.problems.extend(exc.problems)
    return source


@dataclass
class Checked:
    """A validated library: per process id, the files and forms it needs, or its problems."""

    processes: dict[str, tuple[str, list[str], list[str]]]  # id -> (name, files, forms)
    problems: list[Problem]
    parsed: ParsedLibrary | None


def check_library(source: LibrarySource, handler_names: Iterable[str],
                  provider_names: dict | None = None) -> Checked:
    handler_names = list(handler_names)
    problems = list(source.problems)
    try:
        parsed = ParsedLibrary(source.documents)
    except DiagramError as exc:
        return Checked({}, problems + exc.problems, None)
    processes = {}
    for process_id in parsed.process_ids():
        found = validate_process(parsed, process_id, source.forms, handler_names, provider_names)
        problems.extend(found)
        if found:
            continue
        spec, subs = parsed.specs(process_id)
        forms = sorted({f for ts in iter_task_specs(spec, subs) if (f := form_name(ts))})
        processes[process_id] = (parsed.name_of(process_id), parsed.files_for(process_id), forms)
    return Checked(processes, problems, parsed)


def content_hash(documents: dict[str, str], forms: dict[str, dict]) -> str:
    canonical = json.dumps({"documents": documents, "forms": forms}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def deploy(session: Session, source: LibrarySource, handler_names: Iterable[str], at,
           provider_names: dict | None = None) -> list[ProcessDefinition]:
    """Store a new version of every process whose content changed. Raises DiagramError if any
    process in the library is invalid (all or nothing)."""
    checked = check_library(source, handler_names, provider_names)
    if checked.problems:
        raise DiagramError(checked.problems)
    created = []
    for process_id, (name, files, form_names) in checked.processes.items():
        documents = {f: source.documents[f] for f in files}
        forms = {f: source.forms[f] for f in form_names}
        digest = content_hash(documents, forms)
        existing = session.scalar(select(ProcessDefinition).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.content_hash == digest))
        if existing is not None:
            continue
        latest = session.scalar(select(func.max(ProcessDefinition.version))
                                .where(ProcessDefinition.process_id == process_id)) or 0
        definition = ProcessDefinition(
            process_id=process_id, name=name, version=latest + 1, content_hash=digest,
            source_name=files[0] if len(files) == 1 else ", ".join(files),
            documents=documents, forms=forms, created_at=at,
        )
        session.add(definition)
        created.append(definition)
    session.flush()
    return created


def latest_definition(session: Session, process_id: str) -> ProcessDefinition | None:
    return session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc()).limit(1))


def latest_definitions(session: Session, process_ids: set[str]) -> dict[str, ProcessDefinition | None]:
    """``latest_definition`` of each of ``process_ids``, in one query."""
    newest = (select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version"))
              .where(ProcessDefinition.process_id.in_(sorted(process_ids)))
              .group_by(ProcessDefinition.process_id).subquery())
    found = {definition.process_id: definition for definition in session.scalars(
        select(ProcessDefinition).join(newest, and_(ProcessDefinition.process_id == newest.c.process_id,
                                                    ProcessDefinition.version == newest.c.version)))}
    return {process_id: found.get(process_id) for process_id in process_ids}


class SpecCache:
    """Parsed (spec, subprocess_specs) per definition, keyed by process id and content hash:
    definitions are immutable, so entries never go stale, and one cache can serve several
    databases (the test suite shares one). Timers are swapped for our clocked, bounded ones."""

    def __init__(self):
        self._lock = threading.Lock()
        self._specs: dict[tuple[str, str], tuple] = {}
        self._forms: dict[tuple[str, str], dict] = {}

    def get(self, definition: ProcessDefinition):
        key = (definition.process_id, definition.content_hash)
        found = self._specs.get(key)
        if found is None:
            # deployed definitions passed validation when deployed; the newer checks are not re-run
            parsed = ParsedLibrary(definition.documents, check_schema=False)
            found = parsed.specs(definition.process_id)
            timers.install(*found)
            with self._lock:
                self._specs[key] = found
        return found

    def forms(self, definition: ProcessDefinition) -> dict:
        """The definition's forms ({form filename: JSON Schema}); read from the row once (the
        content hash covers the forms too)."""
        key = (definition.process_id, definition.content_hash)
        found = self._forms.get(key)
        if found is None:
            found = dict(definition.forms or {})
            with self._lock:
                self._forms[key] = found
        return found
