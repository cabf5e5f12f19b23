"""The fast engine's seams, unit level: which files its reader hands to the reference engine and
why (runtime/codec/rawread.py), that its writer copies what the rules left untouched and re-encodes the
rest exactly as pydicom does (runtime/codec/rawwrite.py), and when it gives way to pydicom's writer
(runtime/codec/files.py write_temporary).

The differences between the engines this suite found are kept at the end as regression tests,
each with the smallest input that showed it.
"""
from __future__ import annotations

import io
from pathlib import Path
from struct import pack

import conformance_files as helpers  # noqa: E402 — tests/conftest.py puts tests/ on the path
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from deidc.compiler import compile_or_raise
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.codec.files import read_dataset, read_input, write_temporary
from deidc.runtime.codec.rawread import NotForFastEngine, Truncated, read_meta_syntax, read_source
from deidc.runtime.codec.rawscan import scan_collected
from deidc.runtime.codec.rawwrite import PREAMBLE, encode_file
from deidc.runtime.interpret.walk import DatasetDeidentifier
from deidc.runtime.limits import LimitExceeded

element, item, sequence, part10 = helpers.element, helpers.item, helpers.sequence, helpers.part10
TEST_FILES = helpers.TEST_FILES
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # odd inputs make pydicom warn


def small_file(*extra, implicit: bool = False, index: int = 60) -> bytes:
    """The generated OT instance (tests/conformance_files.py) with `extra` elements added/replaced."""
    elements = helpers._replace(helpers.base_elements(index, implicit), *extra)
    return part10(elements, ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)


def routed_reason(data: bytes) -> str | None:
    try:
        read_source(data)
    except NotForFastEngine as why:
        return str(why)
    return None


def pydicom_bytes(path: Path, convert_sequences: bool = False) -> bytes:
    """What pydicom's dcmwrite(enforce_file_format=True) writes for the file as read, zero
    preamble; `convert_sequences`: after converting every raw sequence (as the walk does)."""
    ds = pydicom.dcmread(path)
    ds.preamble = None
    if convert_sequences:
        for _ in ds.iterall():
            pass
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def deidentifier(rules: str, tmp_path: Path) -> DatasetDeidentifier:
    path = tmp_path / "rules.deid"
    path.write_text('version 1\nkey = secret("DEIDC_KEY")\n' + rules, encoding="utf-8")
    plan = compile_or_raise(path).plan
    return DatasetDeidentifier(plan, resolve_keys(plan, insecure_demo_key=True))


def both_engines(data: bytes, rules: str, tmp_path: Path):
    path = tmp_path / "input.dcm"
    path.write_bytes(data)
    deid = deidentifier(rules, tmp_path)
    return (helpers.run_engine(path, "reference", deid, tmp_path),
            helpers.run_engine(path, "fast", deid, tmp_path))


# ---- routing ------------------------------------------------------------------------------------

CT = (TEST_FILES / "CT_small.dcm").read_bytes()


def _meta_without_syntax() -> bytes:
    data = small_file()
    # the file meta's TransferSyntaxUID (0002,0010) renamed to a private-looking (0002,0011)
    at = data.index(pack("<HH", 0x0002, 0x0010) + b"UI")
    return data[:at] + pack("<HH", 0x0002, 0x0011) + data[at + 4:]


ROUTING = {
    "big endian": ((TEST_FILES / "MR_small_bigendian.dcm").read_bytes(), "explicit VR big endian"),
    "deflate": ((TEST_FILES / "image_dfl.dcm").read_bytes(), "deflated explicit VR little endian"),
    "no preamble": (CT[132:], "no Part 10 preamble"),
    "preamble without DICM": (b"\x00" * 128 + b"DICX" + CT[132:], "no Part 10 preamble"),
    "too short": (CT[:100], "no Part 10 preamble"),
    "no transfer syntax": (_meta_without_syntax(), "transfer syntax missing"),
    "truncated pixel data": (small_file()[:-10], "truncated value of (7FE0,0010)"),
    "truncated element header": (small_file() + pack("<HH", 0x7FE1, 0x0010) + b"L", "truncated element header"),
    "bad VR": (small_file(element(0x00181030, "ZZ", "PROTOCOL")), "element without a valid explicit VR"),
    "out of order": (small_file() + element(0x00080060, "CS", "CT").data, "element (0008,0060) out of order"),
    "item without its delimiter": (
        small_file() + sequence(0x7FE10010, item(element(0x00100010, "PN", "X^Y"), undefined=True),
                                     undefined=True).data[:-16],
        "item without its delimiter"),
    "long reserved bytes": (small_file(helpers.Encoded(0x00091001, pack("<HH2sHL", 9, 0x1001, b"OB", 7, 2) + b"ab"),
                                       element(0x00090010, "LO", "ACME")),
                            "explicit VR element with odd reserved bytes"),
}


