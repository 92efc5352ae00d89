"""Bounded ISO 8601 dates, durations and cycles for timers.

Used both by deploy-time validation (``timer_value_problem``) and by the runtime timers. Diagram
authors are untrusted, so every value is checked against ``TimerLimits`` *before* any arithmetic
whose cost depends on the numbers in it (SpiffWorkflow's own ``get_timedelta_from_start`` loops
once per month, so ``P99999999Y`` would hang it; it is never called). Text is limited in length,
parsed with anchored regular expressions without nested repetition, and numbers are compared as
``Decimal`` values of at most a few dozen digits.

Time zones: naive dates and times are Europe/Oslo wall time. Years, months, weeks and days of a
duration are calendar units (added on the Oslo wall clock, so "P1D" from 09:00 is 09:00 the next
day across a DST change); hours, minutes and seconds are exact elapsed time.

Messages are Norwegian bokmål (process owners read them; the engine has no gettext) and say
what to write instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

OSLO = ZoneInfo("Europe/Oslo")

#: Longest timer text accepted (characters); longer values are refused before any parsing.
MAX_TEXT = 64


class DurationError(ValueError):
    """A timer value that is malformed or outside the limits; ``message`` is plain Norwegian."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TimerLimits:
    max_duration_days: int = 3700          # ~10 years; durations longer are refused
    max_cycle_repetitions: int = 1000      # R<n>/...: n bounded; unbounded "R/..." is refused
    min_cycle_interval_seconds: int = 60   # cycles firing more often are refused
    max_year: int = 2200                   # timeDate values beyond are refused


DEFAULT_TIMER_LIMITS = TimerLimits()

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION_RE = re.compile(
    rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:(T)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?",
    re.IGNORECASE,
)
_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
# Upper estimate of each unit in days, for the bound check before any date arithmetic.
_DAYS_PER_UNIT = {
    "years": Decimal("365.25"), "months": Decimal(31), "weeks": Decimal(7), "days": Decimal(1),
    "hours": Decimal(1) / 24, "minutes": Decimal(1) / 1440, "seconds": Decimal(1) / 86400,
}
_EXAMPLES = "for eksempel P14D, PT2H eller P1Y2M"
#: what each kind of timer value is called in messages: (indefinite, definite)
_WHAT = {"duration": ("en varighet", "varigheten"), "cycle": ("en gjentakelse", "gjentakelsen"),
         "date": ("en dato", "datoen")}
_UNIT_NAMES = {"years": "år", "months": "måneder"}


