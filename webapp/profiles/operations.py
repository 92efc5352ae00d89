"""What applying a profile changes (preview), and applying it in one transaction.

Applying changes each setting that differs through ``change_setting`` (one audit event each),
publishes each diagram variant whose content differs from the newest version as a new version
(``publish_content``), and records ``profile_applied``. A second apply of the same profile
changes nothing and records nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.engine.library import content_hash
from webapp.profiles.catalogue import PROFILES_DIR, Profile, Variant, get_profile
from webapp.settings.defaults import DEFINITIONS, SettingDefinition
from webapp.settings.operations import all_settings, change_setting


@dataclass(frozen=True)
class SettingChange:
    key: str
    definition: SettingDefinition
    current: Any
    new: Any
    source: str  # where in the guideline the new value comes from

    @property
    def label(self) -> str:
        return str(self.definition.label)  # in the reader's language


@dataclass
class ProcessChange:
    """A diagram variant that differs from the newest version of its process."""

    variant: Variant
    current_version: int | None  # None: the process is not in the library yet
    #: element changes (webapp.workbench.diff.ElementChange), empty when no diff could be made
    elements: list = field(default_factory=list)
    forms: list = field(default_factory=list)

    @property
    def process_id(self) -> str:
        return self.variant.process_id


@dataclass
class ProfilePreview:
    profile: Profile
    settings: list[SettingChange]
    unchanged: list[str]  # keys the profile sets that already have its value
    processes: list[ProcessChange]

    @property
    def changes_anything(self) -> bool:
        return bool(self.settings or self.processes)


@dataclass
class ApplyResult:
    profile: Profile
    settings: list[str]  # keys changed
    published: dict[str, int]  # process id -> new version


def preview(session: Session, name: str, *, root: Path = PROFILES_DIR) -> ProfilePreview:
    """What applying profile ``name`` would change (raises ProfileError for an unknown or broken profile)."""
    profile = get_profile(name, root)
    current = all_settings(session)
    changes, unchanged = [], []
    for entry in profile.settings:
        if current[entry.key] == entry.value:
            unchanged.append(entry.key)
        else:
            changes.append(SettingChange(entry.key, DEFINITIONS[entry.key], current[entry.key], entry.value,
                                         entry.source))
    return ProfilePreview(profile, changes, unchanged,
                          [c for v in profile.variants if (c := _process_change(session, v)) is not None])


def _process_change(session: Session, variant: Variant) -> ProcessChange | None:
    from webapp.workbench.operations import version
    latest = version(session, variant.process_id, content=True)
    if latest is not None and latest.content_hash == content_hash(variant.documents, variant.forms):
        return None
    change = ProcessChange(variant, latest.version if latest else None)
    try:
        from webapp.workbench.diff import diff_versions
    except ImportError:  # the version comparison is optional: the process is still listed
        return change
    diff = diff_versions(latest.documents if latest else {}, latest.forms if latest else {},
                         variant.documents, variant.forms)
    change.elements, change.forms = list(diff.elements), list(diff.forms)
    return change


def apply(services, name: str, actor_id: int | None, *, root: Path = PROFILES_DIR) -> ApplyResult:
    """Apply profile ``name`` in one transaction: settings (audited one by one), diagram variants as
    new versions, and the ``profile_applied`` audit event when anything changed."""
    from webapp.workbench.operations import WorkbenchError, publish_content
    with services.db.transaction(serialised=True) as s:
        plan = preview(s, name, root=root)
        profile, now = plan.profile, services.clock.now()
        for change in plan.settings:
            change_setting(s, change.key, change.new, at=now, actor_id=actor_id)
        published = {}
        for change in plan.processes:
            variant = change.variant
            try:
                definition = publish_content(
                    s, variant.process_id, variant.documents, variant.forms, actor_id=actor_id, at=now,
                    note=f"Profil «{profile.title}» (retningslinje {profile.guideline}).")
            except WorkbenchError:  # equal to the newest version after all: nothing to publish
                continue
            published[variant.process_id] = definition.version
        result = ApplyResult(profile, [c.key for c in plan.settings], published)
        if result.settings or result.published:
            record(s, "profile_applied", at=now, actor_id=actor_id, profile=profile.name,
                   **titled("Profil tatt i bruk: %(profile)s", profile=profile.title),
                   guideline=profile.guideline, settings={c.key: {"old": c.current, "new": c.new} for c in plan.settings},
                   published=published)
    return result
