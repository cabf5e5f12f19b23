"""Test-wide setup: the shared helper modules in tests/ (e.g. conformance_files) importable by
name from every test folder (the suite runs with --import-mode=importlib: tests/ is no package)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
