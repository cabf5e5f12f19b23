"""rulesets/address-words.json is what scripts/generate_address_words.py makes from USPS
Publication 28's tables (typed into the script) and the installed `zipcodes` package."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_address_words.py"
SHIPPED = ROOT / "rulesets" / "address-words.json"


def test_shipped_file_is_fresh():
    pytest.importorskip("zipcodes", reason="the `zipcodes` package (US ZIP database) is not installed")
    spec = importlib.util.spec_from_file_location("generate_address_words", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == SHIPPED.read_text(encoding="utf-8"), (
        "rulesets/address-words.json is stale: run python scripts/generate_address_words.py")


def test_shipped_file_shape():
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert {"AVENUE", "STREET", "DRIVE", "LANE", "TERRACE"} <= set(data["street_suffixes"])
    assert len(data["us_states"]) >= 50 and "OR" in data["us_states"]
    assert "OR" in data["us_zip3"]["974"].split()  # Eugene, Oregon
    assert "EUGENE" in data["us_cities"]["OR"].split("|")
