"""Lint rules for diagrams in the workbench: one small diagram per rule, our own library, and a
large generated diagram."""
from __future__ import annotations

import cProfile
import pstats
from pathlib import Path

import pytest

from webapp.engine.parsing import DiagramError
from webapp.cases.roles import LANE_ROLES
from webapp.workbench.lint import Finding, lint

ROOT = Path(__file__).resolve().parents[3]
#: The lanes our diagrams use. "referent" (meeting.bpmn) is a case role too: the app labels it
#: (templating.role_label) and the minute taker's tasks sit in that lane.
ROLES = {"koordinator", "koordinerende_enhet", "medlem", "linjeleder", "systemansvarlig", "referent"}

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')


def diagram(body: str, *, lanes: str = "", extra: str = "", executable: str = "true") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="defs">{extra}'
            f'<bpmn:process id="p" name="Prosess" isExecutable="{executable}">{lanes}{body}'
            '</bpmn:process></bpmn:definitions>')


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>')


START_END = '<bpmn:startEvent id="start"/><bpmn:endEvent id="end"/>'


def found(xml: str, roles=ROLES) -> list[tuple[str, str, str | None]]:
    return [(f.severity, f.rule, f.element_id) for f in lint(xml, roles=roles)]


def test_a_clean_diagram_has_no_findings():
    xml = diagram(START_END + '<bpmn:userTask id="t" name="Planlegg møtet"/>'
                  + flow("f1", "start", "t") + flow("f2", "t", "end"),
                  lanes='<bpmn:laneSet id="ls"><bpmn:lane id="l" name="koordinator">'
                        '<bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>')
    assert lint(xml, roles=ROLES) == []


def test_start_and_end_events_are_required():
    xml = diagram('<bpmn:task id="t" name="Gjør noe"/>')
    assert found(xml) == [("error", "start-event-required", "p"), ("error", "end-event-required", "p"),
                          ("error", "no-disconnected", "t")]
    messages = [f.message for f in lint(xml, roles=ROLES)]
    assert messages[0] == ("Prosessen «Prosess» har ingen starthendelse: legg til en starthendelse der "
                           "prosessen begynner.")
    assert messages[1] == ("Prosessen «Prosess» har ingen slutthendelse: legg til en slutthendelse der "
                           "prosessen er ferdig.")


def test_no_implicit_start():
    xml = diagram(START_END + '<bpmn:task id="t" name="Ringe"/>' + flow("f1", "t", "end")
                  + flow("f0", "start", "end"))
    assert found(xml) == [("error", "no-implicit-start", "t")]
    assert lint(xml, roles=ROLES)[0].message == (
        "Oppgaven «Ringe» har ingen innkommende flyt: koble en flyt inn til den, eller fjern den.")


def test_no_implicit_end_uses_the_name_or_the_id():
    xml = diagram(START_END + '<bpmn:userTask id="plan" name="Planlegg møtet"/><bpmn:task id="t2"/>'
                  + flow("f1", "start", "plan") + flow("f2", "plan", "t2") + flow("f3", "start", "end"))
    findings = lint(xml, roles=ROLES)
    assert [(f.rule, f.element_id) for f in findings if f.severity == "error"] == [("no-implicit-end", "t2")]
    assert findings[0] == Finding("error", "no-implicit-end", "t2",
                                  "Oppgaven t2 har ingen utgående flyt: koble den videre eller til en slutthendelse.")
    xml = diagram(START_END + '<bpmn:userTask id="plan" name="Planlegg møtet"/>' + flow("f1", "start", "plan")
                  + flow("f3", "start", "end"))
    assert lint(xml, roles=ROLES) == [Finding(
        "error", "no-implicit-end", "plan",
        "Oppgaven «Planlegg møtet» har ingen utgående flyt: koble den videre eller til en slutthendelse.")]


