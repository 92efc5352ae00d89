"""Closing on the person's or guardians' wish, the archived closing report, and re-establishment."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from webapp.auth.access import login_required
from webapp.cases.access import Access, is_coordinator
from webapp.cases.operations import DomainError
from webapp.cases.views import case_or_404, required_text, show
from webapp.closing import actions
from webapp.closing.queries import last_closure
from webapp.services import db_session, services
from webapp.settings.operations import get_setting

bp = Blueprint("closing", __name__, url_prefix="/saker")

REQUESTERS = ("person", "guardian")
REESTABLISH_REQUESTERS = ("person", "guardian", "relative")


@bp.post("/<id:case_id>/avslutt")
@login_required
def start(case_id: int):
    """The person or guardians ask for the group to be closed; the coordinator records it."""
    case_or_404(case_id, Access.FULL)
    if not is_coordinator(db_session(), g.user, case_id):
        abort(404)
    errors: dict = {}
    initiated_by = request.form.get("initiated_by") or ""
    if initiated_by not in REQUESTERS:
        errors["initiated_by"] = _("Velg hvem som ønsker å avslutte gruppen.")
    name = required_text("requested_by_name", errors, _("Skriv navnet på den som ønsker avslutning."), 200)
    reason = required_text("request_reason", errors, _("Skriv hva personen eller foresatte sa."), 2000)
    if not errors:
        try:
            actions.request_closing(services(), case_id, initiated_by=initiated_by, requested_by_name=name,
                                     reason=reason, actor_id=g.user.id)
        except DomainError as exc:
            errors["initiated_by"] = str(exc)
    if errors:
        return show(case_id, failed="closing", errors=errors,
                    values={"initiated_by": initiated_by, "requested_by_name": name, "request_reason": reason})
    flash(_("Avslutningen er startet. Bekreft den med personen i oppgaven din."))
    return redirect(url_for("cases.show", case_id=case_id))


@bp.get("/<id:case_id>/avslutning.pdf")
@login_required
def report(case_id: int):
    case, _access = case_or_404(case_id, Access.FULL)
    closure = last_closure(db_session(), case_id)
    if closure is None or closure.report_pdf is None:
        abort(404)
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="closing_report", at=services().clock.now())
    return Response(closure.report_pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="avslutning-{case.reference}.pdf"'})


@bp.post("/<id:case_id>/gjenopprett")
@login_required
def reestablish(case_id: int):
    """A closed group is established anew on a changed need (staff with access to the case)."""
    case, _access = case_or_404(case_id)
    if case.status != "closed" or not g.user.has_role("staff"):
        abort(404)
    errors: dict = {}
    kind = request.form.get("requested_by_kind") or ""
    if kind not in REESTABLISH_REQUESTERS:
        errors["requested_by_kind"] = _("Velg hvem som ønsker gruppen opprettet på nytt.")
    name = required_text("requested_by_name", errors, _("Skriv navnet på den som ønsker gruppen."), 200)
    wish = required_text("wish", errors, _("Beskriv det endrede behovet."), 4000)
    if not errors:
        try:
            new_id, reference = actions.reestablish(services(), case_id, requested_by_kind=kind,
                                                     requested_by_name=name, wish=wish, actor_id=g.user.id)
        except DomainError as exc:
            errors["requested_by_kind"] = str(exc)
    if errors:
        return show(case_id, failed="reestablish", errors=errors,
                    values={"requested_by_kind": kind, "requested_by_name": name, "wish": wish})
    if get_setting(db_session(), "coordinating_unit_appoints"):
        flash(_("Ny ansvarsgruppe (%(ref)s) er registrert og sendt til koordinerende enhet. Nytt samtykke kreves.",
                ref=reference))
    else:
        flash(_("Ny ansvarsgruppe (%(ref)s) er registrert. Tjenesten som mottok ønsket oppnevner koordinator. "
                "Nytt samtykke kreves.", ref=reference))
    # The coordinating unit and the system owner see every case; a former coordinator is not
    # (yet) a member of the new group.
    if g.user.has_role("coordinating_unit", "system_owner"):
        return redirect(url_for("cases.show", case_id=new_id))
    return redirect(url_for("cases.show", case_id=case_id))
