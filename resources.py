"""Where the files shipped inside the package live (grammar, rulesets), in a checkout or a wheel."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
GRAMMAR_PATH = PACKAGE_DIR / "grammar.lark"
RULESETS_DIR = PACKAGE_DIR / "rulesets"