def test_boundary_and_link_events_may_start_and_compensation_is_left_alone():
    xml = diagram(
        START_END
        + '<bpmn:task id="t" name="Vent"/>'
        + '<bpmn:boundaryEvent id="timeout" name="Fristen er ute" attachedToRef="t">'
          '<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
          '</bpmn:boundaryEvent>'
        + '<bpmn:boundaryEvent id="comp" name="Angre" attachedToRef="t"><bpmn:compensateEventDefinition/>'
          '</bpmn:boundaryEvent>'
        + '<bpmn:task id="undo" name="Rull tilbake" isForCompensation="true"/>'
        + '<bpmn:intermediateThrowEvent id="go" name="Til B"><bpmn:linkEventDefinition name="B"/>'
          '</bpmn:intermediateThrowEvent>'
        + '<bpmn:intermediateCatchEvent id="land" name="B"><bpmn:linkEventDefinition name="B"/>'
          '</bpmn:intermediateCatchEvent>'
        + flow("f1", "start", "t") + flow("f2", "t", "go") + flow("f3", "timeout", "end")
        + flow("f4", "land", "end"))
    assert found(xml) == []
    # a boundary event without an outgoing flow leads nowhere
    xml = xml.replace(flow("f3", "timeout", "end"), "")
    assert ("error", "no-implicit-end", "timeout") in found(xml)
    assert ("error", "no-disconnected", "timeout") not in found(xml)


def test_a_disconnected_element_is_reported_once():
    xml = diagram(START_END + '<bpmn:task id="lonely" name="Alene"/>' + flow("f", "start", "end"))
    assert found(xml) == [("error", "no-disconnected", "lonely")]
    assert lint(xml, roles=ROLES)[0].message == (
        "Oppgaven «Alene» er ikke koblet til noe: koble den inn i flyten, eller fjern den.")


def _choice(default: str | None, second_condition: str | None, kind: str = "exclusiveGateway") -> str:
    attr = f' default="{default}"' if default else ""
    return diagram(START_END + f'<bpmn:{kind} id="g" name="Varsel langt nok?"{attr}/>'
                   + flow("f0", "start", "g") + flow("yes", "g", "end", "ok == True")
                   + flow("no", "g", "end", second_condition))


def test_conditional_flows():
    assert found(_choice("no", None)) == []
    assert found(_choice(None, "ok == False")) == []
    assert found(_choice(None, None)) == [("error", "conditional-flows", "no")]
    assert lint(_choice(None, None), roles=ROLES)[0].message == (
        "Flyten no fra gatewayen «Varsel langt nok?» har ingen betingelse: skriv en betingelse, eller "
        "gjør den til gatewayens standardflyt.")
    assert found(_choice(None, "  ")) == [("error", "conditional-flows", "no")]  # empty condition
    assert found(_choice(None, None, "inclusiveGateway")) == [("error", "conditional-flows", "no")]
    assert found(_choice(None, None, "parallelGateway")) == []
    # one outgoing flow needs no condition
    xml = diagram(START_END + '<bpmn:exclusiveGateway id="g"/><bpmn:task id="t" name="T"/>'
                  + flow("f0", "start", "g") + flow("f1", "t", "g") + flow("f2", "g", "end"))
    assert [r for _, r, _ in found(xml)] == ["no-implicit-start"]


def test_no_duplicate_sequence_flows():
    body = START_END + '<bpmn:task id="t" name="T"/>' + flow("f1", "start", "t") + flow("f2", "t", "end")
    xml = diagram(body + flow("f3", "t", "end"))
    assert found(xml) == [("error", "no-duplicate-sequence-flows", "f3")]
    assert lint(xml, roles=ROLES)[0].message == (
        "Flyten f3 går samme vei som flyten f2, fra «T» til end: fjern den ene.")
    # same ends, different conditions: two different flows
    xml = diagram(START_END + '<bpmn:exclusiveGateway id="g" name="Hva nå?"/>' + flow("f0", "start", "g")
                  + flow("a", "g", "end", "x == 1") + flow("b", "g", "end", "x == 2"))
    assert found(xml) == []
    xml = diagram(START_END + '<bpmn:exclusiveGateway id="g" name="Hva nå?"/>' + flow("f0", "start", "g")
                  + flow("a", "g", "end", "x == 1") + flow("b", "g", "end", " x  ==   1 "))
    assert found(xml) == [("error", "no-duplicate-sequence-flows", "b")]


