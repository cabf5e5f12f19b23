"""run_batch on real files of every encoding, and on inputs that must not be released.

Compressed, deflated, implicit VR, big endian and no-meta files go through a ps3.15-basic rule
file: the output keeps the input's transfer syntax and its PixelData bytes, and is Part 10 with
a preamble. Non-DICOM, truncated and duplicate inputs are quarantined with a reason while the
rest of the batch is written. Outputs follow <PatientID>/<StudyUID>/<SeriesUID>/<SOPUID>.dcm
with the new values, and nothing temporary is left behind.
"""
from __future__ import annotations

import csv
import shutil
import zlib
from pathlib import Path

import deid_data
import pydicom
import pytest
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    RLELossless,
)

from deidc.compiler import compile_or_raise
from deidc.runtime.audit import read_changes
from deidc.runtime.batch.folder import STAGING, run_batch
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.codec.rawread import read_source

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
DEID_DATA = Path(deid_data.__file__).parent / "data"

BASIC = 'version 1\nuse "ps3.15-basic"\n'

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # odd inputs make pydicom warn


@pytest.fixture
def batch(tmp_path, key):
    """batch(files, rules=BASIC) -> (out, summary, quarantine rows {file: reason}).

    `files` maps an input name (may contain '/') to a source path or to raw bytes."""

    def _run(files: dict[str, Path | bytes], rules: str = BASIC, workers: int = 1):
        inputs = tmp_path / "in"
        for name, source in files.items():
            target = inputs / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                target.write_bytes(source)
            else:
                shutil.copyfile(source, target)
        rule_file = tmp_path / "rules.deid"
        rule_file.write_text(rules, encoding="utf-8")
        plan = compile_or_raise(rule_file).plan
        out = tmp_path / "out"
        summary = run_batch(plan, resolve_keys(plan), inputs, out, workers)
        assert_no_leftovers(out)
        return out, summary, quarantine_rows(out, inputs)

    return _run


