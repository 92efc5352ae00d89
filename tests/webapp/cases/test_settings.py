"""Where the guidelines differ, municipality settings decide (shared/seeds/INDEX.md)."""
from datetime import date

import pytest

from tests.webapp.cases.helpers import municipality, open_task, wish
from webapp.cases.models import Case
from webapp.settings.operations import change_setting, get_setting
from webapp.taskforms.options import option_source


@pytest.fixture
def users(services):
    return municipality(services)


def kinds(services, case_id, today=date(2026, 11, 23)):
    with services.db.session() as s:
        return [value for value, _label in option_source(s, s.get(Case, case_id), today)("coordinator_kinds")]


def set_(services, key, value):
    with services.db.transaction() as s:
        change_setting(s, key, value, at=services.clock.now(), actor_id=None)


def test_defaults_follow_guideline_002(services, users):
    with services.db.session() as s:
        assert get_setting(s, "notice_days") == 14 and get_setting(s, "uses_relay_log") is False
    child = wish(services, users, born="2019-05-20")
    adult = wish(services, users, name="Jonas Lie", born="2000-01-01")
    assert kinds(services, child) == ["coordinator", "child_coordinator"]
    assert kinds(services, adult) == ["coordinator"]


def test_relay_holder_can_lead_where_the_relay_log_is_used(services, users):
    set_(services, "uses_relay_log", True)
    child = wish(services, users, born="2019-05-20")
    adult = wish(services, users, name="Jonas Lie", born="2000-01-01")
    assert "relay_holder" in kinds(services, child)
    assert "relay_holder" not in kinds(services, adult)  # 0-18 only


def test_leader_by_age_stage(services, users):
    set_(services, "leader_by_age_stage", True)
    assert kinds(services, wish(services, users, born="2023-01-01")) == ["health_nurse"]
    assert kinds(services, wish(services, users, name="B", born="2015-01-01")) == ["school"]
    assert kinds(services, wish(services, users, name="C", born="2008-01-01")) == ["coordinator"]


def test_without_a_coordinating_unit_the_receiving_service_appoints(services, users):
    set_(services, "coordinating_unit_appoints", False)
    case_id = wish(services, users)  # registered by Ola
    task = open_task(services, case_id, "appoint")
    assert task.assignee_id == users["ola"] and not task.orphaned


def test_invalid_setting_values_are_refused(services, users):
    with services.db.transaction() as s:
        with pytest.raises(ValueError):
            change_setting(s, "notice_days", -1, at=services.clock.now(), actor_id=None)
        with pytest.raises(ValueError):
            change_setting(s, "uses_relay_log", "ja", at=services.clock.now(), actor_id=None)
