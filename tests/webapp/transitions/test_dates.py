"""The transitions that follow from the birth date (no database)."""
from datetime import date

import pytest

from webapp.transitions.dates import SCHOOL_YEAR_START, birthday, school_transitions


def test_school_stages_start_on_the_first_school_day_of_the_year_the_child_turns_6_13_and_16():
    assert SCHOOL_YEAR_START == (8, 15)
    assert school_transitions(date(2021, 3, 10)) == [
        ("school_start", date(2027, 8, 15)), ("lower_secondary", date(2034, 8, 15)),
        ("upper_secondary", date(2037, 8, 15)), ("adulthood", date(2039, 3, 10))]


@pytest.mark.parametrize("born, school_start, adult", [
    (date(2020, 12, 31), date(2026, 8, 15), date(2038, 12, 31)),  # turns 6 after the school year starts
    (date(2020, 1, 1), date(2026, 8, 15), date(2038, 1, 1)),
    (date(2020, 8, 20), date(2026, 8, 15), date(2038, 8, 20)),
])
def test_the_calendar_year_counts_not_the_birthday(born, school_start, adult):
    found = dict(school_transitions(born))
    assert found["school_start"] == school_start and found["adulthood"] == adult
    assert [kind for kind, _day in school_transitions(born)][-1] == "adulthood"


def test_born_on_29_february_comes_of_age_on_1_march_in_a_common_year():
    assert birthday(date(2020, 2, 29), 18) == date(2038, 3, 1)
    assert birthday(date(2020, 2, 29), 16) == date(2036, 2, 29)
