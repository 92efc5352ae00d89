import shutil

from sqlalchemy import select

from tests.conftest import DIAGRAMS, deploy_test_diagrams
from tests.webapp.engine.helpers import make_case
from webapp.engine.models import ProcessDefinition, ProcessInstance


def test_deploy_creates_versions_only_on_change(services, tmp_path):
    folder = tmp_path / "processes"
    shutil.copytree(DIAGRAMS, folder, ignore=shutil.ignore_patterns("bad_*"))
    first = deploy_test_diagrams(services, folder)
    assert {d.process_id for d in first} == {"two_steps", "timers", "failing", "data_driven"}
    assert all(d.version == 1 for d in first)

    assert deploy_test_diagrams(services, folder) == []  # same content: nothing new

    case_id, user_id = make_case(services)
    old = services.engine.start(case_id, "two_steps", actor_id=user_id)

    bpmn = folder / "two_steps.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Andre steg"', 'name="Andre steg (endret)"'))
    second = deploy_test_diagrams(services, folder)
    assert [(d.process_id, d.version) for d in second] == [("two_steps", 2)]

    # A changed form also makes a new version.
    form = folder / "forms" / "number.json"
    form.write_text(form.read_text().replace("Et helt tall", "Et heltall"))
    third = deploy_test_diagrams(services, folder)
    assert [(d.process_id, d.version) for d in third] == [("two_steps", 3)]

    new = services.engine.start(case_id, "two_steps", actor_id=user_id)
    with services.db.session() as s:
        versions = {i.id: i.definition.version for i in s.scalars(select(ProcessInstance))}
        hashes = s.scalars(select(ProcessDefinition.content_hash)
                           .where(ProcessDefinition.process_id == "two_steps")).all()
    assert versions[old.instance_id] == 1  # a running instance keeps its version
    assert versions[new.instance_id] == 3
    assert len(set(hashes)) == 3
