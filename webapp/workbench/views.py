"""The process owners' workbench: library, drafts in the diagram editor, forms, publishing,
history and diffs, migration, import and export. Thin views over ``workbench.operations``."""
from __future__ import annotations

import json
import re

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.auth.access import role_required
from webapp.auth.models import User
from webapp.engine.models import ProcessDefinition, ProcessInstance
from webapp.services import db_session, services
from webapp.workbench import operations as ops
from webapp.workbench import tasks as task_xml
from webapp.workbench import transfer
from webapp.workbench.models import MigrationRun, ProcessDraft

bp = Blueprint("workbench", __name__, url_prefix="/prosesser")
guard = role_required("process_owner", "admin")

FORM_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,80}\.json$")
#: audit events the library lists as its recent changes
#: instances a dry run checks on the page (each is loaded and diffed; a real run covers them all)
DRY_RUN_SHOWN = 200
LIBRARY_EVENTS = ("process_published", "process_restored", "process_migration", "profile_applied")


def catalogue() -> ops.Catalogue:
    from webapp.cases.roles import LANE_ROLES
    from webapp.templating import role_label
    engine = services().engine
    return ops.Catalogue(handlers=sorted(engine.handlers.keys()), providers=engine.hooks.provider_names(),
                         roles={lane: role_label(lane) for lane in LANE_ROLES})


def _now():
    return services().clock.now()


