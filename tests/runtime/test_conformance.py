"""Conformance: the fast engine and the reference engine give the same result for every file.

For every input file × every ruleset, the file is read, de-identified and written once by each
engine (a fresh read each time; one DatasetDeidentifier per ruleset): both write byte-identical
files, or both quarantine with the same reason, or both raise the same exception. The audit lines
(changes) are the same too. A file the fast engine cannot read is routed to the reference
engine, with a reason; its output is then the reference engine's by construction.

Files: pydicom's test files and character-set files (odd and broken ones included: they exercise
the routing), deid-data's files, samples/, and generated variants (tests/conformance_files.py:
implicit VR versions of real files, nested undefined-length sequences and items, defined inside
undefined, private sequences, empty / ISO 2022 / UTF-8 character sets, odd lengths, empty binary
values, group lengths inside items, JPEG baseline, native pixel data past the first 64 KiB with
elements after it, identifying file meta elements and standard elements the dictionary lacks).
Rulesets: ps3.15-basic, ps3.15-basic with options, tcia (a fixed-answer OCR reads a PHI value of
each file, so pixel redaction runs) and a
`stress` rule file that keeps everything by default and changes a varied set of elements (non-ASCII
replacements, private values, numbers, UIDs in items, file meta elements, unknown elements, the
character set → pydicom's writer).

`test_routing_summary` (last) prints how many files were routed and why, and pins the list:
run with `-rP` to see it.
"""
from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import conformance_files as helpers  # noqa: E402 — tests/conftest.py puts tests/ on the path
import pydicom
import pytest

from deidc.compiler import compile_or_raise
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.codec.rawread import NotForFastEngine, read_source
from deidc.runtime.interpret.walk import DatasetDeidentifier

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # odd inputs make pydicom warn

CORPUS = helpers.corpus_files()
FILE_IDS = [*CORPUS, *helpers.GENERATED_NAMES]

STRESS_RULES = """\
version 1
key = secret("DEIDC_KEY")
date_shift = days(hmac(key, PatientID), -3650..-30)
collect PatientName, PatientID, InstitutionName, ReferringPhysicianName as phi
markers "deidc conformance stress rules" codes 113100

default -> keep
SpecificCharacterSet -> replace "ISO_IR 192"
PatientName -> replace "Çelik^Zoë"
ReferringPhysicianName -> replace "DR^WHO"
PatientID -> pseudonym "P{hmac:8}"
InstitutionName -> replace "HOS"
AccessionNumber -> hash
vr UI except SOPClassUID, */ReferencedSOPClassUID -> remap uid
vr DA, DT, TM -> shift date_shift
StudyDescription, SeriesDescription, */CodeMeaning, ImageComments -> clean phi fuzzy 90, regex person
OtherPatientIDsSequence/PatientID -> replace PatientID
RequestAttributesSequence/ScheduledProcedureStepID -> empty
SmallestImagePixelValue, LargestImagePixelValue, AcquisitionMatrix -> dummy
WindowCenter -> replace 40
InstanceNumber -> replace 7
PatientSex -> empty
ProtocolName -> remove
ReferencedStudySequence -> empty
(0009,"ACME 1.1",01) -> replace "changed private"
(0009,"ACME 1.1",02) -> replace 7
(0011,"ACME INNER",01) -> remove
SourceApplicationEntityTitle -> replace "X"
ReceivingApplicationEntityTitle -> remove
unknown * -> remove
"""

RULESETS = {
    "ps3.15-basic": ("ps3.15-basic.deid", ()),
    # private * -> keep (private blocks copied), dates shifted instead of emptied, device kept,
    # descriptions (and the sequences PS3.15 marks C) cleaned
    "ps3.15-basic+options": ("ps3.15-basic.deid", ("retain-safe-private", "retain-longitudinal-modified-dates",
                                                   "retain-device-identity", "clean-descriptors")),
    "tcia": ("tcia.deid", ()),
    "stress": (None, ()),
}

