"""Setting meeting_interval_months (guidelines 000, 002): an active group whose last held meeting
(or activation) is older than the interval shows as due for a meeting on the case page and in the
register."""
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, complete, establish, municipality
from tests.webapp.meetings.helpers import hold_data, prepare
from tests.webapp.supervision.clock import noon, town_at_start
from webapp.clock import OSLO
from webapp.meetings.models import Meeting
from webapp.register.meeting_due import meeting_due_on
from webapp.settings.operations import change_setting
from webapp.supervision import rules


def test_the_interval_counts_from_the_meetings_own_date_on_every_page(app, services):
    """Minutes recorded ten days after the meeting: the register's last meeting is the meeting's
    own date, and the register, the case page and the cockpit all fall due from that date (they
    once counted from when the minutes were recorded, and the register from the meeting)."""
    town = town_at_start(services)
    case_id = establish(services, town)
    prepare(services, town, case_id)
    with services.db.session() as s:
        starts_at = s.scalar(select(Meeting.starts_at).where(Meeting.case_id == case_id, Meeting.status == "invited"))
    services.clock.set(starts_at + timedelta(days=10))  # the minutes, ten days after the meeting
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[]), town["siri"])
    with services.db.transaction() as s:
        change_setting(s, "meeting_interval_months", 1, at=services.clock.now(), actor_id=None)
    met = starts_at.astimezone(OSLO).date()
    due = met + relativedelta(months=1)

    def shown() -> tuple[bool, bool, list]:
        kari, ke = login_client(app, "kari", PASSWORD), login_client(app, "ke", PASSWORD)
        register = ke.get("/register").text
        assert f"{met:%d.%m.%Y}" in register  # the last meeting: its own date
        with services.db.session() as s:
            union = rules.stuck(rules.read_settings(s), services.clock.now(), services.clock.today(), ["meeting_due"])
            cockpit = [r.since for r in s.execute(select(union).where(union.c.case_id == case_id))]
        return 'id="meeting-due"' in kari.get(f"/saker/{case_id}").text, "møte forfalt" in register, cockpit

    services.clock.set(noon(due))
    assert shown() == (False, False, [])
    services.clock.set(noon(due + timedelta(days=1)))  # a month after the meeting, not after its minutes
    assert shown() == (True, True, [due])


def test_case_page_and_register_show_a_group_due_for_a_meeting(app, services, clock):
    users = municipality(services)
    case_id = establish(services, users)
    kari, ke = login_client(app, "kari", PASSWORD), login_client(app, "ke", PASSWORD)
    assert 'id="meeting-due"' not in kari.get(f"/saker/{case_id}").text
    assert "møte forfalt" not in ke.get("/register").text
    clock.set(clock.now() + relativedelta(months=6) + timedelta(days=2))  # default: every half year (002)
    with services.db.session() as s:
        assert meeting_due_on(s, case_id, today=clock.today()) is not None
    kari, ke = login_client(app, "kari", PASSWORD), login_client(app, "ke", PASSWORD)  # sessions expired
    assert 'id="meeting-due"' in kari.get(f"/saker/{case_id}").text
    assert "møte forfalt" in ke.get("/register").text
    with services.db.transaction() as s:  # 000 allows two meetings a year at the least
        change_setting(s, "meeting_interval_months", 12, at=clock.now(), actor_id=None)
    assert 'id="meeting-due"' not in kari.get(f"/saker/{case_id}").text
    assert "møte forfalt" not in ke.get("/register").text