def _users(s, ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    return {u.id: u for u in s.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _running_by_version(s, process_id: str | None = None) -> dict[tuple[str, int], int]:
    query = (select(ProcessDefinition.process_id, ProcessDefinition.version, func.count(ProcessInstance.id))
             .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
             .where(ProcessInstance.status.in_(("running", "incident")))
             .group_by(ProcessDefinition.process_id, ProcessDefinition.version))
    if process_id is not None:
        query = query.where(ProcessDefinition.process_id == process_id)
    return {(p, v): n for p, v, n in s.execute(query)}


def _stuck(s, process_id: str | None = None) -> dict[str, list[dict]]:
    """Per process, the instances the latest migration run could not move that still run an
    older version than it aimed at."""
    newest = select(MigrationRun.process_id, func.max(MigrationRun.id).label("id")).group_by(MigrationRun.process_id)
    if process_id is not None:
        newest = newest.where(MigrationRun.process_id == process_id)
    runs = list(s.scalars(select(MigrationRun).where(MigrationRun.id.in_(select(newest.subquery().c.id)))))
    ids = {r["instance_id"] for run in runs for r in run.results if not r["can_move"]}
    current = dict(s.execute(select(ProcessInstance.id, ProcessDefinition.version).join(ProcessDefinition)
                             .where(ProcessInstance.id.in_(ids),
                                    ProcessInstance.status.in_(("running", "incident")))).all()) if ids else {}
    return {run.process_id: [r for r in run.results if not r["can_move"] and r["instance_id"] in current
                             and current[r["instance_id"]] != run.to_version] for run in runs}


# --------------------------------------------------------------------------------------------
# Library and process pages

@bp.route("/")
@guard
def library():
    from webapp.audit.models import AuditEvent
    s = db_session()
    versions = ops.latest_versions(s)
    running = _running_by_version(s)
    drafts = list(s.scalars(select(ProcessDraft).where(ProcessDraft.status == "open")
                            .order_by(ProcessDraft.updated_at.desc())))
    events = list(s.scalars(select(AuditEvent).where(AuditEvent.kind.in_(LIBRARY_EVENTS))
                            .order_by(AuditEvent.id.desc()).limit(15)))
    users = _users(s, [v.published_by_id for v in versions] + [d.updated_by_id for d in drafts]
                   + [e.actor_id for e in events])
    rows = []
    for definition in versions:
        mine = [d for d in drafts if d.process_id == definition.process_id]
        changed = max([(definition.created_at, definition.published_by_id)]
                      + [(d.updated_at, d.updated_by_id) for d in mine], key=lambda pair: pair[0])
        rows.append({"definition": definition, "drafts": mine,
                     "running": sorted(((v, n) for (p, v), n in running.items() if p == definition.process_id),
                                       reverse=True),
                     "changed_at": changed[0], "changed_by": users.get(changed[1])})
    known = {v.process_id for v in versions}
    return render_template("workbench/library.html", rows=rows, stuck=_stuck(s), events=events, users=users,
                           new_drafts=[d for d in drafts if d.process_id not in known])


@bp.route("/<process_id>")
@guard
def process(process_id: str):
    s = db_session()
    versions = list(s.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
                              .order_by(ProcessDefinition.version.desc())))
    drafts = list(s.scalars(select(ProcessDraft).where(ProcessDraft.process_id == process_id,
                                                       ProcessDraft.status == "open")
                            .order_by(ProcessDraft.updated_at.desc())))
    if not versions and not drafts:
        abort(404)
    runs = list(s.scalars(select(MigrationRun).where(MigrationRun.process_id == process_id)
                          .order_by(MigrationRun.id.desc()).limit(10)))
    users = _users(s, [v.published_by_id for v in versions] + [d.updated_by_id for d in drafts]
                   + [r.actor_id for r in runs])
    return render_template("workbench/process.html", process_id=process_id, versions=versions, drafts=drafts,
                           running=_running_by_version(s, process_id), runs=runs, users=users,
                           stuck=_stuck(s, process_id).get(process_id, []),
                           name=versions[0].name if versions else drafts[0].name)


@bp.route("/<process_id>/utkast", methods=["POST"])
@guard
def new_draft(process_id: str):
    number = request.form.get("version", type=int)
    try:
        with services().db.transaction() as s:
            draft = ops.open_draft(s, process_id, from_version=number, actor_id=g.user.id, at=_now())
            draft_id = draft.id
    except ops.WorkbenchError as exc:
        flash(exc.message, "error")
        return redirect(url_for("workbench.library"))
    return redirect(url_for("workbench.editor", draft_id=draft_id))


# --------------------------------------------------------------------------------------------
# The editor

def _draft(draft_id: int, *, open_only: bool = True) -> ProcessDraft:
    draft = db_session().get(ProcessDraft, draft_id)
    if draft is None or (open_only and draft.status != "open"):
        abort(404)
    return draft


def _finding_json(finding) -> dict:
    return {"severity": finding.severity, "rule": finding.rule, "element_id": finding.element_id,
            "message": finding.message}


@bp.route("/utkast/<id:draft_id>")
@guard
def editor(draft_id: int):
    s = db_session()
    draft = _draft(draft_id)
    cat = catalogue()
    result = ops.check_draft(s, draft, cat)
    forms = ops.draft_forms(s, draft)
    providers = cat.providers
    config = {
        "xml": draft.documents[draft.main_file], "revision": draft.revision,
        "saveUrl": url_for("workbench.save", draft_id=draft.id),
        "csrfToken": _csrf(),
        "problems": [_finding_json(f) for f in result.findings],
        "choices": {"forms": sorted(forms), "handlers": cat.handlers,
                    "roles": [[lane, label] for lane, label in cat.roles.items()],
                    "formDefaults": sorted(providers.get("defaults", ())),
                    "context": sorted(providers.get("context", ())),
                    "formCheck": sorted(providers.get("checks", ()))},
    }
    return render_template("workbench/editor.html", draft=draft, config=config, result=result,
                           tasks=task_xml.user_tasks(draft.documents[draft.main_file]),
                           testrun="testrun" in current_app.blueprints)


def _csrf() -> str:
    from flask_wtf.csrf import generate_csrf
    return generate_csrf()


@bp.route("/utkast/<id:draft_id>/lagre", methods=["POST"])
@guard
def save(draft_id: int):
    """The editor's save (JSON in, JSON out): 200 with the new revision and the findings, 409 when
    someone saved in between, 400 for what cannot be stored at all."""
    _draft(draft_id, open_only=False)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str) or type(body.get("revision")) is not int:
        return jsonify(message=_("Lagringen manglet diagrammet eller revisjonen. Last siden på nytt."),
                       problems=[]), 400
    try:
        task_xml.parse(body["xml"])
        with services().db.transaction() as s:
            draft = ops.save_draft(s, draft_id, revision=body["revision"], xml=body["xml"], actor_id=g.user.id,
                                   at=_now())
            result = ops.check_draft(s, draft, catalogue())
            revision = draft.revision
    except ops.DraftConflict as exc:
        return jsonify(message=exc.message, revision=exc.revision), 409
    except ops.WorkbenchError as exc:
        return jsonify(message=exc.message, problems=[_finding_json(f) for f in exc.findings]), 400
    errors = len(result.errors)
    message = (_("Lagret. %(n)s feil må rettes før publisering.", n=errors) if errors
               else _("Lagret. Ingen feil."))
    return jsonify(revision=revision, message=message, problems=[_finding_json(f) for f in result.findings])


