"""The built wheel works on its own: grammar and rulesets inside, `deidc` on PATH of a fresh venv.

Builds from a copy of the source tree (building in place would leave build/ and *.egg-info in
the checkout), installs the wheel into a brand-new venv with pip (dependencies from the
configured index), and runs the installed `deidc` with the ruleset shipped inside the wheel,
from a working directory that is not the checkout.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pydicom
import pytest

import deidc

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
SOURCE = Path(deidc.__file__).resolve().parent  # the checkout (editable install)
# .typecheck/deidc is a symlink to the root (for mypy): copying through it would never end
NOT_SOURCE = {".git", ".venv", "venv", "build", "dist", "tests", "demo-out", "out", "samples",
              "bench", ".pytest_cache", "__pycache__", ".typecheck", ".mypy_cache", ".ruff_cache"}


def _run(cmd: list, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DEIDC_KEY"}}
    env.update(COLUMNS="200", NO_COLOR="1")
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          timeout=timeout, **kwargs)


def _copy_source(target: Path) -> Path:
    def ignore(folder, names):
        top = Path(folder).resolve() == SOURCE
        return [n for n in names if n.endswith(".egg-info") or n == "__pycache__"
                or (top and n in NOT_SOURCE)]

    shutil.copytree(SOURCE, target, ignore=ignore)
    return target


def _build_wheel(src: Path, dist: Path) -> Path:
    build = _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, src], timeout=300)
    if build.returncode != 0:  # offline and no cached build backend: use the current env's
        build = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                      "--skip-dependency-check", "--outdir", dist, src], timeout=300)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    [wheel] = dist.glob("deidc-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    return _build_wheel(_copy_source(base / "src"), base / "dist")


def test_wheel_contains_grammar_and_rulesets(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    for required in ("deidc/grammar.lark", "deidc/rulesets/ps3.15-basic.deid",
                     "deidc/cli.py", "deidc/resources.py", "deidc/dsl/parser.py",
                     "deidc/compiler/plan.py", "deidc/runtime/interpret/walk.py",
                     "deidc/runtime/batch/worker.py", "deidc/runtime/codec/rawread.py",
                     "deidc/runtime/text/clean.py", "deidc/runtime/pixels/ocr.py",
                     "deidc/commands/apply.py", "deidc/py.typed"):
        assert required in names, required
    assert "deidc = deidc.cli:main" in entry_points
    assert not [n for n in names if n.startswith("deidc/tests/") or "__pycache__" in n]


@pytest.mark.slow
def test_installed_wheel_runs_the_shipped_profile(wheel, tmp_path):
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", venv], timeout=120)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install = _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    wheel], timeout=600)
    if install.returncode != 0:
        # No index reachable: install the wheel alone and borrow the dependencies already
        # installed here (a .pth adds their folder after the venv's own site-packages).
        retry = _run([python, "-m", "pip", "install", "--quiet", "--no-deps", wheel], timeout=120)
        assert retry.returncode == 0, install.stderr[-3000:] + retry.stderr[-3000:]
        site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    timeout=60).stdout.strip()
        deps = [p for p in sys.path if p.endswith("site-packages")]
        Path(site, "deidc-test-deps.pth").write_text("\n".join(deps) + "\n")

    where = _run([python, "-c", "import deidc, pathlib; print(pathlib.Path(deidc.__file__).parent)"],
                 timeout=60, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    package = Path(where.stdout.strip())
    assert package.is_relative_to(venv), f"deidc imported from {package}, not from the new venv"
    ruleset = package / "rulesets" / "ps3.15-basic.deid"
    assert ruleset.is_file() and (package / "grammar.lark").is_file()

    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(TEST_FILES / "CT_small.dcm", data / "CT_small.dcm")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    exe = venv / "bin" / "deidc"
    version = _run([exe, "--version"], timeout=60, cwd=elsewhere)
    assert version.returncode == 0 and version.stdout.strip() == f"deidc {deidc.__version__}"

    run = _run([exe, "apply", ruleset, data, "-o", "out", "--insecure-demo-key", "--workers", "1",
                "--no-progress"], timeout=300, cwd=elsewhere)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "input files" in run.stdout
    written = sorted((elsewhere / "out").rglob("*.dcm"))
    assert len(written) == 1
    ds = pydicom.dcmread(written[0])
    assert ds["PatientName"].is_empty
    assert ds.PatientIdentityRemoved == "YES"
