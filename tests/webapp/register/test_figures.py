"""The yearly figures, computed from status histories across year boundaries in Oslo."""
from datetime import datetime, timezone
from types import SimpleNamespace

from webapp.register.figures import active_intervals, year_bounds, year_figures

from tests.webapp.register.conftest import oslo


def test_figures_for_2026_count_each_group_by_its_history(services, seed):
    with services.db.session() as s:
        figures = year_figures(s, 2026)
    assert figures.active_groups == 6
    assert figures.with_individual_plan == 3  # A, C, J: adopted plans in force in 2026
    assert figures.with_relay_log == 1  # D's, ended with the group just after New Year (Oslo)
    assert figures.coordinators_by_kind == {"coordinator": 3, "child_coordinator": 1, "relay_holder": 1,
                                            "health_nurse": 2, "school": 0}
    assert figures.coordinator_persons == 3
    assert figures.started == 3
    assert figures.closed == 2


def test_figures_for_the_years_around(services, seed):
    with services.db.session() as s:
        before, after = year_figures(s, 2025), year_figures(s, 2027)
    # 2025: A and J started, D still active, E closed on New Year's Eve (Oslo)
    assert (before.active_groups, before.started, before.closed) == (4, 2, 1)
    assert before.coordinators_by_kind == {"coordinator": 3, "child_coordinator": 1, "relay_holder": 1,
                                           "health_nurse": 0, "school": 0}  # Lise and Per in J, Eva in E
    assert before.coordinator_persons == 4  # Kari, Lise, Per, Eva
    assert (before.with_individual_plan, before.with_relay_log) == (3, 1)  # A, E (ended on New Year's Eve), J; D
    # 2027: A, B, C2, J and I (started just after midnight, Oslo)
    assert (after.active_groups, after.started, after.closed) == (5, 1, 0)
    assert after.coordinators_by_kind["school"] == 1
    assert after.coordinators_by_kind["child_coordinator"] == 0  # Kari's appointment in A ended in 2026
    assert (after.with_individual_plan, after.with_relay_log) == (2, 0)  # A and J; C2 has none


def test_year_is_bounded_in_oslo_time():
    start, end = year_bounds(2026)
    assert start == datetime(2025, 12, 31, 23, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc)


def test_active_intervals_follow_the_changes_in_order():
    def change(frm, to, at):
        return SimpleNamespace(from_status=frm, to_status=to, at=at)
    t1, t2, t3 = oslo(2025, 1, 1), oslo(2025, 6, 1), oslo(2026, 1, 1)
    assert active_intervals([change(None, "requested", t1), change("requested", "active", t2)]) == [(t2, None)]
    assert active_intervals([change("active", "closed", t2)]) == [(None, t2)]  # history starting mid-way
    assert active_intervals([change(None, "requested", t1), change("requested", "active", t1),
                             change("active", "consent_withdrawn", t2), change("consent_withdrawn", "active", t3)]) \
        == [(t1, t2), (t3, None)]
    assert active_intervals([]) == []


def test_the_cache_computes_a_year_once_per_period(services, seed):
    from tests.statements import counting
    from webapp.register.figures import FiguresCache

    cache, now = FiguresCache(3600), services.clock.now()
    with services.db.session() as s:
        with counting(services.db.engine) as first:
            figures, at = cache.get(s, 2026, now)
        with counting(services.db.engine) as again:
            same, same_at = cache.get(s, 2026, now.replace(year=now.year + 1))
        with counting(services.db.engine) as other_year:
            cache.get(s, 2025, now)
        assert len(first) == 2 and len(again) == 0 and len(other_year) == 2
        assert (same, same_at) == (figures, at) and figures == year_figures(s, 2026)
        with counting(services.db.engine) as uncached:
            FiguresCache(0).get(s, 2026, now)
            FiguresCache(0).get(s, 2026, now)
        assert len(uncached) == 4
