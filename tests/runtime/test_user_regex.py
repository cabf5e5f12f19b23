"""A rule file's own regexes run under a time limit (issue 12, observation 7).

`when SeriesDescription ~ /^(.*?,){11}P/` on an 80-character value, or `clean phi, regex
/^(a|aa)+$/` on 41 letters and a `!`, backtracked for minutes on one file. Here each pathological
case runs under a small `limits.regex_seconds` on pydicom's CT_small: the file is quarantined with
the rule's origin and a fix hint, the value is never quoted, and the other files of the batch
(the same worker batch, the same `clean` call) are released. Also: the flags a rule file may
write (/.../imsx) mean what they say, in conditions and in `clean`.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from deidc.compiler.plan import ValueMatches
from deidc.runtime import limits
from deidc.runtime.batch import cluster, worker
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.interpret.conditions import evaluate
from deidc.runtime.limits import LimitExceeded
from deidc.runtime.text.user_regex import RegexTooSlow

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"

# the value is 80 characters, more than LO allows: pydicom warns when it is set
pytestmark = pytest.mark.filterwarnings("ignore:The value length:UserWarning")

SMALL = 0.2  # seconds: each pathological search stops after this
SLOW_VALUE = "a," * 40  # 80 characters, no P: ^(.*?,){11}P tries every way to pick 11 commas
SLOW_TEXT = "a" * 41 + "!"  # ^(a|aa)+$ tries every way to split 41 letters

CONDITION_RULES = """\
    PatientName -> empty
    when SeriesDescription ~ /^(.*?,){11}P/ {
        PatientID -> replace "SERIES-P"
    }
"""
CLEAN_RULES = """\
    collect PatientName as phi
    PatientName -> empty
    ImageComments -> clean phi, regex /^(a|aa)+$/
"""


@pytest.fixture
def small_limit():
    """This process's limits with regex_seconds = SMALL; the defaults again afterwards."""
    limits.configure(limits.with_overrides(regex_seconds=SMALL))
    yield limits.current()
    limits.configure(limits.DEFAULT)


def _assert_names_rule(message: str, rules: Path, line: int) -> None:
    assert f"(rule {rules}:{line})" in message, message
    assert f"{SMALL:g} s" in message and "--regex-timeout" in message, message
    assert "simplify" in message and "nested" in message, message


# ---- the limit itself ----------------------------------------------------------------------------


def test_the_limit_is_one_second_per_search_by_default():
    assert limits.DEFAULT.regex_seconds == 1.0
    assert limits.with_overrides(regex_seconds=0.5).regex_seconds == 0.5


def test_a_slow_condition_regex_is_stopped_and_names_its_rule(deidentifier, read_test_file, write_rules,
                                                               line_of, small_limit):
    deid = deidentifier(CONDITION_RULES)
    rules = write_rules(CONDITION_RULES)
    ds = read_test_file("CT_small.dcm")
    ds.SeriesDescription = SLOW_VALUE
    [outcome] = deid.deidentify_batch([(ds, None)])
    assert isinstance(outcome.error, RegexTooSlow) and isinstance(outcome.error, LimitExceeded)
    message = str(outcome.error)
    _assert_names_rule(message, rules, line_of(rules, "SeriesDescription ~"))
    assert "SeriesDescription ~ /^(.*?,){11}P/" in message
    assert "80 characters" in message and SLOW_VALUE not in message and "a,a," not in message


def test_a_condition_regex_that_finishes_in_time_still_decides(deidentifier, read_test_file, small_limit):
    deid = deidentifier(CONDITION_RULES)
    ds = read_test_file("CT_small.dcm")
    ds.SeriesDescription = "a," * 11 + "P"
    outcome = deid.deidentify(ds)
    assert outcome.error is None and ds.PatientID == "SERIES-P"


def test_a_slow_clean_regex_is_stopped_and_names_its_rule(deidentifier, read_test_file, write_rules,
                                                           line_of, small_limit):
    deid = deidentifier(CLEAN_RULES)
    rules = write_rules(CLEAN_RULES)
    ds = read_test_file("CT_small.dcm")
    ds.ImageComments = SLOW_TEXT
    [outcome] = deid.deidentify_batch([(ds, None)])
    assert isinstance(outcome.error, RegexTooSlow)
    message = str(outcome.error)
    _assert_names_rule(message, rules, line_of(rules, "ImageComments -> clean"))
    assert "/^(a|aa)+$/" in message and "42 characters" in message and "aaaa" not in message


def test_the_clean_regex_still_cleans_what_it_matches_in_time(deidentifier, read_test_file, small_limit):
    deid = deidentifier(CLEAN_RULES)
    ds = read_test_file("CT_small.dcm")
    ds.ImageComments = "aaaa"
    assert deid.deidentify(ds).error is None
    assert ds.ImageComments == ""


