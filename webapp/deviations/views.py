"""Deviations of a case: the list and the form to record one (members with full access only)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from webapp.cases.views import case_or_404
from webapp.auth.access import login_required
from webapp.cases.access import Access
from webapp.cases.operations import DomainError
from webapp.deviations import recording
from webapp.deviations.operations import ENDED_CASE_STATUSES, case_deviations
from webapp.engine.runtime import EngineError
from webapp.services import db_session, services
from webapp.settings.operations import get_setting
from webapp.taskforms.schema import fields_of, posted_values
from webapp.taskforms.submission import read_submission

bp = Blueprint("deviations", __name__)

RECORD_FORM = {
    "type": "object", "required": ["title", "description"], "x-order": ["title", "description", "happened_on"],
    "properties": {
        "title": {"type": "string", "title": _l("Kort beskrivelse (tittel)"), "minLength": 2, "maxLength": 200},
        "description": {"type": "string", "title": _l("Hva skjedde?"), "minLength": 1, "maxLength": 4000,
                        "x-widget": "textarea",
                        "x-help": _l("Beskriv avviket. Skriv ikke mer om personen enn det som trengs.")},
        "happened_on": {"type": "string", "format": "date", "title": _l("Dato avviket skjedde"),
                        "x-not-after": "today", "x-help": _l("La feltet stå tomt hvis du ikke vet datoen.")},
    },
}


@bp.route("/saker/<id:case_id>/avvik", methods=["GET", "POST"])
@login_required
def index(case_id: int):
    case, _access = case_or_404(case_id, Access.FULL)
    session = db_session()
    values, errors, status = {}, {}, 200
    open_for_new = case.status not in ENDED_CASE_STATUSES
    if request.method == "POST":
        submission = read_submission(RECORD_FORM, request.form, today=services().clock.today())
        values, errors, status = submission.values, submission.errors, 400
        if submission.ok:
            values = posted_values(RECORD_FORM, request.form)
            if not open_for_new:
                errors = {"": _("Saken er avsluttet; avvik kan ikke registreres.")}
            else:
                reporter_id, reporter_name = g.user.id, g.user.full_name
                session.rollback()  # no read transaction open across the write (SQLite's WAL)
                try:
                    recording.report(services(), case_id, submission.data, reporter_id=reporter_id,
                                     reporter_name=reporter_name)
                except DomainError:
                    errors = {"": _("Avviket kunne ikke registreres. Kontroller opplysningene og prøv igjen.")}
                except EngineError:
                    current_app.logger.exception("recording a deviation failed")
                    errors = {"": _("Avviket kunne ikke registreres nå. Ingenting er lagret; prøv igjen.")}
                    status = 503
                else:
                    flash(_("Avviket er registrert. Koordinator følger det opp."))
                    return redirect(url_for("deviations.index", case_id=case_id))
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="deviations", at=services().clock.now())
    return render_template(
        "deviations/index.html", case=case, deviations=case_deviations(session, case_id),
        followup_days=get_setting(session, "deviation_followup_days"), fields=fields_of(RECORD_FORM),
        values=values, errors=errors, open_for_new=open_for_new), status
