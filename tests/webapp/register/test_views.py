"""The register page and the CSV of yearly figures: contents, access, bad input, logging."""
import csv
import html
import io
import re

import pytest
from sqlalchemy import event, func, select

from tests.conftest import login_client
from tests.webapp.register.conftest import FIGURES_2026, MARKER, PASSWORD
from webapp.audit.models import AccessLogEntry, AuditEvent
from webapp.register.queries import register_page


def client_for(app, username):
    return login_client(app, username, PASSWORD)


def page_figures(text: str) -> dict[str, int]:
    section = text.split('id="h-figures"')[1].split("</table>")[0]
    return {html.unescape(label): int(count) for label, count in
            re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', section)}


def row_of(text: str, reference: str) -> str:
    """The table row of a case, tags stripped."""
    match = re.search(r"<tr>\s*<th scope=\"row\"><a [^>]*>" + re.escape(reference) + r"</a>.*?</tr>", text, re.S)
    assert match, f"no row for {reference}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(0))).split())


def listed(text: str) -> list[str]:
    return re.findall(r'<th scope="row"><a class="ds-link" href="/saker/\d+">([^<]+)</a>', text)


def test_page_lists_every_case_with_register_data(app, seed):
    page = client_for(app, "ke").get("/register")
    assert page.status_code == 200
    assert sorted(listed(page.text)) == sorted(seed.references.values())
    a = row_of(page.text, seed.references["A"])
    assert a == (f"{seed.references['A']} Astrid Aktiv 04.03.2012 Per Pettersen (Koordinator) Aktiv 10.02.2027 "
                 "12.04.2027 kl. 09:00 01.06.2027 Skolebytte, 16.08.2027 01.05.2027")
    assert f'href="/saker/{seed.cases["A"]}"' in page.text
    b = row_of(page.text, seed.references["B"])
    assert "under planlegging" in b and "15.01.2027 forfalt" in b and "Per Pettersen (Koordinator)" in b
    assert row_of(page.text, seed.references["F"]).endswith("Frida Ønske 03.02.2018 ikke oppnevnt Ønske registrert – – – – –")
    assert "(Skolen)" in row_of(page.text, seed.references["I"])
    assert "Avsluttet" in row_of(page.text, seed.references["C"])
    # the next plan revision: the adopted plan's date, overdue marked; none for a plan in drafting or ended
    assert row_of(page.text, seed.references["J"]).endswith("01.02.2027 forfalt")
    assert row_of(page.text, seed.references["B"]).endswith("15.01.2027 forfalt – –")  # drafting: no date
    assert row_of(page.text, seed.references["C"]).endswith("Avsluttet – – – – –")  # ended with the group
    assert "Neste planrevisjon" in page.text


def test_page_and_csv_show_the_figures_of_the_chosen_year(app, services, seed):
    ke = client_for(app, "ke")
    page = ke.get("/register?year=2026")
    assert page.status_code == 200 and "Tall for 2026" in page.text
    assert page_figures(page.text) == FIGURES_2026
    assert "/register/tall.csv?year=2026" in page.text

    download = ke.get("/register/tall.csv?year=2026")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="ansvarsgrupper-tall-2026.csv"' in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8"))))
    assert rows[0] == ["År", "Tall", "Antall"]
    assert {label: int(count) for year, label, count in rows[1:] if year == "2026"} == FIGURES_2026
    assert len(rows) == 1 + len(FIGURES_2026)
    with services.db.session() as s:  # the export is an audit event
        exports = s.scalars(select(AuditEvent).where(AuditEvent.kind == "register_figures_exported")).all()
    assert [(e.actor_id, e.detail["year"]) for e in exports] == [(seed.users["ke"], 2026)]


def test_default_year_is_this_year_in_oslo(app, seed):
    page = client_for(app, "sara").get("/register")
    assert "Tall for 2027" in page.text
    assert page_figures(page.text)["Ansvarsgrupper startet i året"] == 1  # I, after midnight on New Year's Eve


def test_no_confidential_content_on_the_page_or_in_the_csv(app, seed):
    ke = client_for(app, "ke")
    for url in ("/register", "/register?year=2026", "/register?status=active", "/register/tall.csv?year=2026"):
        response = ke.get(url)
        assert response.status_code == 200
        body = response.data.decode("utf-8")
        assert MARKER not in body, url
        assert "04031298765" not in body and "98765" not in body  # no national identity number
    assert "Overgang til videregående" not in ke.get("/register").text  # only the next transition


def test_status_filter_and_search(app, seed):
    ke = client_for(app, "ke")
    closed = ke.get("/register?status=closed")
    assert closed.status_code == 200
    assert sorted(listed(closed.text)) == sorted(seed.references[k] for k in ("C", "D", "E"))
    assert 'value="closed" selected' in closed.text
    assert listed(ke.get("/register?q=ØRJAN").text) == [seed.references["I"]]  # case-insensitive, Norwegian letters
    assert sorted(listed(ke.get("/register?q=cecilie").text)) == sorted([seed.references["C"], seed.references["C2"]])
    assert listed(ke.get(f"/register?q={seed.references['B']}").text) == [seed.references["B"]]
    nothing = ke.get("/register?status=active&q=cecilie ferdig x")
    assert nothing.status_code == 200 and listed(nothing.text) == [] and "Ingen ansvarsgrupper" in nothing.text


@pytest.mark.parametrize("query, field, message", [
    ("year=abc", "year", "Skriv et årstall mellom 2000 og 2027."),
    ("year=1800", "year", "Skriv et årstall mellom 2000 og 2027."),
    ("year=2028", "year", "Skriv et årstall mellom 2000 og 2027."),
    ("year=२०२६", "year", "Skriv et årstall mellom 2000 og 2027."),  # digits, but not ASCII ones
    ("status=foo", "status", "Velg en status fra listen."),
    ("q=" + "x" * 101, "q", "Søket er for langt (maks 100 tegn)."),
])
def test_bad_input_is_a_norwegian_message_and_400(app, services, seed, query, field, message):
    ke = client_for(app, "ke")
    for path in ("/register", "/register/tall.csv"):
        response = ke.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert message in html.unescape(response.text)
        assert f'id="{field}-err"' in response.text and 'aria-invalid="true"' in response.text
        assert response.headers["Content-Type"].startswith("text/html")
    kept = query.split("=", 1)[1]
    if field != "status":
        assert f'value="{kept}"' in response.text  # the input is kept
    with services.db.session() as s:  # nothing read, nothing logged, nothing exported
        assert s.scalar(select(func.count(AccessLogEntry.id)).where(AccessLogEntry.page == "register")) == 0
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "register_figures_exported")) == 0


