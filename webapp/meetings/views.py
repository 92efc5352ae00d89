"""Meeting pages outside the guided steps: submitting a matter, minutes as PDF, letters to print,
and the outbox."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from webapp.auth.access import login_required, role_required
from webapp.cases.access import Access, case_access, is_coordinator
from webapp.cases.models import Case
from webapp.cases.operations import DomainError
from webapp.cases.register_data import may_download_attachment
from webapp.clock import OSLO
from webapp.engine.runtime import EngineError
from webapp.meetings import operations as ops
from webapp.meetings.documents import minutes_pdf as render_pdf
from webapp.meetings.minutes import minutes_doc
from webapp.meetings.models import EXCLUDED_MATTERS, Meeting, Minutes
from webapp.meetings.rules import move_errors
from webapp.outbox.models import OutboxMessage
from webapp.outbox.operations import Outbox, attachment_bytes
from webapp.services import db_session, services
from webapp.taskforms.schema import fields_of, posted_values
from webapp.taskforms.submission import read_submission
from webapp.templating import local_datetime

bp = Blueprint("meetings", __name__)

MATTER_FORM = {
    "type": "object", "required": ["title", "screening"], "x-order": ["title", "description", "screening"],
    "properties": {
        "title": {"type": "string", "title": _l("Sak"), "minLength": 2, "maxLength": 300},
        "description": {"type": "string", "title": _l("Beskrivelse"), "maxLength": 4000, "x-widget": "textarea"},
        "screening": {"type": "string", "title": _l("Gjelder saken noe av dette?"), "x-widget": "radio",
                      "x-help": _l("Ansvarsgruppen skal ikke behandle disse sakene; de har egne veier."),
                      "oneOf": [{"const": "none", "title": _l("Nei, ingen av disse")}]
                      + [{"const": k, "title": v[0]} for k, v in EXCLUDED_MATTERS.items()]},
    },
}


MOVE_FORM = {
    "type": "object", "required": ["new_date", "new_time"], "x-order": ["new_date", "new_time"],
    "properties": {
        "new_date": {"type": "string", "format": "date", "title": _l("Ny dato"), "x-not-before": "today"},
        "new_time": {"type": "string", "title": _l("Nytt klokkeslett"), "x-widget": "time",
                     "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
    },
}


def _meeting_or_404(case_id: int, meeting_id: int, needed: Access = Access.FULL) -> tuple[Case, Meeting]:
    session = db_session()
    case = session.get(Case, case_id)
    meeting = session.get(Meeting, meeting_id)
    if case is None or meeting is None or meeting.case_id != case_id or case_access(session, g.user, case_id) < needed:
        abort(404)
    return case, meeting


@bp.route("/saker/<id:case_id>/moter/<id:meeting_id>/meld-sak", methods=["GET", "POST"])
@login_required
def submit_matter(case_id: int, meeting_id: int):
    case, meeting = _meeting_or_404(case_id, meeting_id)
    values, errors, status = {}, {}, 200
    if meeting.status != "planned":
        flash(_("Sakslisten er sendt ut; nye saker tas med til neste møte."), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    if request.method == "POST":
        submission = read_submission(MATTER_FORM, request.form, today=services().clock.today())
        if submission.ok:
            kind = None if submission.data["screening"] == "none" else submission.data["screening"]
            try:
                with services().db.transaction(serialised=True) as s:
                    ops.submit_matter(s, s.get(Meeting, meeting_id), title=submission.data["title"],
                                      description=submission.data.get("description"), excluded_kind=kind,
                                      submitted_by_name=g.user.full_name, submitted_by_id=g.user.id,
                                      at=services().clock.now())
            except DomainError:
                flash(_("Sakslisten er sendt ut; nye saker tas med til neste møte."), "error")
                return redirect(url_for("cases.show", case_id=case_id))
            if kind:
                flash(_("Saken er registrert, men holdes utenfor sakslisten: %(what)s. %(where)s",
                        what=EXCLUDED_MATTERS[kind][0], where=EXCLUDED_MATTERS[kind][1]))
            else:
                flash(_("Saken er meldt inn til møtet."))
            return redirect(url_for("cases.show", case_id=case_id))
        values, errors, status = submission.values, submission.errors, 400
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="submit_matter", at=services().clock.now())
    return render_template("meetings/submit_matter.html", case=case, meeting=meeting, fields=fields_of(MATTER_FORM),
                           values=values, errors=errors), status


@bp.route("/saker/<id:case_id>/moter/<id:meeting_id>/flytt", methods=["GET", "POST"])
@login_required
def move(case_id: int, meeting_id: int):
    """Move a meeting whose invitation has gone out (the coordinator): a new date and time, an
    updated invitation, and the reminder and the hold step follow (``ops.move_invited``)."""
    case, meeting = _meeting_or_404(case_id, meeting_id)
    if not is_coordinator(db_session(), g.user, case_id):
        abort(403)
    if meeting.status != "invited":
        flash(_("Bare et møte som er innkalt og ikke holdt ennå, kan flyttes her."), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    local = meeting.starts_at.astimezone(OSLO)
    values, errors, status = {"new_date": local.date().isoformat(), "new_time": f"{local:%H:%M}"}, {}, 200
    if request.method == "POST":
        now = services().clock.now()
        submission = read_submission(MOVE_FORM, request.form, today=services().clock.today())
        errors = submission.errors or move_errors(db_session(), meeting, submission.data, now)
        if not errors:
            starts_at = ops.chosen_start(submission.data)
            try:
                with services().db.transaction(serialised=True) as s:
                    ops.move_invited(s, Outbox(s, services().clock, case_id), s.get(Case, case_id),
                                     s.get(Meeting, meeting_id), starts_at, at=now, actor_id=g.user.id,
                                     update_episode=lambda instance_id, change: services().engine.update_waiting_in(
                                         s, instance_id, change, actor_id=g.user.id))
            except DomainError as exc:
                errors = {"new_date": str(exc)}
            except EngineError:  # the episode has an incident, or was changed at the same moment
                errors = {"new_date": _("Møtet kan ikke flyttes akkurat nå, fordi møteforløpet ikke er i gang "
                                        "eller ble endret samtidig. Prøv igjen, eller be systemansvarlig se på "
                                        "forløpet i tilsynet.")}
            else:
                flash(_("Møtet er flyttet til %(when)s. Alle har fått en oppdatert innkalling.",
                        when=local_datetime(starts_at)))
                return redirect(url_for("cases.show", case_id=case_id))
        values, status = submission.values or posted_values(MOVE_FORM, request.form), 400
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="move_meeting", at=services().clock.now())
    return render_template("meetings/move.html", case=case, meeting=meeting, fields=fields_of(MOVE_FORM),
                           values=values, errors=errors), status


@bp.route("/saker/<id:case_id>/moter/<id:meeting_id>/referat.pdf")
@login_required
def minutes_pdf(case_id: int, meeting_id: int):
    _case, meeting = _meeting_or_404(case_id, meeting_id)
    session = db_session()
    minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
    if minutes is None:
        abort(404)
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="minutes", at=services().clock.now())
    pdf = minutes.archived_pdf or render_pdf(minutes_doc(session, minutes))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="referat-{meeting.number}.pdf"'})


@bp.route("/saker/<id:case_id>/brev/<id:message_id>")
@login_required
def letter(case_id: int, message_id: int):
    session = db_session()
    message = session.get(OutboxMessage, message_id)
    if message is None or message.case_id != case_id or message.channel != "letter" \
            or not is_coordinator(session, g.user, case_id):
        abort(404)
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="letter", at=services().clock.now())
    item = message.attachments[0]
    return Response(attachment_bytes(item), mimetype=item["content_type"],
                    headers={"Content-Disposition": f'inline; filename="{item["filename"]}"'})


@bp.route("/utboks")
@role_required("admin", "system_owner")
def outbox():
    session = db_session()
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)).all()
    # every parked message is listed, however old: the administrator has to act on it
    failed = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")
                             .order_by(OutboxMessage.id.desc())).all()
    return render_template("meetings/outbox.html", rows=rows, failed=failed)


@bp.route("/utboks/<id:message_id>/vedlegg/<int:index>")
@role_required("admin", "system_owner")
def outbox_attachment(message_id: int, index: int):
    """Attachments are case content: only for whoever has full access to the case (never for the
    admin or system owner as such, DESIGN §6), and every download is access-logged (§7)."""
    session = db_session()
    message = session.get(OutboxMessage, message_id)
    if message is None or index >= len(message.attachments or []) \
            or not may_download_attachment(session, g.user, message.case_id):
        abort(404)
    item = message.attachments[index]
    if message.case_id is not None:
        services().access_log.record(user_id=g.user.id, case_id=message.case_id, page="outbox_attachment",
                   at=services().clock.now())
    return Response(attachment_bytes(item), mimetype=item["content_type"],
                    headers={"Content-Disposition": f'attachment; filename="{item["filename"]}"'})
