"""Meeting documents: the iCalendar invitation, the printed invitation letter, the minutes
(HTML and PDF), and warnings for unusual meeting days. Real icalendar / WeasyPrint / pypdf, no
mocks. Rendering tests use the ``app`` fixture (a request context for Flask-Babel)."""
from __future__ import annotations

import io
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from webapp.meetings.documents import (
    AgendaItemLine, MeasureLine, MeetingInfo, MinutesDoc, Person, RefusingURLFetcher, html_to_pdf,
    invitation_ics, invitation_letter_pdf, minutes_pdf, public_holiday_name,
    render_invitation_letter_html, render_minutes_html, unusual_meeting_day,
)

COORDINATOR = Person("Kari Nordmann", "kari.nordmann@kommune.example", "Koordinator")
TEACHER = Person("Øystein Ås", "oystein.as@skole.example", "Tjenesteyter")
PERSON = Person("Jonas Lie", None, "Personen selv")
WINTER = datetime(2026, 1, 14, 8, 0, tzinfo=timezone.utc)    # 09:00 in Oslo (CET, +01:00)
SUMMER = datetime(2026, 6, 10, 7, 30, tzinfo=timezone.utc)   # 09:30 in Oslo (CEST, +02:00)
HOSTILE = '<img src="http://example.invalid/x.png">'


def meeting(**changes) -> MeetingInfo:
    values = dict(
        uid="meeting-12@ansvarsgruppe", case_reference="AG-2026-0004",
        title="Ansvarsgruppemøte for Jonas Lie", starts_at=WINTER, duration_minutes=90,
        place="Rådhuset, møterom 2", video_link="https://video.example/rom/ag-4",
        organizer=COORDINATOR, attendees=[COORDINATOR, TEACHER, PERSON],
        agenda=["Godkjenning av forrige referat", "Skolehverdagen og fritid", "Søknad om støttekontakt"],
    )
    values.update(changes)
    return MeetingInfo(**values)


def minutes(**changes) -> MinutesDoc:
    values = dict(
        case_reference="AG-2026-0004", title="Ansvarsgruppemøte for Jonas Lie", meeting_number=3,
        starts_at=WINTER, duration_minutes=90, place="Rådhuset, møterom 2",
        video_link="https://video.example/rom/ag-4",
        present=[COORDINATOR, TEACHER, PERSON],
        absent=[(Person("Bjørg Dahl", role="Helsesykepleier"), "Sykdom"), (Person("Lars Moe"), None)],
        minute_taker="Øystein Ås",
        previous_minutes_approved=True, previous_minutes_comments="Rettet stavefeil i punkt 2.",
        previous_measures=[
            MeasureLine("Søke om avlastning", "Kari Nordmann", date(2026, 1, 10), "done"),
            MeasureLine("Kartlegge lesevansker", "PP-tjenesten", date(2026, 1, 5), "not_done",
                        "Venter på time hos PPT"),
        ],
        persons_account="Jeg trives på skolen, men friminuttene er vanskelige.",
        services_account="Skolen bekrefter at friminuttene er krevende.",
        items=[AgendaItemLine("Skolehverdagen", "Drøftet tilrettelegging i friminutt.",
                              "Skolen setter inn en voksen i friminuttene fra uke 5.")],
        new_measures=[MeasureLine("Voksen i friminutt", "Øystein Ås", date(2026, 2, 1))],
        summary="God framdrift; ærlig og åpen samtale.",
        next_meeting_on=date(2026, 3, 11), next_meeting_theme="Fritidsaktiviteter",
        recipients=[(COORDINATOR, "email"), (TEACHER, "email"), (PERSON, "letter")],
    )
    values.update(changes)
    return MinutesDoc(**values)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_title(data: bytes) -> str | None:
    return PdfReader(io.BytesIO(data)).metadata.title


def flat(text: str) -> str:
    """PDF text with line breaks folded to spaces (long lines wrap)."""
    return " ".join(text.split())


# --- iCalendar -------------------------------------------------------------------------------

