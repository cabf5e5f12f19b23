"""The fault suite (issue 11): runs the real `deidc apply` on broken inputs and under faults.

Helpers live in tests/faultkit/ (shared with bench/fuzz.py and bench/kill_resume.py)."""
from __future__ import annotations

from pathlib import Path

import faultkit
import pytest


@pytest.fixture(scope="session")
def deidc_entry() -> Path:
    path = Path(faultkit.deidc_command())
    if not path.exists():
        pytest.skip(f"no deidc entry point next to the interpreter ({path}); install the package")
    return path
