"""Comparing two versions of a process: meeting.bpmn and our forms, changed in copies."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from webapp.engine.parsing import DiagramError
from webapp.workbench.diff import ElementChange, FormChange, diff_versions

ROOT = Path(__file__).resolve().parents[3]
MEETING = (ROOT / "processes" / "meeting.bpmn").read_text(encoding="utf-8")
ESTABLISHMENT = (ROOT / "processes" / "establishment.bpmn").read_text(encoding="utf-8")
FORMS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "forms").glob("*.json"))}


def sub(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def diff(b_doc: str, b_forms: dict | None = None, a_doc: str = MEETING):
    return diff_versions({"meeting.bpmn": a_doc}, FORMS, {"meeting.bpmn": b_doc},
                         FORMS if b_forms is None else b_forms)


def test_the_same_version_has_no_changes():
    result = diff(MEETING)
    assert result.elements == [] and result.forms == []
    assert result.added == result.removed == result.changed == []


def test_renamed_task():
    result = diff(sub(MEETING, 'name="Planlegg møtet"', 'name="Planlegg møtet og velg referent"'))
    assert result.elements == [ElementChange("plan", "userTask", "Planlegg møtet og velg referent", "changed",
                                             ["Navn: «Planlegg møtet» → «Planlegg møtet og velg referent»"],
                                             "meeting")]
    assert result.changed == ["plan"] and result.forms == []


NEW_TASK = ('<bpmn:userTask id="review" name="Gjennomgå planen">'
            '<bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="review_plan.json"/>'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


def test_added_user_task_with_a_new_form():
    b = sub(MEETING, '<bpmn:sequenceFlow id="f2" sourceRef="plan" targetRef="store_plan"/>',
            '<bpmn:sequenceFlow id="f2" sourceRef="plan" targetRef="review"/>'
            '<bpmn:sequenceFlow id="f2_review" sourceRef="review" targetRef="store_plan"/>' + NEW_TASK)
    b = sub(b, "<bpmn:flowNodeRef>plan</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>plan</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>")
    form = {"type": "object", "title": "Gjennomgang", "properties": {"ok": {"type": "boolean"}}}
    result = diff(b, {**FORMS, "review_plan.json": form})
    assert result.elements == [
        ElementChange("f2", "sequenceFlow", None, "changed",
                      ["Flyten går nå fra «Planlegg møtet» til «Gjennomgå planen»"], "meeting"),
        ElementChange("f2_review", "sequenceFlow", None, "added",
                      ["Fra «Gjennomgå planen» til «Registrer planen»"], "meeting"),
        ElementChange("review", "userTask", "Gjennomgå planen", "added", [], "meeting"),
    ]
    assert result.added == ["f2_review", "review"] and result.changed == ["f2"]
    assert result.forms == [FormChange("review_plan.json", "added", [])]


def test_removed_flow():
    result = diff(sub(MEETING, '<bpmn:sequenceFlow id="f32" sourceRef="next" targetRef="end"/>', ""))
    assert result.elements == [ElementChange("f32", "sequenceFlow", None, "removed",
                                             ["Gikk fra «Planlegg neste møte» til «Møtet er avsluttet»"],
                                             "meeting")]
    assert result.removed == ["f32"]


def test_changed_deadline_and_form_of_a_task():
    b = sub(MEETING, '<spiffworkflow:property name="formJsonSchemaFilename" value="agenda.json"/>\n'
                     '        <spiffworkflow:property name="dueIn" value="P7D"/>',
            '<spiffworkflow:property name="formJsonSchemaFilename" value="agenda2.json"/>\n'
            '        <spiffworkflow:property name="dueIn" value="P14D"/>')
    b = sub(b, '<spiffworkflow:property name="context" value="meeting_matters"/>', "")
    result = diff(b)
    assert [(e.element_id, e.change, e.details) for e in result.elements] == [
        ("agenda", "changed", ["Skjema: agenda.json → agenda2.json", "Frist (dueIn): P7D → P14D",
                               "Kontekst: meeting_matters → (ingen)"]),
    ]


def test_changed_form_field():
    forms = copy.deepcopy(FORMS)
    agenda = forms["agenda.json"]
    agenda["properties"]["date"] = {"type": "string", "format": "date", "title": "Dato"}
    agenda["properties"]["kept_reason"]["maxLength"] = 500
    del agenda["properties"]["kept_matters"]
    agenda["required"].append("date")
    agenda["title"] = "Saksliste"
    forms["plan_meeting.json"]["x-submit"] = "Lagre"
    del forms["consent.json"]
    result = diff(MEETING, forms)
    assert result.elements == []
    assert result.forms == [
        FormChange("agenda.json", "changed", ["Felt lagt til: date", "Felt fjernet: kept_matters",
                                              "Felt endret: kept_reason", "Påkrevde felt endret",
                                              "Tittel: «Saksliste og innkalling» → «Saksliste»"]),
        FormChange("consent.json", "removed", []),
        FormChange("plan_meeting.json", "changed", ["Skjemaet er endret"]),
    ]


def test_conditions_timers_loops_lanes_handlers_and_attributes():
    b = sub(MEETING, "<bpmn:conditionExpression>notice_ok == True</bpmn:conditionExpression>",
            "<bpmn:conditionExpression>notice_ok</bpmn:conditionExpression>")
    b = sub(b, '<bpmn:timeDate>held["approval_due"]</bpmn:timeDate>',
            '<bpmn:timeDuration>"P7D"</bpmn:timeDuration>')
    b = sub(b, 'attachedToRef="approve" cancelActivity="true"', 'attachedToRef="approve" cancelActivity="false"')
    b = sub(b, "<bpmn:loopDataInputRef>approvers</bpmn:loopDataInputRef>",
            "<bpmn:loopDataInputRef>members</bpmn:loopDataInputRef>")
    b = sub(b, '<bpmn:flowNodeRef>approve</bpmn:flowNodeRef>', "")
    b = sub(b, '<bpmn:flowNodeRef>finalize</bpmn:flowNodeRef>',
            '<bpmn:flowNodeRef>finalize</bpmn:flowNodeRef><bpmn:flowNodeRef>approve</bpmn:flowNodeRef>')
    b = sub(b, 'id="send_reminder" resultVariable="reminded"', 'id="send_reminder_v2" resultVariable="reminded"')
    b = sub(b, '<bpmn:exclusiveGateway id="first_gateway" name="Første møte?" default="f_regular"/>',
            '<bpmn:exclusiveGateway id="first_gateway" name="Første møte?" default="f_first"/>')
    b = sub(b, "<bpmn:documentation>Koordinator sender ut referat",
            "<bpmn:documentation>Koordinator sender straks ut referat")
    result = diff(b)
    assert {e.element_id: e.details for e in result.elements} == {
        "f_ok": ["Betingelse endret"],
        "approval_deadline": ["Avbryter aktiviteten: true → false",
                              'Tidtaker: dato held["approval_due"] → varighet "P7D"'],
        "approve": ["Bane: «medlem» → «koordinator»", "Gjentakelse endret"],
        "remind": ["Tjeneste (handler): send_reminder → send_reminder_v2"],
        "first_gateway": ["Standardflyt: f_regular → f_first"],
        "finalize": ["Dokumentasjon endret"],
    }
    assert [e.element_id for e in result.elements] == sorted(e.element_id for e in result.elements)
    assert result.changed == [e.element_id for e in result.elements]


def test_condition_added_and_removed_and_kind_changed():
    b = sub(MEETING, '<bpmn:sequenceFlow id="f_late" sourceRef="notice_gateway" targetRef="late"/>',
            '<bpmn:sequenceFlow id="f_late" sourceRef="notice_gateway" targetRef="late">'
            '<bpmn:conditionExpression>notice_ok == False</bpmn:conditionExpression></bpmn:sequenceFlow>')
    b = sub(b, '<bpmn:sequenceFlow id="f_first" sourceRef="first_gateway" targetRef="hold_first">'
               '<bpmn:conditionExpression>is_first_meeting == True</bpmn:conditionExpression></bpmn:sequenceFlow>',
            '<bpmn:sequenceFlow id="f_first" sourceRef="first_gateway" targetRef="hold_first"/>')
    b = sub(b, '<bpmn:exclusiveGateway id="held_merge"/>', '<bpmn:inclusiveGateway id="held_merge"/>')
    result = diff(b)
    assert {e.element_id: (e.kind, e.details) for e in result.elements} == {
        "f_late": ("sequenceFlow", ["Betingelse lagt til"]),
        "f_first": ("sequenceFlow", ["Betingelse fjernet"]),
        "held_merge": ("inclusiveGateway", ["Type: exclusiveGateway → inclusiveGateway"]),
    }


def _with_layout(doc: str, x: int) -> str:
    layout = ('<bpmndi:BPMNDiagram id="dia" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
              'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><bpmndi:BPMNPlane id="plane" bpmnElement="collab_meeting">'
              f'<bpmndi:BPMNShape id="plan_di" bpmnElement="plan"><dc:Bounds x="{x}" y="80" width="100" height="80"/>'
              '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>')
    return sub(doc, "</bpmn:definitions>", layout + "</bpmn:definitions>")


def test_layout_and_formatting_are_no_change():
    a = _with_layout(MEETING, 100)
    b = _with_layout(MEETING, 480).replace("\n    ", "\n  ")  # moved shape, other indentation
    b = sub(b, "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"begin\" targetRef=\"plan\"/>",
            "<bpmn:sequenceFlow targetRef=\"plan\" sourceRef=\"begin\" id=\"f1\"/>")
    b = sub(b, '<bpmn:userTask id="plan" name="Planlegg møtet">',
            '<bpmn:userTask id="plan" name="Planlegg møtet"><bpmn:incoming>f1</bpmn:incoming>')
    result = diff(b, a_doc=a)
    assert result.elements == [] and result.forms == []


def test_elements_are_matched_within_their_process_across_files():
    a_docs = {"meeting.bpmn": MEETING, "establishment.bpmn": ESTABLISHMENT}
    # both processes have an element "end"; only the meeting's is renamed
    renamed = sub(MEETING, 'name="Møtet er avsluttet"', 'name="Møtet er over"')
    # the establishment diagram moves to another file name: still the same elements
    b_docs = {"meeting.bpmn": renamed, "processes/establishment_v2.bpmn": ESTABLISHMENT}
    result = diff_versions(a_docs, FORMS, b_docs, FORMS)
    assert [(e.process_id, e.element_id, e.details) for e in result.elements] == [
        ("meeting", "end", ["Navn: «Møtet er avsluttet» → «Møtet er over»"])]


def test_a_removed_process_lists_its_elements_as_removed():
    a_docs = {"meeting.bpmn": MEETING, "establishment.bpmn": ESTABLISHMENT}
    result = diff_versions(a_docs, FORMS, {"meeting.bpmn": MEETING}, FORMS)
    assert result.added == result.changed == []
    assert "establishment" in result.removed and "participant_establishment" in result.removed
    assert {e.process_id for e in result.elements} == {"establishment", "collab_establishment"}


def test_broken_xml_raises_the_parsing_error():
    with pytest.raises(DiagramError):
        diff(MEETING[:200])
