"""Every package of the source tree is listed in pyproject.toml's `packages`, so a wheel holds it
(a new sub-package left out installs fine in editable mode and fails only from the wheel)."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_SHIPPED = {"tests", "bench", "scripts", "samples", "docs", "build", ".venv", ".venv-bench", ".typecheck"}


def test_every_package_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {"deidc"} | {
        "deidc." + ".".join(init.parent.relative_to(ROOT).parts)
        for init in ROOT.rglob("__init__.py")
        if init.parent != ROOT and init.relative_to(ROOT).parts[0] not in NOT_SHIPPED
        and not any(part.startswith(".") or part.endswith(".egg-info") for part in init.relative_to(ROOT).parts)}
    assert sorted(found - listed) == []
    assert sorted(listed - found) == []
