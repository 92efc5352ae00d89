"""Consent withdrawal: one transaction that records it, stops the case's running and scheduled
episodes, starts the closing (guideline: the group cannot go on without consent) and tells the
coordinating unit."""
from __future__ import annotations


from webapp.cases import operations as ops
from webapp.cases.models import Case
from webapp.cases.roles import users_with_role
from webapp.closing.operations import OUTLIVES_GROUP, start_closing
from webapp.outbox.operations import Outbox


def withdraw(services, case_id: int, *, stated_by: str, reason: str, actor_id: int) -> None:
    with services.db.transaction(serialised=True) as s:
        case = s.get(Case, case_id)
        now = services.clock.now()
        instances = services.engine.lock_running(s, case_id)
        ops.withdraw_consent(s, case, stated_by=stated_by, reason=reason, at=now, actor_id=actor_id)
        for instance in instances:
            if instance.definition.process_id in OUTLIVES_GROUP:
                continue
            services.engine.cancel_in(s, instance, "Samtykket er trukket tilbake", actor_id=actor_id)
        services.engine.cancel_scheduled_in(s, case_id, reason="Samtykket er trukket tilbake", actor_id=actor_id,
                                            keep=OUTLIVES_GROUP)
        start_closing(s, case, initiated_by="consent_withdrawal", requested_by_name=stated_by,
                      request_reason=reason, at=now, actor_id=actor_id,
                      start_episode=services.engine.episode_starter(s, case.id, actor_id=actor_id))
        outbox = Outbox(s, services.clock, case.id)
        for user in users_with_role(s, "coordinating_unit"):
            if user.email:
                outbox.send(user.email, f"Samtykke trukket tilbake ({case.reference})",
                            f"Samtykket for ansvarsgruppe {case.reference} er trukket tilbake "
                            f"{now:%d.%m.%Y}. Medlemmenes tilgang er stengt, pågående prosesser er avbrutt og koordinator avslutter gruppen.")
