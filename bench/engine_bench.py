"""Engine benchmark: the cost of one step.

(a) raw SpiffWorkflow in memory, with a full serialize/deserialize round trip per step (what a
    naive persistent integration does);
(b) our engine with the database (SQLite file): lock, restore, complete, run, persist, project;
(c) the same case's 1st episodes against its 100th (the cost must not grow with a case's age).

Raw and engine episodes are interleaved so both meet the same machine speed; the age ratio is
normalised by raw episodes run alongside each engine episode for the same reason.

Prints medians and ratios; the last line is one JSON object. Never asserts on time.
Usage: python bench/engine_bench.py [--quick]
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import select  # noqa: E402

from handlers import REGISTRY  # noqa: E402
from webapp.auth.operations import create_user  # noqa: E402
from webapp.cases.operations import add_member, open_case  # noqa: E402
from webapp.clock import Clock  # noqa: E402
from webapp.db import Database  # noqa: E402
from webapp.engine.models import OpenTask  # noqa: E402
from webapp.engine.operations import deploy_library  # noqa: E402
from webapp.engine.parsing import ParsedLibrary  # noqa: E402
from webapp.engine.runtime import WorkflowEngine  # noqa: E402
from webapp.services import build_engine  # noqa: E402
from webapp.migrate import upgrade  # noqa: E402

DIAGRAMS = Path(__file__).parent / "diagrams"
STEP_DATA = [{"n": i, "note": "merknad " * 5} for i in range(1, 6)]


def raw_episode(serializer, spec, subs, steps: list[dict] = STEP_DATA) -> list[float]:
    """One episode in memory, completing the ready user task with each of ``steps`` in turn;
    returns the time of each step."""
    workflow = BpmnWorkflow(spec, subs)
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    times = []
    for data in steps:
        t0 = time.perf_counter()
        workflow = serializer.deserialize_json(state)
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        state = serializer.serialize_json(workflow)
        times.append(time.perf_counter() - t0)
    assert workflow.is_completed()
    return times


def engine_episode(engine: WorkflowEngine, case_id: int, user_id: int) -> list[float]:
    started = engine.start(case_id, "bench", actor_id=user_id)
    times = []
    for data in STEP_DATA:
        with engine.db.session() as s:  # what the inbox/task page reads: the projection
            task_id = s.scalar(select(OpenTask.task_id).where(OpenTask.instance_id == started.instance_id))
        t0 = time.perf_counter()
        result = engine.complete_task(started.instance_id, task_id, data, actor_id=user_id)
        times.append(time.perf_counter() - t0)
    assert result.status == "completed", result
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under a minute)")
    args = parser.parse_args()
    raw_reps, engine_reps, episodes, window = (30, 30, 100, 10) if args.quick else (100, 100, 100, 20)

    parsed = ParsedLibrary({p.name: p.read_text() for p in DIAGRAMS.glob("*.bpmn")})
    spec, subs = parsed.specs("bench")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    gc.collect()
    gc.disable()  # like timeit: collector pauses are noise, not the cost of a step
    raw_episode(serializer, spec, subs)  # warm up

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db, clock = Database(url), Clock()
        deploy_library(db, clock, DIAGRAMS, DIAGRAMS / "forms", REGISTRY.keys())
        engine = build_engine(db, clock, REGISTRY)
        with db.transaction() as s:
            user = create_user(s, "bench", "Bench", "x" * 12, at=clock.now())
            case = open_case(s, "Benchmark", at=clock.now())
            add_member(s, case, "Bench", "koordinator", at=clock.now(), user_id=user.id)
            other = open_case(s, "Warm-up", at=clock.now())
            add_member(s, other, "Bench", "koordinator", at=clock.now(), user_id=user.id)
            case_id, other_id, user_id = case.id, other.id, user.id
        engine_episode(engine, other_id, user_id)  # warm up caches on another case
        # Raw and engine episodes alternate, so both see the same machine (a shared VM's speed drifts).
        raw, engine_times = [], []
        for _ in range(max(raw_reps, engine_reps)):
            raw += raw_episode(serializer, spec, subs)
            engine_times += engine_episode(engine, other_id, user_id)

        per_episode, raw_alongside = [], []
        for _ in range(episodes):
            per_episode.append(engine_episode(engine, case_id, user_id))
            raw_alongside.append(raw_episode(serializer, spec, subs))
        gc.enable()
        db.dispose()

    early = [t for ep in per_episode[:window] for t in ep]
    late = [t for ep in per_episode[-window:] for t in ep]
    raw_early = statistics.median(t for ep in raw_alongside[:window] for t in ep)
    raw_late = statistics.median(t for ep in raw_alongside[-window:] for t in ep)
    raw_ms = statistics.median(raw) * 1000
    engine_ms = statistics.median(engine_times) * 1000
    early_ms, late_ms = statistics.median(early) * 1000, statistics.median(late) * 1000
    # the age ratio is normalised by raw steps measured alongside, so machine drift cancels out
    growth = (late_ms / (raw_late * 1000)) / (early_ms / (raw_early * 1000))

    print(f"(a) raw SpiffWorkflow step, serialize/deserialize round trip: median {raw_ms:.2f} ms "
          f"over {len(raw)} steps")
    print(f"(b) engine step with SQLite (lock, restore, run, persist, project, audit): median "
          f"{engine_ms:.2f} ms over {len(engine_times)} steps; overhead ratio {engine_ms / raw_ms:.2f}")
    print(f"(c) same case, episodes 1-{window}: median {early_ms:.2f} ms; episodes "
          f"{episodes - window + 1}-{episodes}: median {late_ms:.2f} ms; unnormalised ratio "
          f"{late_ms / early_ms:.2f}; ratio normalised by raw steps run alongside {growth:.2f}")
    print(json.dumps({
        "raw_step_ms": round(raw_ms, 3), "engine_step_ms": round(engine_ms, 3),
        "overhead_ratio": round(engine_ms / raw_ms, 3), "age_growth_ratio": round(growth, 3),
    }))


if __name__ == "__main__":
    main()