def test_label_required():
    xml = diagram(
        '<bpmn:startEvent id="start"/>'
        '<bpmn:startEvent id="timer_start"><bpmn:timerEventDefinition><bpmn:timeCycle>"R/P1D"</bpmn:timeCycle>'
        '</bpmn:timerEventDefinition></bpmn:startEvent>'
        '<bpmn:serviceTask id="svc"/>'
        '<bpmn:exclusiveGateway id="split" default="f4"/>'
        '<bpmn:parallelGateway id="fork"/>'
        '<bpmn:parallelGateway id="join"/>'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"'
        '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        '<bpmn:exclusiveGateway id="merge"/>'
        '<bpmn:endEvent id="end"/>'
        + flow("f1", "start", "svc") + flow("f1b", "timer_start", "svc") + flow("f2", "svc", "split")
        + flow("f3", "split", "fork", "x") + flow("f4", "split", "merge")
        + flow("f5", "fork", "wait") + flow("f6", "fork", "join") + flow("f7", "wait", "join")
        + flow("f8", "join", "merge") + flow("f9", "merge", "end"))
    labels = [(s, e) for s, r, e in found(xml) if r == "label-required"]
    assert labels == [("warning", "timer_start"), ("warning", "svc"), ("warning", "split"), ("warning", "wait")]
    by_id = {f.element_id: f.message for f in lint(xml, roles=ROLES) if f.rule == "label-required"}
    assert by_id["split"] == ("Gatewayen split har ikke noe navn: skriv spørsmålet den avgjør, for eksempel "
                              "«Er innkallingen sendt i tide?».")
    assert by_id["svc"] == "Oppgaven svc har ikke noe navn: skriv hva som gjøres, for eksempel «Planlegg møtet»."
    # a name of only blanks is no name
    assert ("warning", "label-required", "t") in found(diagram(
        START_END + '<bpmn:task id="t" name="  "/>' + flow("a", "start", "t") + flow("b", "t", "end")))


def test_fake_join():
    xml = diagram(START_END + '<bpmn:exclusiveGateway id="g" name="Igjen?" default="back"/>'
                  '<bpmn:task id="t" name="Skriv"/>'
                  + flow("f1", "start", "t") + flow("f2", "t", "g") + flow("done", "g", "end", "ferdig")
                  + flow("back", "g", "t"))
    assert found(xml) == [("warning", "fake-join", "t")]
    assert lint(xml, roles=ROLES)[0].message.startswith("Oppgaven «Skriv» har 2 innkommende flyter: samle dem")


def test_superfluous_gateway_and_join_fork():
    xml = diagram(START_END + '<bpmn:exclusiveGateway id="g"/>' + flow("f1", "start", "g") + flow("f2", "g", "end"))
    assert found(xml) == [("warning", "superfluous-gateway", "g")]
    xml = diagram(
        START_END + '<bpmn:task id="a" name="A"/><bpmn:task id="b" name="B"/>'
        '<bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="both"/><bpmn:parallelGateway id="join"/>'
        + flow("f1", "start", "fork") + flow("f2", "fork", "both") + flow("f3", "fork", "both")
        + flow("f4", "both", "a") + flow("f5", "both", "b") + flow("f6", "a", "join") + flow("f7", "b", "join")
        + flow("f8", "join", "end"))
    assert ("warning", "no-gateway-join-fork", "both") in found(xml)
    assert [r for _, r, e in found(xml) if e == "both"] == ["no-gateway-join-fork"]
    assert [f.message for f in lint(xml, roles=ROLES) if f.element_id == "both"] == [
        "Gatewayen both både samler og deler flyten: bruk to gatewayer, én som samler flytene og én som deler dem."]