@bp.route("/utkast/<id:draft_id>/oppgave/<element_id>", methods=["GET", "POST"])
@guard
def task_form(draft_id: int, element_id: str):
    """A user task's form (JSON Schema with its UI hints) and guideline text, with a live preview
    rendered by the macros staff see."""
    s = db_session()
    draft = _draft(draft_id)
    xml = draft.documents[draft.main_file]
    task = task_xml.user_task(xml, element_id)
    if task is None:
        abort(404)
    forms = ops.draft_forms(s, draft)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"form_name": (request.form.get("form_name") or "").strip(),
                  "schema": request.form.get("schema") or "", "documentation": request.form.get("documentation") or "",
                  "revision": request.form.get("revision", type=int) or 0}
        if not FORM_NAME.match(values["form_name"]):
            errors["form_name"] = _("Skriv et filnavn med små bokstaver, tall, _ eller -, som slutter på .json "
                                    "(for eksempel «oppfolging.json»).")
        try:
            schema = ops.parse_form(values["schema"])
        except ops.WorkbenchError as exc:
            errors["schema"] = exc.message
        if len(values["documentation"]) > 20_000:
            errors["documentation"] = _("Veiledningen kan være på høyst 20 000 tegn.")
        if not errors:
            try:
                with services().db.transaction() as ws:
                    new_xml = task_xml.set_task(xml, element_id, form=values["form_name"],
                                                documentation=values["documentation"])
                    ops.save_draft(ws, draft_id, revision=values["revision"], xml=new_xml,
                                   forms={values["form_name"]: schema}, actor_id=g.user.id, at=_now())
                flash(_("Skjemaet og veiledningen er lagret i utkastet."))
                return redirect(url_for("workbench.editor", draft_id=draft_id))
            except ops.DraftConflict as exc:
                errors["revision"] = exc.message
                status = 409
            except ops.WorkbenchError as exc:
                errors["schema"] = exc.message
        status = 409 if "revision" in errors else 400
    else:
        name = task.form or f"{element_id.lower()}.json"
        schema = forms.get(name) or {"type": "object", "title": task.name or "", "required": [], "properties": {}}
        values = {"form_name": name, "schema": json.dumps(schema, ensure_ascii=False, indent=2),
                  "documentation": task.documentation, "revision": draft.revision}
        status = 200
    return render_template("workbench/task_form.html", draft=draft, task=task, values=values, errors=errors,
                           preview=_preview_of(values["schema"]),
                           preview_config={"url": url_for("workbench.preview", draft_id=draft_id),
                                           "csrfToken": _csrf()}), status


def _preview_of(text: str):
    """(fields, error) of a schema text for the preview."""
    from webapp.taskforms.options import option_source
    from webapp.taskforms.schema import fields_of
    try:
        schema = ops.parse_form(text)
        return schema, fields_of(schema, option_source(db_session(), None, services().clock.today())), None
    except ops.WorkbenchError as exc:
        return None, [], exc.message
    except Exception:  # noqa: BLE001 - a schema our widgets cannot draw is the author's mistake, not a 500
        return None, [], _("Skjemaet kan ikke vises: sjekk at feltene har gyldige typer.")