# What the fast engine makes of each real file it does not read itself (file id -> reason).
# Every other input, generated ones included, is read by the fast engine.
EXPECTED_ROUTED = {
    "pydicom/ExplVR_BigEnd.dcm": "explicit VR big endian",
    "pydicom/ExplVR_BigEndNoMeta.dcm": "no Part 10 preamble",
    "pydicom/ExplVR_LitEndNoMeta.dcm": "no Part 10 preamble",
    "pydicom/JPEG2000-embedded-sequence-delimiter.dcm": "undefined length (7FE0,0010) without delimiter",
    "pydicom/MR_small_bigendian.dcm": "explicit VR big endian",
    "pydicom/MR_small_expb.dcm": "explicit VR big endian",
    "pydicom/MR_truncated.dcm": "truncated value of (7FE0,0010)",
    "pydicom/SC_rgb_jpeg.dcm": "element without a valid explicit VR",
    "pydicom/SC_rgb_small_odd_big_endian.dcm": "explicit VR big endian",
    "pydicom/UN_sequence.dcm": "element without a valid explicit VR",  # UN of undefined length: items are implicit VR
    "pydicom/dicomdirtests/DICOMDIR-bigEnd": "explicit VR big endian",
    "pydicom/dicomdirtests/DICOMDIR-nooffset": "item longer than its sequence",
    "pydicom/image_dfl.dcm": "deflated explicit VR little endian",
    "pydicom/liver_expb_1frame.dcm": "explicit VR big endian",
    "pydicom/meta_missing_tsyntax.dcm": "transfer syntax missing",
    "pydicom/no_meta.dcm": "no Part 10 preamble",
    "pydicom/rtdose_expb.dcm": "explicit VR big endian",
    "pydicom/rtdose_expb_1frame.dcm": "explicit VR big endian",
    "pydicom/rtplan_truncated.dcm": "truncated value of (300A,00B0)",
    "pydicom/rtstruct.dcm": "no Part 10 preamble",
}

