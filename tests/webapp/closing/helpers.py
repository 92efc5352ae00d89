"""Closing a group through the case page and the closing episode."""
from __future__ import annotations

from tests.conftest import csrf_token
from tests.webapp.cases.helpers import complete

CONFIRM = {"confirmed": "ja", "confirmed_with": "Anne Berg", "reason": "Emma klarer seg godt uten gruppen",
           "closing_meeting": "nei"}
FINAL_MINUTES = {"present": "Kari, Siri, Anne", "summary": "Gruppen avsluttes etter god innsats",
                 "next_steps": "Skolen følger opp som vanlig"}


def request_closing(client, case_id: int, **overrides):
    token = csrf_token(client.get(f"/saker/{case_id}").text)
    data = {"initiated_by": "guardian", "requested_by_name": "Anne Berg",
            "request_reason": "Vi trenger ikke gruppen lenger", **overrides}
    return client.post(f"/saker/{case_id}/avslutt", data={**data, "csrf_token": token})


def confirm(services, users, case_id: int, today: str, **overrides):
    return complete(services, case_id, "confirm_closing", {**CONFIRM, "confirmed_on": today, **overrides}, users["kari"])