def test_a_cut_inside_a_long_file_meta_header_is_truncated_not_a_struct_error():
    """(0002,0001) OB has a 12-byte header at byte 144: a file ending at 154 cuts its length."""
    assert CT[144:150] == pack("<HH", 2, 1) + b"OB"
    with pytest.raises(Truncated, match="truncated file meta"):
        read_source(CT[:154])
    with pytest.raises(Truncated):
        read_meta_syntax(CT[:154])


def _nested(depth: int) -> helpers.Encoded:
    inner = element(0x00081155, "UI", "1.2.3.4")
    for _ in range(depth):
        inner = sequence(0x00081140, item(inner, undefined=True), undefined=True)
    return inner


def test_the_readers_refuse_nesting_beyond_the_depth_limit_without_recursing_further(tmp_path):
    with pytest.raises(LimitExceeded, match=r"sequences nested more than 32 deep .*limits.sequence_depth"):
        read_source(small_file(_nested(33)))
    assert read_source(small_file(_nested(32))).dataset.ReferencedImageSequence
    path = tmp_path / "deep.dcm"
    path.write_bytes(small_file(_nested(33)))
    with pytest.raises(LimitExceeded, match="sequences nested more than 32 deep"):
        scan_collected(path, {0x00100010})


@pytest.mark.parametrize("case", list(ROUTING))
def test_routing_reasons(case, tmp_path):
    data, reason = ROUTING[case]
    assert routed_reason(data) == reason
    path = tmp_path / "input.dcm"
    path.write_bytes(data)
    try:
        expected = read_dataset(path)
    except Exception as err:  # noqa: BLE001 — the reference engine refuses it: so does read_input
        with pytest.raises(type(err)):
            read_input(path, "fast")
        return
    got = read_input(path, "fast")
    assert got.routed == reason and got.source is None
    assert list(got.dataset.keys()) == list(expected.keys())
    assert got.dataset.get("SOPInstanceUID") == expected.get("SOPInstanceUID")


def test_the_fast_engine_reads_the_plain_encodings():
    for name in ("CT_small.dcm", "MR_small_implicit.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm", "test-SR.dcm"):
        assert routed_reason((TEST_FILES / name).read_bytes()) is None, name


# ---- the writer: copies, re-encodes, falls back ------------------------------------------------

# Files whose unmodified dataset the fast writer must write exactly as pydicom would.
UNMODIFIED = ["CT_small.dcm", "MR_small_implicit.dcm", "MR_small_padded.dcm", "test-SR.dcm", "JPEG2000.dcm",
              "MR_small_RLE.dcm", "rtplan.dcm", "reportsi_with_empty_number_tags.dcm", "waveform_ecg.dcm",
              "liver_1frame.dcm", "badVR.dcm", "SC_rgb_small_odd.dcm", "examples_overlay.dcm", "rtdose_1frame.dcm"]


