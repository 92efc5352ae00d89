"""Messages to the person and guardians: that something waits for them, with a link to their own
pages, in their language, and never any content (DESIGN §7) — not the agenda, the minutes or a
name of a service; the reference only. Written in the step's transaction through the outbox.

The texts come from the app's catalogues (``webapp/translations``) without a request, as the
worker and the engine's steps send them too."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember
from webapp.cases.own_access import person_side_members
from webapp.outbox.operations import Outbox, base_url

CATALOGUES = Path(__file__).resolve().parents[1] / "translations"

@lru_cache(maxsize=8)
def _translations(language: str):
    if language not in ("nn", "en"):
        return NullTranslations()
    return Translations.load(str(CATALOGUES), [language], domain="messages")


def message(language: str, what: str, reference: str, link: str) -> tuple[str, str]:
    """(subject, body) of a notice in ``language`` (nb, nn, en); ``what`` waits: consent,
    needs, meeting, minutes, plan (anything else: "something new")."""
    t = _translations(language)
    first = {
        "consent": t.gettext("Samtykket til ansvarsgruppen venter på deg."),
        "needs": t.gettext("Du kan skrive dine ønsker og behov før neste møte i ansvarsgruppen."),
        "meeting": t.gettext("Det er kalt inn til et møte i ansvarsgruppen."),
        "minutes": t.gettext("Referatet fra møtet i ansvarsgruppen er godkjent."),
        "plan": t.gettext("Den individuelle planen er oppdatert."),
    }.get(what, t.gettext("Noe nytt venter på deg i ansvarsgruppen."))
    subject = t.gettext("Ansvarsgruppe: noe venter på deg (%(reference)s)") % {"reference": reference}
    body = "\n\n".join([
        first,
        t.gettext("Logg inn for å lese det:") + f"\n{base_url()}{link}",
        t.gettext("Av hensyn til personvernet står innholdet ikke i e-posten."),
    ])
    return subject, body


def notify(session: Session, outbox: Outbox, case: Case, member: CaseMember, what: str, link: str | None = None) -> None:
    """One content-free notice to a person-side member with an e-mail address."""
    if not member.email:
        return
    user = session.get(User, member.user_id) if member.user_id else None
    language = user.language if user is not None and user.language else "nb"
    subject, body = message(language, what, case.reference, link or f"/min-side/saker/{case.id}")
    outbox.send(member.email, subject, body, plain=True)


def notify_person_side(session: Session, outbox: Outbox, case: Case, today: date, what: str, *,
                       acting: bool = False, link: str | None = None) -> int:
    members = person_side_members(session, case, today, acting=acting)
    for member in members:
        notify(session, outbox, case, member, what, link)
    return sum(1 for m in members if m.email)
