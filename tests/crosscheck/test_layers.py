"""The stages import one way: dsl <- compiler <- runtime <- tools (and commands on top). A module
of a lower layer that imports a higher one (at module level or inside a function) fails here."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# package -> the deidc packages it must not import
FORBIDDEN = {
    "dsl": {"compiler", "runtime", "tools", "commands", "scoring"},
    "compiler": {"runtime", "tools", "commands", "scoring"},
    "runtime": {"tools", "commands", "scoring"},
    "tools": {"commands"},
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deidc."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("deidc.")}
    return found


def test_no_stage_imports_a_later_one():
    wrong = [f"{path.relative_to(ROOT)} imports deidc.{name}"
             for package, forbidden in FORBIDDEN.items()
             for path in sorted((ROOT / package).rglob("*.py"))
             for name in sorted(_imports(path) & forbidden)]
    assert wrong == []