def quote(text: str) -> str:
    """The author's value for a message: quoted, cut short, without control characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return "«" + text[:40] + ("…" if len(text) > 40 else "") + "»"


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        example = {"duration": _EXAMPLES, "cycle": "for eksempel R5/PT1H"}.get(
            what, "for eksempel 2026-03-01T09:00")
        raise DurationError(f"{_WHAT[what][1]} må være tekst i anførselstegn, {example}")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise DurationError(f"{quote(text)} er for lang til å være {_WHAT[what][0]} "
                            f"(høyst {MAX_TEXT} tegn)")
    return text


def _describe_days(days: int) -> str:
    if days >= 365:
        years = Decimal(days) / Decimal("365.25")
        return f"{int(years.to_integral_value())} år ({days} dager)"
    return "1 dag" if days == 1 else f"{days} dager"


def _components(text: str, limits: TimerLimits) -> dict[str, Decimal]:
    """The bounded numeric components of an ISO 8601 duration (no arithmetic on dates yet)."""
    if text.startswith("-"):
        raise DurationError(f"{quote(text)} er negativ; en varighet må være null eller mer")
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise DurationError(f"{quote(text)} er ikke en ISO 8601-varighet; skriv {_EXAMPLES}")
    groups = match.groups()
    has_t = groups[4] is not None
    raw = dict(zip(_UNITS, groups[:4] + groups[5:]))
    values = {unit: Decimal(v.replace(",", ".")) for unit, v in raw.items() if v is not None}
    if not values:
        raise DurationError(f"{quote(text)} mangler et tall; skriv for eksempel P14D eller PT2H")
    if has_t and not any(unit in values for unit in ("hours", "minutes", "seconds")):
        raise DurationError(f"{quote(text)} har en T uten timer (H), minutter (M) eller sekunder (S) etter seg")
    for unit in ("years", "months"):
        if unit in values and values[unit] != values[unit].to_integral_value():
            raise DurationError(f"{quote(text)}: {_UNIT_NAMES[unit]} må være hele tall "
                                f"(bruk dager eller timer for deler)")
    fractions = [unit for unit, v in values.items() if v != v.to_integral_value()]
    if fractions and (len(fractions) > 1 or fractions[0] != [u for u in _UNITS if u in values][-1]):
        raise DurationError(f"{quote(text)}: bare den siste delen av en varighet kan ha desimaler")
    limit = Decimal(limits.max_duration_days)
    total = Decimal(0)
    for unit, value in values.items():
        # Each component is compared on its own first, so no sum grows past the bound either.
        days = value * _DAYS_PER_UNIT[unit]
        if days > limit:
            break
        total += days
    else:
        if total <= limit:
            return values
    raise DurationError(f"{quote(text)} er lengre enn de tillatte {_describe_days(limits.max_duration_days)}")


def _relativedelta(values: dict[str, Decimal]) -> relativedelta:
    kwargs = {}
    for unit, value in values.items():
        kwargs[unit] = int(value) if value == value.to_integral_value() else float(value)
    return relativedelta(**kwargs)


def parse_duration(text: str, limits: TimerLimits = DEFAULT_TIMER_LIMITS) -> relativedelta:
    """P[nY][nM][nW][nD][T[nH][nM][nS]] within ``limits``; raises DurationError."""
    return _relativedelta(_components(_text(text, "duration"), limits))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=OSLO)


def _add(start: datetime, values: dict[str, Decimal]) -> datetime:
    """start + bounded duration: calendar units on the Oslo wall clock, the rest exactly."""
    calendar = {u: values[u] for u in ("years", "months", "weeks", "days") if u in values}
    exact = {u: values[u] for u in ("hours", "minutes", "seconds") if u in values}
    # A fractional day is exact time (1.5 days = one calendar day and 12 hours).
    for unit in ("weeks", "days"):
        value = calendar.get(unit)
        if value is not None and value != value.to_integral_value():
            whole = int(value)
            calendar[unit] = Decimal(whole)
            exact["hours"] = exact.get("hours", Decimal(0)) + (value - whole) * (168 if unit == "weeks" else 24)
    try:
        local = _aware(start).astimezone(OSLO)
        wall = local.replace(tzinfo=None) + _relativedelta(calendar)
        moved = wall.replace(tzinfo=OSLO).astimezone(timezone.utc)
        seconds = sum(v * {"hours": 3600, "minutes": 60, "seconds": 1}[u] for u, v in exact.items())
        result = moved + timedelta(seconds=float(seconds))
        return result.astimezone(start.tzinfo or OSLO)
    except (OverflowError, ValueError):
        raise DurationError("tidspunktet ville havnet utenfor kalenderen") from None


def add_duration(start: datetime, text: str, limits: TimerLimits = DEFAULT_TIMER_LIMITS) -> datetime:
    """``start`` plus the duration ``text``, in ``start``'s time zone (a naive start is taken as
    Oslo time and the result is then Oslo time too). Raises DurationError."""
    return _add(start, _components(_text(text, "duration"), limits))


def _not_a_date(text: str) -> str:
    return f"{quote(text)} er ikke en ISO 8601-dato; skriv for eksempel 2026-03-01 eller 2026-03-01T09:00"


def parse_moment(text: str, limits: TimerLimits = DEFAULT_TIMER_LIMITS) -> datetime:
    """An ISO 8601 date or date-time (also week dates such as 2026-W05-3) as an aware UTC
    datetime. Naive values are Oslo time; a plain date means midnight in Oslo."""
    text = _text(text, "date")
    if text[:1] in "+-" or not re.match(r"\d{4}", text):
        raise DurationError(_not_a_date(text))
    year = int(text[:4])
    if year > limits.max_year:
        raise DurationError(f"{quote(text)} er etter år {limits.max_year}, det seneste som er tillatt")
    if year < 1900:
        raise DurationError(f"{quote(text)} er før år 1900, det tidligste som er tillatt")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DurationError(_not_a_date(text)) from None
    return _aware(moment).astimezone(timezone.utc)


def parse_cycle(text: str, now: datetime,
                limits: TimerLimits = DEFAULT_TIMER_LIMITS) -> tuple[int, datetime, timedelta]:
    """``R<n>/<duration>`` or ``R<n>/<start>/<duration>`` as (repetitions, first due time in UTC,
    interval). Without a start the first repetition is due one interval after ``now``. An
    interval in years, months, weeks or days is measured from the first due time on the Oslo
    calendar and then repeats as that fixed length."""
    text = _text(text, "cycle")
    example = "for eksempel R5/PT1H eller R3/2026-03-01T09:00/P1D"
    parts = text.split("/")
    if not parts[0][:1] in ("R", "r") or len(parts) not in (2, 3):
        raise DurationError(f"{quote(text)} er ikke en ISO 8601-gjentakelse; skriv {example}")
    count = parts[0][1:]
    if count in ("", "-1"):
        raise DurationError(f"{quote(text)} gjentas i det uendelige; skriv antall gjentakelser "
                            f"(høyst {limits.max_cycle_repetitions}), for eksempel R5/P1D")
    if not count.isdigit() or not count.isascii():
        raise DurationError(f"{quote(text)} er ikke en ISO 8601-gjentakelse; skriv {example}")
    if len(count) > 9 or int(count) > limits.max_cycle_repetitions:
        raise DurationError(f"{quote(text)} gjentas flere enn de tillatte {limits.max_cycle_repetitions} gangene")
    repetitions = int(count)
    if repetitions < 1:
        raise DurationError(f"{quote(text)} gjentas aldri; bruk R1 eller mer")
    if len(parts) == 3:
        if parts[1][:1] in ("P", "p"):
            raise DurationError(f"{quote(text)}: skriv starttidspunktet før varigheten, {example}")
        start = parse_moment(parts[1], limits)
        duration = parts[2]
    else:
        start = None
        duration = parts[1]
    values = _components(_text(duration, "duration"), limits)
    base = start if start is not None else _aware(now).astimezone(timezone.utc)
    next_time = _add(base, values).astimezone(timezone.utc)
    interval = next_time - base
    if interval.total_seconds() < limits.min_cycle_interval_seconds:
        raise DurationError(f"{quote(text)} gjentas oftere enn tillatt (høyst én gang per "
                            f"{_describe_seconds(limits.min_cycle_interval_seconds)})")
    first = start if start is not None else next_time
    try:
        last = first + interval * (repetitions - 1)
    except OverflowError:
        last = None
    if last is None or last.year > limits.max_year:
        raise DurationError(f"{quote(text)} ville fortsatt gjentas etter år {limits.max_year}")
    return repetitions, first, interval


def _describe_seconds(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 time" if hours == 1 else f"{hours} timer"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "1 minutt" if minutes == 1 else f"{minutes} minutter"
    return "1 sekund" if seconds == 1 else f"{seconds} sekunder"


def timer_value_problem(kind: str, value: str, limits: TimerLimits = DEFAULT_TIMER_LIMITS) -> str | None:
    """None if ``value`` is a usable timer value of ``kind`` ("date", "duration" or "cycle"),
    else a plain Norwegian message saying what to change."""
    try:
        if kind == "date" and isinstance(value, (datetime, date)):
            if value.year > limits.max_year:
                return f"datoen er etter år {limits.max_year}, det seneste som er tillatt"
        elif kind == "date":
            parse_moment(value, limits)
        elif kind == "duration":
            parse_duration(value, limits)
        elif kind == "cycle":
            parse_cycle(value, datetime.now(timezone.utc), limits)
        else:
            raise ValueError(f"unknown timer kind {kind!r}")
    except DurationError as exc:
        return exc.message
    return None
