"""Registering a wish for a responsibility group and starting its establishment episode, in one
transaction."""
from __future__ import annotations

from datetime import date

from webapp.cases import operations as ops

ESTABLISHMENT = "establishment"


def register(services, data: dict, *, actor_id: int) -> tuple[int, str]:
    """Returns (case id, reference)."""
    with services.db.transaction(serialised=True) as s:
        case = ops.register_wish(
            s, full_name=data["full_name"], birth_date=date.fromisoformat(data["birth_date"]),
            national_id=data.get("national_id"), phone=data.get("phone"), email=data.get("email"),
            address=data.get("address"), requested_by_kind=data["requested_by_kind"],
            requested_by_name=data.get("requested_by_name"), wish=data.get("wish"),
            relatives=data.get("guardians") or [], at=services.clock.now(), actor_id=actor_id)
        services.engine.start_in(s, case.id, ESTABLISHMENT, actor_id=actor_id,
                                 data={"wish": data.get("wish"), "person_name": data["full_name"]})
        return case.id, case.reference
