"""Meeting documents for a responsibility group (ansvarsgruppe).

* the invitation as an iCalendar object (RFC 5545 / iTIP REQUEST or CANCEL) for e-mail,
* the invitation as a printable letter (HTML and PDF) for members without e-mail,
* the minutes (referat) as a standalone HTML document and a PDF for the case archive, with
  exactly the sections of guideline 002's checklist (empty sections say "Ingen"),
* warnings for unusual meeting days (Norwegian public holidays and weekends).

Everything here is a pure function of the dataclasses below; nothing touches the database.
The HTML/PDF renderers need a Flask request context (templates use Flask-Babel's ``_()``).
The PDFs are rendered with the print stylesheet inlined and a URL fetcher that refuses every
URL, so rendering never touches the network or the file system.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from webapp.clock import OSLO

import holidays
import jinja2
from flask import has_request_context
from flask_babel import gettext, ngettext
from icalendar import Alarm, Calendar, Event, vCalAddress, vText
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher

PRODID = "-//ansvarsgruppe//NO"
PRINT_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "print.css"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

__all__ = [
    "AgendaItemLine", "MeasureLine", "MeetingInfo", "MinutesDoc", "Person",
    "RefusingURLFetcher", "html_to_pdf", "invitation_ics", "invitation_letter_pdf", "minutes_pdf",
    "print_css", "public_holiday_name", "render_document", "render_invitation_letter_html", "render_minutes_html",
    "unusual_meeting_day",
]


def _(message: str, **variables) -> str:
    """gettext that also works outside a request (e.g. the outbox worker building an .ics):
    there the Norwegian source text is used. Named ``_`` so pybabel extracts the strings."""
    if has_request_context():
        return gettext(message, **variables)
    return message % variables if variables else message


# --- data ------------------------------------------------------------------------------------

@dataclass
class Person:
    name: str
    email: str | None = None
    role: str | None = None  # Norwegian label such as "Koordinator"


@dataclass
class MeetingInfo:
    uid: str                      # stable, e.g. "meeting-12@ansvarsgruppe"
    case_reference: str           # e.g. "AG-2026-0004"
    title: str                    # e.g. "Ansvarsgruppemøte for Jonas Lie"
    starts_at: datetime           # timezone-aware (UTC)
    duration_minutes: int
    place: str | None
    video_link: str | None
    organizer: Person             # the coordinator
    attendees: list[Person]
    agenda: list[str]
    sequence: int = 0             # iCalendar SEQUENCE (bump on every change, also on cancel)
    cancelled: bool = False
    notes: str | None = None


@dataclass
class MeasureLine:
    what: str
    responsible: str
    deadline: date | None
    status: str | None = None     # "done" | "not_done" | None (not assessed)
    reason: str | None = None     # why it was not done


@dataclass
class CorrectionLine:
    """One round of the approval that ended in corrections: the remarks, and what was corrected."""
    at: datetime | None
    remarks: list[tuple[str, str]]    # (member name, remark)
    correction: str
    corrected_by: str | None = None


@dataclass
class AgendaItemLine:
    title: str
    discussion: str | None
    conclusion: str | None


@dataclass
class MinutesDoc:
    case_reference: str
    title: str
    meeting_number: int
    starts_at: datetime
    duration_minutes: int
    place: str | None
    video_link: str | None
    present: list[Person]
    absent: list[tuple[Person, str | None]]       # (person, reason)
    minute_taker: str
    previous_minutes_approved: bool | None        # None: no previous minutes
    previous_minutes_comments: str | None
    previous_measures: list[MeasureLine]
    persons_account: str | None                   # the person's own description, first
    services_account: str | None                  # then the services' supplement
    items: list[AgendaItemLine]
    new_measures: list[MeasureLine]
    summary: str | None
    next_meeting_on: date | None
    next_meeting_theme: str | None
    recipients: list[tuple[Person, str]]          # (person, how: "email" | "letter")
    first_meeting_rules_reviewed: bool | None = None   # None = not a first meeting
    approved_at: datetime | None = None
    approval_note: str | None = None
    corrections: list[CorrectionLine] = field(default_factory=list)


# --- time helpers ----------------------------------------------------------------------------

def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("meeting times must be timezone-aware (UTC)")
    return value


def _local(value: datetime) -> datetime:
    return _aware(value).astimezone(OSLO)


def _date_no(value: date | datetime | None) -> str:
    """dd.mm.yyyy (a datetime is first converted to Oslo time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return value.strftime("%d.%m.%Y")


def _time_no(value: datetime) -> str:
    return _local(value).strftime("%H:%M")


def _now(now: datetime | None) -> datetime:
    return _aware(now) if now is not None else datetime.now(timezone.utc)


# --- iCalendar -------------------------------------------------------------------------------

def _address(person: Person) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    return address


def _location(meeting: MeetingInfo) -> str | None:
    parts = [p.strip() for p in (meeting.place, meeting.video_link) if p and p.strip()]
    return " / ".join(parts) or None


def _description(meeting: MeetingInfo) -> str:
    lines: list[str] = []
    if meeting.cancelled:
        lines += [_("Møtet er avlyst."), ""]
    lines.append(_("Saksliste:"))
    if meeting.agenda:
        lines += [f"{number}. {item}" for number, item in enumerate(meeting.agenda, start=1)]
    else:
        lines.append(_("Ingen"))
    if meeting.video_link:
        lines += ["", _("Videolenke: %(link)s", link=meeting.video_link)]
    if meeting.notes:
        lines += ["", meeting.notes]
    lines += ["", _("Saksreferanse: %(ref)s", ref=meeting.case_reference)]
    return "\n".join(lines)


def invitation_ics(meeting: MeetingInfo, *, now: datetime | None = None) -> bytes:
    """The invitation as an iCalendar object: METHOD:REQUEST, or METHOD:CANCEL with
    STATUS:CANCELLED when ``meeting.cancelled``. Times are written in Europe/Oslo with a
    VTIMEZONE. Attendees without an e-mail address are left out (they get a letter).
    ``now`` (UTC) is the DTSTAMP; default the wall clock (pass the app clock's ``now()``)."""
    start = _local(meeting.starts_at)
    end = start + timedelta(minutes=meeting.duration_minutes)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if meeting.cancelled else "REQUEST")

    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", _now(now).astimezone(timezone.utc))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", meeting.title)
    location = _location(meeting)
    if location:
        event.add("location", location)
    event.add("description", _description(meeting))
    if meeting.organizer.email:
        event.add("organizer", _address(meeting.organizer))
    for person in meeting.attendees:
        if not person.email:
            continue
        attendee = _address(person)
        attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = vText("NEEDS-ACTION")
        attendee.params["RSVP"] = vText("TRUE")
        event.add("attendee", attendee, encode=0)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if meeting.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if not meeting.cancelled:  # no reminder for a meeting that will not take place
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(days=-1))
        alarm.add("description", _("Påminnelse: %(title)s", title=meeting.title))
        event.add_component(alarm)
    calendar.add_component(event)

    # VTIMEZONE for Europe/Oslo built from zoneinfo, covering the year before to the year after
    # the meeting (keeps the object small; clients only need the transitions around the event).
    calendar.add_missing_timezones(first_date=date(start.year - 1, 1, 1),
                                   last_date=date(end.year + 2, 1, 1))
    return calendar.to_ical()


