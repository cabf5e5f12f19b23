"""rulesets/person-names.csv is what scripts/generate_name_data.py makes from the installed
`names` (1990 US Census lists) and `pyspellchecker` packages, byte for byte."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_name_data.py"
SHIPPED = ROOT / "rulesets" / "person-names.csv"


def _load_generator():
    spec = importlib.util.spec_from_file_location("generate_name_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_file_is_fresh():
    pytest.importorskip("names", reason="the `names` package (1990 US Census lists) is not installed")
    pytest.importorskip("spellchecker", reason="the `pyspellchecker` package is not installed")
    generator = _load_generator()
    assert generator.render_installed().encode("utf-8") == SHIPPED.read_bytes(), (
        "rulesets/person-names.csv is stale: run python scripts/generate_name_data.py")


def test_shipped_file_shape():
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "token,first,surname,word"
    assert SHIPPED.stat().st_size < 1_000_000
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(r) == 4 and r[0].isalpha() and r[0].isupper() for r in rows)
    tokens = [r[0] for r in rows]
    assert tokens == sorted(tokens) and len(set(tokens)) == len(tokens)
    table = {r[0]: r for r in rows}
    assert table["SMITH"][2] == "1" and table["MARY"][1] == "1"
    assert int(table["MAY"][3]) >= 17  # an everyday word
