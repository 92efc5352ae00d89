from __future__ import annotations

from typing import Callable

#: handler name -> function(context, **params) -> JSON-serialisable result or None
REGISTRY: dict[str, Callable] = {}


def handler(name: str) -> Callable[[Callable], Callable]:
    """Register a function as the service-task handler ``name``."""

    def register(fn: Callable) -> Callable:
        if name in REGISTRY and REGISTRY[name] is not fn:
            raise ValueError(f"handler '{name}' is registered twice")
        REGISTRY[name] = fn
        return fn

    return register
