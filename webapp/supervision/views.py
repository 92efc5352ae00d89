"""Supervisors (system owner, coordinating unit): stuck cases — incidents, orphaned and overdue
steps. Register data and task state only, never the content of forms: titles, steps and incident
texts are rendered through webapp.cases.register_data, and every case listed gets an access-log
row (as the register does). Both lists are paginated by keyset (webapp/paging.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from webapp.auth.access import role_required
from webapp.cases import register_data
from webapp.cases.access import Access
from webapp.engine.runtime import Conflict, NotFound, StepFailed
from webapp.paging import paginate
from webapp.supervision import queries
from webapp.services import db_session, services

bp = Blueprint("supervision", __name__, url_prefix="/tilsyn")
SUPERVISORS = ("system_owner", "coordinating_unit")


@bp.route("/")
@role_required(*SUPERVISORS)
def overview():
    session, now, today = db_session(), services().clock.now(), services().clock.today()
    incidents = paginate(session, queries.open_incidents(), queries.INCIDENT_KEYS,
                         request.args.get("feil_etter"), key_of=queries.incident_key)
    stuck = paginate(session, queries.stuck_steps(g.user, now, today), queries.stuck_keys(),
                     request.args.get("steg_etter"))
    stuck_rows = [(task, case) for task, case, _level, *_keys in stuck.rows]
    register_data.prime(session, {case.id: Access(level) for _task, case, level, *_ in stuck.rows},
                        [task for task, _case in stuck_rows])
    case_ids = sorted({case.id for *_rows, case in incidents.rows} | {case.id for _task, case in stuck_rows})
    services().access_log.record_many(user_id=g.user.id, case_ids=case_ids, at=now, page="supervision")
    return render_template("supervision/overview.html", incidents=incidents, stuck=stuck_rows,
                           stuck_page=stuck, now=now)


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
