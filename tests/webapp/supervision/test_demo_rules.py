"""The demo has at least one case for each of the supervisors' rules (issue 13), as seeded
(before the worker's first round). SQLite and PostgreSQL."""
from pathlib import Path

from webapp.demo import seed
from webapp.engine.operations import deploy_library
from webapp.supervision import rules


def test_every_rule_has_a_demo_case(app, services):
    root = Path(__file__).resolve().parents[3]
    deploy_library(services.db, services.clock, root / "processes", root / "forms", sorted(services.engine.handlers))
    assert seed(app)
    with services.db.session() as s:
        counts = rules.counts(s, services.clock.now(), services.clock.today())
    assert set(counts) == set(rules.RULES)
    assert [key for key, count in counts.items() if count == 0] == []