# --- HTML and PDF ----------------------------------------------------------------------------

class RefusingURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that fetches nothing: no network, no files, no data: URLs.

    WeasyPrint 70 expects a URLFetcher *instance* (its fetch wrapper reads
    ``url_fetcher._fail_on_errors``), so this subclasses URLFetcher instead of being a plain
    function. Refused URLs are recorded in ``refused``; WeasyPrint logs a warning and renders on.
    """

    def __init__(self):
        super().__init__(allowed_protocols=(), fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        self.refused.append(url)
        raise ValueError(f"fetching resources is disabled: {url}")


@functools.lru_cache(maxsize=1)
def _print_css_text() -> str:
    return PRINT_CSS.read_text(encoding="utf-8")


def print_css() -> Markup:
    """The print stylesheet, for inlining in a <style> element (it is our own file)."""
    return Markup(_print_css_text().replace("</", "<\\/"))


def _ngettext(singular: str, plural: str, num: int, **variables) -> str:
    if has_request_context():
        return ngettext(singular, plural, num, **variables)
    return (singular if num == 1 else plural) % {"num": num, **variables}


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """A Jinja environment of our own: documents are also made by the worker and by service
    tasks, where there is no Flask app or request (Flask's render_template needs one)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(default=True))
    env.globals.update(_=_, gettext=_, ngettext=_ngettext)
    return env


def render_document(template: str, **context) -> str:
    """A print document (print CSS inlined, Norwegian date/time helpers) from a template."""
    return _environment().get_template(template).render(css=print_css(), fmt_date=_date_no,
                                                        fmt_time=_time_no, **context)


def html_to_pdf(html: str, fetcher: URLFetcher | None = None) -> bytes:
    """Render standalone HTML to PDF without fetching anything. The PDF title comes from the
    document's <title>, author/keywords/created from its <meta> elements."""
    return HTML(string=html, base_url=None, url_fetcher=fetcher or RefusingURLFetcher()).write_pdf()


def render_minutes_html(doc: MinutesDoc) -> str:
    """The minutes as a complete standalone HTML document (print CSS inlined)."""
    start = _local(doc.starts_at)
    end = start + timedelta(minutes=doc.duration_minutes)
    return render_document("meetings/minutes_document.html", doc=doc, start=start, end=end,
                   approved_at=_local(doc.approved_at) if doc.approved_at else None)


def minutes_pdf(doc: MinutesDoc) -> bytes:
    return html_to_pdf(render_minutes_html(doc))


def render_invitation_letter_html(meeting: MeetingInfo, recipient: Person, *,
                                  letter_date: date | None = None) -> str:
    """The invitation as a printable letter to one recipient. ``letter_date`` defaults to
    today in Oslo."""
    start = _local(meeting.starts_at)
    end = start + timedelta(minutes=meeting.duration_minutes)
    if letter_date is None:
        letter_date = datetime.now(timezone.utc).astimezone(OSLO).date()
    return render_document("meetings/invitation_letter.html", meeting=meeting, recipient=recipient,
                   start=start, end=end, letter_date=letter_date)


def invitation_letter_pdf(meeting: MeetingInfo, recipient: Person, *,
                          letter_date: date | None = None) -> bytes:
    return html_to_pdf(render_invitation_letter_html(meeting, recipient, letter_date=letter_date))


# --- unusual meeting days --------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _norwegian_holidays(year: int) -> holidays.HolidayBase:
    supported = getattr(holidays.Norway, "supported_languages", ()) or ()
    kwargs = {"language": "no"} if "no" in supported else (
        {"language": "en_US"} if "en_US" in supported else {})
    # include_sundays=False: ordinary Sundays are not public holidays here (it is the default,
    # spelled out because older versions of the package counted every Sunday).
    return holidays.Norway(years=year, include_sundays=False, **kwargs)


def public_holiday_name(day: date) -> str | None:
    """The public holiday's name (Norwegian where the holidays package has it), or None.
    Ordinary Sundays are not holidays."""
    if isinstance(day, datetime):
        day = day.date()
    return _norwegian_holidays(day.year).get(day)


def unusual_meeting_day(day: date) -> str | None:
    """Why a meeting on ``day`` deserves a warning: the holiday's name, "lørdag" or "søndag";
    None for an ordinary weekday."""
    if isinstance(day, datetime):
        day = day.date()
    name = public_holiday_name(day)
    if name:
        return name
    if day.weekday() == 5:
        return _("lørdag")
    if day.weekday() == 6:
        return _("søndag")
    return None
