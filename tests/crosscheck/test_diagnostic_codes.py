"""Every diagnostic code the package reports has one home: the stages' codes (DSnnn, DCnnn,
DRnnn) are named in deidc.diagnostics.CODES, lint's (DLnnn) by the lint rule modules. A code
used but not named, named but never used, or a `Diagnostic(...)` built without a code fails here."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from deidc.compiler.lint import registry
from deidc.diagnostics import CODES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIRS = ("dsl", "compiler", "runtime", "tools", "commands", "scoring")
CODE = re.compile(r"D[SCRL]\d{3}")


def _package_files() -> list[Path]:
    return [ROOT / "diagnostics.py"] + [p for d in PACKAGE_DIRS for p in sorted((ROOT / d).rglob("*.py"))]


def _code_literals(path: Path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value)}


def test_every_stage_code_is_named_and_every_name_is_used():
    used = set().union(*(_code_literals(p) for p in _package_files() if p.name != "diagnostics.py"))
    stage_codes = {c for c in used if not c.startswith("DL")}
    assert sorted(stage_codes - set(CODES)) == [], "codes reported but missing from deidc.diagnostics.CODES"
    assert sorted(set(CODES) - stage_codes) == [], "codes named in CODES that nothing reports"


def test_lint_codes_come_from_the_lint_rules():
    used = set().union(*(_code_literals(p) for p in _package_files()))
    lint_codes = {rule.code for rule in registry()}
    assert sorted({c for c in used if c.startswith("DL")} - lint_codes) == []
    assert not set(CODES) & lint_codes


def test_every_diagnostic_is_built_with_a_code():
    missing = []
    for path in _package_files():
        if path.parent.name == "lint":  # lint findings take their rule's code where they are collected
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Diagnostic"
                    and not any(k.arg == "code" for k in node.keywords) and len(node.args) < 5):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert missing == []
