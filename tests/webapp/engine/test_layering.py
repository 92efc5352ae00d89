"""The engine is a leaf layer (DESIGN §3): it imports only the database, the clock, the audit
table it writes in a step's transaction, and its own modules — never the domain or the web."""
from __future__ import annotations

import ast
from pathlib import Path

import webapp.engine

ENGINE = Path(webapp.engine.__file__).parent
ALLOWED = ("webapp.db", "webapp.clock", "webapp.audit", "webapp.engine")
OURS = ("webapp", "handlers")


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the engine package
                found.append((node.lineno, "webapp.engine." + (node.module or "")))
            elif node.module:
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _allowed(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in ALLOWED)


def test_engine_imports_nothing_from_the_domain_or_the_web():
    modules = sorted(ENGINE.glob("*.py"))
    assert len(modules) >= 8  # the check really looked at the package
    offending = [f"{path.name}:{line} imports {name}"
                 for path in modules for line, name in _imports(path)
                 if name.split(".")[0] in OURS and not _allowed(name)]
    assert offending == []


def test_the_check_catches_a_domain_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from webapp.cases.models import Case\n    import handlers.context\n")
    names = [name for _line, name in _imports(bad)]
    assert [n for n in names if not _allowed(n)] == ["webapp.cases.models.Case", "handlers.context"]
