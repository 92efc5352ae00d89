"""The person's and the guardians' own access to their group (their pages, ``webapp/portal``).

A citizen account is linked to a member row of the case: role ``bruker`` (the person) or
``foresatt`` (a guardian). Whether that link opens the case follows the age rules, which are
settings citing the patient and user rights act:

- the person sees their group from ``own_access_age`` (16; pbrl § 4-3);
- a guardian sees it while the person is younger than ``guardian_access_consent_age`` (16;
  pbrl § 3-4), and after that only while the young person says yes (``Case.guardians_may_see``);
- nobody sees it on these pages once the group has ended (closed, declined, not established).

Content (meetings, minutes, plan, matters) needs a written consent in force, as for members; the
consent page itself and the group's composition do not. Whoever gives the consent: the person
from ``own_access_age``, else the guardians.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import ENDED_STATUSES, Case, CaseMember
from webapp.settings.operations import get_setting

#: member role (lane) -> relation to the person
RELATIONS = {"bruker": "person", "foresatt": "guardian"}


@dataclass
class Standing:
    """One citizen's place in one case, and what the age rules give them today."""

    case: Case
    member: CaseMember
    relation: str  # person | guardian
    age: int | None
    sees: bool
    #: may give or withdraw the group's written consent
    consents: bool
    #: may say whether the guardians see the group (the young person, past the consent age)
    decides_for_guardians: bool


def rules(session: Session) -> tuple[int, int]:
    """(own_access_age, guardian_access_consent_age)."""
    return get_setting(session, "own_access_age"), get_setting(session, "guardian_access_consent_age")


def judge(case: Case, member: CaseMember, today: date, ages: tuple[int, int]) -> Standing:
    own_age, guardian_age = ages
    relation = RELATIONS[member.role]
    age = case.person.age_on(today) if case.person else None
    grown = age is not None and age >= own_age
    if not member.active or case.status in ENDED_STATUSES:
        sees = False
    elif relation == "person":
        sees = grown
    else:
        sees = age is None or age < guardian_age or bool(case.guardians_may_see)
    return Standing(case=case, member=member, relation=relation, age=age, sees=sees,
                    consents=sees and (grown if relation == "person" else not grown),
                    decides_for_guardians=sees and relation == "person" and age is not None and age >= guardian_age)


def guardian_kept_out(session: Session, case: Case, member: CaseMember, today: date) -> bool:
    """A guardian the young person has not let in (past ``guardian_access_consent_age``): told
    nothing about the group — no mail, no letter — as they see nothing of it."""
    if member.role != "foresatt" or case.person is None:
        return False
    return case.person.age_on(today) >= rules(session)[1] and not case.guardians_may_see


def standings(session: Session, user: User, today: date) -> list[Standing]:
    """Every case the citizen is linked to as an active member, newest first, seen or not (the
    page explains why not). A member row taken out of the group (a guardian who no longer has
    parental responsibility) does not even show that the group exists."""
    rows = session.execute(select(CaseMember, Case).join(Case, Case.id == CaseMember.case_id).where(
        CaseMember.user_id == user.id, CaseMember.role.in_(RELATIONS), CaseMember.active.is_(True))
        .order_by(Case.id.desc()))
    ages = rules(session)
    return [judge(case, member, today, ages) for member, case in rows]


def standing(session: Session, user: User, case_id: int, today: date) -> Standing | None:
    """The citizen's standing in ``case_id`` if they see it today, else None (a 404)."""
    for found in standings(session, user, today):
        if found.case.id == case_id and found.sees:
            return found
    return None


def person_side_members(session: Session, case: Case, today: date, *, acting: bool = False) -> list[CaseMember]:
    """The person's and guardians' active member rows that the age rules let see the group
    (``acting``: only who acts for the person: gives consent, writes the person's wishes)."""
    ages = rules(session)
    members = session.scalars(select(CaseMember).where(
        CaseMember.case_id == case.id, CaseMember.role.in_(RELATIONS), CaseMember.active.is_(True))
        .order_by(CaseMember.id))
    judged = [judge(case, m, today, ages) for m in members]
    return [s.member for s in judged if s.sees and (s.consents or not acting)]


def person_side(session: Session, case_id: int, today: date) -> list[int]:
    """Users who act for the person in the case today (the person's own steps, lane ``bruker``):
    the person from the own-access age, else the guardians who see the case."""
    case = session.get(Case, case_id)
    if case is None:
        return []
    return sorted({m.user_id for m in person_side_members(session, case, today, acting=True) if m.user_id})


def may_be_told(session: Session, case: Case, member: CaseMember, today: date) -> bool:
    """Whether a notice may go to this person-side member: they see the group today."""
    return judge(case, member, today, rules(session)).sees