def test_the_other_datasets_of_a_batch_are_released(deidentifier, read_test_file, small_limit):
    """One `clean` call cleans the texts of the whole batch: only the slow file fails."""
    deid = deidentifier(CLEAN_RULES)
    datasets = []
    for i, text in enumerate(("aaaa then", SLOW_TEXT, "aa")):
        ds = read_test_file("CT_small.dcm")
        ds.ImageComments, ds.SOPInstanceUID = text, f"1.2.3.{i}"
        datasets.append(ds)
    works = [deid.begin(ds) for ds in datasets]
    deid.run_deferred(works)  # the batch fails, then each file alone: the slow one is to blame
    assert [isinstance(w.outcome.error, RegexTooSlow) for w in works] == [False, True, False]
    assert datasets[0].ImageComments == "aaaa then" and datasets[2].ImageComments == ""


# ---- flags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern, flags, value, expected", [
    ("^scout$", "", "scout", True), ("^scout$", "", "SCOUT", False), ("^scout$", "i", "SCOUT", True),
    ("^a.b$", "", "a\nb", False), ("^a.b$", "s", "a\nb", True),  # DOTALL: . matches a newline
    ("^b$", "", "x\nb", False), ("^b$", "m", "x\nb", True),  # MULTILINE: ^ and $ at each line
    ("^a b  # a, then b", "", "ab", False), ("^a b  # a, then b", "x", "ab", True),  # VERBOSE
])
def test_condition_flags_mean_what_they_say(pattern, flags, value, expected, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.StudyDescription = value
    assert evaluate(ValueMatches(0x00081030, pattern, flags), ds) is expected


def test_clean_flags_mean_what_they_say(deidentifier, read_test_file):
    rules = """\
        collect PatientName as phi
        ImageComments -> clean phi, regex /^b$/m, /a.c/s, /x y/x, /CASE/i
    """
    deid = deidentifier(rules)
    ds = read_test_file("CT_small.dcm")
    ds.ImageComments = "case one\nb\nxy a\nc"
    assert deid.deidentify(ds).error is None
    assert "case" not in ds.ImageComments and "xy" not in ds.ImageComments
    assert "a\nc" not in ds.ImageComments and "\nb\n" not in ds.ImageComments


# ---- workers -------------------------------------------------------------------------------------


def _two_files(root: Path, slow: str, attribute: str) -> list[str]:
    """good.dcm and slow.dcm: CT_small, the slow one with the pathological value."""
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(("good.dcm", "slow.dcm")):
        shutil.copyfile(TEST_FILES / "CT_small.dcm", root / name)
        ds = pydicom.dcmread(root / name)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.99.{i}"
        setattr(ds, attribute, slow if name == "slow.dcm" else "aa")
        ds.save_as(root / name)
        paths.append(str(root / name))
    return paths


@pytest.mark.parametrize("body, attribute, slow, snippet", [
    (CONDITION_RULES, "SeriesDescription", SLOW_VALUE, "SeriesDescription ~"),
    (CLEAN_RULES, "ImageComments", SLOW_TEXT, "ImageComments -> clean"),
])
def test_a_worker_quarantines_the_slow_file_and_releases_the_other(body, attribute, slow, snippet, compile_plan,
                                                                    write_rules, line_of, key, tmp_path):
    """The run's limits reach the worker (init_worker, as the local pool and Dask call it)."""
    plan, rules = compile_plan(body), write_rules(body)
    paths = _two_files(tmp_path / "in", slow, attribute)
    (tmp_path / "stage").mkdir()
    try:
        worker.init_worker(plan, resolve_keys(plan), str(tmp_path / "in"), str(tmp_path / "stage"),
                           run_limits=limits.with_overrides(regex_seconds=SMALL))
        good, bad = worker.process_files(paths)
    finally:
        limits.configure(limits.DEFAULT)
    assert good.quarantine is None and good.staged
    assert bad.quarantine_kind == "exceeds a limit" and not bad.staged
    _assert_names_rule(bad.quarantine, rules, line_of(rules, snippet))
    assert slow not in bad.quarantine and slow[:8] not in bad.quarantine


def test_a_dask_worker_gets_the_regex_limit(compile_plan, write_rules, key, tmp_path):
    """`--engine dask` runs `cluster._run_chunk` on each worker with the run's `WorkerSetup`."""
    from deidc.runtime.batch.worker import WorkerSetup

    plan = compile_plan(CONDITION_RULES)
    paths = _two_files(tmp_path / "in", SLOW_VALUE, "SeriesDescription")
    (tmp_path / "stage").mkdir()
    setup = WorkerSetup(plan, resolve_keys(plan), tmp_path / "in", tmp_path / "stage",
                        run_limits=limits.with_overrides(regex_seconds=SMALL))
    try:
        good, bad = cluster._run_chunk("file", "test-regex-limit", setup, paths)
        assert limits.current().regex_seconds == SMALL
    finally:
        limits.configure(limits.DEFAULT)
        cluster._READY = None
    assert good.quarantine is None and f"{SMALL:g} s" in bad.quarantine
