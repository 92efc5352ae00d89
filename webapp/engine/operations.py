"""Engine-level domain operations that are not steps of an instance."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

from webapp.audit.operations import record
from webapp.clock import Clock
from webapp.db import Database
from webapp.engine.library import deploy, read_directory
from webapp.engine.models import ProcessDefinition


def deploy_library(db: Database, clock: Clock, processes_dir: Path, forms_dir: Path,
                   handler_names: Iterable[str], actor_id: int | None = None,
                   provider_names: Mapping[str, set[str]] | None = None) -> list[ProcessDefinition]:
    """Deploy every changed process of a directory as a new version (all or nothing).
    ``provider_names``: the form providers the web layer knows (``EngineHooks.provider_names``)."""
    source = read_directory(processes_dir, forms_dir)
    with db.transaction(serialised=True) as s:
        now = clock.now()
        created = deploy(s, source, handler_names, at=now, provider_names=provider_names)
        for definition in created:
            record(s, "process_deployed", at=now, actor_id=actor_id, process=definition.process_id,
                   version=definition.version, content_hash=definition.content_hash)
    return created
