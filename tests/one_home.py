"""A rule has one home: the tests list the paths that must ask it and read their source."""

from __future__ import annotations

import importlib
import inspect


def source_of(module: str, name: str) -> str:
    """The source of ``module.name`` (a function or a class), to check which rule it asks."""
    return inspect.getsource(getattr(importlib.import_module(module), name))


def asks(module: str, name: str, *rule_names: str) -> bool:
    """Whether ``module.name`` calls one of ``rule_names``."""
    source = source_of(module, name)
    return any(rule in source for rule in rule_names)
