"""The committed diagram editor bundle is the one its build describes.

`frontend/editor` builds `webapp/static/vendor/editor/` reproducibly (see its README); the
build writes the sha256 of every file into VERSIONS.txt. CI has no Node.js, so this checks
what can be checked without it: the files are exactly those listed, unchanged, the lock file
is committed, and the bundle defines the global the pages use.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "webapp" / "static" / "vendor" / "editor"
FRONTEND = ROOT / "frontend" / "editor"

_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")


def _listed() -> dict[str, str]:
    text = (VENDOR / "VERSIONS.txt").read_text(encoding="utf-8")
    return {m.group(2): m.group(1) for m in map(_LINE.match, text.splitlines()) if m}


def test_every_built_file_matches_versions_txt():
    listed = _listed()
    assert {"ansvar-editor.js", "editor.css", "LICENSE-bpmn-js.txt"} <= listed.keys()
    on_disk = {
        p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file() and p.name != "VERSIONS.txt"
    }
    assert on_disk == set(listed), "files in vendor/editor differ from VERSIONS.txt: rebuild"
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_lock_file_is_committed_and_pins_the_direct_dependencies():
    package = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["lockfileVersion"] >= 2
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    versions = (VENDOR / "VERSIONS.txt").read_text(encoding="utf-8")
    assert f"bpmn-js {package['dependencies']['bpmn-js']}" in versions


def test_bundle_defines_the_global_and_keeps_no_remote_urls():
    bundle = (VENDOR / "ansvar-editor.js").read_text(encoding="utf-8")
    assert bundle.startswith("var AnsvarEditor=")
    for name in ("createModeler", "createViewer", "fitView"):
        assert name in bundle
    assert "http://spiffworkflow.org/bpmn/schema/1.0/core" in bundle
    css = (VENDOR / "editor.css").read_text(encoding="utf-8")
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css)
    assert urls and all(u.startswith(("./fonts/", "data:")) for u in urls), urls
    for u in urls:
        if u.startswith("./fonts/"):
            assert (VENDOR / u.split("?")[0].split("#")[0]).is_file(), u


def test_bpmn_io_licence_ships_with_the_bundle():
    licence = (VENDOR / "LICENSE-bpmn-js.txt").read_text(encoding="utf-8")
    assert "bpmn.io" in licence and "watermark" in licence.lower()
    assert (VENDOR / "THIRD-PARTY-LICENSES.txt").read_text(encoding="utf-8").count("\n=====") >= 10
