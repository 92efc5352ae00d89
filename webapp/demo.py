"""Demo data: one user per persona and a few cases in different states."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.operations import add_member, open_case

DEMO_PASSWORD = "demo1234"

#: username, full name, system roles, description shown on the login page
DEMO_USERS = [
    ("kari", "Kari Koordinator", ("staff",), "Koordinator (saksbehandler)"),
    ("ola", "Ola Helsesykepleier", ("staff",), "Medlem av ansvarsgrupper (helsestasjonen)"),
    ("siri", "Siri Skole", ("staff",), "Medlem av ansvarsgrupper (skolen)"),
    ("ke", "Kjell Koordinerende enhet", ("staff", "coordinating_unit"), "Koordinerende enhet"),
    ("system", "Sara Systemansvarlig", ("staff", "system_owner"), "Systemansvarlig (tilsyn)"),
    ("prosess", "Per Prosesseier", ("process_owner",), "Prosesseier (diagrammer og skjemaer)"),
    ("admin", "Anne Administrator", ("admin",), "Administrator"),
]


def seed(app: Flask) -> bool:
    """Create demo users and cases once. Returns False if the demo was already seeded."""
    services = app.extensions["ansvarsgruppe"]
    with services.db.transaction() as s:
        if s.scalar(select(User.id).where(User.username == "kari")) is not None:
            return False
        now = services.clock.now()
        users = {}
        for username, name, roles, _description in DEMO_USERS:
            users[username] = create_user(s, username, name, DEMO_PASSWORD, roles=roles, at=now,
                                          email=f"{username}@demo.kommune.no")
        cases = []
        for title in ("Ansvarsgruppe for Emma (7 år)", "Ansvarsgruppe for Jonas (15 år)"):
            case = open_case(s, title, at=now, actor_id=users["kari"].id)
            add_member(s, case, users["kari"].full_name, "koordinator", at=now,
                       user_id=users["kari"].id, email=users["kari"].email)
            add_member(s, case, users["ola"].full_name, "medlem", at=now,
                       user_id=users["ola"].id, email=users["ola"].email)
            cases.append(case.id)
    for case_id in cases:
        services.engine.start(case_id, "establishment", actor_id=None)
    return True
