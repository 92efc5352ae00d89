"""Upkeep after an upgrade: groups that became active before the evaluation cycle and the
transition reviews existed get them scheduled. Such a group has no evaluation row at all (every
group activated since has one from its first cycle), so a normal start costs one query.
Persons whose national identity number was stored before its keyed digest existed (migration
0010) get the digest, so their ID-porten login finds them; only the app holds the key.
Idempotent; `serve`, `demo` and `processes deploy` run it."""
from __future__ import annotations

from sqlalchemy import exists, select

from webapp.cases import identity
from webapp.cases.models import Case, Person
from webapp.closing.queries import open_closure
from webapp.evaluations import operations as evaluation_ops
from webapp.evaluations.models import Evaluation
from webapp.transitions.operations import plan_from_birth_date


def start_missing_cycles(services) -> int:
    """Returns how many episodes were scheduled (a review whose day has passed starts at once; an
    evaluation already due starts on the worker's next round)."""
    with services.db.session() as s:
        waiting = list(s.scalars(select(Case.id).where(
            Case.status == "active", ~exists().where(Evaluation.case_id == Case.id))))
    scheduled = 0
    for case_id in waiting:
        with services.db.transaction(serialised=True) as s:
            case = s.get(Case, case_id)
            if case.status != "active" or open_closure(s, case_id) is not None or \
                    s.scalar(select(Evaluation.id).where(Evaluation.case_id == case_id).limit(1)) is not None:
                continue  # changed since the first read
            now, today = services.clock.now(), services.clock.today()
            schedule = services.engine.episode_scheduler(s, case_id, actor_id=None)
            evaluation_ops.schedule(s, case, at=now, today=today, actor_id=None, schedule_episode=schedule)
            scheduled += 1 + plan_from_birth_date(
                s, case, today=today, at=now, actor_id=None, schedule_episode=schedule,
                start_episode=services.engine.episode_starter(s, case_id, actor_id=None))
    return scheduled


def fill_national_id_digests(services) -> int:
    """The keyed digest for every person stored with a number but without it; returns how many."""
    with services.db.transaction() as s:
        persons = list(s.scalars(select(Person).where(Person.national_id.is_not(None),
                                                      Person.national_id_digest.is_(None))))
        for person in persons:
            person.national_id_digest = identity.digest(person.national_id)
    return len(persons)