@bp.route("/utkast/<id:draft_id>/forhandsvis", methods=["POST"])
@guard
def preview(draft_id: int):
    _draft(draft_id)
    schema, fields, error = _preview_of(request.form.get("schema") or "")
    return render_template("workbench/_preview.html", schema=schema, fields=fields, error=error), (400 if error else 200)


# --------------------------------------------------------------------------------------------
# Publishing, discarding, restoring

@bp.route("/utkast/<id:draft_id>/publiser", methods=["GET", "POST"])
@guard
def publish(draft_id: int):
    s = db_session()
    draft = _draft(draft_id)
    values = {"note": request.form.get("note", ""), "accept_reason": request.form.get("accept_reason", "")}
    error = None
    if request.method == "POST":
        try:
            with services().db.transaction() as ws:
                definition = ops.publish_draft(ws, ws.get(ProcessDraft, draft_id), catalogue(), note=values["note"][:5000],
                                               accept_reason=values["accept_reason"][:5000], actor_id=g.user.id,
                                               at=_now())
                number = definition.version
            flash(_("Versjon %(v)s er publisert.", v=number))
            return redirect(url_for("workbench.process", process_id=draft.process_id))
        except ops.WorkbenchError as exc:
            error = exc.message
    result = ops.check_draft(s, draft, catalogue())
    base = ops.version(s, draft.process_id, content=True)
    changes = None
    if base is not None:
        from webapp.workbench.diff import diff_versions
        changes = diff_versions(base.documents, base.forms, draft.documents, ops.draft_forms(s, draft))
    return render_template("workbench/publish.html", draft=draft, result=result, values=values, error=error,
                           changes=changes, base=base), (400 if error else 200)


@bp.route("/utkast/<id:draft_id>/forkast", methods=["POST"])
@guard
def discard(draft_id: int):
    _draft(draft_id)
    with services().db.transaction() as s:
        draft = s.get(ProcessDraft, draft_id)
        ops.discard_draft(s, draft, actor_id=g.user.id, at=_now())
        process_id = draft.process_id
    flash(_("Utkastet er forkastet."))
    return redirect(url_for("workbench.library") if not ops.version(db_session(), process_id)
                    else url_for("workbench.process", process_id=process_id))


@bp.route("/<process_id>/versjoner/<int:number>/gjenopprett", methods=["POST"])
@guard
def restore(process_id: str, number: int):
    try:
        with services().db.transaction() as s:
            definition = ops.restore_version(s, process_id, number, note=(request.form.get("note") or "")[:5000],
                                             actor_id=g.user.id, at=_now())
            flash(_("Versjon %(old)s er publisert på nytt som versjon %(new)s.", old=number, new=definition.version))
    except ops.WorkbenchError as exc:
        flash(exc.message, "error")
    return redirect(url_for("workbench.process", process_id=process_id))


# --------------------------------------------------------------------------------------------
# History: the visual diff

@bp.route("/<process_id>/diff")
@guard
def diff(process_id: str):
    from webapp.workbench.diff import diff_versions
    s = db_session()
    a_number, b_number = request.args.get("a", type=int), request.args.get("b", type=int)
    latest = ops.version(s, process_id)
    if latest is None:
        abort(404)
    b_number = b_number or latest.version
    a_number = a_number or max(b_number - 1, 1)
    a, b = ops.version(s, process_id, a_number, content=True), ops.version(s, process_id, b_number, content=True)
    if a is None or b is None:
        abort(404)
    changes = diff_versions(a.documents, a.forms, b.documents, b.forms)
    main = ops.main_file(b)
    config = {"a": a.documents.get(ops.main_file(a), ""), "b": b.documents.get(main, ""),
              "added": changes.added, "removed": changes.removed, "changed": changes.changed}
    numbers = list(s.scalars(select(ProcessDefinition.version).where(ProcessDefinition.process_id == process_id)
                             .order_by(ProcessDefinition.version.desc())))
    return render_template("workbench/diff.html", process_id=process_id, a=a, b=b, changes=changes, config=config,
                           numbers=numbers)