@pytest.mark.parametrize("name", UNMODIFIED)
def test_unmodified_dataset_is_written_as_pydicom_writes_it(name):
    path = TEST_FILES / name
    source = read_source(path.read_bytes())
    pieces = encode_file(source, source.dataset)
    assert pieces is not None
    assert pieces[0] == PREAMBLE == b"\x00" * 128 + b"DICM"
    assert b"".join(pieces) == pydicom_bytes(path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    return helpers.write_generated(tmp_path_factory.mktemp("generated"))


# pydicom writes a sequence it never converted verbatim, group lengths inside its items included;
# the fast reader parses every sequence and its writer re-frames them, as pydicom writes a
# converted sequence. In the pipeline the walk converts every sequence it keeps (and deletes
# group lengths at every level), so both engines write the re-framed form (test_conformance.py).
WITH_GROUP_LENGTHS_IN_ITEMS = ("generated/group-lengths-explicit.dcm", "generated/group-lengths-implicit.dcm")


@pytest.mark.parametrize("name", helpers.GENERATED_NAMES)
def test_unmodified_generated_dataset_is_written_as_pydicom_writes_it(name, generated):
    source = read_source(generated[name].read_bytes())
    pieces = encode_file(source, source.dataset)
    assert pieces is not None
    expected = pydicom_bytes(generated[name], convert_sequences=name in WITH_GROUP_LENGTHS_IN_ITEMS)
    assert b"".join(pieces) == expected


def test_group_lengths_in_items_are_dropped_when_sequences_are_reframed(generated):
    path = generated["generated/group-lengths-explicit.dcm"]
    source = read_source(path.read_bytes())
    fast = b"".join(encode_file(source, source.dataset))
    raw_copy = pydicom_bytes(path)  # sequences never converted: written as read
    assert fast != raw_copy and len(raw_copy) - len(fast) == 2 * 12  # two (0008,0000) UL in items
    assert pack("<HH2sH", 0x0008, 0x0000, b"UL", 4) in raw_copy
    assert pack("<HH2sH", 0x0008, 0x0000, b"UL", 4) not in fast


def test_pixel_data_is_copied_as_a_view_of_the_input():
    data = (TEST_FILES / "CT_small.dcm").read_bytes()
    source = read_source(data)
    pixels = source.dataset.get_item(0x7FE00010)
    pieces = encode_file(source, source.dataset)
    views = [p for p in pieces if isinstance(p, memoryview) and p.obj is source.data]
    assert views, "untouched elements must be views of the input bytes, not copies"
    biggest = max(views, key=len)  # consecutive untouched elements are copied as one piece
    assert len(biggest) >= 12 + pixels.length and pixels.value in bytes(biggest)
    assert sum(len(v) for v in views) > 0.95 * len(data)


def test_native_pixel_data_of_a_large_file_is_copied_file_to_file(generated, tmp_path):
    """Past the first read (64 KiB), native pixel data stays in the input file: the writer gets a
    range of that file for it (sendfile), views of the bytes read for the rest."""
    path = generated["generated/large-native-explicit.dcm"]
    source = read_input(path, "fast").source
    assert source is not None
    pixels = source.dataset.get_item(0x7FE00010, keep_deferred=True)
    assert pixels.value is None  # not read
    pieces = encode_file(source, source.dataset)
    ranges = [p for p in pieces if hasattr(p, "path") and hasattr(p, "start")]
    assert [Path(r.path) for r in ranges] == [path]  # one range: the pixel data and its neighbours
    assert len(ranges[0]) >= 12 + pixels.length
    assert all(isinstance(p, (bytes, memoryview)) for p in pieces if p not in ranges)
    written, fast_written = write_temporary(source.dataset, tmp_path, source)
    assert fast_written is True
    assert written.read_bytes() == pydicom_bytes(path)


def test_changed_elements_are_encoded_and_the_rest_copied(tmp_path):
    path = TEST_FILES / "CT_small.dcm"
    source = read_source(path.read_bytes())
    ds = source.dataset
    ds.PatientName = "Nobody^Else"  # ASCII: the fast writer's own encoder
    ds.InstitutionName = "Çà et là"  # not ASCII: pydicom's element writer
    ds.InstanceNumber = 42
    del ds.StudyDate
    fast = b"".join(encode_file(source, ds))
    reference = pydicom.dcmread(path)
    reference.PatientName, reference.InstitutionName, reference.InstanceNumber = "Nobody^Else", "Çà et là", 42
    del reference.StudyDate
    reference.preamble = None
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, reference, enforce_file_format=True)
    assert fast == buf.getvalue()
    assert b"Nobody^Else" in fast and "Çà et là".encode("latin-1") in fast


def test_changed_item_values_are_reframed(generated):
    """A value changed inside a (defined-length) item: the lengths of the item and of the
    sequence around it are recomputed, as pydicom computes them."""
    path = generated["generated/defined-in-undefined-explicit.dcm"]
    source = read_source(path.read_bytes())
    reference = pydicom.dcmread(path)
    for ds in (source.dataset, reference):
        ds.ReferencedRequestSequence[0].ReferencedSOPSequence[1].ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.9"
        ds.ReferencedSeriesSequence[0].SeriesInstanceUID = "1.2.3"
    reference.preamble = None
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, reference, enforce_file_format=True)
    assert b"".join(encode_file(source, source.dataset)) == buf.getvalue()


@pytest.mark.parametrize("name", ["chrFren.dcm", "chrH31.dcm"])
def test_a_changed_character_set_falls_back_to_pydicom(name, tmp_path):
    path = helpers.CHARSET_FILES / name
    fast_input = read_input(path, "fast")
    assert fast_input.routed is None and fast_input.source is not None
    reference = read_dataset(path)
    for ds in (fast_input.dataset, reference):
        ds.SpecificCharacterSet = "ISO_IR 192"
    assert encode_file(fast_input.source, fast_input.dataset) is None
    fast_path, fast_written = write_temporary(fast_input.dataset, tmp_path / "fast", fast_input.source)
    reference_path, _ = write_temporary(reference, tmp_path / "reference")
    assert fast_written is False
    assert fast_path.read_bytes() == reference_path.read_bytes()
    assert fast_path.read_bytes()[:132] == PREAMBLE


