"""Service tasks of processes/deviation.bpmn."""
from __future__ import annotations
