"""The seeded fuzzer: `deidc apply` over mutated real DICOM files that carry a planted PHI marker,
with both shipped rulesets, must keep its output contract.

Each run is checked for: no Python traceback; exit 3 when inputs were quarantined, else 0; every
input accounted for (written + quarantine rows = inputs, each row naming an input path once); no
internal error passed off as a quarantine reason; every released file decodes fully (pydicom, every
element at any depth and the pixel data framing or size; `dcmdump +E` when installed); the marker
in no released file; no temporary file left in the output; the unmutated controls (and files with
only pixel values flipped) released. The corpus is tests/faultkit/; failures name the
mutant and its mutation.

Corpora: `light` (every cheap mutation, a few hundred files), `heavy` (one each of the 10 MB
values, 5,000-deep nesting and the decompression bomb; for tcia by default without the bomb) and,
marked slow, a larger `light` one with another seed and tcia on the bomb. tcia.deid would OCR
OT/US/SC images; the bases get another modality (the fuzzer tests reading and writing, not OCR),
so the tcia runs stay fast.

Mutants a clean reading of the bytes makes ambiguous (faultkit.ambiguity: e.g. a cut exactly
at an element boundary, before the PHI tcia collects to clean StudyDescription) are left out of
the marker check only; bench/fuzz.py lists them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faultkit as fc
import pytest

LIGHT_FILES, LIGHT_SEED = 240, 11
SLOW_FILES, SLOW_SEED = 700, 12
HEAVY_SEED = 13
RUN_TIMEOUT = 150  # seconds per run; a run that takes longer is a stalled batch
RULESETS = ("ps3.15-basic", "tcia")


@dataclass
class Outcome:
    name: str
    run: fc.ApplyRun
    findings: fc.RunFindings
    mutants: list[fc.Mutant]

    def check(self, kind: str) -> None:
        if self.run.timed_out:
            pytest.fail(f"{self.name}: deidc apply did not finish in {RUN_TIMEOUT} s (a stalled batch)", pytrace=False)
        if self.findings.problems.get(kind):
            pytest.fail(f"{self.name}: {self.findings.report(kind)}", pytrace=False)


_CORPORA: dict[str, tuple[Path, list[fc.Mutant]]] = {}


def _corpus(kind: str, factory) -> tuple[Path, list[fc.Mutant]]:
    if kind not in _CORPORA:
        folder = factory.mktemp(f"fuzz-{kind}") / "in"
        if kind == "light":
            mutants = fc.make_corpus(folder, LIGHT_FILES, LIGHT_SEED, heavy=0)
        elif kind == "slow":
            mutants = fc.make_corpus(folder, SLOW_FILES, SLOW_SEED, heavy=0)
        else:  # "heavy": one of each heavy mutation; "heavy-no-bomb": the same without the bomb
            heavy = [m.name for m in fc.MUTATIONS if m.heavy and (kind == "heavy" or m.name != "bomb")]
            mutants = fc.make_corpus(folder, len(heavy), HEAVY_SEED, heavy=1, mutations=heavy, controls=False)
        _CORPORA[kind] = (folder, mutants)
    return _CORPORA[kind]


def _outcome(kind: str, ruleset: str, factory) -> Outcome:
    folder, mutants = _corpus(kind, factory)
    out = factory.mktemp(f"out-{kind}-{ruleset}") / "out"
    run = fc.run_apply(fc.RULESETS / f"{ruleset}.deid", folder, out, timeout=RUN_TIMEOUT)
    findings = fc.check_run(folder, out, mutants, run, ruleset)
    return Outcome(f"{kind} corpus, {ruleset}", run, findings, mutants)


# tcia.deid reads a bomb three times (structure check, PHI collection, de-identification), each up to
# the 1 GiB inflation limit: about 25 s here, so the default run leaves the tcia bomb to the slow one.
@pytest.fixture(scope="module", params=[("light", r) for r in RULESETS]
                + [("heavy", "ps3.15-basic"), ("heavy-no-bomb", "tcia"),
                   pytest.param(("heavy", "tcia"), marks=pytest.mark.slow)]
                + [pytest.param(("slow", r), marks=pytest.mark.slow) for r in RULESETS],
                ids=lambda p: f"{p[0]}-{p[1]}")
def outcome(request, tmp_path_factory, deidc_entry) -> Outcome:
    kind, ruleset = request.param
    return _outcome(kind, ruleset, tmp_path_factory)


def test_the_run_finishes_without_a_traceback(outcome):
    outcome.check("tracebacks")


def test_exit_code_says_whether_inputs_were_quarantined(outcome):
    outcome.check("missing quarantine.csv")
    outcome.check("wrong exit code")


def test_every_input_is_accounted_for_once(outcome):
    outcome.check("inputs not accounted for")
    outcome.check("inputs quarantined twice")


def test_quarantine_rows_name_real_input_paths(outcome):
    outcome.check("quarantine rows naming no input")


def test_quarantine_reasons_are_not_internal_errors(outcome):
    outcome.check("internal errors as quarantine reasons")


def test_released_files_decode_fully(outcome):
    outcome.check("released files pydicom cannot decode")


@pytest.mark.skipif(not fc.DCMDUMP.exists(), reason="dcmdump (dcmtk) is not installed")
def test_released_files_pass_dcmdump(outcome):
    outcome.check("released files dcmdump +E rejects")


def test_the_marker_is_in_no_released_file(outcome):
    outcome.check("released files holding the marker")


def test_no_temporary_files_are_left_in_the_output(outcome):
    outcome.check("temporary or stray files in the output")


def test_valid_files_are_released(outcome):
    outcome.check("valid files quarantined")
    if outcome.name.startswith("light"):  # the controls are there: the run released something
        controls = [m for m in outcome.mutants if m.mutation == "none"]
        assert controls and outcome.findings.released >= len(controls), f"{outcome.findings.released} released"


# ---- the corpus itself: the suite means what it says ----------------------------------------------

def test_the_same_seed_gives_the_same_corpus(tmp_path):
    first = fc.make_corpus(tmp_path / "a", 60, seed=5, heavy=0)
    second = fc.make_corpus(tmp_path / "b", 60, seed=5, heavy=0)
    assert [m.file for m in first] == [m.file for m in second]
    assert fc.tree_digests(tmp_path / "a") == fc.tree_digests(tmp_path / "b")
    assert len({m.mutation for m in first}) >= 40  # the mutations take turns


def test_every_base_carries_the_marker_in_each_planted_element():
    for base in fc.bases():
        planted = {fc._tag_text(n) for n in base.marker_nodes}
        assert planted == {"(0008,0080)", "(0008,1030)", "(0010,0010)", "(0010,1001)", "(0010,1002)/(0010,0020)",
                           "(0010,1040)", "(0013,1010)"}, base.name


def test_the_bomb_inflates_to_what_it_says(tmp_path):
    import random
    import zlib
    base = next(b for b in fc.bases() if b.name == "pydicom-CT_small")
    head, body = base.render(1)
    size = (64 << 20) + 3
    data, _ = fc.m_bomb(random.Random(0), base, head, body, size=size)
    _, offset = fc.parse_meta(data)
    inflated = zlib.decompressobj(-zlib.MAX_WBITS).decompress(data[offset:])
    assert len(inflated) == len(body) + 12 + size  # the OB header, then the zeros
    assert len(data) < size // 500


def test_a_cut_at_an_element_boundary_is_recorded_as_ambiguous_for_tcia_only_when_it_is():
    base = next(b for b in fc.bases() if b.name == "pydicom-CT_small")
    head, body = base.render(1)
    study = next(n for n in base.top_level() if n.tag == 0x00081030)
    after_study = next(n for n in base.top_level() if n.start >= study.end)
    cut_after = base.file(head, body[:after_study.start])  # StudyDescription kept, PatientName cut off
    assert set(fc.ambiguity(cut_after, base)) == {"tcia"}
    assert fc.ambiguity(base.file(head, body[:study.start]), base) == {}  # no marker left to release
    assert fc.ambiguity(base.file(head, body), base) == {}