# Outcomes seen by the matrix, for the summary: (file id, ruleset) -> EngineRun of the fast engine.
SEEN: dict[tuple[str, str], object] = {}


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> dict[str, Path]:
    return helpers.write_generated(tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """ruleset name -> (DatasetDeidentifier, FixedTextOcr), compiled once; keys: the demo key."""
    built = {}
    for name, (file_name, options) in RULESETS.items():
        if file_name is None:
            path = tmp_path_factory.mktemp("rules") / "stress.deid"
            path.write_text(STRESS_RULES, encoding="utf-8")
        else:
            path = helpers.RULESETS / file_name
        plan = compile_or_raise(path, options).plan
        ocr = helpers.FixedTextOcr()
        built[name] = (DatasetDeidentifier(plan, resolve_keys(plan, insecure_demo_key=True), ocr=ocr), ocr)
    return built


def input_path(file_id: str, generated: dict[str, Path]) -> Path:
    return CORPUS[file_id] if file_id in CORPUS else generated[file_id]


def first_difference(a: bytes, b: bytes) -> str:
    at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return (f"{len(a)} vs {len(b)} bytes, first difference at offset {at}:\n"
            f"  reference {a[max(0, at - 16):at + 24]!r}\n  fast      {b[max(0, at - 16):at + 24]!r}")


@pytest.mark.parametrize("ruleset", list(RULESETS))
@pytest.mark.parametrize("file_id", FILE_IDS)
def test_engines_agree(file_id, ruleset, engines, generated, tmp_path):
    path = input_path(file_id, generated)
    deidentifier, ocr = engines[ruleset]
    reference = helpers.run_engine(path, "reference", deidentifier, tmp_path, ocr)
    fast = helpers.run_engine(path, "fast", deidentifier, tmp_path, ocr)
    SEEN[file_id, ruleset] = fast

    assert reference.routed is None and reference.fast_written is None
    assert fast.summary() == reference.summary(), "the engines disagree on the outcome"
    assert fast.changes == reference.changes, "the engines disagree on the changes (audit lines)"
    if fast.routed is not None:
        assert isinstance(fast.routed, str) and fast.routed.strip()
    if fast.outcome == "written":
        assert fast.data == reference.data, first_difference(reference.data, fast.data)
        assert fast.data[:132] == b"\x00" * 128 + b"DICM"
        assert (fast.fast_written is None) == (fast.routed is not None)


def test_generated_files_are_read_by_the_fast_engine(generated):
    """The generated variants exist to exercise the fast reader and writer, not the routing."""
    routed = {}
    for name, path in generated.items():
        try:
            read_source(path.read_bytes())
        except NotForFastEngine as why:
            routed[name] = str(why)
    assert routed == {}


def test_fixed_text_ocr_drives_the_redaction_in_both_engines(engines, generated, tmp_path):
    """tcia OCRs OT images: the fake OCR's word (the PatientID) is matched and blacked out, the
    pixel data re-encoded (not copied) in both engines, and the fast writer still writes the file."""
    deidentifier, ocr = engines["tcia"]
    path = generated["generated/nested-undefined-explicit.dcm"]
    reference = helpers.run_engine(path, "reference", deidentifier, tmp_path, ocr)
    fast = helpers.run_engine(path, "fast", deidentifier, tmp_path, ocr)
    assert ocr.text == helpers.PATIENT_ID
    assert reference.redacted and fast.redacted
    assert fast.fast_written is True and fast.data == reference.data
    original = path.read_bytes()
    assert bytes(range(100, 164)) in original and bytes(range(100, 164)) not in fast.data


def test_real_ocr_on_an_ultrasound(tmp_path):
    """The default OCR engine (rapidocr) on a small real ultrasound (RGB, 320x240) whose banner
    shows the institution. One deidentifier for both engines: the fast engine's frame, if
    identical, is served from the OCR engine's cache of recent images (models loaded and OCR run
    once: ~2 s, more on a loaded machine)."""
    plan = compile_or_raise(helpers.RULESETS / "tcia.deid").plan
    deidentifier = DatasetDeidentifier(plan, resolve_keys(plan, insecure_demo_key=True))
    path = helpers.TEST_FILES / "examples_rgb_color.dcm"
    reference = helpers.run_engine(path, "reference", deidentifier, tmp_path)
    fast = helpers.run_engine(path, "fast", deidentifier, tmp_path)
    assert reference.outcome == "written" and reference.redacted
    assert any(change[1] == "redact-pixels" for change in reference.changes)
    assert not any("BAPTIST" in (change[3] or "") for change in reference.changes)  # never the text read
    assert fast.routed is None and fast.fast_written is True
    assert fast.changes == reference.changes
    assert fast.data == reference.data, first_difference(reference.data, fast.data)


def test_clean_descriptors_option_on_a_file_with_a_request_attributes_sequence(generated, tmp_path):
    """ps3.15-basic's clean-descriptors cleans sequences (RequestAttributesSequence: 'C'); this
    failed every file holding one (TypeError: Sequence contents must be 'Dataset' instances)
    until 230302c. The text inside the items is cleaned, identically by both engines."""
    plan = compile_or_raise(helpers.RULESETS / "ps3.15-basic.deid", ("clean-descriptors",)).plan
    deidentifier = DatasetDeidentifier(plan, resolve_keys(plan, insecure_demo_key=True))
    path = generated["generated/nested-undefined-explicit.dcm"]
    reference = helpers.run_engine(path, "reference", deidentifier, tmp_path)
    fast = helpers.run_engine(path, "fast", deidentifier, tmp_path)
    assert reference.outcome == "written", reference.detail
    assert b"GALLOWAY protocol" in path.read_bytes() and b"GALLOWAY" not in reference.data
    assert fast.changes == reference.changes and fast.data == reference.data


def test_replace_on_a_numeric_element_stored_as_un(tmp_path):
    from struct import pack

    elements = helpers._replace(helpers.base_elements(70), helpers.element(0x00280120, "UN", pack("<H", 0)))
    path = tmp_path / "pixel-padding-as-un.dcm"
    path.write_bytes(helpers.part10(elements, helpers.ExplicitVRLittleEndian))
    rules = tmp_path / "rules.deid"
    rules.write_text('version 1\nkey = secret("DEIDC_KEY")\nPixelPaddingValue -> replace 3\n', encoding="utf-8")
    plan = compile_or_raise(rules).plan
    deidentifier = DatasetDeidentifier(plan, resolve_keys(plan, insecure_demo_key=True))
    reference = helpers.run_engine(path, "reference", deidentifier, tmp_path)
    fast = helpers.run_engine(path, "fast", deidentifier, tmp_path)
    assert fast.summary() == reference.summary()
    assert reference.outcome == "written", reference.detail  # the value takes the converted VR (US)
    assert pydicom.dcmread(io.BytesIO(reference.data)).PixelPaddingValue == 3


def test_tcia_on_native_ybr_full_422(engines, tmp_path):
    deidentifier, ocr = engines["tcia"]
    path = helpers.TEST_FILES / "SC_ybr_full_422_uncompressed.dcm"
    reference = helpers.run_engine(path, "reference", deidentifier, tmp_path, ocr)
    fast = helpers.run_engine(path, "fast", deidentifier, tmp_path, ocr)
    assert fast.summary() == reference.summary()
    assert reference.outcome != "raised", reference.detail  # fail closed, with the reason
    assert "chroma-subsampled" in str(reference.detail)


def test_routing_summary():
    """Which inputs the fast engine hands to the reference engine, and why (printed; pinned)."""
    routed = {}
    for file_id, path in CORPUS.items():
        try:
            read_source(path.read_bytes())
        except NotForFastEngine as why:
            routed[file_id] = str(why)
    reasons = Counter(routed.values())
    print(f"\nfast engine: {len(CORPUS) - len(routed)} of {len(CORPUS)} real files read, "
          f"{len(routed)} routed to the reference engine (+ {len(helpers.GENERATED_NAMES)} generated, all read):")
    for reason, count in reasons.most_common():
        print(f"  {count:3d}  {reason}")
    if SEEN:
        outcomes = Counter((ruleset, run.outcome, "routed" if run.routed else
                            {True: "fast writer", False: "pydicom's writer", None: "-"}[run.fast_written])
                           for (_, ruleset), run in SEEN.items())
        print("matrix outcomes (ruleset, outcome, writer):")
        for key, count in sorted(outcomes.items()):
            print(f"  {count:4d}  {key}")
    assert routed == EXPECTED_ROUTED
