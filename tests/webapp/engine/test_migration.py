"""Moving running instances to a new version: a dry run says per instance whether it can move and
why not; a real run moves the safe ones (each audited) and leaves the others untouched."""
from __future__ import annotations

import shutil

from click.testing import CliRunner
from sqlalchemy import select

from tests.conftest import DIAGRAMS, deploy_test_diagrams
from tests.webapp.engine.helpers import make_case, open_tasks
from webapp.audit.models import AuditEvent
from webapp.engine.models import ProcessInstance


def deploy_v2(services, tmp_path):
    """Version 2 of two_steps: the first step's form text changed, the second step renamed."""
    changed = tmp_path / "v2"
    shutil.copytree(DIAGRAMS, changed)
    path = changed / "two_steps.bpmn"
    text = path.read_text()
    new = text.replace('name="Første steg"', 'name="Første steg, nytt navn"').replace(
        'name="Andre steg"', 'name="Andre steg, nytt navn"')
    assert new != text
    path.write_text(new)
    deploy_test_diagrams(services, changed, DIAGRAMS / "forms")


def state_of(services, instance_id):
    with services.db.session() as s:
        instance = s.get(ProcessInstance, instance_id)
        return instance.definition.version, instance.state


def test_dry_run_and_migration_move_safe_instances_only(services, tmp_path):
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    at_first = services.engine.start(case_id, "two_steps", actor_id=user_id).instance_id
    past_first = services.engine.start(case_id, "two_steps", actor_id=user_id).instance_id
    [task] = open_tasks(services, past_first)
    services.engine.complete_task(past_first, task.task_id, {"x": 4}, actor_id=user_id)
    deploy_v2(services, tmp_path)
    before = {i: state_of(services, i) for i in (at_first, past_first)}

    checks = {c.instance_id: c for c in services.engine.migrate([at_first, past_first], "two_steps", 2, dry_run=True)}
    assert checks[at_first].can_move and checks[at_first].reasons == []
    assert not checks[past_first].can_move
    assert checks[past_first].reasons == ["det fullførte steget «Første steg» er endret i den nye versjonen"]
    assert {i: state_of(services, i) for i in before} == before  # a dry run writes nothing

    moved = {c.instance_id: c for c in services.engine.migrate([at_first, past_first], "two_steps", 2,
                                                               dry_run=False, actor_id=user_id)}
    assert moved[at_first].moved and not moved[past_first].moved
    assert state_of(services, past_first) == before[past_first]  # the unsafe one is untouched
    assert state_of(services, at_first)[0] == 2
    [first] = open_tasks(services, at_first)
    assert first.title == "Første steg, nytt navn"
    services.engine.complete_task(at_first, first.task_id, {"x": 9}, actor_id=user_id)
    assert [t.title for t in open_tasks(services, at_first)] == ["Andre steg, nytt navn"]
    with services.db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.kind == "instance_migrated")).all()
    assert [(e.instance_id, e.detail["from_version"], e.detail["to_version"]) for e in events] == [(at_first, 1, 2)]


def test_a_removed_open_step_keeps_the_instance_where_it_is(services, tmp_path):
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    waiting = services.engine.start(case_id, "timers", actor_id=user_id).instance_id
    changed = tmp_path / "v2"
    shutil.copytree(DIAGRAMS, changed)
    path = changed / "timers.bpmn"
    text = path.read_text()
    start = text.index('    <bpmn:intermediateCatchEvent id="wait"')
    end = text.index("</bpmn:intermediateCatchEvent>") + len("</bpmn:intermediateCatchEvent>\n")
    text = text[:start] + text[end:]  # the waiting step is gone: start goes straight to counting
    text = text.replace('<bpmn:flowNodeRef>wait</bpmn:flowNodeRef>', '')
    text = text.replace('<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>', '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:startEvent>')
    text = text.replace('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>', '')
    text = text.replace('<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="count"/>',
                        '<bpmn:sequenceFlow id="f2" sourceRef="start" targetRef="count"/>')
    path.write_text(text)
    deploy_test_diagrams(services, changed, DIAGRAMS / "forms")
    [check] = services.engine.migrate([waiting], "timers", 2, dry_run=True)
    assert not check.can_move
    assert check.reasons == ["det åpne steget «Vent en dag» finnes ikke i den nye versjonen"]


def test_cli_prints_a_readable_report(services, tmp_path, db_url, monkeypatch):
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    instance_id = services.engine.start(case_id, "two_steps", actor_id=user_id).instance_id
    deploy_v2(services, tmp_path)
    from webapp.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["processes", "migrate", "two_steps", "--to", "2", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"instance {instance_id} (case {case_id}) v1 -> v2: can move" in result.output
    assert "1 instance(s) on other versions; 1 can move, 0 stay." in result.output
    assert state_of(services, instance_id)[0] == 1
    result = CliRunner().invoke(main, ["processes", "migrate", "two_steps", "--to", "2"])
    assert "v1 -> v2: moved" in result.output and state_of(services, instance_id)[0] == 2
    result = CliRunner().invoke(main, ["processes", "migrate", "two_steps", "--to", "7"])
    assert result.exit_code == 1 and "har ingen versjon 7" in result.output
