"""Python behind service tasks. A diagram's service task names a handler registered here
(``spiffworkflow:serviceTaskOperator id="<name>"``); nothing else is callable from a diagram.

Import this package to get the full registry: ``from handlers import REGISTRY``.
"""
from handlers.registry import REGISTRY, handler  # noqa: F401
from handlers import (  # noqa: F401  (registers handlers)
    closing, deviations, establishment, evaluations, meetings, messages, plans, transitions,
)
