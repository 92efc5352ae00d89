"""Reports of start and status to the system owner (guideline 004: the coordinator reports start,
status and closing to the *systemansvarlig*), when the setting ``report_to_system_owner`` is on.

Register data only (DESIGN §6): the case reference, the new status and the date — never the
person's name, the reason given for the change or any other content. Written to the outbox in the
transaction of the status change (``cases.operations.change_status`` calls ``report_status_change``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.clock import OSLO

#: Norwegian status words for the message (the e-mail is Norwegian whatever the user's language).
STATUS_WORDS = {
    "requested": "ønske registrert", "awaiting_consent": "venter på samtykke",
    "establishing": "under etablering", "active": "aktiv", "not_established": "ikke opprettet",
    "consent_withdrawn": "samtykke trukket tilbake", "closed": "avsluttet", "declined": "ønsket er avslått",
    "duplicate": "duplikat",
}


class _At:
    """A clock standing still at the moment of the change (the outbox stamps its messages)."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


def report_status_change(session: Session, case, from_status: str | None, to_status: str, *,
                         at: datetime) -> int:
    """Tell the system owners (users with the system role, with an e-mail address) that ``case``
    started (became active) or, once started, changed status; returns how many were told."""
    from webapp.cases.roles import users_with_role
    from webapp.outbox.operations import Outbox
    from webapp.settings.operations import get_setting

    if to_status != "active" and case.activated_at is None:
        return 0  # before the start (and before consent to registration) the system owner hears nothing
    if not get_setting(session, "report_to_system_owner"):
        return 0
    started = to_status == "active" and from_status in (None, "requested", "awaiting_consent", "establishing")
    word = STATUS_WORDS.get(to_status, to_status)
    day = at.astimezone(OSLO).strftime("%d.%m.%Y")
    if started:
        subject = f"Ansvarsgruppe {case.reference} er startet"
        body = f"Ansvarsgruppe {case.reference} ble aktiv {day}."
    else:
        subject = f"Ansvarsgruppe {case.reference}: ny status «{word}»"
        body = f"Ansvarsgruppe {case.reference} har fått status «{word}» ({day})."
    body += "\n\nDette er en melding med registeropplysninger til systemansvarlig (retningslinje 004)."
    outbox = Outbox(session, _At(at), case.id)
    owners = [u for u in users_with_role(session, "system_owner") if u.email]
    for owner in owners:
        outbox.send(owner.email, subject, body)
    return len(owners)
