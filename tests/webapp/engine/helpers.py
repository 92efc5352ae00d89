from __future__ import annotations

from webapp.auth.operations import create_user
from webapp.cases.operations import add_member, open_case


def make_case(services, *, roles=("koordinator",), username="kari"):
    """A case with one user holding ``roles``; returns (case_id, user_id)."""
    with services.db.transaction() as s:
        now = services.clock.now()
        user = create_user(s, username, username.title() + " Testesen", "passord123", at=now,
                           email=f"{username}@example.org")
        case = open_case(s, "Testsak", at=now)
        for role in roles:
            add_member(s, case, user.full_name, role, at=now, user_id=user.id, email=user.email)
        return case.id, user.id
