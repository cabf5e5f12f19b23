"""Shared fixtures for the compiler tests: write rule text to a temp folder and compile it."""
from __future__ import annotations

from pathlib import Path

import pytest

from deidc.compiler import CompileResult, compile_rules


@pytest.fixture
def write_rules(tmp_path):
    """write_rules("a.deid", text) -> the file's path (sub-folders are created)."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def compile_text(write_rules):
    """compile_text(text, name="rules.deid", options=()) -> CompileResult of that file."""

    def run(text: str, name: str = "rules.deid", options: tuple[str, ...] = ()) -> CompileResult:
        return compile_rules(write_rules(name, text), options)

    return run