def test_lane_role():
    body = START_END + flow("f", "start", "end")
    lanes = ('<bpmn:laneSet id="ls">'
             '<bpmn:lane id="ok" name="koordinator"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
             '<bpmn:lane id="bad" name="Saksbehandler"/>'
             '<bpmn:lane id="noname"/>'
             '<bpmn:lane id="parent" name="Kommunen"><bpmn:childLaneSet id="cls">'
             '<bpmn:lane id="child" name="medlem"/></bpmn:childLaneSet></bpmn:lane>'
             '</bpmn:laneSet>')
    findings = lint(diagram(body, lanes=lanes), roles={"koordinator", "medlem"})
    assert findings == [
        Finding("error", "lane-role", "bad", "Banen «Saksbehandler» er ikke en kjent rolle: gi den navnet til "
                "en av rollene koordinator eller medlem."),
        Finding("error", "lane-role", "noname", "Banen noname har ikke noe navn: gi den navnet til en av "
                "rollene koordinator eller medlem."),
    ]
    three = lint(diagram(body, lanes=lanes), roles={"koordinator", "medlem", "linjeleder"})[0].message
    assert three.endswith("en av rollene koordinator, linjeleder eller medlem.")
    no_roles = lint(diagram(body, lanes=lanes), roles=())
    assert [f.element_id for f in no_roles] == ["ok", "bad", "noname", "child"]
    assert no_roles[0].message == ("Banen «koordinator» er ikke en kjent rolle: ingen roller er satt opp ennå; "
                                   "be en administrator om å legge dem inn.")


def test_flows_inside_a_subprocess_are_checked_within_it():
    sub = ('<bpmn:subProcess id="sub" name="Innhent svar">'
           '<bpmn:startEvent id="s_start"/><bpmn:task id="s_task" name="Spør"/><bpmn:task id="s_dead" name="Blindvei"/>'
           '<bpmn:endEvent id="s_end"/>'
           + flow("s1", "s_start", "s_task") + flow("s2", "s_task", "s_end") + flow("s3", "s_task", "s_dead")
           + '</bpmn:subProcess>')
    xml = diagram(START_END + sub + flow("f1", "start", "sub") + flow("f2", "sub", "end"))
    assert found(xml) == [("error", "no-implicit-end", "s_dead")]
    # a sub-process needs its own start and end events
    empty_sub = '<bpmn:subProcess id="sub" name="Tom"><bpmn:task id="inner" name="Noe"/></bpmn:subProcess>'
    xml = diagram(START_END + empty_sub + flow("f1", "start", "sub") + flow("f2", "sub", "end"))
    assert found(xml) == [("error", "start-event-required", "sub"), ("error", "end-event-required", "sub"),
                          ("error", "no-disconnected", "inner")]
    assert lint(xml, roles=ROLES)[0].message == (
        "Delprosessen «Tom» har ingen starthendelse: legg til en starthendelse der delprosessen begynner.")


def test_event_and_ad_hoc_subprocesses():
    xml = diagram(
        START_END + flow("f", "start", "end")
        + '<bpmn:subProcess id="on_error" name="Ved feil" triggeredByEvent="true">'
          '<bpmn:startEvent id="e_start" name="Feil"><bpmn:errorEventDefinition/></bpmn:startEvent>'
          '<bpmn:endEvent id="e_end"/>' + flow("e1", "e_start", "e_end") + '</bpmn:subProcess>'
        + '<bpmn:adHocSubProcess id="adhoc" name="Etter behov"><bpmn:task id="a1" name="Ring"/>'
          '<bpmn:task id="a2" name="Skriv"/></bpmn:adHocSubProcess>')
    # the event sub-process needs no flows; the ad-hoc one is not connected
    assert found(xml) == [("error", "no-disconnected", "adhoc")]