# --------------------------------------------------------------------------------------------
# Migration of running instances

@bp.route("/<process_id>/flytting", methods=["GET", "POST"])
@guard
def migration(process_id: str):
    s = db_session()
    latest = ops.version(s, process_id)
    if latest is None:
        abort(404)
    to_version = request.values.get("til", type=int) or latest.version
    if ops.version(s, process_id, to_version) is None:
        abort(404)
    if request.method == "POST":
        chosen = None
        if request.form.get("scope") == "chosen":
            chosen = [int(v) for v in request.form.getlist("instance") if v.isascii() and v.isdigit()]
            if not chosen:
                flash(_("Velg minst én forekomst som skal flyttes."), "error")
                return redirect(url_for("workbench.migration", process_id=process_id, til=to_version))
        run = ops.run_migration(services(), process_id, to_version, chosen, dry_run=False, actor_id=g.user.id)
        flash(_("%(moved)s forekomst(er) flyttet til versjon %(v)s; %(stayed)s kunne ikke flyttes.",
                moved=run.moved, v=to_version, stayed=run.stayed))
        return redirect(url_for("workbench.migration_report", process_id=process_id, run_id=run.id))
    run = ops.run_migration(services(), process_id, to_version, None, dry_run=True, actor_id=g.user.id,
                            limit=DRY_RUN_SHOWN)
    total = len(ops.instances_to_move(s, process_id, to_version))
    numbers = list(s.scalars(select(ProcessDefinition.version).where(ProcessDefinition.process_id == process_id)
                             .order_by(ProcessDefinition.version.desc())))
    return render_template("workbench/migration.html", process_id=process_id, name=latest.name, run=run,
                           to_version=to_version, numbers=numbers, total=total)


@bp.route("/<process_id>/flytting/<id:run_id>")
@guard
def migration_report(process_id: str, run_id: int):
    s = db_session()
    run = s.get(MigrationRun, run_id)
    if run is None or run.process_id != process_id:
        abort(404)
    return render_template("workbench/migration_report.html", process_id=process_id, run=run,
                           actor=s.get(User, run.actor_id) if run.actor_id else None)


# --------------------------------------------------------------------------------------------
# Import and export

@bp.route("/eksport.zip")
@guard
def export_library():
    s = db_session()
    data = transfer.export_zip([ops.version(s, v.process_id, content=True) for v in ops.latest_versions(s)])
    _audit_export(None, None)
    return send_file(data, mimetype="application/zip", as_attachment=True, download_name="prosessbibliotek.zip")


@bp.route("/<process_id>/versjoner/<int:number>/eksport.zip")
@guard
def export_version(process_id: str, number: int):
    definition = ops.version(db_session(), process_id, number, content=True)
    if definition is None:
        abort(404)
    _audit_export(process_id, number)
    return send_file(transfer.export_zip([definition]), mimetype="application/zip", as_attachment=True,
                     download_name=f"{process_id}-v{number}.zip")


def _audit_export(process_id, number) -> None:
    from webapp.audit.operations import record
    with services().db.transaction() as s:
        record(s, "process_exported", at=_now(), actor_id=g.user.id, process=process_id, version=number)


@bp.route("/import", methods=["POST"])
@guard
def import_file():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Velg en .bpmn- eller .zip-fil å importere."), "error")
        return redirect(url_for("workbench.library"))
    data = upload.stream.read(ops.MAX_UPLOAD_BYTES + 1)
    try:
        with services().db.transaction() as s:
            drafts = transfer.import_file(s, upload.filename, data, actor_id=g.user.id, at=_now())
            ids = [d.id for d in drafts]
    except ops.WorkbenchError as exc:
        flash(exc.message, "error")
        return redirect(url_for("workbench.library"))
    flash(_("Importert som %(n)s utkast. Kontroller og rett feilene før publisering.", n=len(ids)))
    return redirect(url_for("workbench.editor", draft_id=ids[0]) if len(ids) == 1 else url_for("workbench.library"))