def parse(data: bytes):
    assert isinstance(data, bytes)
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_ics_request_has_all_properties():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    data = invitation_ics(meeting(sequence=2))
    calendar, event = parse(data)

    assert str(calendar["PRODID"]) == "-//ansvarsgruppe//NO"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "meeting-12@ansvarsgruppe"
    assert str(event["SUMMARY"]) == "Ansvarsgruppemøte for Jonas Lie"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 2
    stamp = event["DTSTAMP"].dt
    assert stamp.utcoffset() == timedelta(0) and before <= stamp <= datetime.now(timezone.utc)
    assert b"DTSTAMP:" in data and data.split(b"DTSTAMP:")[1][:16].endswith(b"Z")

    location = str(event["LOCATION"])
    assert "Rådhuset, møterom 2" in location and "https://video.example/rom/ag-4" in location

    description = str(event["DESCRIPTION"])
    assert "1. Godkjenning av forrige referat" in description
    assert "2. Skolehverdagen og fritid" in description
    assert "3. Søknad om støttekontakt" in description
    assert "https://video.example/rom/ag-4" in description
    assert "AG-2026-0004" in description

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:kari.nordmann@kommune.example"
    assert organizer.params["CN"] == "Kari Nordmann"

    attendees = event["ATTENDEE"]
    attendees = attendees if isinstance(attendees, list) else [attendees]
    # Jonas Lie has no e-mail: he gets a letter, not a calendar invitation
    assert [str(a) for a in attendees] == ["mailto:kari.nordmann@kommune.example",
                                           "mailto:oystein.as@skole.example"]
    teacher = attendees[1]
    assert teacher.params["CN"] == "Øystein Ås"
    assert teacher.params["ROLE"] == "REQ-PARTICIPANT"
    assert teacher.params["PARTSTAT"] == "NEEDS-ACTION"
    assert teacher.params["RSVP"] == "TRUE"

    alarms = event.walk("VALARM")
    assert len(alarms) == 1
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0]["TRIGGER"].dt == timedelta(days=-1)
    assert str(alarms[0]["DESCRIPTION"])


@pytest.mark.parametrize("starts_at, local_hour, local_minute, offset_hours", [
    (WINTER, 9, 0, 1),   # CET
    (SUMMER, 9, 30, 2),  # CEST
])
def test_ics_times_are_in_oslo_with_a_vtimezone(starts_at, local_hour, local_minute, offset_hours):
    data = invitation_ics(meeting(starts_at=starts_at, duration_minutes=75))
    calendar, event = parse(data)

    start, end = event["DTSTART"], event["DTEND"]
    assert start.params["TZID"] == "Europe/Oslo" and end.params["TZID"] == "Europe/Oslo"
    local = starts_at.astimezone(start.dt.tzinfo)
    assert (start.dt.hour, start.dt.minute) == (local_hour, local_minute)
    assert start.dt.utcoffset() == timedelta(hours=offset_hours)
    assert start.dt == starts_at and start.dt == local
    assert end.dt - start.dt == timedelta(minutes=75)
    stamp = f"{starts_at.astimezone(start.dt.tzinfo):%Y%m%dT%H%M%S}".encode()
    assert b"DTSTART;TZID=Europe/Oslo:" + stamp in data

    # the VTIMEZONE itself (not only the TZID name) gives the right offset for the meeting
    timezones = calendar.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Europe/Oslo"]
    assert {c.name for c in timezones[0].subcomponents} == {"STANDARD", "DAYLIGHT"}
    tz = timezones[0].to_tz()
    naive = start.dt.replace(tzinfo=None)
    assert naive.replace(tzinfo=tz).utcoffset() == timedelta(hours=offset_hours)


def test_ics_cancel():
    data = invitation_ics(meeting(cancelled=True, sequence=3))
    calendar, event = parse(data)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "meeting-12@ansvarsgruppe"
    assert int(event["SEQUENCE"]) == 3
    assert str(event["ORGANIZER"]) == "mailto:kari.nordmann@kommune.example"
    assert "Møtet er avlyst." in str(event["DESCRIPTION"])
    assert not event.walk("VALARM")


def test_ics_without_place_or_video_and_naive_time_is_refused():
    _calendar, event = parse(invitation_ics(meeting(place=None, video_link="https://v.example/x")))
    assert str(event["LOCATION"]) == "https://v.example/x"
    _calendar, event = parse(invitation_ics(meeting(place=None, video_link=None, agenda=[])))
    assert "LOCATION" not in event
    assert "Ingen" in str(event["DESCRIPTION"])
    with pytest.raises(ValueError):
        invitation_ics(meeting(starts_at=datetime(2026, 1, 14, 9, 0)))


# --- minutes ---------------------------------------------------------------------------------

HEADINGS = [
    "Tid og sted", "Til stede", "Forfall", "Referent", "Godkjenning av forrige referat",
    "Gjennomgang av tiltak fra forrige møte", "Personens egen beskrivelse",
    "Tjenesteyternes supplement", "Saker", "Nye tiltak", "Oppsummering", "Neste møte",
    "Mottakere av referatet",
]


