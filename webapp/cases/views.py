from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from sqlalchemy import select

from webapp.audit.models import AuditEvent
from webapp.auth.access import login_required
from webapp.cases.access import case_visible
from webapp.cases.models import Case
from webapp.engine.models import ProcessInstance
from webapp.services import db_session
from webapp.tasks.queries import case_tasks

bp = Blueprint("cases", __name__, url_prefix="/saker")


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int):
    session = db_session()
    case = session.get(Case, case_id)
    if case is None or not case_visible(session, g.user, case_id):
        abort(404)
    instances = session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                                .order_by(ProcessInstance.created_at.desc())).all()
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                             .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(50)).all()
    return render_template("cases/show.html", case=case, tasks=case_tasks(session, case_id),
                           instances=instances, events=events)
