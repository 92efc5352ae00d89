"""The plan as a standalone document and PDF: the regulation's sections in order, the goals with
their measures, "Ingen" for what is empty, and the relay log under its own name."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from webapp.plans.documents import as_version_info, fmt_iso, plan_html, plan_pdf

SNAPSHOT = {
    "kind": "individual_plan", "status": "adopted", "case_reference": "AG-2026-0042", "person": "Emma Berg",
    "coordinator": "Kari Koordinator", "secretary": "Siri Skole", "holder": None,
    "participants": [{"member_id": 1, "name": "Kari Koordinator", "role": "koordinator"},
                     {"member_id": 2, "name": "Siri Skole", "role": "medlem"},
                     {"member_id": 3, "name": "Anne Berg", "role": "foresatt"}],
    "sections": {"whats_important": "Å ha venner i klassen", "resources": "Nysgjerrig og glad i musikk",
                 "needs": "Hjelp i overganger", "contribution_person": "Sier fra når noe er vanskelig",
                 "contribution_services": "Assistent i friminuttene fra skolen",
                 "contribution_relatives": "Foreldrene følger opp lekser", "cooperation": "Samarbeid med PPT"},
    "goals": [{"id": 10, "term": "short", "text": "Være med i friminuttene", "status": "active"},
              {"id": 11, "term": "long", "text": "Gå på skolen sammen med vennene", "status": "active"}],
    "measures": [
        {"id": 20, "goal_id": 11, "description": "Vennegruppe i klassen", "responsible": "Siri Skole",
         "responsible_member_id": 2, "scope": "Ukentlig", "how": "Læreren leder gruppen",
         "deadline": "2026-09-01", "status": "open",
         "notes": [{"at": "2026-05-02T08:30:00+00:00", "status": "open", "note": "Gruppen har møttes to ganger",
                    "by": "Kari Koordinator"}]},
        {"id": 21, "goal_id": 10, "description": "Fast assistent ute", "responsible": "Siri Skole",
         "responsible_member_id": 2, "scope": "Alle friminutt", "how": None, "deadline": "2026-06-15",
         "status": "done", "notes": []}],
    "period_from": "2026-04-01", "period_to": "2027-03-31", "revision_due_on": "2026-10-01",
    "consent": {"signed_by": "Anne Berg", "how": "paper", "signed_on": "2026-03-20"},
    "adopted_at": "2026-04-01T10:00:00+00:00",
}
VERSION = {"number": 3, "source": "adopted", "reason": "Første plan", "made_by_name": "Kari Koordinator",
           "at": datetime(2026, 4, 1, 10, 0, tzinfo=timezone.utc),
           "approved_at": datetime(2026, 4, 1, 10, 5, tzinfo=timezone.utc)}


def assert_in_order(html: str, texts: list[str]) -> None:
    """Each text occurs in the document's body after the one before it."""
    position = html.index("<body")
    for text in texts:
        found = html.find(text, position)
        assert found != -1, f"{text!r} missing or out of order"
        position = found + len(text)


def test_the_sections_goals_and_measures_come_in_the_regulations_order():
    html = plan_html(SNAPSHOT, VERSION)
    assert "<title>Individuell plan: Emma Berg (AG-2026-0042)</title>" in html
    order = ["Hva er viktig for deg?", "Å ha venner i klassen", "Nysgjerrig og glad i musikk", "Hjelp i overganger",
             "Langsiktige mål", "Gå på skolen sammen med vennene", "Vennegruppe i klassen", "Ukentlig",
             "Læreren leder gruppen", "01.09.2026", "Gruppen har møttes to ganger",
             "Kortsiktige mål", "Være med i friminuttene", "Fast assistent ute", "Alle friminutt",
             "Sier fra når noe er vanskelig", "Assistent i friminuttene fra skolen", "Foreldrene følger opp lekser",
             "Koordinator", "Kari Koordinator", "Sekretær", "Siri Skole", "Anne Berg (Foresatt)",
             "Samarbeid med PPT", "01.04.2026–31.03.2027", "01.10.2026", "Samtykke", "skriftlig på papir",
             "20.03.2026", "Versjonen ble godkjent og arkivert"]
    assert_in_order(html, order)
    # each measure under its own goal, with its status
    assert html.index("Fast assistent ute") > html.index("Være med i friminuttene") \
        > html.index("Vennegruppe i klassen")
    assert "Gjennomført" in html and "Versjon 3 (vedtatt)" in html and "Første plan" in html


def test_empty_sections_say_ingen_and_user_text_is_escaped():
    snap = copy.deepcopy(SNAPSHOT)
    snap["sections"]["needs"] = "  "
    snap["sections"]["cooperation"] = "<script>alert(1)</script>"
    snap["goals"], snap["measures"], snap["participants"] = [], [], []
    snap["consent"] = {"signed_by": None, "how": None, "signed_on": None}
    html = plan_html(snap, {"number": 1, "source": "draft"})
    needs = html[html.index('id="needs"'):html.index('id="langsiktige-mal"')]
    assert "Ingen" in needs
    consent = html[html.index('id="samtykke"'):html.index("</section>", html.index('id="samtykke"'))]
    assert "Ingen" in consent
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "Versjonen er ikke godkjent." in html


def test_the_relay_log_is_called_stafettlogg_and_names_its_holder():
    snap = {**copy.deepcopy(SNAPSHOT), "kind": "relay_log", "holder": "Siri Skole", "secretary": None}
    html = plan_html(snap, VERSION)
    assert "<title>Stafettlogg: Emma Berg" in html and "<h1>Stafettlogg</h1>" in html
    assert "Individuell plan" not in html
    block = html[html.index('id="deltakere"'):]
    assert block.index("Stafettholder") < block.index("Siri Skole")
    assert "Oppnevnt koordinator" in block and "Sekretær" not in block


def test_the_pdf_is_a_pdf_and_needs_no_request():
    pdf = plan_pdf(SNAPSHOT, VERSION)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_a_snapshot_missing_keys_still_renders():
    html = plan_html({"kind": "individual_plan"}, None)
    assert "Individuell plan" in html and html.count("Ingen") >= 7


def test_version_facts_from_a_mapping_with_iso_times_and_overrides():
    info = as_version_info({"number": 2, "at": "2026-04-01T10:00:00+00:00"}, approved_at="2026-04-02T22:30:00+00:00")
    assert info.number == 2 and info.at.year == 2026 and info.approved_at.tzinfo is not None
    assert fmt_iso(info.approved_at) == "03.04.2026"  # Oslo time (summer: UTC+2)
    assert fmt_iso("2026-12-24") == "24.12.2026" and fmt_iso("ikke en dato") == "ikke en dato" and fmt_iso(None) == ""
