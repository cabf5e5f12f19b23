"""The compiled-Plan cache: reused while every source is unchanged, rebuilt when one changes;
never runs code from the folder (issue 12: a planted pickle), never holds lookup tables' patient
IDs, never goes stale."""
from __future__ import annotations

import collections
import os
import pickle
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from deidc.compiler import (
    cache,
    compile_rules,  # the real one: tests count cache.compile_rules calls
    private_folder,
)
from deidc.diagnostics import DeidError

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


# ---- security review (issue 12): no code from the cache, no PHI in it, never stale -----------

FOREIGN_UID = 4242  # a uid no test runs as


class _Planted:
    """A pickle that, when loaded, writes DEIDC_KEY to a file: the attack the review found."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        code = f"import os; open({self.marker!r}, 'w').write(os.environ.get('DEIDC_KEY', '-'))"
        return (exec, (code,))


class _PlantedSystem:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def _planted_payloads(marker: Path, original: bytes) -> dict[str, bytes]:
    evil = pickle.dumps(([], _Planted(marker)), protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "raw pickle": evil,
        "os.system pickle": pickle.dumps(_PlantedSystem(marker)),
        "behind a genuine header": original[:64] + evil,  # keeps whatever header/MAC comes first
        "appended to a genuine entry": original + evil,
    }


def _the_entry(folder: Path) -> Path:
    entries = list(folder.glob("*.plan"))
    assert len(entries) == 1, entries
    return entries[0]


def _same_as_fresh(result, path, options=()) -> None:
    fresh = compile_rules(path, options)
    assert result.plan == fresh.plan
    assert result.diagnostics == fresh.diagnostics


def _snapshot(folder: Path) -> dict:
    """Every file under `folder`: bytes, mode and owner (a folder never written stays equal)."""
    if not folder.exists():
        return {}
    out = {".": (stat.S_IMODE(folder.lstat().st_mode), folder.lstat().st_uid)}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        out[str(path.relative_to(folder))] = (data, stat.S_IMODE(st.st_mode), st.st_uid, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("variant", ["raw pickle", "os.system pickle", "behind a genuine header",
                                     "appended to a genuine entry"])
def test_a_planted_pickle_never_runs(rules, monkeypatch, tmp_path, capsys, variant):
    monkeypatch.setenv("DEIDC_KEY", "the-site-key")
    cache.cached_compile(rules)
    entry = _the_entry(tmp_path / "cache")
    marker = tmp_path / "marker"
    planted = _planted_payloads(marker, entry.read_bytes())[variant]
    entry.write_bytes(planted)  # keeps the entry's owner and 0600: only the MAC can tell
    calls = _count_compiles(monkeypatch)
    capsys.readouterr()
    result = cache.cached_compile(rules)
    assert not marker.exists()
    assert len(calls) == 1  # the planted entry was not used: a fresh compile
    _same_as_fresh(result, rules)
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "failed authentication" in err
    assert Path(f"{entry}.rejected").read_bytes() == planted  # the evidence is kept
    assert len(cache.cached_compile(rules).plan.rules) == len(result.plan.rules)
    assert len(calls) == 1  # ...which is cached again


def test_a_planted_pickle_never_runs_from_the_command_line(rules, monkeypatch, tmp_path):
    cache.cached_compile(rules)
    folder = tmp_path / "cache"
    entry = _the_entry(folder)
    marker = tmp_path / "marker"
    entry.write_bytes(_planted_payloads(marker, entry.read_bytes())["raw pickle"])
    env = {**os.environ, "DEIDC_CACHE": str(folder), "DEIDC_KEY": "the-site-key"}
    done = subprocess.run([sys.executable, "-m", "deidc", "compile", str(rules)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert not marker.exists()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{rules}: ok, {len(cache.compile_rules(rules).plan.rules)} rules"


def test_the_unpickler_allows_only_plan_classes(rules, tmp_path):
    result = cache.compile_rules(rules)
    assert cache._unpickle(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)).plan == result.plan
    marker = tmp_path / "marker"
    for planted in (_Planted(marker), _PlantedSystem(marker)):
        with pytest.raises(pickle.UnpicklingError):
            cache._unpickle(pickle.dumps(planted))
    with pytest.raises(pickle.UnpicklingError):
        cache._unpickle(pickle.dumps(collections.OrderedDict(a=1)))
    assert not marker.exists()


TESTS = Path(__file__).resolve().parent.parent
ROUND_TRIP = sorted([*(TESTS / "dsl" / "golden").glob("*.deid"), TESTS / "compiler" / "golden" / "show.deid",
                     *(TESTS / "compiler" / "lint" / "fixtures").glob("*.deid"),
                     cache.PACKAGE / "rulesets" / "ps3.15-basic.deid", cache.PACKAGE / "rulesets" / "tcia.deid"])


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: p.name)
def test_every_shipped_and_golden_plan_passes_the_restricted_unpickler(path):
    """The allow-list holds every class a Plan uses (else its entries would be rejected)."""
    try:
        result = compile_rules(path)
    except DeidError:
        pytest.skip("a syntax error: nothing to cache")
    stored = cache._with_tables(result, lambda table_file: {})
    assert cache._unpickle(pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL)).plan == stored.plan


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o1777, 0o702])
def test_a_group_or_world_writable_cache_folder_is_not_used(rules, monkeypatch, tmp_path, capsys, mode):
    folder = tmp_path / "cache"
    cache.cached_compile(rules)
    os.chmod(folder, mode)
    before = _snapshot(folder)
    calls = _count_compiles(monkeypatch)
    capsys.readouterr()
    result = cache.cached_compile(rules)
    assert len(calls) == 1  # not loaded
    _same_as_fresh(result, rules)
    assert _snapshot(folder) == before  # not written
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(folder) in err and "chmod 700" in err


def test_a_group_writable_folder_is_not_used_even_for_a_planted_entry(rules, monkeypatch, tmp_path):
    folder = tmp_path / "cache"
    cache.cached_compile(rules)
    entry = _the_entry(folder)
    marker = tmp_path / "marker"
    entry.write_bytes(_planted_payloads(marker, entry.read_bytes())["raw pickle"])
    os.chmod(folder, 0o775)
    _same_as_fresh(cache.cached_compile(rules), rules)
    assert not marker.exists()


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


@needs_root
def test_a_foreign_owned_cache_folder_is_not_used(rules, monkeypatch, tmp_path, capsys):
    folder = tmp_path / "cache"
    cache.cached_compile(rules)
    for path in [folder, *folder.iterdir()]:
        os.chown(path, FOREIGN_UID, FOREIGN_UID)
    before = _snapshot(folder)
    calls = _count_compiles(monkeypatch)
    capsys.readouterr()
    _same_as_fresh(cache.cached_compile(rules), rules)
    assert len(calls) == 1
    assert _snapshot(folder) == before
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(folder) in err and "DEIDC_CACHE" in err


@needs_root
def test_a_foreign_owned_entry_is_not_loaded(rules, monkeypatch, tmp_path, capsys):
    cache.cached_compile(rules)
    entry = _the_entry(tmp_path / "cache")
    os.chown(entry, FOREIGN_UID, FOREIGN_UID)
    calls = _count_compiles(monkeypatch)
    capsys.readouterr()
    _same_as_fresh(cache.cached_compile(rules), rules)
    assert len(calls) == 1
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_a_group_writable_entry_is_not_loaded(rules, monkeypatch, tmp_path):
    cache.cached_compile(rules)
    entry = _the_entry(tmp_path / "cache")
    os.chmod(entry, 0o660)
    calls = _count_compiles(monkeypatch)
    _same_as_fresh(cache.cached_compile(rules), rules)
    assert len(calls) == 1


def test_a_symlinked_entry_is_not_followed(rules, monkeypatch, tmp_path):
    cache.cached_compile(rules)
    entry = _the_entry(tmp_path / "cache")
    elsewhere = tmp_path / "elsewhere.plan"
    shutil.move(entry, elsewhere)
    entry.symlink_to(elsewhere)
    kept = elsewhere.read_bytes()
    calls = _count_compiles(monkeypatch)
    _same_as_fresh(cache.cached_compile(rules), rules)
    assert len(calls) == 1
    assert elsewhere.read_bytes() == kept


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_cache_files_are_private_whatever_the_umask(rules, monkeypatch, tmp_path, umask):
    folder = tmp_path / "new" / "cache"
    monkeypatch.setenv("DEIDC_CACHE", str(folder))
    previous = os.umask(umask)
    try:
        cache.cached_compile(rules)
        cache.cached_compile(rules.parent / "part.deid")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert len([f for f in files if f.suffix == ".plan"]) == 2
    for path in files:
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600, path


# ---- lookup tables: read anew, never stored -----------------------------------------------------

LOOKUP_RULES = 'version 1\nPatientID -> lookup "table.csv" else quarantine "patient not in table"\n'
ORIGINAL_IDS = ("1CT1", "MRN-ORIG-58832", "MRN-ORIG-40417")


@pytest.fixture
def lookup_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("DEIDC_CACHE", str(tmp_path / "cache"))
    (tmp_path / "table.csv").write_text(
        "id_old,id_new\n1CT1,SUBJ-001\nMRN-ORIG-58832,SUBJ-002\nMRN-ORIG-40417,SUBJ-003\n")
    rules = tmp_path / "rules.deid"
    rules.write_text(LOOKUP_RULES)
    return rules


def _lookup_table(result) -> dict[str, str]:
    (rule,) = result.plan.rules
    return rule.action.table


def test_an_edited_lookup_table_is_used(lookup_rules, tmp_path):
    assert _lookup_table(cache.cached_compile(lookup_rules))["1CT1"] == "SUBJ-001"
    (tmp_path / "table.csv").write_text("id_old,id_new\n1CT1,SUBJ-009\nMRN-ORIG-58832,SUBJ-002\n")
    assert _lookup_table(cache.cached_compile(lookup_rules)) == {"1CT1": "SUBJ-009", "MRN-ORIG-58832": "SUBJ-002"}
    assert _lookup_table(cache.cached_compile(lookup_rules)) == {"1CT1": "SUBJ-009", "MRN-ORIG-58832": "SUBJ-002"}


def test_the_cache_holds_no_lookup_table_ids(lookup_rules, monkeypatch, tmp_path):
    calls = _count_compiles(monkeypatch)
    first = cache.cached_compile(lookup_rules)
    second = cache.cached_compile(lookup_rules)
    assert len(calls) == 1  # the second came from the cache...
    assert _lookup_table(second) == _lookup_table(first) == {
        "1CT1": "SUBJ-001", "MRN-ORIG-58832": "SUBJ-002", "MRN-ORIG-40417": "SUBJ-003"}
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert stored
    for identifier in (*ORIGINAL_IDS, "SUBJ-001", "SUBJ-002"):
        assert identifier.encode() not in stored  # ...yet holds none of the table


def test_a_lookup_table_that_appears_later_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("DEIDC_CACHE", str(tmp_path / "cache"))
    rules = tmp_path / "rules.deid"
    rules.write_text(LOOKUP_RULES)
    assert [d.code for d in cache.cached_compile(rules).errors] == ["DC024"]
    (tmp_path / "table.csv").write_text("1CT1,SUBJ-001\n")
    result = cache.cached_compile(rules)
    assert not result.errors and _lookup_table(result) == {"1CT1": "SUBJ-001"}


def test_apply_follows_an_edited_lookup_table(lookup_rules, tmp_path):
    source = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"  # PatientID 1CT1
    (tmp_path / "in").mkdir()
    with (tmp_path / "table.csv").open("a") as fh:
        fh.write("ABCD1234,S-B\n1234ABCD,S-C\n")  # the Other Patient IDs CT_small holds too
    shutil.copyfile(source, tmp_path / "in" / "ct.dcm")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}

    def apply(out: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "deidc", "apply", str(lookup_rules), str(tmp_path / "in"),
                               "-o", str(tmp_path / out)], env=env, capture_output=True, text=True,
                              timeout=180, cwd=tmp_path)

    first = apply("out1")
    assert first.returncode == 0, first.stderr
    (written,) = (tmp_path / "out1").rglob("*.dcm")
    assert pydicom.dcmread(written).PatientID == "SUBJ-001"
    # patient 1CT1 removed from the table: `else quarantine` applies
    (tmp_path / "table.csv").write_text("id_old,id_new\nMRN-ORIG-58832,SUBJ-002\nABCD1234,S-B\n1234ABCD,S-C\n")
    second = apply("out2")
    assert second.returncode == 3, second.stderr  # finished with inputs quarantined
    assert not list((tmp_path / "out2").rglob("*.dcm"))
    assert "patient not in table" in (tmp_path / "out2" / "quarantine.csv").read_text()


# ---- the key covers everything the compile reads or runs ----------------------------------------


def test_the_key_covers_every_module_and_data_file():
    names = {str(p.relative_to(cache.PACKAGE)) for p in cache.dependency_files()}
    assert {"grammar.lark", "resources.py", "dsl/parser.py", "compiler/actions.py", "compiler/lint/__init__.py",
            "runtime/text/clean.py", "runtime/interpret/pseudonyms.py", "rulesets/ps3.15-basic.deid",
            "rulesets/ps3.15-table-e1-1.json", "rulesets/tcia-private-tag-kb.csv"} <= names
    assert not any(n.startswith(("tests/", ".venv/")) for n in names)


def test_python_and_pydicom_versions_are_part_of_the_key(rules, monkeypatch):
    cache._environment_digest.cache_clear()  # the package's files as they are now
    key = cache._key(rules, ())
    monkeypatch.setattr(pydicom, "__version__", "0.0-other")
    cache._environment_digest.cache_clear()
    try:
        assert cache._key(rules, ()) != key
        monkeypatch.undo()
        cache._environment_digest.cache_clear()
        assert cache._key(rules, ()) == key
        monkeypatch.setattr(sys, "version", sys.version + " other build")
        cache._environment_digest.cache_clear()
        assert cache._key(rules, ()) != key
    finally:
        monkeypatch.undo()
        cache._environment_digest.cache_clear()


def test_a_retargeted_symlinked_include_recompiles(tmp_path, monkeypatch):
    monkeypatch.setenv("DEIDC_CACHE", str(tmp_path / "cache"))
    (tmp_path / "a.deid").write_text("version 1\nPatientID -> empty\n")
    (tmp_path / "b.deid").write_text("version 1\nPatientID -> remove\nAccessionNumber -> empty\n")
    (tmp_path / "part.deid").symlink_to(tmp_path / "a.deid")
    main = tmp_path / "main.deid"
    main.write_text(MAIN)
    assert len(cache.cached_compile(main).plan.rules) == 2
    (tmp_path / "part.deid").unlink()
    (tmp_path / "part.deid").symlink_to(tmp_path / "b.deid")
    result = cache.cached_compile(main)
    _same_as_fresh(result, main)
    assert len(result.plan.rules) == 3


def test_the_same_file_from_another_folder_keeps_its_own_origins(rules, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache.cached_compile("main.deid")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    result = cache.cached_compile("../main.deid")
    _same_as_fresh(result, "../main.deid")


def test_entries_of_older_versions_are_removed(rules, tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o755)
    legacy = folder / ("0" * 32 + ".plan")
    legacy.write_bytes(pickle.dumps(([], {"1CT1": "SUBJ-001"})))
    (folder / "tmpab12cd_3.partial").write_bytes(b"half an old entry")
    (folder / "notes.plan").write_text("not ours")
    cache.cached_compile(rules)
    assert not legacy.exists() and not (folder / "tmpab12cd_3.partial").exists()
    assert (folder / "notes.plan").exists()  # only names deidc gave its entries are removed
    assert len(list(folder.glob("*.plan"))) == 2


# ---- the test suite itself ----------------------------------------------------------------------


def test_the_suite_never_touches_the_users_cache(tmp_path):
    setting = os.environ.get("DEIDC_CACHE")
    assert setting and setting != "off", "tests/conftest.py points DEIDC_CACHE at a temporary folder"
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    users = [home / ".cache" / "deidc"]
    if os.environ.get("XDG_CACHE_HOME"):
        users.append(Path(os.environ["XDG_CACHE_HOME"]) / "deidc")
    assert all(Path(setting).resolve() != u.resolve() for u in users)
    before = {u: _snapshot(u) for u in users}
    rules = tmp_path / "suite-check.deid"
    rules.write_text(f"version 1\n# {tmp_path}\nPatientName -> remove\n")
    cache.cached_compile(rules)
    # inherited, and a bare environment as tests give one (they pass DEIDC_CACHE on: test_diff_on.py)
    for env in (dict(os.environ), {"PATH": "", "COLUMNS": "200", "DEIDC_CACHE": setting}):
        done = subprocess.run([sys.executable, "-m", "deidc", "compile", str(rules)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert {u: _snapshot(u) for u in users} == before
    assert list(Path(setting).glob("*.plan"))


@pytest.mark.parametrize("how", ["group-readable", "symlink", "foreign"])
def test_an_unsafe_secret_turns_the_cache_off(rules, monkeypatch, tmp_path, capsys, how):
    if how == "foreign" and os.geteuid() != 0:
        pytest.skip("chown to another uid needs root")
    folder = tmp_path / "cache"
    cache.cached_compile(rules)
    secret = folder / private_folder.SECRET_NAME
    assert sorted(p.name for p in folder.iterdir()) == sorted([private_folder.SECRET_NAME, _the_entry(folder).name])
    if how == "group-readable":
        os.chmod(secret, 0o640)
    elif how == "symlink":
        shutil.move(secret, tmp_path / "elsewhere")
        secret.symlink_to(tmp_path / "elsewhere")
    else:
        os.chown(secret, FOREIGN_UID, FOREIGN_UID)
    before = _snapshot(folder)
    calls = _count_compiles(monkeypatch)
    capsys.readouterr()
    _same_as_fresh(cache.cached_compile(rules), rules)
    assert len(calls) == 1 and _snapshot(folder) == before
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"rm {secret}" in err
