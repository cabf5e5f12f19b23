"""`format_plan` (what `deidc compile --show` prints): a golden for golden/show.deid, and the CLI.

The rule file is copied to a temp folder and compiled from there by a relative name, so the
output names `show.deid`; the one absolute path (a secret file) is replaced by `<dir>`.
Regenerate with UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deidc.compiler import compile_rules
from deidc.compiler.plan import KeepAction, LookupAction, QuarantineAction
from deidc.tools.show import format_action, format_plan

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN = GOLDEN_DIR / "show.plan.txt"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    for name in ("show.deid", "ids.csv"):
        shutil.copy(GOLDEN_DIR / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _machine_independent(text: str, workdir: Path) -> str:
    return text.replace(str(workdir.resolve()), "<dir>")


def _deidc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEIDC_")}
    return subprocess.run([sys.executable, "-m", "deidc", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_format_plan_golden(workdir):
    result = compile_rules("show.deid")
    assert result.diagnostics == []
    actual = _machine_independent(format_plan(result.plan), workdir)
    if UPDATE:
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8")


def test_golden_names_every_section():
    text = GOLDEN.read_text(encoding="utf-8")
    for title in ("paths", "tags", "private elements", "private creator blocks", "masks", "unknown elements",
                  "VRs", "name patterns", "defaults", "conditions", "file quarantines", "secrets", "shifts",
                  "markers", "PHI sets", "pixels"):
        assert f"\n[{title}]" in text, title
    assert "<dir>" in text and "/tmp" not in text


def test_format_plan_never_prints_a_secret_value(workdir, monkeypatch):
    monkeypatch.setenv("DEIDC_KEY", "super-secret-value")
    (workdir / "site.key").write_text("file-secret-value", encoding="utf-8")
    text = format_plan(compile_rules("show.deid").plan)
    assert "super-secret-value" not in text and "file-secret-value" not in text


def test_format_action_nests_fallbacks_and_counts_rows():
    action = LookupAction("t.csv", {"a": "b", "c": "d"}, QuarantineAction("why"))
    assert format_action(action) == 'lookup "t.csv" else quarantine "why" (2 rows)'  # .deid syntax
    assert format_action(KeepAction()) == "keep"


def test_format_plan_is_the_same_in_every_process(tmp_path):
    (tmp_path / "rules.deid").write_text("when Modality in (MR, CT, US, XA) { PatientName -> keep }\n",
                                         encoding="utf-8")
    code = ("from deidc.compiler import compile_rules; from deidc.tools.show import format_plan; "
            "print(format_plan(compile_rules('rules.deid').plan))")
    outputs = set()
    for seed in range(6):
        env = dict(os.environ, PYTHONHASHSEED=str(seed))
        run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1


# ---- the command line ------------------------------------------------------------------------


def test_cli_compile_show(workdir):
    run = _deidc("compile", "show.deid", "--show", cwd=workdir)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert _machine_independent(run.stdout, workdir) == GOLDEN.read_text(encoding="utf-8")
    lines = run.stdout.splitlines()
    assert lines[:2] == ["Plan from show.deid", "15 rules"]
    assert "private *                            -> remove                                       show.deid:9" in lines


def test_cli_compile_without_show(workdir):
    run = _deidc("compile", "show.deid", cwd=workdir)
    assert (run.returncode, run.stdout, run.stderr) == (0, "show.deid: ok, 15 rules\n", "")


def test_cli_compile_with_option(tmp_path):
    (tmp_path / "r.deid").write_text("default -> keep\noption strict {\n  default -> remove\n}\n", encoding="utf-8")
    run = _deidc("compile", "r.deid", "--option", "strict", "--show", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "default                              -> remove                                       r.deid:3  (+1 earlier)" in run.stdout.splitlines()


def test_cli_syntax_error_exits_2_with_a_rendered_diagnostic(tmp_path):
    (tmp_path / "bad.deid").write_text("PatientName remove\n", encoding="utf-8")
    run = _deidc("compile", "bad.deid", "--show", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        "bad.deid:1:13: error[DS001]: syntax error: missing '->' between the selector and the action",
        "  1 | PatientName remove",
        "    |             ^^^^^^",
        "  hint: write a rule as `SELECTOR -> ACTION`, e.g. `PatientName -> empty`; expected ',', '->', '/', '=', '[', 'except'",
    ]


def test_cli_compile_error_exits_2_and_prints_every_diagnostic(tmp_path):
    (tmp_path / "bad.deid").write_text("PatientNmae -> remove\n(5xx2,00x1) -> remove\n", encoding="utf-8")
    run = _deidc("compile", "bad.deid", "--show", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "bad.deid:1:1: error[DC001]: unknown keyword 'PatientNmae'" in run.stderr
    assert "  hint: did you mean 'PatientName'?" in run.stderr
    assert "bad.deid:2:1: warning[DC004]:" in run.stderr


def test_cli_warnings_only_exits_0(tmp_path):
    (tmp_path / "warn.deid").write_text("(5xx2,00x1) -> remove\n", encoding="utf-8")
    run = _deidc("compile", "warn.deid", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout == "warn.deid: ok, 1 rules\n"
    assert run.stderr.startswith("warn.deid:1:1: warning[DC004]: mask (5xx2,00x1) matches no attribute")


def test_cli_missing_file_exits_2(tmp_path):
    run = _deidc("compile", "nope.deid", cwd=tmp_path)
    assert run.returncode == 2
    assert "cannot read rule file" in run.stderr
