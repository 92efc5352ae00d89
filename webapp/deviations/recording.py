"""Recording a deviation and starting its follow-up episode, in one transaction."""
from __future__ import annotations

from datetime import date, timedelta

from webapp.cases.models import Case
from webapp.cases.operations import DomainError
from webapp.clock import OSLO
from webapp.deviations import operations as ops
from webapp.settings.operations import get_setting

DEVIATION = "deviation"


def report(services, case_id: int, data: dict, *, reporter_id: int, reporter_name: str) -> int:
    """Returns the deviation's id. The follow-up deadline is read from the settings now, so a
    later change of ``deviation_followup_days`` applies to deviations recorded after it."""
    with services.db.transaction(serialised=True) as s:
        case = s.get(Case, case_id)
        if case is None:
            raise DomainError("Saken finnes ikke.")
        now = services.clock.now()
        happened_on = date.fromisoformat(data["happened_on"]) if data.get("happened_on") else None
        deviation = ops.record_deviation(s, case, title=data["title"], description=data["description"],
                                         happened_on=happened_on, reported_by_id=reporter_id,
                                         reported_by_name=reporter_name, at=now)
        days = int(get_setting(s, "deviation_followup_days"))
        started = services.engine.start_in(s, case.id, DEVIATION, actor_id=reporter_id, data={
            "deviation_id": deviation.id, "followup_days": days,
            "followup_due": (now + timedelta(days=days)).isoformat(),
            "reported_on": now.astimezone(OSLO).strftime("%d.%m.%Y"),
        })
        deviation.instance_id = started.instance_id
        return deviation.id