@pytest.mark.parametrize("username, status", [
    ("ke", 200), ("sara", 200),  # the coordinating unit and the system owner
    ("per", 404),  # coordinator of several groups
    ("siri", 404),  # member of a group
    ("ulf", 404),  # no role anywhere
])
def test_access_rules(app, seed, username, status):
    client = client_for(app, username)
    for path in ("/register", "/register/tall.csv?year=2026"):
        response = client.get(path)
        assert response.status_code == status, path
        if status == 404:
            assert "Astrid" not in response.text and "Aktive ansvarsgrupper" not in response.text


def test_anonymous_is_sent_to_login(app, seed):
    response = app.test_client().get("/register")
    assert response.status_code == 302 and "/logg-inn" in response.headers["Location"]


def test_viewing_writes_one_access_log_row_per_case_listed(app, services, seed):
    ke = client_for(app, "ke")
    ke.get("/register")
    ke.get("/register?status=closed")
    with services.db.session() as s:
        logged = s.execute(select(AccessLogEntry.case_id, AccessLogEntry.user_id).where(
            AccessLogEntry.page == "register")).all()
    closed = {seed.cases[k] for k in ("C", "D", "E")}
    assert sorted(logged) == sorted([(c, seed.users["ke"]) for c in seed.cases.values()]
                                    + [(c, seed.users["ke"]) for c in closed])
    # the coordinator sees the read in the case's access log
    log_page = client_for(app, "per").get(f"/saker/{seed.cases['A']}/innsyn")
    assert log_page.status_code == 200
    assert re.search(r"<td>Kjell Enhet</td>\s*<td>Registeret</td>", log_page.text)


def test_listing_takes_a_fixed_number_of_queries(services, seed):
    """As many queries for ten cases as for three: nothing is read per row."""
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = services.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with services.db.session() as s:  # a transaction each, as two requests
            everything = register_page(s, now=services.clock.now()).rows
        for_all = len(statements)
        statements.clear()
        with services.db.session() as s:
            closed = register_page(s, now=services.clock.now(), status="closed").rows
        for_closed = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (len(everything), len(closed)) == (10, 3)
    assert for_all == for_closed <= 9  # the page, its count, six column families, a setting