def test_black_box_and_non_executable_pools_are_left_out():
    extra = ('<bpmn:collaboration id="c"><bpmn:participant id="pp" processRef="p"/>'
             '<bpmn:participant id="outside" name="Fastlegen" processRef="empty"/>'
             '<bpmn:participant id="doc" name="Dokumentasjon" processRef="sketch"/>'
             '<bpmn:participant id="nothing" name="Skolen"/></bpmn:collaboration>'
             '<bpmn:process id="empty" isExecutable="true"/>'
             '<bpmn:process id="sketch" isExecutable="false"><bpmn:task id="x"/>'
             '<bpmn:laneSet id="ls2"><bpmn:lane id="weird" name="ukjent"/></bpmn:laneSet></bpmn:process>')
    xml = diagram(START_END + flow("f", "start", "end"), extra=extra)
    assert found(xml) == []


def test_a_document_without_an_executable_process():
    xml = diagram(START_END + flow("f", "start", "end"), executable="false")
    assert lint(xml, roles=ROLES) == [Finding(
        "error", "executable-process-required", None,
        "Prosessen er merket som ikke kjørbar (isExecutable=\"false\"): merk den som kjørbar, ellers kan den "
        "ikke publiseres.")]
    empty = f'<bpmn:definitions {NS} id="d"><bpmn:process id="p"/></bpmn:definitions>'
    assert found(empty) == [("error", "executable-process-required", None)]


def test_broken_xml_raises_the_parsing_error():
    with pytest.raises(DiagramError) as caught:
        lint("<bpmn:definitions", roles=ROLES)
    assert [(p.file, p.line) for p in caught.value.problems] == [("diagram.bpmn", 1)]
    with pytest.raises(DiagramError) as caught:
        lint('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', roles=ROLES)
    assert [p.file for p in caught.value.problems] == ["diagram.bpmn"]


def test_elements_without_name_or_id_are_still_reported():
    xml = diagram(START_END + '<bpmn:task/>' + flow("f", "start", "end"))
    assert lint(xml, roles=ROLES)[0] == Finding(
        "error", "no-disconnected", None, "Oppgaven uten navn er ikke koblet til noe: koble den inn i flyten, "
        "eller fjern den.")


def test_findings_follow_the_document_order():
    xml = diagram(START_END + '<bpmn:task id="b"/><bpmn:task id="a"/>' + flow("f", "start", "end"))
    assert found(xml) == [("error", "no-disconnected", "b"), ("warning", "label-required", "b"),
                          ("error", "no-disconnected", "a"), ("warning", "label-required", "a")]


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.bpmn")), ids=lambda p: p.name)
def test_our_diagrams_have_no_errors(path):
    # the lanes the app knows (the person's own lane `bruker` too), as the workbench lints with
    findings = lint(path.read_text(encoding="utf-8"), roles=LANE_ROLES, filename=path.name)
    assert [f for f in findings if f.severity == "error"] == []
    assert all(f.severity == "warning" and f.message for f in findings)


def _chain(n: int) -> str:
    """start → n tasks (every tenth without a name) → end, in one lane."""
    names = ["" if i % 10 == 0 else f' name="Steg {i}"' for i in range(n)]
    tasks = "".join(f'<bpmn:userTask id="t{i}"{names[i]}/>' for i in range(n))
    refs = "".join(f"<bpmn:flowNodeRef>t{i}</bpmn:flowNodeRef>" for i in range(n))
    ids = ["start", *(f"t{i}" for i in range(n)), "end"]
    flows = "".join(flow(f"f{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:])))
    return diagram(START_END + tasks + flows, lanes=f'<bpmn:laneSet id="ls"><bpmn:lane id="l" name="koordinator">'
                                                   f'{refs}</bpmn:lane></bpmn:laneSet>')


def _calls(xml: str) -> tuple[int, list[Finding]]:
    profile = cProfile.Profile()
    findings = profile.runcall(lint, xml, roles=ROLES)
    return pstats.Stats(profile).total_calls, findings


def test_a_5000_task_diagram_is_linted_in_linear_work():
    small_calls, small = _calls(_chain(500))
    large_calls, large = _calls(_chain(5000))
    assert [f.element_id for f in large] == [f"t{i}" for i in range(0, 5000, 10)]
    assert {f.rule for f in large} == {"label-required"} and len(small) == 50
    # ten times the elements: about ten times the function calls (a quadratic rule: a hundred)
    assert large_calls < 12 * small_calls
