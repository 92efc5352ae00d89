"""The transitions that follow from a person's birth date (guidelines 002 Salangen, 003 Lund:
kindergarten → primary → lower secondary → upper secondary → adult life)."""
from __future__ import annotations

from datetime import date

#: First school day of the Norwegian school year, taken as 15 August (month, day). Schools start in
#: the middle of August; the exact day varies a little between municipalities and years.
SCHOOL_YEAR_START = (8, 15)

#: Kind -> the age the child turns in the calendar year the school stage starts (school start the
#: year the child turns 6; lower secondary seven years later, upper secondary ten years later).
SCHOOL_STAGES = {"school_start": 6, "lower_secondary": 13, "upper_secondary": 16}

#: Age of majority in Norway.
ADULT_AGE = 18


def school_start_day(year: int) -> date:
    return date(year, *SCHOOL_YEAR_START)


def birthday(birth_date: date, age: int) -> date:
    """The day the person turns ``age``; born 29 February: 1 March in a common year (the day the
    full years have passed, as ``Person.age_on`` counts them)."""
    year = birth_date.year + age
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def school_transitions(birth_date: date) -> list[tuple[str, date]]:
    """(kind, day) of school start, lower and upper secondary (first school day of the calendar
    year the child turns 6, 13 and 16) and adulthood (the 18th birthday), in date order."""
    stages = [(kind, school_start_day(birth_date.year + age)) for kind, age in SCHOOL_STAGES.items()]
    return sorted(stages + [("adulthood", birthday(birth_date, ADULT_AGE))], key=lambda item: item[1])
