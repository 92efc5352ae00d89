"""Setting meeting_interval_months (guidelines 000, 002): an active group whose last held meeting
(or activation) is older than the interval shows as due for a meeting on the case page and in the
register."""
from datetime import date, datetime, timedelta, timezone

from dateutil.relativedelta import relativedelta

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, establish, municipality
from webapp.register.meeting_due import due_since, meeting_due_on
from webapp.settings.operations import change_setting


def test_due_since():
    activated = datetime(2026, 1, 10, 9, tzinfo=timezone.utc)
    assert due_since(None, activated, months=6, today=date(2026, 7, 10)) is None  # on the day: not yet
    assert due_since(None, activated, months=6, today=date(2026, 7, 11)) == date(2026, 7, 10)
    held = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    assert due_since(held, activated, months=6, today=date(2026, 7, 11)) is None  # the last meeting counts
    assert due_since(None, None, months=6, today=date(2026, 7, 11)) is None


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
