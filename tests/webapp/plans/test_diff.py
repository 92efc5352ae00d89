"""What changed between two versions of a plan (pure functions of two snapshots)."""
from __future__ import annotations

import copy

from tests.webapp.plans.test_documents import SNAPSHOT
from webapp.plans.diff import diff_snapshots, period_text


def changed() -> dict:
    new = copy.deepcopy(SNAPSHOT)
    new["sections"]["needs"] = "Hjelp i overganger og i gymtimene"
    new["goals"][0]["status"] = "achieved"                       # short goal reached
    new["goals"][1]["text"] = "Gå på skolen sammen med vennene sine"
    new["goals"][1]["term"] = "short"
    new["goals"].append({"id": 12, "term": "long", "text": "Svømme alene", "status": "active"})
    vennegruppe = new["measures"][0]
    vennegruppe.update(scope="To ganger i uken", deadline="2026-12-01", responsible="Anne Berg",
                       responsible_member_id=3)
    vennegruppe["notes"].append({"at": "2026-06-01T08:00:00+00:00", "status": "open", "note": "Fungerer godt",
                                 "by": "Siri Skole"})
    del new["measures"][1]                                       # the assistant is no longer a measure
    new["measures"].append({"id": 22, "goal_id": 12, "description": "Svømmeopplæring", "responsible": "Siri Skole",
                            "responsible_member_id": 2, "scope": None, "how": None, "deadline": "2026-11-01",
                            "status": "open", "notes": []})
    new["revision_due_on"] = "2027-01-15"
    new["period_to"] = None
    new["holder"] = "Siri Skole"
    new["participants"] = [p for p in new["participants"] if p["member_id"] != 3] + [
        {"member_id": 4, "name": "Per Fastlege", "role": "medlem"}]
    return new


def test_the_same_snapshot_has_no_changes():
    diff = diff_snapshots(SNAPSHOT, copy.deepcopy(SNAPSHOT))
    assert diff.empty


def test_sections_goals_measures_and_facts():
    diff = diff_snapshots(SNAPSHOT, changed())
    assert not diff.empty
    assert [(c.label, c.old, c.new) for c in diff.sections] == [
        ("Behov", "Hjelp i overganger", "Hjelp i overganger og i gymtimene")]

    assert [g["text"] for g in diff.goals_added] == ["Svømme alene"] and diff.goals_removed == []
    goals = {g.goal_id: {c.key: (c.label, c.old, c.new) for c in g.changes} for g in diff.goals_changed}
    assert goals[10] == {"status": ("Status", "Aktivt", "Nådd")}
    assert goals[11] == {"text": ("Mål", "Gå på skolen sammen med vennene",
                                  "Gå på skolen sammen med vennene sine"),
                         "term": ("Tidsperspektiv", "Langsiktig mål", "Kortsiktig mål")}

    assert [(m["description"], m["goal_text"]) for m in diff.measures_added] == [("Svømmeopplæring", "Svømme alene")]
    assert [m["description"] for m in diff.measures_removed] == ["Fast assistent ute"]
    (measure,) = diff.measures_changed
    assert measure.description == "Vennegruppe i klassen"
    assert [(c.label, c.old, c.new) for c in measure.changes] == [
        ("Omfang", "Ukentlig", "To ganger i uken"), ("Ansvarlig", "Siri Skole", "Anne Berg"),
        ("Frist", "01.09.2026", "01.12.2026")]
    assert [n["note"] for n in measure.new_notes] == ["Fungerer godt"]

    facts = {c.key: (c.label, c.old, c.new) for c in diff.facts}
    assert facts == {"period": ("Planperiode", "01.04.2026–31.03.2027", "fra 01.04.2026"),
                     "revision_due_on": ("Neste revisjon", "01.10.2026", "15.01.2027"),
                     "holder": ("Stafettholder", "", "Siri Skole")}
    assert diff.participants_added == ["Per Fastlege"] and diff.participants_removed == ["Anne Berg"]


def test_a_measure_status_and_goal_move_and_only_new_progress_notes():
    new = copy.deepcopy(SNAPSHOT)
    new["measures"][0]["status"] = "done"
    new["measures"][1]["goal_id"] = 11
    diff = diff_snapshots(SNAPSHOT, new)
    by_id = {m.measure_id: m for m in diff.measures_changed}
    assert [(c.label, c.old, c.new) for c in by_id[20].changes] == [("Status", "Åpent", "Gjennomført")]
    assert by_id[20].new_notes == []  # the note was there before
    assert [(c.label, c.old, c.new) for c in by_id[21].changes] == [
        ("Mål", "Være med i friminuttene", "Gå på skolen sammen med vennene")]


def test_status_consent_and_whitespace():
    old = {**copy.deepcopy(SNAPSHOT), "status": "drafting", "consent": {}}
    new = copy.deepcopy(SNAPSHOT)
    new["sections"]["resources"] = SNAPSHOT["sections"]["resources"] + "  \n"   # trimmed: no change
    diff = diff_snapshots(old, new)
    facts = {c.key: (c.old, c.new) for c in diff.facts}
    assert facts == {"status": ("Under utarbeiding", "Vedtatt"),
                     "consent": ("", "Anne Berg, skriftlig på papir, 20.03.2026")}
    assert diff.sections == []


def test_snapshots_missing_keys_or_rows_never_fail():
    diff = diff_snapshots({}, SNAPSHOT)
    assert len(diff.goals_added) == 2 and len(diff.measures_added) == 2 and len(diff.sections) == 7
    assert diff_snapshots(SNAPSHOT, {"goals": None, "measures": ["not a row"], "sections": None}).goals_removed
    assert diff_snapshots(None, None).empty
    assert period_text({"period_to": "2027-01-01"}) == "til 01.01.2027" and period_text({}) == ""
