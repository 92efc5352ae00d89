"""Reading and checking the profiles in ``profiles/`` (one folder per profile).

A profile folder holds ``profile.json``::

    {"name": "Lund", "guideline": "003_….txt", "description": "…",
     "settings": {"notice_days": {"value": 14, "source": "«Minimum 14 dager før møtet»"}, …}}

and optionally ``processes/*.bpmn`` (+ ``forms/*.json``): diagram variants that replace the
process of the same id in the library. A variant may name only registered handlers, form
providers and forms that exist in the library or in the profile's own ``forms/``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from webapp.config import PROJECT_ROOT
from webapp.engine.library import LibrarySource, check_library, read_directory
from webapp.settings.defaults import DEFINITIONS

PROFILES_DIR = PROJECT_ROOT / "profiles"
#: a profile's name is its folder's name: what `demo --profile` and the URLs use
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}$")


class ProfileError(Exception):
    """A profile that cannot be used: names the profile and what is wrong."""


@dataclass(frozen=True)
class SettingValue:
    key: str
    value: Any
    source: str  # where in the guideline the value comes from (Norwegian)


@dataclass(frozen=True)
class Variant:
    """A diagram variant: the documents and forms that become a new version of ``process_id``."""

    process_id: str
    name: str
    files: tuple[str, ...]
    documents: dict[str, str]
    forms: dict[str, dict]


@dataclass(frozen=True)
class Profile:
    name: str  # folder name, e.g. "lund"
    title: str  # shown to people, e.g. "Lund"
    guideline: str  # file name in shared/seeds
    description: str
    settings: tuple[SettingValue, ...]
    variants: tuple[Variant, ...] = field(default=())


def profile_names(root: Path = PROFILES_DIR) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / "profile.json").is_file()) if root.is_dir() else []


def load_profile(name: str, root: Path = PROFILES_DIR, *, library: Path = PROJECT_ROOT) -> Profile:
    """The profile in ``root/name``, checked: every setting exists and its value is allowed; every
    variant validates against the handlers, providers and forms (``library/forms`` plus its own)."""
    if not NAME.match(name or "") or not (root / name / "profile.json").is_file():
        raise ProfileError(f"Profilen «{name}» finnes ikke.")
    folder = root / name
    try:
        data = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"{name}/profile.json er ikke gyldig JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{name}/profile.json må være et JSON-objekt.")
    for key in ("name", "guideline", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ProfileError(f"{name}/profile.json mangler «{key}».")
    raw_settings = data.get("settings")
    if not isinstance(raw_settings, dict):
        raise ProfileError(f"{name}/profile.json mangler «settings».")
    settings = []
    for key, entry in raw_settings.items():
        definition = DEFINITIONS.get(key)
        if definition is None:
            raise ProfileError(f"{name}: innstillingen «{key}» finnes ikke.")
        if not isinstance(entry, dict) or "value" not in entry or not str(entry.get("source") or "").strip():
            raise ProfileError(f"{name}: «{key}» må ha «value» og «source» (hvor i retningslinjen verdien står).")
        if not definition.allows(entry["value"]):
            raise ProfileError(f"{name}: verdien {entry['value']!r} er ikke tillatt for «{key}».")
        settings.append(SettingValue(key, entry["value"], entry["source"].strip()))
    return Profile(name=name, title=data["name"].strip(), guideline=data["guideline"].strip(),
                   description=data["description"].strip(), settings=tuple(settings),
                   variants=tuple(_variants(folder, library)))


def _variants(folder: Path, library: Path) -> list[Variant]:
    processes = folder / "processes"
    if not processes.is_dir():
        return []
    source = read_directory(processes, folder / "forms")
    library_forms = read_directory(library / "processes", library / "forms").forms
    own_forms = dict(source.forms)
    source = LibrarySource(source.documents, {**library_forms, **own_forms}, source.problems)
    checked = _check(source)
    if checked.problems:
        problems = "; ".join(str(p) for p in checked.problems)
        raise ProfileError(f"{folder.name}: diagramvarianten er ikke gyldig: {problems}")
    return [Variant(process_id, label, tuple(files), {f: source.documents[f] for f in files},
                    {f: source.forms[f] for f in forms})
            for process_id, (label, files, forms) in sorted(checked.processes.items())]


def _check(source: LibrarySource):
    from handlers import REGISTRY
    from webapp.taskforms.providers import provider_names
    return check_library(source, REGISTRY.keys(), provider_names())


@lru_cache(maxsize=None)
def _cached(name: str, root: Path) -> Profile:
    return load_profile(name, root)


def get_profile(name: str, root: Path = PROFILES_DIR) -> Profile:
    """A shipped profile (read and checked once per process)."""
    return _cached(name, root)


def all_profiles(root: Path = PROFILES_DIR) -> list[Profile]:
    return [get_profile(name, root) for name in profile_names(root)]