def quarantine_rows(out: Path, inputs: Path) -> dict[str, str]:
    """{input path relative to the input folder: reason} (the file column names the input path)."""
    with (out / "quarantine.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["file", "reason"]
    return {Path(file).relative_to(inputs).as_posix(): reason for file, reason in rows[1:]}


def assert_no_leftovers(out: Path) -> None:
    assert not (out / STAGING).exists()
    assert not list(out.rglob("*.partial"))
    assert not (out / "audit.jsonl.partial").exists()
    assert (out / "audit.jsonl").is_file() and (out / "quarantine.csv").is_file()
    assert (out / "mappings" / "uid_mapping.csv").is_file()
    assert (out / "mappings" / "patid_mapping.csv").is_file()


def outputs(out: Path) -> list[Path]:
    return sorted(out.rglob("*.dcm"))


# ---- encodings ---------------------------------------------------------------------------------

ENCODED = [
    ("CT_small.dcm", ExplicitVRLittleEndian, True),
    ("MR_small_implicit.dcm", ImplicitVRLittleEndian, True),
    ("MR_small_bigendian.dcm", ExplicitVRBigEndian, True),
    ("MR_small_RLE.dcm", RLELossless, True),
    ("SC_rgb_rle.dcm", RLELossless, True),
    ("MR_small_jpeg_ls_lossless.dcm", JPEGLSLossless, True),
    ("MR_small_jp2klossless.dcm", JPEG2000Lossless, True),
    ("JPEG2000.dcm", JPEG2000, False),
    ("JPEG-lossy.dcm", JPEGExtended12Bit, False),
    ("SC_rgb_jpeg_dcmtk.dcm", JPEGBaseline8Bit, False),
    ("image_dfl.dcm", DeflatedExplicitVRLittleEndian, True),
]


@pytest.mark.parametrize(("name", "syntax", "lossless"), ENCODED, ids=[e[0] for e in ENCODED])
def test_transfer_syntax_and_pixel_bytes_are_kept(batch, name, syntax, lossless):
    original = pydicom.dcmread(TEST_FILES / name)
    assert original.file_meta.TransferSyntaxUID == syntax
    out, summary, quarantined = batch({name: TEST_FILES / name})
    assert quarantined == {} and summary.written == 1
    [written] = outputs(out)
    raw = written.read_bytes()
    assert len(raw) > 132 and raw[128:132] == b"DICM"

    result = pydicom.dcmread(written)
    assert len(result.preamble) == 128
    assert result.file_meta.TransferSyntaxUID == syntax
    assert result.PixelData == original.PixelData  # byte-identical, never re-encoded
    assert result.SOPInstanceUID != original.SOPInstanceUID
    assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID
    assert result.PatientIdentityRemoved == "YES"
    if "PatientName" in original:
        assert result["PatientName"].is_empty
    assert not any(t.is_private for t in result.keys())
    if lossless and syntax.is_compressed:
        assert (result.pixel_array == original.pixel_array).all()


def test_deflated_output_is_really_deflated(batch):
    out, _, _ = batch({"image_dfl.dcm": TEST_FILES / "image_dfl.dcm"})
    [written] = outputs(out)
    result = pydicom.dcmread(written)
    raw = written.read_bytes()
    # preamble + DICM + (0002,0000) UL element (12 bytes) + the rest of the meta group
    body = raw[132 + 12 + result.file_meta.FileMetaInformationGroupLength:]
    new_uid = result.SOPInstanceUID.encode()
    assert new_uid not in body  # the data set is compressed...
    assert new_uid in zlib.decompressobj(-zlib.MAX_WBITS).decompress(body)  # ...with raw deflate


@pytest.mark.parametrize(("name", "syntax", "little"), [
    ("ExplVR_LitEndNoMeta.dcm", ExplicitVRLittleEndian, True),
    ("ExplVR_BigEndNoMeta.dcm", ExplicitVRBigEndian, False),
])
def test_files_without_meta_get_a_header_stating_their_encoding(batch, name, syntax, little):
    raw_in = (TEST_FILES / name).read_bytes()
    assert raw_in[128:132] != b"DICM"
    original = pydicom.dcmread(TEST_FILES / name, force=True)
    out, summary, quarantined = batch({name: TEST_FILES / name})
    assert quarantined == {} and summary.written == 1
    [written] = outputs(out)
    assert written.read_bytes()[128:132] == b"DICM"
    result = pydicom.dcmread(written)
    assert result.file_meta.TransferSyntaxUID == syntax
    assert result.file_meta.MediaStorageSOPClassUID == original.SOPClassUID
    assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID
    assert result.original_encoding == (False, little)
    assert result.SOPInstanceUID != original.SOPInstanceUID


# ---- inputs that are not released ------------------------------------------------------------


def test_non_dicom_inputs_are_quarantined_and_the_rest_is_written(batch):
    out, summary, quarantined = batch({
        "a/CT_small.dcm": TEST_FILES / "CT_small.dcm",
        "a/notes.txt": b"Patient John Smith, MRN 12345\nnot an image\n",
        "b/empty.dcm": b"",
        "b/junk.bin": bytes(range(256)) * 8,
        "b/MR_small.dcm": TEST_FILES / "MR_small.dcm",
        "b/.DS_Store": b"hidden files are inputs too: every file is accounted for",
    })
    assert (summary.files, summary.written, summary.quarantined) == (6, 2, 4)
    assert set(quarantined) == {"a/notes.txt", "b/empty.dcm", "b/junk.bin", "b/.DS_Store"}
    for name, reason in quarantined.items():
        assert "not a DICOM file" in reason or "unreadable" in reason, (name, reason)
    assert quarantined["a/notes.txt"].startswith("not a DICOM file")
    written = outputs(out)
    assert len(written) == 2
    assert {pydicom.dcmread(p).Modality for p in written} == {"CT", "MR"}
    assert summary.quarantine_reasons == {"not DICOM or unreadable": 4}
    audited = {change["file"] for change in read_changes(out / "audit.jsonl")}
    assert audited == {"a/CT_small.dcm", "b/MR_small.dcm"}


def _half(name: str) -> bytes:
    data = (TEST_FILES / name).read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(("case", "reason"), [
    ("MR_truncated.dcm", "truncated: the file ends inside the value of (7FE0,0010)"),
    ("CT_small cut in half", "truncated: the file ends inside the value of (7FE0,0010)"),
    ("CT_small cut in the header", "truncated: the file ends inside the value of (0010,1002) at byte 982"),
    ("CT_small cut inside an element header", "truncated: the file ends inside the element header at byte 1132"),
])
def test_truncated_dicom_is_quarantined(batch, case, reason):
    ct = (TEST_FILES / "CT_small.dcm").read_bytes()
    source = {
        "MR_truncated.dcm": (TEST_FILES / "MR_truncated.dcm").read_bytes(),
        "CT_small cut in half": _half("CT_small.dcm"),
        "CT_small cut in the header": ct[:1000],
        "CT_small cut inside an element header": ct[:1137],
    }[case]
    out, summary, quarantined = batch({
        "broken.dcm": source,
        "intact.dcm": DEID_DATA / "humans" / "ctbrain1.dcm",
    })
    assert summary.written == 1
    assert len(outputs(out)) == 1
    assert quarantined["broken.dcm"].startswith(reason)
    assert summary.quarantine_reasons == {"truncated or malformed DICOM": 1}


def _cut_before(name: str, tag: int) -> bytes:
    """The file cut exactly at the start of element `tag`: every element before it is whole."""
    data = (TEST_FILES / name).read_bytes()
    source = read_source(data)
    start = min(begin for element, begin, _ in source.spans.values() if element.tag == tag)
    return data[:start]


@pytest.mark.parametrize(("cut_before", "missing"), [
    (0x00100010, "no StudyInstanceUID, SeriesInstanceUID, PixelData"),  # before PatientName
    (0x7FE00010, "no PixelData"),  # before the pixel data: a header that looks whole
])
def test_a_file_cut_between_two_elements_is_quarantined(batch, cut_before, missing):
    """No element is cut, so only what the IOD cannot do without shows the file is incomplete
    (the fault suite found such files released under no-study-uid/no-series-uid/)."""
    out, summary, quarantined = batch({"cut.dcm": _cut_before("CT_small.dcm", cut_before),
                                       "intact.dcm": DEID_DATA / "humans" / "ctbrain1.dcm"})
    assert summary.written == 1 and len(outputs(out)) == 1
    assert quarantined["cut.dcm"].startswith(missing + ", which every CT Image Storage holds")


def test_duplicate_sop_instance_is_written_once(batch, tmp_path):
    out, summary, quarantined = batch({
        "first.dcm": TEST_FILES / "CT_small.dcm",
        "second/copy-of-first.dcm": TEST_FILES / "CT_small.dcm",
        "other.dcm": TEST_FILES / "MR_small.dcm",
    })
    assert (summary.written, summary.quarantined) == (2, 1)
    assert len(outputs(out)) == 2
    [(name, reason)] = quarantined.items()
    assert name == "second/copy-of-first.dcm"
    first = f"duplicate SOP instance: {tmp_path / 'in' / 'first.dcm'} already produced "
    assert reason.startswith(first)
    produced = reason.removeprefix(first)
    assert (out / produced).is_file()
    audited = {change["file"] for change in read_changes(out / "audit.jsonl")}
    assert "second/copy-of-first.dcm" not in audited


def test_duplicate_sop_instance_under_another_patient_is_still_a_duplicate(batch, tmp_path):
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.PatientID = "SOMEONE-ELSE"
    other = tmp_path / "other-patient.dcm"
    ds.save_as(other, enforce_file_format=True)
    out, summary, quarantined = batch(
        {"first.dcm": TEST_FILES / "CT_small.dcm", "second.dcm": other},
        rules=BASIC + 'PatientID -> pseudonym "P{hmac:6}"\n')
    assert len(outputs(out)) == 1
    assert quarantined["second.dcm"].startswith("duplicate SOP instance")


def test_real_duplicates_in_deid_data(batch, tmp_path):
    """deid-data's ctbrain1 and ctbrain2 share one SOP Instance UID."""
    out, summary, quarantined = batch({
        "ctbrain1.dcm": DEID_DATA / "humans" / "ctbrain1.dcm",
        "ctbrain2.dcm": DEID_DATA / "humans" / "ctbrain2.dcm",
    })
    assert (summary.written, summary.quarantined) == (1, 1)
    assert quarantined["ctbrain2.dcm"].startswith(f"duplicate SOP instance: {tmp_path / 'in' / 'ctbrain1.dcm'}")


def test_removing_a_required_attribute_quarantines(batch):
    out, summary, quarantined = batch(
        {"ct.dcm": TEST_FILES / "CT_small.dcm"}, rules=BASIC + "Modality -> remove\n")
    assert outputs(out) == []
    assert quarantined == {"ct.dcm": "the rules remove required attribute(s) Modality"}


def test_a_rule_quarantine_is_listed_with_its_rule(batch, tmp_path):
    out, summary, quarantined = batch(
        {"ct.dcm": TEST_FILES / "CT_small.dcm", "mr.dcm": TEST_FILES / "MR_small.dcm"},
        rules=BASIC + 'when Modality = MR {\n    quarantine "no MR today"\n}\n')
    assert [pydicom.dcmread(p).Modality for p in outputs(out)] == ["CT"]
    assert quarantined == {"mr.dcm": f"no MR today (rule {tmp_path / 'rules.deid'}:4)"}
    assert summary.quarantine_reasons == {"quarantined by a rule": 1}


# ---- output layout -----------------------------------------------------------------------------


def test_output_path_uses_the_new_values(batch, key):
    original = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    out, _, _ = batch({"ct.dcm": TEST_FILES / "CT_small.dcm"},
                      rules=BASIC + 'PatientID -> pseudonym "P{hmac:8}"\n')
    [written] = outputs(out)
    result = pydicom.dcmread(written)
    assert written.relative_to(out).parts == (
        result.PatientID, result.StudyInstanceUID, result.SeriesInstanceUID,
        result.SOPInstanceUID + ".dcm")
    assert result.PatientID != original.PatientID
    for old, new in ((original.StudyInstanceUID, result.StudyInstanceUID),
                     (original.SeriesInstanceUID, result.SeriesInstanceUID),
                     (original.SOPInstanceUID, result.SOPInstanceUID)):
        assert old != new
    with (out / "mappings" / "uid_mapping.csv").open(newline="") as fh:
        uid_map = dict(list(csv.reader(fh))[1:])
    assert uid_map[original.SOPInstanceUID] == result.SOPInstanceUID
    assert uid_map[original.StudyInstanceUID] == result.StudyInstanceUID
    assert uid_map[original.SeriesInstanceUID] == result.SeriesInstanceUID
    with (out / "mappings" / "patid_mapping.csv").open(newline="") as fh:
        assert list(csv.reader(fh)) == [["id_old", "id_new"], ["1CT1", result.PatientID]]


@pytest.mark.parametrize(("patient_id", "folder"), [
    ("../../escape", "%2E.%2F..%2Fescape"),  # no hidden (dot) folders in the output, no escape
    ("..", "%2E."),
    ("", "no-patient-id"),
    ("no-patient-id", "%6Eo-patient-id"),  # a value is never taken for the fallback
    ("A/B C", "A%2FB%20C"),
    ("A_B_C", "A_B_C"),  # distinct from the one above (they collided as A_B_C)
])
def test_output_path_components_are_made_safe(batch, tmp_path, patient_id, folder):
    ds = pydicom.dcmread(TEST_FILES / "MR_small.dcm")
    ds.PatientID = patient_id
    source = tmp_path / "source.dcm"
    ds.save_as(source, enforce_file_format=True)
    out, summary, _ = batch({"mr.dcm": source}, rules="version 1\nPatientName -> empty\n")
    [written] = outputs(out)
    assert written.resolve().is_relative_to(out.resolve())
    assert written.relative_to(out).parts[0] == folder


@pytest.mark.parametrize("patient_id", [".deidc-staging", ".deidc-run", "audit.jsonl", "quarantine.csv", "mappings"])
def test_patient_id_naming_an_output_file_does_not_break_the_batch(batch, tmp_path, patient_id):
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.PatientID = patient_id
    source = tmp_path / "source.dcm"
    ds.save_as(source, enforce_file_format=True)
    out, summary, quarantined = batch({"ct.dcm": source}, rules="version 1\nPatientName -> empty\n")
    assert summary.written + summary.quarantined == 1
    assert len(outputs(out)) == summary.written
    assert (out / "audit.jsonl").is_file() and (out / "quarantine.csv").is_file()


def test_a_single_file_as_input(tmp_path, key):
    source = tmp_path / "one.dcm"
    shutil.copyfile(TEST_FILES / "CT_small.dcm", source)
    rules = tmp_path / "rules.deid"
    rules.write_text(BASIC, encoding="utf-8")
    plan = compile_or_raise(rules).plan
    out = tmp_path / "out"
    summary = run_batch(plan, resolve_keys(plan), source, out, 1)
    assert (summary.files, summary.written) == (1, 1)
    assert len(outputs(out)) == 1
    assert {change["file"] for change in read_changes(out / "audit.jsonl")} == {"one.dcm"}
    assert_no_leftovers(out)
