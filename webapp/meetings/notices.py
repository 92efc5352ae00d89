"""Invitations, reminders and minutes going out: e-mail to members with an address, a printable
letter for those without.

The person and guardians get, instead of the e-mail, a notice in their language that links to
their own pages (``webapp/portal/notices``); letters to print stay as they are.

The e-mail text and attachments (agenda, .ics, minutes PDF) written here reach only addresses in
the municipality's own domains (setting ``mail_attachment_domains``); everybody else gets a short
notice with the case reference and a link to the case or the minutes (see
:class:`webapp.outbox.operations.Outbox`)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import coordinator_user
from webapp.meetings import documents
from webapp.meetings.models import Meeting, Minutes
from webapp.outbox.operations import Outbox, attachment
from webapp.portal import notices as person_notices
from webapp.cases.own_access import RELATIONS, guardian_kept_out, may_be_told
from webapp.settings.operations import get_setting
from webapp.clock import OSLO


def _members(session: Session, case: Case) -> list[CaseMember]:
    return list(session.scalars(select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.active.is_(True))
                                .order_by(CaseMember.id)))


def meeting_info(session: Session, case: Case, meeting: Meeting) -> documents.MeetingInfo:
    coordinator = coordinator_user(session, case.id)
    organizer = documents.Person(coordinator.full_name if coordinator else "Koordinator",
                                 coordinator.email if coordinator else None, "Koordinator")
    attendees = [documents.Person(m.name, m.email) for m in _members(session, case)
                 if not (coordinator and m.user_id == coordinator.id)]
    person = case.person.full_name if case.person else case.title
    return documents.MeetingInfo(
        uid=f"meeting-{meeting.id}@ansvarsgruppe", case_reference=case.reference,
        title=f"Ansvarsgruppemøte for {person}", starts_at=meeting.starts_at,
        duration_minutes=meeting.duration_minutes, place=meeting.place, video_link=meeting.video_link,
        organizer=organizer, attendees=attendees, agenda=list(meeting.agenda or []),
        sequence=meeting.invitation_sequence, notes=meeting.urgent_reason)


def told_on_own_pages(session: Session, outbox: Outbox, case: Case, member: CaseMember, what: str,
                      link: str | None = None) -> bool:
    """The person or a guardian: True when handled here — a content-free notice to their own pages
    (when the age rules let them see the group and they have an e-mail address), or nothing at all
    for a guardian the young person has not let in. False: send as to anyone else (a letter to
    print for someone without e-mail)."""
    if member.role not in RELATIONS:
        return False
    today = outbox.clock.today()
    if guardian_kept_out(session, case, member, today):
        return True
    if not member.email:
        return False
    if may_be_told(session, case, member, today):
        person_notices.notify(session, outbox, case, member, what, link)
    return True


def send_letter_or_mail(session: Session, outbox: Outbox, case: Case, member: CaseMember, subject: str,
                        body: str, *, attachments: list[dict] | None = None, letter: bool = True,
                        letter_pdf: bytes | None = None, link: str | None = None, what: str = "other") -> None:
    if told_on_own_pages(session, outbox, case, member, what):
        return
    if member.email:
        outbox.send(member.email, subject, body, attachments, link=link)
    elif letter and letter_pdf is not None:
        outbox.letter(member.name, subject, letter_pdf, f"{case.reference}-{member.id}.pdf")


def invite(session: Session, outbox: Outbox, case: Case, meeting: Meeting) -> None:
    info = meeting_info(session, case, meeting)
    ics = attachment("innkalling.ics", "text/calendar", documents.invitation_ics(info).decode("utf-8"))
    when = meeting.starts_at.astimezone(OSLO)
    agenda = "\n".join(f"{i}. {item}" for i, item in enumerate(info.agenda, 1)) or "–"
    body = (f"Du innkalles til møte i ansvarsgruppen ({case.reference}) {when:%d.%m.%Y} kl. {when:%H:%M}.\n"
            f"Sted: {meeting.place or meeting.video_link or '–'}\n\nSaksliste:\n{agenda}\n\n"
            "Meld forfall til koordinator.")
    by_post = get_setting(session, "invitations_by_post")  # 003 (Lund): also a letter to everyone
    for member in _members(session, case):
        if info.organizer.email and member.email == info.organizer.email:
            continue
        recipient = documents.Person(member.name, member.email)
        send_letter_or_mail(session, outbox, case, member, f"Innkalling til ansvarsgruppemøte {when:%d.%m.%Y}",
                            body, attachments=[ics], link=f"/saker/{case.id}", what="meeting",
                            letter_pdf=None if member.email else documents.invitation_letter_pdf(info, recipient))
        if by_post and member.email and not guardian_kept_out(session, case, member, outbox.clock.today()):
            # setting invitations_by_post: the letter besides the e-mail
            outbox.letter(member.name, f"Innkalling til ansvarsgruppemøte {when:%d.%m.%Y}",
                          documents.invitation_letter_pdf(info, recipient), f"{case.reference}-{member.id}.pdf")


def remind(session: Session, outbox: Outbox, case: Case, meeting: Meeting) -> None:
    when = meeting.starts_at.astimezone(OSLO)
    for member in _members(session, case):
        if told_on_own_pages(session, outbox, case, member, "meeting"):
            continue
        if member.email:
            outbox.send(member.email, f"Påminnelse: ansvarsgruppemøte {when:%d.%m.%Y} kl. {when:%H:%M}",
                        f"Påminnelse om møtet i ansvarsgruppen ({case.reference}) {when:%d.%m.%Y} kl. "
                        f"{when:%H:%M}, {meeting.place or meeting.video_link or ''}.", link=f"/saker/{case.id}")


def distribute(session: Session, outbox: Outbox, case: Case, minutes: Minutes) -> None:
    """Send the approved, archived minutes to the recipients agreed in the meeting."""
    meeting = session.get(Meeting, minutes.meeting_id)
    send_document(session, outbox, case, minutes.recipients or [],
                  f"Referat fra ansvarsgruppemøte {meeting.number} ({case.reference})",
                  "Vedlagt er det godkjente referatet fra møtet.", minutes.archived_pdf,
                  f"referat-{case.reference}-{meeting.number}", link=f"/saker/{case.id}/moter/{meeting.id}/referat.pdf")


def send_document(session: Session, outbox: Outbox, case: Case, recipients, subject: str, body: str, pdf: bytes,
                  name: str, *, link: str, what: str = "minutes") -> None:
    """An archived document (minutes, an approved plan) to the chosen members: by e-mail (the
    outbox keeps content to the municipality's own domains; others get the link), or as a letter
    to print for members without e-mail. ``name`` is the file name without ``.pdf``."""
    chosen = set(recipients)
    for member in _members(session, case):
        if member.id not in chosen:
            continue
        if told_on_own_pages(session, outbox, case, member, what):
            continue
        if member.email:
            outbox.send(member.email, subject, body, [attachment(f"{name}.pdf", "application/pdf", pdf)], link=link)
        else:
            outbox.letter(member.name, subject, pdf, f"{name}-{member.id}.pdf")
