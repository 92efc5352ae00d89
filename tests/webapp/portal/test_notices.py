"""Content-free notices to the person and guardians: what waits, a link to their own pages, in
their language, and nothing of the group's content."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from babel.support import Translations
from sqlalchemy import select

from tests.webapp.cases.helpers import complete, open_task
from tests.webapp.meetings.helpers import meeting, plan
from tests.webapp.portal.helpers import guardian_case, user_id
from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember
from webapp.outbox.models import OutboxMessage
from webapp.portal.notices import CATALOGUES

AGENDA = "Skolestart og lekser"
NEEDS = "Emma vil snakke om friminuttene"


def _to(services, recipient, after=0):
    with services.db.session() as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient, OutboxMessage.id > after)
                         .order_by(OutboxMessage.id)).all()


def _last_id(services):
    with services.db.session() as s:
        return s.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0


def _invite(services, users, case_id, *, planned=False, by="anne"):
    if not planned:
        plan(services, users, case_id)
    complete(services, case_id, "needs", {"persons_needs": NEEDS, "person_attends": "ja"},
             user_id(services, by) if by == "anne" else users[by])
    before = _last_id(services)
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": AGENDA}]}, users["kari"])
    return before


def _nynorsk(text: str) -> str:
    return Translations.load(str(CATALOGUES), ["nn"], domain="messages").gettext(text)


def test_the_invitation_reaches_the_guardian_as_a_notice(app, services, users):
    case_id = guardian_case(services, users)
    before = _invite(services, users, case_id)
    (notice,) = _to(services, "anne@example.org", before)
    assert notice.subject == f"Ansvarsgruppe: noe venter på deg ({_reference(services, case_id)})"
    assert "Det er kalt inn til et møte i ansvarsgruppen." in notice.body
    assert f"/min-side/saker/{case_id}" in notice.body and notice.attachments == []
    for content in (AGENDA, NEEDS, "Rådhuset", "Emma", "Solbakken", "Siri"):
        assert content not in notice.body and content not in notice.subject
    # the others get the staff e-mail (here a link only, outside the municipality's domains)
    assert any(o.subject.startswith("Innkalling") for o in _to(services, "siri@example.org", before))


def test_the_notices_follow_the_guardians_language(app, services, users):
    case_id = guardian_case(services, users)
    with services.db.transaction() as s:
        s.scalar(select(User).where(User.username == "anne")).language = "nn"
    plan_before = _last_id(services)
    plan(services, users, case_id)
    (needs,) = _to(services, "anne@example.org", plan_before)  # the wishes step waits for her
    before = _invite(services, users, case_id, planned=True)
    (notice,) = _to(services, "anne@example.org", before)
    for message, source in ((needs, "Du kan skrive dine ønsker og behov før neste møte i ansvarsgruppen."),
                            (notice, "Det er kalt inn til et møte i ansvarsgruppen.")):
        assert _nynorsk(source) in message.body  # the nynorsk text where the catalogue has one
        assert f"/min-side/saker/{case_id}" in message.body and AGENDA not in message.body
    assert notice.subject == _nynorsk("Ansvarsgruppe: noe venter på deg (%(reference)s)") % {
        "reference": _reference(services, case_id)}
    assert notice.subject != f"Ansvarsgruppe: noe venter på deg ({_reference(services, case_id)})"


def test_no_notice_to_a_guardian_the_young_person_has_not_let_in(app, services, users):
    born = date(services.clock.today().year - 17, 1, 15).isoformat()
    case_id = guardian_case(services, users, born=born)
    plan(services, users, case_id)
    # Anne has a login but does not act for a 17-year-old, and Emma has none: the coordinator writes
    assert open_task(services, case_id, "needs").assignee_id == users["kari"]
    before = _invite(services, users, case_id, planned=True, by="kari")
    assert _to(services, "anne@example.org", before) == []  # neither the notice nor the staff's e-mail
    with services.db.transaction() as s:
        s.get(Case, case_id).guardians_may_see = True
    # once she says yes, the guardian is told again: the reminder two days before the meeting
    before = _last_id(services)
    services.clock.set(meeting(services, case_id).starts_at - timedelta(days=2, minutes=-1))
    assert services.engine.fire_due_timers() >= 1
    (reminder,) = _to(services, "anne@example.org", before)
    assert reminder.subject.startswith("Ansvarsgruppe: noe venter på deg")
    assert f"/min-side/saker/{case_id}" in reminder.body and "Rådhuset" not in reminder.body


def _reference(services, case_id):
    with services.db.session() as s:
        return s.get(Case, case_id).reference


@pytest.mark.parametrize("let_in", [False, True])
def test_no_letter_to_a_guardian_without_e_mail_the_young_person_has_not_let_in(app, services, users, let_in):
    """A guardian without e-mail gets the invitation as a letter to print, as anyone without
    e-mail does — but not while the young person keeps them out."""
    born = date(services.clock.today().year - 17, 1, 15).isoformat()
    case_id = guardian_case(services, users, born=born)
    with services.db.transaction() as s:
        s.scalar(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.role == "foresatt")).email = None
        s.get(Case, case_id).guardians_may_see = let_in
    before = _invite(services, users, case_id, by="kari")
    with services.db.session() as s:
        letters = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "letter",
                                                        OutboxMessage.recipient == "Anne Berg",
                                                        OutboxMessage.id > before)).all()
    assert len(letters) == (1 if let_in else 0)