def test_a_changed_transfer_syntax_falls_back_to_pydicom(tmp_path):
    path = TEST_FILES / "CT_small.dcm"
    fast_input = read_input(path, "fast")
    fast_input.dataset.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    assert encode_file(fast_input.source, fast_input.dataset) is None
    _, fast_written = write_temporary(fast_input.dataset, tmp_path, fast_input.source)
    assert fast_written is False


def test_the_file_meta_follows_the_new_sop_instance_uid(tmp_path):
    fast_input = read_input(TEST_FILES / "CT_small.dcm", "fast")
    fast_input.dataset.SOPInstanceUID = "1.2.3.4"
    written, fast_written = write_temporary(fast_input.dataset, tmp_path, fast_input.source)
    assert fast_written is True
    assert pydicom.dcmread(written).file_meta.MediaStorageSOPInstanceUID == "1.2.3.4"


# ---- differences the conformance suite found (fixed in f5b46b6; kept as regression tests) ----------
# Each was a strict xfail with the smallest input that showed it.

SV_UV = (element(0x00090010, "LO", "ACME 1.1"), element(0x00091001, "SV", pack("<q", -5)),
         element(0x00091002, "UV", pack("<Q", 7)))


def test_sv_and_uv_elements_are_read_by_the_fast_engine():
    """SV and UV have a 4-byte length (PS3.5 7.1.2). rawread's LONG_VRS lacked them: the header was
    read as a short one (length 0) and the length as the next tag, so such files (deid-data's
    ctbrain1/2) were routed as 'element (0008,0000) out of order'."""
    data = small_file(*SV_UV)
    assert routed_reason(data) is None
    source = read_source(data)
    assert source.dataset[0x00091001].value == -5 and source.dataset[0x00091002].value == 7


def test_sv_value_that_looks_like_an_element(tmp_path):
    """With SV read as a short VR, 16 value bytes "LO", 12, "HIDDEN TEXT " parsed as SV (length 0)
    then (0010,0000) LO: the fast engine wrote (0009,1001) empty and lost the value (904 bytes
    against the reference engine's 920)."""
    crafted = element(0x00091001, "SV", b"LO" + pack("<H", 12) + b"HIDDEN TEXT ")
    reference, fast = both_engines(small_file(element(0x00090010, "LO", "ACME 1.1"), crafted),
                                   "default -> keep\nSOPInstanceUID -> remap uid\n", tmp_path)
    assert fast.routed is None and fast.fast_written is True
    assert fast.data == reference.data


@pytest.mark.parametrize("action", ["empty", "dummy"])
def test_emptied_uv_element(action, tmp_path):
    """An element stored as UN whose dictionary VR is UV, emptied: pydicom writes 'UV' 00 00 and a
    4-byte length; rawwrite's LONG_LENGTH lacked SV/UV and wrote an 8-byte short header, which
    no reader can parse."""
    data = small_file(element(0x00080429, "UN", pack("<Q", 5)))  # MaximumNumberOfRecords, UV
    reference, fast = both_engines(data, f"MaximumNumberOfRecords -> {action}\n", tmp_path)
    assert reference.outcome == fast.outcome == "written"
    assert fast.fast_written is True
    at = reference.data.index(pack("<HH", 0x0008, 0x0429))
    assert reference.data[at:at + 12] == pack("<HH2sHL", 0x0008, 0x0429, b"UV", 0, 0)
    assert fast.data == reference.data


def test_emptied_encapsulated_pixel_data(generated, tmp_path):
    """`PixelData -> empty` under an encapsulated transfer syntax: dcmwrite marks pixel data
    undefined-length and then fails on the empty value (TypeError), so the file is quarantined;
    the fast writer wrote an OB of length 0 instead. Both engines must agree."""
    data = generated["generated/jpeg-baseline.dcm"].read_bytes()
    reference, fast = both_engines(data, "PixelData -> empty\n", tmp_path)
    assert fast.summary() == reference.summary()


def test_emptied_un_element_with_an_ambiguous_vr(tmp_path):
    """An emptied UN element whose dictionary VR is ambiguous ('US or SS'): pydicom refuses to
    write it in explicit VR (ValueError); the fast writer packed the VR into 2 bytes ('US') and
    wrote the file. Both engines must agree."""
    data = small_file(element(0x00280120, "UN", pack("<H", 0)))  # PixelPaddingValue, US or SS
    reference, fast = both_engines(data, "PixelPaddingValue -> empty\n", tmp_path)
    assert fast.summary() == reference.summary()
