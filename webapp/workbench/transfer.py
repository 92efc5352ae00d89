"""Import and export: ``.bpmn`` files from other tools become drafts, and versions leave as a zip
laid out the way ``ansvarsgruppe processes deploy`` reads a library (``processes/``, ``forms/``)."""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy.orm import Session

from webapp.audit.operations import record
from webapp.engine.models import ProcessDefinition
from webapp.engine.parsing import DiagramError, ParsedLibrary, load_form_file, parse_xml
from webapp.workbench.models import ProcessDraft
from webapp.workbench.operations import MAX_UPLOAD_BYTES, MAX_ZIP_FILES, WorkbenchError, parse_form

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,120}$")
#: largest sum of unpacked sizes in an imported zip (a zip bomb stops here)
MAX_UNPACKED_BYTES = 8 * MAX_UPLOAD_BYTES


def export_zip(definitions: list[ProcessDefinition]) -> io.BytesIO:
    """The versions' diagrams under ``processes/`` and their forms under ``forms/``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        written: set[str] = set()
        for definition in definitions:
            for name, xml in sorted(definition.documents.items()):
                _write(archive, written, f"processes/{name}", xml)
            for name, schema in sorted(definition.forms.items()):
                _write(archive, written, f"forms/{name}",
                       json.dumps(schema, ensure_ascii=False, indent=2) + "\n")
    buffer.seek(0)
    return buffer


def _write(archive: zipfile.ZipFile, written: set[str], path: str, text: str) -> None:
    if path not in written:
        written.add(path)
        info = zipfile.ZipInfo(path, date_time=(2000, 1, 1, 0, 0, 0))  # the same bytes for the same content
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, text.encode("utf-8"))


def import_file(s: Session, filename: str, data: bytes, *, actor_id: int | None, at: datetime) -> list[ProcessDraft]:
    """One draft per executable process in an uploaded ``.bpmn`` or library ``.zip``. The drafts
    may have problems (a diagram from another tool seldom names our forms or handlers): the editor
    shows them. Nothing is stored when the file cannot be read at all."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise WorkbenchError(f"Filen er for stor (mer enn {MAX_UPLOAD_BYTES // (1024 * 1024)} MB).")
    lower = filename.lower()
    if lower.endswith(".bpmn") or lower.endswith(".xml"):
        name = PurePosixPath(filename.replace("\\", "/")).name
        documents, forms = {_file_name(name): _text(data, name)}, {}
    elif lower.endswith(".zip"):
        documents, forms = _unzip(data)
    else:
        raise WorkbenchError("Velg en .bpmn-fil (fra Camunda Modeler, Signavio eller et annet verktøy) eller en "
                             ".zip eksportert herfra.")
    if not documents:
        raise WorkbenchError("Filen inneholder ingen diagrammer (.bpmn).")
    for name, xml in documents.items():
        try:
            parse_xml(xml.encode("utf-8"), name)
        except DiagramError as exc:
            raise WorkbenchError(f"{name} kan ikke leses: " + "; ".join(p.message for p in exc.problems[:3])) from None
    try:
        parsed = ParsedLibrary(documents, check_schema=False)
        process_ids = parsed.process_ids()
    except DiagramError as exc:
        raise WorkbenchError("Diagrammet kan ikke leses: " + "; ".join(p.message for p in exc.problems[:3])) from None
    if not process_ids:
        raise WorkbenchError("Diagrammet har ingen kjørbar prosess (bare tomme bassenger).")
    drafts = []
    for process_id in process_ids:
        main = parsed.file_of(process_id)
        draft = ProcessDraft(process_id=process_id[:100], name=parsed.name_of(process_id)[:200], base_version=None,
                             main_file=main, documents=documents, forms=forms, revision=1, status="open",
                             created_by_id=actor_id, created_at=at, updated_by_id=actor_id, updated_at=at)
        s.add(draft)
        s.flush()
        record(s, "draft_imported", at=at, actor_id=actor_id, process=process_id, draft_id=draft.id,
               file=filename[:255])
        drafts.append(draft)
    return drafts


def _file_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0]
    if not _SAFE_NAME.match(stem):
        stem = re.sub(r"[^A-Za-z0-9_\-]", "_", stem)[:100] or "diagram"
    return f"{stem}.bpmn"


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkbenchError(f"{name} er ikke UTF-8-tekst.") from None


def _unzip(data: bytes) -> tuple[dict[str, str], dict[str, dict]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise WorkbenchError("Zip-filen kan ikke åpnes.") from None
    if len(members) > MAX_ZIP_FILES:
        raise WorkbenchError(f"Zip-filen har for mange filer (høyst {MAX_ZIP_FILES}).")
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise WorkbenchError("Zip-filen er for stor når den pakkes ut.")
    documents: dict[str, str] = {}
    forms: dict[str, dict] = {}
    for member in members:
        name = PurePosixPath(member.filename).name
        if not _SAFE_NAME.match(name):
            continue
        try:
            raw = archive.read(member)
        except (zipfile.BadZipFile, RuntimeError, ValueError, EOFError, OSError):
            raise WorkbenchError(f"{name} i zip-filen kan ikke leses.") from None
        if len(raw) > MAX_UPLOAD_BYTES:
            raise WorkbenchError(f"{name} er for stor.")
        if name.endswith((".bpmn", ".dmn")):
            documents[name] = _text(raw, name)
        elif name.endswith(".json"):
            try:
                forms[name] = parse_form(_text(raw, name)) if load_form_file(name, raw) is not None else {}
            except DiagramError as exc:
                raise WorkbenchError(f"Skjemaet {name}: " + exc.problems[0].message) from None
            except WorkbenchError as exc:
                raise WorkbenchError(f"Skjemaet {name}: {exc.message}") from None
    return documents, forms
