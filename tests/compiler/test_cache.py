"""The compiled-Plan cache: reused while every source is unchanged, rebuilt when one changes."""
from __future__ import annotations

import pytest

from deidc.compiler import cache

MAIN = 'version 1\ninclude "part.deid"\nPatientName -> remove\n'


@pytest.fixture
def rules(tmp_path, monkeypatch):
    monkeypatch.setenv("DEIDC_CACHE", str(tmp_path / "cache"))
    (tmp_path / "part.deid").write_text("version 1\nPatientID -> empty\n")
    main = tmp_path / "main.deid"
    main.write_text(MAIN)
    return main


def _count_compiles(monkeypatch) -> list:
    calls = []
    real = cache.compile_rules

    def counting(path, options=()):
        calls.append(path)
        return real(path, options)

    monkeypatch.setattr(cache, "compile_rules", counting)
    return calls


def test_second_compile_comes_from_the_cache(rules, monkeypatch, tmp_path):
    calls = _count_compiles(monkeypatch)
    first = cache.cached_compile(rules)
    second = cache.cached_compile(rules)
    assert len(calls) == 1
    assert [r.id for r in second.plan.rules] == [r.id for r in first.plan.rules]
    assert len(list((tmp_path / "cache").glob("*.plan"))) == 1


def test_an_included_file_changing_recompiles(rules, monkeypatch, tmp_path):
    calls = _count_compiles(monkeypatch)
    cache.cached_compile(rules)
    (tmp_path / "part.deid").write_text("version 1\nPatientID -> remove\nAccessionNumber -> empty\n")
    result = cache.cached_compile(rules)
    assert len(calls) == 2
    assert len(result.plan.rules) == len(cache.compile_rules(rules).plan.rules)


def test_options_are_part_of_the_key(rules, monkeypatch):
    calls = _count_compiles(monkeypatch)
    cache.cached_compile(rules, ())
    cache.cached_compile(rules, ("x",))
    assert len(calls) == 2


def test_off_and_unwritable_caches_just_compile(rules, monkeypatch, tmp_path):
    monkeypatch.setenv("DEIDC_CACHE", "off")
    assert cache.cache_folder() is None
    assert cache.cached_compile(rules).plan.rules
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("DEIDC_CACHE", str(blocker / "cache"))
    assert cache.cached_compile(rules).plan.rules  # cannot create the folder: compiled, no error


def test_a_corrupt_entry_is_recompiled(rules, monkeypatch, tmp_path):
    cache.cached_compile(rules)
    entry = next((tmp_path / "cache").glob("*.plan"))
    entry.write_bytes(b"not a pickle")
    calls = _count_compiles(monkeypatch)
    assert cache.cached_compile(rules).plan.rules
    assert len(calls) == 1