def test_minutes_pdf_has_every_section_and_the_values(app):
    with app.test_request_context():
        data = minutes_pdf(minutes(first_meeting_rules_reviewed=True))
    text = pdf_text(data)
    words = flat(text)
    assert pdf_title(data) == "Referat: Ansvarsgruppemøte for Jonas Lie (AG-2026-0004)"

    for heading in HEADINGS + ["Gjennomgang av retningslinjer for møtene"]:
        assert heading in text, heading
    positions = [text.index(h) for h in ["Tid og sted", "Til stede", "Forfall", "Referent",
                                         "Gjennomgang av retningslinjer", "Godkjenning av forrige",
                                         "Gjennomgang av tiltak", "Personens egen",
                                         "Tjenesteyternes supplement", "Nye tiltak",
                                         "Oppsummering", "Neste møte", "Mottakere av referatet"]]
    assert positions == sorted(positions), "sections out of order"

    assert "Ansvarsgruppemøte for Jonas Lie" in text and "AG-2026-0004" in text
    assert "møte nr. 3" in words
    assert "14.01.2026" in text and "09:00–10:30" in text and "90 minutter" in text
    assert "Rådhuset, møterom 2" in text and "https://video.example/rom/ag-4" in words
    assert "Kari Nordmann (Koordinator)" in text and "Øystein Ås (Tjenesteyter)" in text
    assert "Bjørg Dahl (Helsesykepleier) – Sykdom" in text
    assert "Lars Moe" in text
    assert "Rettet stavefeil i punkt 2." in text
    assert "Søke om avlastning" in text and "Gjennomført" in text
    assert "Ikke gjennomført: Venter på time hos PPT" in words
    assert "Jeg trives på skolen, men friminuttene er vanskelige." in words
    assert "Skolen bekrefter at friminuttene er krevende." in words
    assert "1. Skolehverdagen" in text and "Drøfting" in text and "Konklusjon" in text
    assert "Skolen setter inn en voksen i friminuttene fra uke 5." in words
    assert "Voksen i friminutt" in text and "01.02.2026" in text
    assert "God framdrift; ærlig og åpen samtale." in words
    assert "11.03.2026" in text and "Fritidsaktiviteter" in text
    assert "e-post" in text and "Jonas Lie (Personen selv) – brev" in text
    assert "Referatet er ikke godkjent ennå." in words
    assert all(ch in text for ch in "æøå")
    assert "Ø" in text and "Å" in text  # Øystein, Ås


def test_minutes_sections_are_never_dropped(app):
    empty = minutes(present=[], absent=[], previous_minutes_approved=None, previous_minutes_comments=None,
                    previous_measures=[], persons_account=None, services_account="  ", items=[],
                    new_measures=[], summary=None, next_meeting_on=None, next_meeting_theme=None,
                    recipients=[], place=None, video_link=None)
    with app.test_request_context():
        html = render_minutes_html(empty)
        text = pdf_text(minutes_pdf(empty))
    for heading in HEADINGS:
        assert heading in text, heading
    # a reader sees that every checklist point was considered
    assert text.count("Ingen") >= 12
    assert "Ikke aktuelt" in text and "Ikke fastsatt" in text
    # not a first meeting: no section about the guidelines
    assert "Gjennomgang av retningslinjer" not in text and "retningslinjer" not in html


def test_minutes_first_meeting_and_approval(app):
    approved = datetime(2026, 1, 20, 13, 5, tzinfo=timezone.utc)
    doc = minutes(first_meeting_rules_reviewed=False, previous_minutes_approved=False,
                  approved_at=approved, approval_note="Godkjent av alle på e-post.")
    with app.test_request_context():
        html = render_minutes_html(doc)
        text = flat(pdf_text(minutes_pdf(doc)))
    assert "Gjennomgang av retningslinjer for møtene Nei" in text
    assert "Godkjent Nei" in text
    assert "Referatet ble godkjent 20.01.2026 kl. 14:05." in text
    assert "Godkjent av alle på e-post." in text
    assert "ikke godkjent ennå" not in text
    assert html.startswith("<!doctype html>") and "</html>" in html


def test_minutes_html_is_standalone_and_escapes_user_text(app):
    doc = minutes(title="Møte <script>alert('x')</script>",
                  persons_account='Jeg skrev <script>alert("hei")</script> & "sitat"',
                  summary=HOSTILE, minute_taker="Ola <b>Fet</b>",
                  items=[AgendaItemLine("<i>Kursiv</i>", None, "Ferdig & klart")])
    with app.test_request_context():
        html = render_minutes_html(doc)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;hei&#34;)&lt;/script&gt; &amp; &#34;sitat&#34;" in html
    assert "Møte &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=&#34;http://example.invalid/x.png&#34;&gt;" in html
    assert "<img" not in html and "<b>Fet" not in html and "<i>Kursiv" not in html
    # no external resources: the stylesheet is inlined, nothing is linked
    assert "<style>" in html and "@page" in html and "size: A4" in html
    assert "<link" not in html and "url(" not in html and "src=" not in html.replace("src=&#34;", "")
    assert "/static/" not in html


