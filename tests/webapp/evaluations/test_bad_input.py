"""Bad input on the evaluation and need-check steps."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD, establish, municipality, open_task
from webapp.audit.models import AuditEvent
from webapp.clock import OSLO
from webapp.settings.operations import change_setting

FULL = {"composition": "Bra", "atmosphere": "Godt", "efficiency": "Effektivt", "work": "Fulgt opp",
        "persons_view": "Fornøyd"}
STEPS = {
    "evaluate": [
        ({}, "composition"),
        ({**FULL, "still_needed": "ja", "decision": "avslutte"}, "decision"),
        ({**FULL, "still_needed": "ja", "decision": "close"}, "decision_reason"),
        ({**FULL, "still_needed": "nei", "decision": "continue"}, "decision"),
        ({**FULL, "persons_view": "", "still_needed": "ja", "decision": "continue"}, "persons_view"),
    ],
    "need_check": [
        ({}, "persons_view"),
        ({"persons_view": "Ok", "still_needed": "kanskje", "decision": "continue"}, "still_needed"),
        ({"persons_view": "Ok", "still_needed": "ja", "decision": "change_composition"}, "decision_reason"),
    ],
}


@pytest.fixture
def users(services):
    return municipality(services)


@pytest.mark.parametrize("step", list(STEPS))
def test_bad_input_on_the_evaluation_steps(app, services, clock, users, step):
    if step == "need_check":
        with services.db.transaction() as s:
            change_setting(s, "evaluation_interval_months", "24", at=clock.now(), actor_id=None)
    clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=OSLO))
    case_id = establish(services, users, until="active")
    clock.set(datetime(2027, 1, 12, 9, 0, tzinfo=OSLO))
    services.engine.fire_due_timers()
    task = open_task(services, case_id, step)
    assert task is not None
    kari = login_client(app, "kari", PASSWORD)
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    page = kari.get(url)
    assert "Siden forrige evaluering" in page.text  # the context panel
    token = csrf_token(page.text)
    with services.db.session() as s:
        before = s.scalar(select(func.count(AuditEvent.id)))
    for data, field in STEPS[step]:
        response = kari.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 400, (data, response.status_code)
        assert f'id="f-{field}-err"' in response.text, field
        for key, value in data.items():
            if key not in ("still_needed", "decision"):
                assert value in response.text, key
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id))) == before
    assert open_task(services, case_id, step).task_id == task.task_id
