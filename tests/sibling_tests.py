"""Load another test module by its path (the suite runs with --import-mode=importlib, so test
modules are not importable by name): the cross-check tests reuse their cases and rulesets."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).parent


def load(relative: str, name: str) -> ModuleType:
    """tests/<relative> as module `name` (kept in sys.modules, as pytest's own import would)."""
    spec = importlib.util.spec_from_file_location(name, TESTS / relative)
    assert spec is not None and spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