def test_minutes_pdf_with_hostile_text_fetches_nothing(app):
    doc = minutes(summary=HOSTILE, persons_account="<script>alert(1)</script>")
    with app.test_request_context():
        started = time.monotonic()
        data = minutes_pdf(doc)
        elapsed = time.monotonic() - started
    assert elapsed < 10
    text = flat(pdf_text(data))
    assert HOSTILE in text
    assert "<script>alert(1)</script>" in text


def test_the_url_fetcher_refuses_network_and_files():
    fetcher = RefusingURLFetcher()
    html = ('<!doctype html><html><head><title>Prøve</title>'
            '<link rel="stylesheet" href="file:///etc/hostname">'
            '<style>body { background: url("http://example.invalid/bg.png") }</style></head>'
            '<body><p>Tekst før</p><img src="http://example.invalid/x.png" alt="">'
            '<img src="file:///etc/passwd" alt=""><p>Tekst etter</p></body></html>')
    started = time.monotonic()
    data = html_to_pdf(html, fetcher)
    assert time.monotonic() - started < 10
    assert set(fetcher.refused) >= {"http://example.invalid/x.png", "file:///etc/passwd",
                                    "file:///etc/hostname"}
    text = pdf_text(data)
    assert "Tekst før" in text and "Tekst etter" in text
    assert pdf_title(data) == "Prøve"


# --- invitation letter -----------------------------------------------------------------------

def test_invitation_letter_pdf(app):
    with app.test_request_context():
        data = invitation_letter_pdf(meeting(starts_at=SUMMER), PERSON, letter_date=date(2026, 5, 20))
    text = pdf_text(data)
    words = flat(text)
    assert text.lstrip().startswith("Jonas Lie")  # the recipient comes first
    assert "Innkalling til møte i ansvarsgruppen" in text
    assert "Dato: 20.05.2026" in text
    assert "10.06.2026 kl. 09:30–11:00" in text  # Oslo summer time
    assert "Rådhuset, møterom 2" in text and "https://video.example/rom/ag-4" in words
    for item in ["Godkjenning av forrige referat", "Skolehverdagen og fritid", "Søknad om støttekontakt"]:
        assert item in text
    assert "Kari Nordmann (kari.nordmann@kommune.example)" in words
    assert "forfall" in words
    assert "AG-2026-0004" in text
    assert "avlyst" not in text
    assert pdf_title(data) == "Innkalling: Ansvarsgruppemøte for Jonas Lie (AG-2026-0004)"


def test_invitation_letter_winter_time_cancel_and_escaping(app):
    hostile = meeting(cancelled=True, agenda=[HOSTILE], notes="<b>Ta med</b> vedtak",
                      organizer=Person("Kari Nordmann", None, "Koordinator"))
    recipient = Person("Åse <em>Ærlig</em>")
    with app.test_request_context():
        html = render_invitation_letter_html(hostile, recipient)
        text = flat(pdf_text(invitation_letter_pdf(hostile, recipient)))
    assert "<em>" not in html and "<img" not in html and "<b>Ta med" not in html
    assert "Åse &lt;em&gt;Ærlig&lt;/em&gt;" in html
    assert "14.01.2026 kl. 09:00–10:30" in text  # Oslo winter time
    assert "Møtet er avlyst." in text
    assert HOSTILE in text and "<b>Ta med</b> vedtak" in text
    assert "Gi beskjed til koordinator Kari Nordmann om saker" in text
    today = datetime.now(ZoneInfo("Europe/Oslo")).date()  # the default letter date
    assert f"Dato: {today:%d.%m.%Y}" in text


# --- unusual meeting days --------------------------------------------------------------------

def test_public_holidays():
    christmas = public_holiday_name(date(2026, 12, 25))
    assert christmas and "jul" in christmas.lower()
    constitution_day = public_holiday_name(date(2026, 5, 17))
    assert constitution_day and ("grunnlov" in constitution_day.lower() or "17. mai" in constitution_day)
    assert public_holiday_name(date(2026, 4, 2)) == "Skjærtorsdag"


def test_ordinary_days():
    ordinary_sunday = date(2026, 3, 8)
    assert ordinary_sunday.weekday() == 6
    assert public_holiday_name(ordinary_sunday) is None
    assert unusual_meeting_day(ordinary_sunday) == "søndag"
    assert unusual_meeting_day(date(2026, 3, 7)) == "lørdag"
    wednesday = date(2026, 3, 11)
    assert wednesday.weekday() == 2
    assert public_holiday_name(wednesday) is None
    assert unusual_meeting_day(wednesday) is None
    # a holiday on a weekday, and one on a Sunday: the holiday's name wins
    assert unusual_meeting_day(date(2026, 5, 14)) == public_holiday_name(date(2026, 5, 14))
    assert "kristi himmelfart" in unusual_meeting_day(date(2026, 5, 14)).lower()
    assert unusual_meeting_day(date(2026, 5, 17)) == public_holiday_name(date(2026, 5, 17))
