"""Test-wide setup: the shared helper modules in tests/ (e.g. conformance_files) importable by
name from every test folder (the suite runs with --import-mode=importlib: tests/ is no package);
and the compiled-Plan cache pointed at a temporary folder, never the user's ~/.cache/deidc."""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Set at import, before any test, fixture or plugin runs: every `deidc` the tests start as a
# subprocess (or a Dask worker) inherits os.environ; a test that gives a subprocess an environment
# of its own passes DEIDC_CACHE on. Tests that need another setting monkeypatch it.
TEST_PLAN_CACHE = tempfile.mkdtemp(prefix="deidc-test-plan-cache-")
os.environ["DEIDC_CACHE"] = TEST_PLAN_CACHE

@pytest.fixture(autouse=True, scope="session")
def _plan_cache_in_a_temporary_folder():
    """The session's Plan cache: the temporary folder above, removed at the end."""
    os.environ["DEIDC_CACHE"] = TEST_PLAN_CACHE
    yield TEST_PLAN_CACHE
    shutil.rmtree(TEST_PLAN_CACHE, ignore_errors=True)
