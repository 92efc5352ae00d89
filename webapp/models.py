"""Imports every model so metadata is complete (Alembic, tests)."""
from webapp.db import Base  # noqa: F401
from webapp.auth.models import User  # noqa: F401
from webapp.cases.models import Case, CaseMember  # noqa: F401
from webapp.audit.models import AuditEvent  # noqa: F401
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance  # noqa: F401
from webapp.outbox.models import OutboxMessage  # noqa: F401
