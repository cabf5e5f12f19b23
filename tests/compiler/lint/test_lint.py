"""deidc lint: fixture files annotate the findings they expect (`# expect: DL001[, DL004]`)."""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from deidc.commands import lint as lint_command
from deidc.compiler.lint import docs_markdown, lint_file, registry
from deidc.resources import RULESETS_DIR

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z]{2}\d{3}(?:\s*,\s*[A-Z]{2}\d{3})*)")


@pytest.fixture(autouse=True)
def key_env(monkeypatch):
    monkeypatch.setenv("DEIDC_KEY", "lint-test-key")
    monkeypatch.delenv("DEIDC_LINT_SURELY_UNSET", raising=False)


def expected(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            found += [(number, code.strip()) for code in m.group(1).split(",")]
    return sorted(found)


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.deid")), ids=lambda p: p.stem)
def test_fixture_findings(fixture):
    findings = lint_file(fixture)
    assert all(Path(d.span.file).resolve() == fixture.resolve() for d in findings)
    assert sorted((d.span.line, d.code) for d in findings) == expected(fixture)


def test_every_rule_has_a_fixture_and_docs():
    codes = {code for f in FIXTURES.glob("*.deid") for _, code in expected(f)}
    for rule in registry():
        assert rule.code in codes, rule.code
        for section in ("What:", "Why:", "Bad:", "Good:"):
            assert section in rule.doc, (rule.code, section)
    docs = (Path(__file__).parents[3] / "docs" / "lint.md").read_text(encoding="utf-8")
    for rule in registry():
        assert f"## {rule.code} {rule.name}" in docs
    assert docs == docs_markdown(), "docs/lint.md is stale: python -m deidc.compiler.lint > docs/lint.md"


def test_rendered_text_snapshot(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code = lint_command.run(argparse.Namespace(rules=["DL002.deid"], option=[], format="text"))
    assert code == 0
    assert capsys.readouterr().out == (
        "DL002.deid:3:1: warning[DL002]: conflicting-actions: 'vr PN -> dummy' is written later but "
        "loses to more specific rules: PatientName (PatientName -> empty, line 2)\n"
        "  3 | vr PN -> dummy                           # expect: DL002\n"
        "    | ^^^^^\n"
        "  hint: the most specific selector wins whatever the order; write the exception after the "
        "general rule, or change the specific rule\n"
        "1 findings (0 errors, 1 warnings)\n")


def test_json_format(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code = lint_command.run(argparse.Namespace(rules=["DL009.deid"], option=[], format="json"))
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert [(f["line"], f["code"], f["severity"]) for f in data] == [
        (2, "DL009", "warning"), (3, "DL009", "error"), (4, "DL009", "warning")]
    first = data[0]
    assert set(first) == {"file", "line", "column", "code", "name", "severity", "message", "hint"}
    assert first["file"] == "DL009.deid" and first["column"] == 1 and first["name"] == "never-matches"
    assert first["message"].startswith("mask (0xx8,FFFx)")


def test_exit_codes(capsys):
    def run(*names):
        return lint_command.run(argparse.Namespace(rules=[str(FIXTURES / n) for n in names], option=[],
                                                   format="text"))

    assert run("clean.deid") == 0
    assert capsys.readouterr().out.strip().endswith("0 findings (0 errors, 0 warnings)")
    assert run("DL008.deid") == 0  # warnings only
    assert run("DL011.deid") == 1
    assert run("DL008.deid", "compiler.deid") == 1  # several files, all reported
    out = capsys.readouterr().out
    assert "DL008.deid:2:1" in out and "compiler.deid:2:1" in out


def test_syntax_error_is_a_finding(tmp_path):
    bad = tmp_path / "bad.deid"
    bad.write_text("version 1\nPatientName remove\n", encoding="utf-8")
    findings = lint_file(bad)
    assert [(d.code, d.severity) for d in findings] == [("DS001", "error")]
    assert findings[0].message.startswith("syntax-error: ")


@pytest.mark.parametrize("name", ["ps3.15-basic.deid", "tcia.deid"])
def test_shipped_rulesets_have_no_errors(name):
    findings = lint_file(RULESETS_DIR / name)
    assert [d.render() for d in findings if d.severity == "error"] == []


def test_profile_overrides_are_not_shadowing(tmp_path):
    site = tmp_path / "site.deid"
    site.write_text('version 1\nuse "ps3.15-basic"\nPatientID -> hash\nprivate * -> remove\n', encoding="utf-8")
    assert [d.code for d in lint_file(site)] == []


def test_selected_option_overriding_base_rules_is_not_shadowing(tmp_path):
    rules = tmp_path / "opt.deid"
    rules.write_text("version 1\nPatientAge -> remove\noption keep-age {\n  PatientAge -> keep\n}\n"
                     "PatientSex -> remove\nPatientSex -> empty\ndefault -> remove\n", encoding="utf-8")
    assert [(d.span.line, d.code) for d in lint_file(rules)] == [(6, "DL001")]
    assert [(d.span.line, d.code) for d in lint_file(rules, ("keep-age",))] == [(6, "DL001")]


def test_a_specific_rule_whose_except_leaves_the_attribute_does_not_take_it(tmp_path):
    """DL002 once said `vr PN` lost PatientName to a rule whose `except` takes PatientName out."""
    rules = tmp_path / "except.deid"
    rules.write_text("version 1\nPatientName, PatientID except PatientName -> remove\nvr PN -> dummy\n"
                     "default -> keep\n", encoding="utf-8")
    assert [d.code for d in lint_file(rules) if d.code == "DL002"] == []
