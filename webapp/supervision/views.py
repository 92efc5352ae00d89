"""Supervisors (system owner, coordinating unit): stuck cases — incidents, orphaned and overdue
steps. Register data and task state only, never the content of forms: titles, steps and incident
texts are rendered through webapp.cases.register_data, and every case listed gets an access-log
row (as the register does)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.auth.access import role_required
from webapp.cases.models import Case
from webapp.engine.models import Incident, OpenTask, ProcessInstance
from webapp.engine.runtime import Conflict, NotFound, StepFailed
from webapp.services import db_session, services

bp = Blueprint("supervision", __name__, url_prefix="/tilsyn")
SUPERVISORS = ("system_owner", "coordinating_unit")


@bp.route("/")
@role_required(*SUPERVISORS)
def overview():
    session = db_session()
    now = services().clock.now()
    incidents = session.execute(
        select(Incident, ProcessInstance, Case)
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .join(Case, Case.id == ProcessInstance.case_id)
        .where(Incident.status == "open").order_by(Incident.created_at)).all()
    stuck = session.execute(
        select(OpenTask, Case).join(Case, Case.id == OpenTask.case_id)
        .where((OpenTask.orphaned.is_(True)) | (OpenTask.due_at < now))
        .order_by(OpenTask.due_at)).all()
    case_ids = sorted({case.id for *_rows, case in incidents} | {case.id for _task, case in stuck})
    services().access_log.record_many(user_id=g.user.id, case_ids=case_ids, at=now, page="supervision")
    return render_template("supervision/overview.html", incidents=incidents, stuck=stuck, now=now)


@bp.route("/hendelser/<id:incident_id>/prov-igjen", methods=["POST"])
@role_required(*SUPERVISORS)
def retry(incident_id: int):
    actor_id = g.user.id
    db_session().rollback()  # no read transaction open across the step's write
    try:
        services().engine.retry(incident_id, actor_id=actor_id)
        flash(_("Steget ble kjørt på nytt og gikk gjennom."))
    except NotFound:
        abort(404)
    except Conflict:
        flash(_("Hendelsen er allerede løst."))
    except StepFailed:
        flash(_("Steget feilet igjen. Se feilmeldingen."), "error")
    return redirect(url_for("supervision.overview"))
