"""The structural check (runtime/codec/integrity.py) and what it guards: no cut or malformed input is
read by either engine, no output that would not decode is released, nesting and inflation are
bounded, odd file meta gives a valid output, and output paths never collide.

Each case is an observed defect of issue 11, reproduced on a real sample (samples/) or on bytes
built here, and checked with both engines (`read_input(path, "fast")` and `"reference"`).
"""
from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from pathlib import Path
from struct import pack

import conformance_files as helpers  # noqa: E402 — tests/conftest.py puts tests/ on the path
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit

from deidc.compiler import compile_or_raise
from deidc.runtime import limits
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.batch.outdir import RESERVED_NAMES, output_relpath, safe_component
from deidc.runtime.codec import integrity
from deidc.runtime.codec.files import InvalidOutput, MalformedInput, read_input, write_temporary
from deidc.runtime.codec.rawread import read_headers, read_source
from deidc.runtime.codec.rawscan import scan_collected
from deidc.runtime.interpret.walk import DatasetDeidentifier
from deidc.runtime.limits import LimitExceeded

element, item, sequence, part10 = helpers.element, helpers.item, helpers.sequence, helpers.part10
Encoded = helpers.Encoded
REPO = helpers.REPO
NATIVE = helpers.SAMPLES / "MRN40417" / "001.dcm"  # explicit VR little endian, native pixels, sequences
ENCAPSULATED = helpers.SAMPLES / "MRN58832" / "004.dcm"  # JPEG 2000, a zero preamble
UNDEFINED = 0xFFFFFFFF
DCMDUMP = shutil.which("dcmdump")
CODECS = ("fast", "reference")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # odd inputs make pydicom warn


def small_file(*extra: Encoded, implicit: bool = False, syntax: str | None = None) -> bytes:
    """The generated OT instance (tests/conformance_files.py) with `extra` elements added/replaced."""
    elements = helpers._replace(helpers.base_elements(60, implicit), *extra)
    return part10(elements, syntax or (ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian))


def refusals(data: bytes, tmp_path: Path, error: type[Exception] = MalformedInput) -> list[str]:
    """The reason each engine gives for refusing the file (both must refuse it with `error`)."""
    path = tmp_path / "input.dcm"
    path.write_bytes(data)
    reasons = []
    for codec in CODECS:
        with pytest.raises(error) as raised:
            read_input(path, codec)
        reasons.append(str(raised.value))
    return reasons


def decodes(path: Path) -> None:
    """A full decode: every element (sequences included) and the pixel data; dcmdump too when installed."""
    ds = pydicom.dcmread(path)
    for _ in ds.iterall():
        pass
    if "PixelData" in ds:
        assert ds.pixel_array.size
    if DCMDUMP:
        run = subprocess.run([DCMDUMP, "+E", str(path)], capture_output=True, text=True)
        assert run.returncode == 0 and "E:" not in run.stderr, run.stderr


# ---- 1. a file cut anywhere is refused by both engines ----------------------------------------------


def _cuts() -> dict[str, tuple[Path, int, str]]:
    """Where to cut a real sample, and the reason both engines must give."""
    native = read_source(NATIVE.read_bytes())
    spans = {elem.tag: (start, end, elem) for elem, start, end in native.spans.values()}
    name_at = spans[0x00100010][0]
    sequence_at, _, referenced = spans[0x00081140]
    item_at = referenced.value[0].seq_item_tell
    pixels_at = spans[0x7FE00010][0]
    encapsulated = read_source(ENCAPSULATED.read_bytes())
    fragments_at, fragments_end = next((s, e) for elem, s, e in encapsulated.spans.values() if elem.tag == 0x7FE00010)
    return {
        "inside the preamble": (ENCAPSULATED, 100, "truncated: the file ends inside the 128-byte preamble"),
        "inside a file meta header": (NATIVE, 136, "truncated: the file ends inside the element header at byte 132"),
        "inside a file meta value": (NATIVE, 142, "truncated: the file ends inside the value of (0002,0000)"),
        "right after the file meta": (NATIVE, _meta_end(NATIVE), "truncated: the file ends after its file meta"),
        "inside an element header": (NATIVE, name_at + 5,
                                     f"truncated: the file ends inside the element header at byte {name_at}"),
        "inside a value": (NATIVE, name_at + 8 + 3,
                           f"truncated: the file ends inside the value of (0010,0010) at byte {name_at}"),
        # the sample's sequences have defined lengths: a cut anywhere in one cuts the sequence's value
        "inside a sequence item": (NATIVE, item_at + 8 + 3,
                                   f"truncated: the file ends inside the value of (0008,1140) at byte {sequence_at}"),
        "inside native pixel data": (NATIVE, pixels_at + 1000,
                                     f"truncated: the file ends inside the value of (7FE0,0010) at byte {pixels_at}"),
        "inside a fragment": (ENCAPSULATED, fragments_at + 12 + 8 + 20,
                              f"truncated: the file ends inside a fragment of (7FE0,0010) at byte {fragments_at}"),
        "before the fragments' delimiter": (ENCAPSULATED, fragments_end - 8,
                                            f"truncated: the file ends inside the encapsulated value (7FE0,0010) "
                                            f"at byte {fragments_at}, before its delimiter"),
        "inside the fragments' delimiter": (ENCAPSULATED, fragments_end - 3,
                                            f"truncated: the file ends inside the item header at byte "
                                            f"{fragments_end - 8} of (7FE0,0010)"),
    }


def _meta_end(path: Path) -> int:
    data = path.read_bytes()
    return 132 + 12 + int.from_bytes(data[140:144], "little")


CUTS = _cuts()


@pytest.mark.parametrize("where", list(CUTS))
def test_a_cut_file_is_refused_by_both_engines(where, tmp_path):
    source, cut, reason = CUTS[where]
    for refused in refusals(source.read_bytes()[:cut], tmp_path):
        assert refused.startswith(reason), refused
        assert "refused whole" in refused


UNDEFINED_SEQUENCE = sequence(0x00081140, item(element(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.7"),
                                               element(0x00081155, "UI", "1.2.3.4"), undefined=True), undefined=True)


@pytest.mark.parametrize(("where", "offset", "reason"), [
    ("inside the item header", 12 + 4, "truncated: the file ends inside the item header at byte {item} of "
                                       "(0008,1140) at byte {sequence}"),
    ("inside an item's element", 12 + 8 + 8 + 5, "truncated: the file ends inside the value of (0008,1150)"),
    ("before the item delimiter", -16, "truncated: the file ends inside the item at byte {item} of (0008,1140), "
                                       "before its item delimiter"),
    ("before the sequence delimiter", -8, "truncated: the file ends inside the sequence (0008,1140) at byte "
                                          "{sequence}, before its delimiter"),
])
def test_a_cut_inside_an_undefined_length_sequence_is_refused(where, offset, reason, tmp_path):
    data = small_file(UNDEFINED_SEQUENCE)
    at = data.index(UNDEFINED_SEQUENCE.data)
    cut = at + offset if offset > 0 else at + len(UNDEFINED_SEQUENCE.data) + offset
    for refused in refusals(data[:cut], tmp_path):
        assert refused.startswith(reason.format(sequence=at, item=at + 12)), refused


def test_head_1005_of_a_sample_is_refused_with_the_cut_named(tmp_path):
    """The reported case: `head -c 1005` of a sample, which pydicom read silently up to the cut."""
    for refused in refusals(NATIVE.read_bytes()[:1005], tmp_path):
        assert refused.startswith("truncated: the file ends inside the value of (0009,0010) at byte 990: "
                                  "12 bytes declared, 7 remain")


def test_every_cut_of_a_sample_inside_an_element_is_refused(tmp_path):
    """Every cut point of a small sample: a cut inside any element never reads
    as a file; only cuts that fall exactly between two elements read (and then as what they hold)."""
    data = (helpers.SAMPLES / "MRN58832" / "006.dcm").read_bytes()
    boundaries = {start for _, start, _ in read_source(data).spans.values()} | {len(data)}
    for cut in range(132, len(data)):
        try:
            integrity.check_bytes(data[:cut])
        except integrity.Malformed:
            continue
        assert cut in boundaries, f"a cut at byte {cut} passed the check"


def test_an_undefined_length_item_without_its_delimiter_is_refused(tmp_path):
    nested = sequence(0x00081140, item(element(0x00081150, "UI", "1.2.3"), undefined=True), undefined=True)
    data = small_file(nested)
    cut = data.index(nested.data) + len(nested.data) - 16  # the item and sequence delimiters cut off
    item_at = cut - len(nested.data) + 16 + 12
    for refused in refusals(data[:cut] + data[cut + 16:], tmp_path):
        # the item goes on to the end of the file: every later element is read as part of it
        assert refused.startswith(f"truncated: the file ends inside the item at byte {item_at} of (0008,1140), "
                                  "before its item delimiter"), refused


# ---- 2. malformed inputs: invalid VRs, fragments without their delimiter --------------------------


def test_an_invalid_vr_is_refused_not_copied_through(tmp_path):
    data = small_file(element(0x00181030, "ZZ", "PROTOCOL"))
    at = data.index(pack("<HH", 0x0018, 0x1030) + b"ZZ")
    for refused in refusals(data, tmp_path):
        assert refused.startswith(f"malformed: element (0018,1030) at byte {at} has an invalid VR b'ZZ'")


def _jpeg_file(fragments: bytes) -> bytes:
    """A JPEG baseline instance whose encapsulated pixel data is `fragments` (items and delimiter as given)."""
    pixels = Encoded(0x7FE00010, pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, UNDEFINED) + fragments)
    return small_file(pixels, syntax=JPEGBaseline8Bit)


OFFSETS = pack("<HHL", 0xFFFE, 0xE000, 0)
FRAGMENT = pack("<HHL", 0xFFFE, 0xE000, 4) + b"\xff\xd8\xff\xd9"
DELIMITER = pack("<HHL", 0xFFFE, 0xE0DD, 0)


def test_encapsulated_pixel_data_without_its_delimiter_is_refused(tmp_path):
    for refused in refusals(_jpeg_file(OFFSETS + FRAGMENT), tmp_path):
        assert refused.startswith("truncated: the file ends inside the encapsulated value (7FE0,0010)")
    followed = _jpeg_file(OFFSETS + FRAGMENT + element(0x7FE10010, "LO", "ACME").data)
    for refused in refusals(followed, tmp_path):
        assert refused.startswith("malformed: (7FE0,0010) at byte")
        assert "is encapsulated but has no sequence delimiter: (7FE1,0010)" in refused


def test_whole_encapsulated_pixel_data_is_accepted(tmp_path):
    path = tmp_path / "jpeg.dcm"
    path.write_bytes(_jpeg_file(OFFSETS + FRAGMENT + DELIMITER))
    assert integrity.check_input(path).syntax == JPEGBaseline8Bit


def _inserted_before(tag: int, inserted: bytes, data: bytes) -> bytes:
    at = data.index(pack("<HH", tag >> 16, tag & 0xFFFF), 132 + 12)
    return data[:at] + inserted + data[at:]


MALFORMED = {
    # (file, the reason both engines give): each was a traceback or an output that would not decode
    "native pixel data under a compressed syntax": (
        lambda: small_file(syntax=JPEGBaseline8Bit),
        "malformed: pixel data is native but the transfer syntax 1.2.840.10008.1.2.4.50"),
    "an undefined length outside pixel data": (
        lambda: small_file(Encoded(0x7FE00050, pack("<HH2sHL", 0x7FE0, 0x0050, b"OB", 0, UNDEFINED) + OFFSETS
                                   + FRAGMENT + DELIMITER), syntax=JPEGBaseline8Bit),
        "malformed: (7FE0,0050) at byte"),
    "a file meta element in the data set": (
        lambda: _inserted_before(0x00080018, element(0x00020013, "SH", "MOVED").data, small_file()),
        "malformed: a file meta element (0002,0013) in the data set"),
    "a command element": (
        lambda: _inserted_before(0x00080016, element(0x00000100, "US", b"\x01\x00").data, small_file()),
        "malformed: a command element (0000,0100)"),
    "a deflated data set that does not inflate": (
        lambda: meta_bytes(b"1.2.840.10008.1.2.1.99") + b"\xff" * 64,
        "malformed: the deflated data set does not inflate"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_inputs_are_refused_with_the_reason(case, tmp_path):
    build, reason = MALFORMED[case]
    for refused in refusals(build(), tmp_path):
        assert refused.startswith(reason), refused


# ---- 3. nesting: a documented depth limit, never a RecursionError ---------------------------------


def nested_sequences(depth: int) -> Encoded:
    """ReferencedImageSequence items nested `depth` deep (undefined lengths), a UI at the bottom."""
    opening = pack("<HH2sHL", 0x0008, 0x1140, b"SQ", 0, UNDEFINED) + pack("<HHL", 0xFFFE, 0xE000, UNDEFINED)
    closing = pack("<HHL", 0xFFFE, 0xE00D, 0) + pack("<HHL", 0xFFFE, 0xE0DD, 0)
    bottom = element(0x00081155, "UI", "1.2.3.4").data
    return Encoded(0x00081140, opening * depth + bottom + closing * depth)


@pytest.mark.parametrize("depth", [33, 500, 5000])
def test_deep_nesting_is_refused_by_the_depth_limit(depth, tmp_path):
    for refused in refusals(small_file(nested_sequences(depth)), tmp_path, LimitExceeded):
        assert refused.startswith("sequences nested more than 32 deep")
        assert "limits.sequence_depth" in refused


def test_nesting_at_the_depth_limit_is_read_by_both_engines(tmp_path):
    path = tmp_path / "deep.dcm"
    path.write_bytes(small_file(nested_sequences(limits.current().sequence_depth)))
    for codec in CODECS:
        ds = read_input(path, codec).dataset
        inner = ds
        for _ in range(limits.current().sequence_depth):
            inner = inner.ReferencedImageSequence[0]
        assert inner.ReferencedSOPInstanceUID == "1.2.3.4"


def test_the_recursive_readers_stop_at_the_depth_limit_too(tmp_path):
    """Pass 1 reads headers without the check: its readers bound their own recursion."""
    path = tmp_path / "deep.dcm"
    path.write_bytes(small_file(nested_sequences(5000)))
    with pytest.raises(LimitExceeded, match="sequences nested more than 32 deep"):
        read_headers(path)
    with pytest.raises(LimitExceeded, match="sequences nested more than 32 deep"):
        scan_collected(path, {0x00100010})


# ---- 4. file meta: empty, missing or unknown transfer syntax; a bare meta ----------------------


def meta_bytes(syntax: bytes | None, media: bool = True) -> bytes:
    """A file meta group written byte by byte: `syntax` None leaves TransferSyntaxUID out, b""
    writes it empty; `media` False leaves out the Media Storage UIDs and the version."""
    elements = []
    if media:
        elements += [element(0x00020001, "OB", b"\x00\x01"),
                     element(0x00020002, "UI", "1.2.840.10008.5.1.4.1.1.7"),
                     element(0x00020003, "UI", f"{helpers.UID_ROOT}.60.3")]
    if syntax is not None:
        elements.append(element(0x00020010, "UI", syntax.decode()))
    elements.append(element(0x00020012, "UI", "1.2.826.0.1.3680043.8.498.9"))
    group = b"".join(e.data for e in elements)
    return b"\x00" * 128 + b"DICM" + element(0x00020000, "UL", pack("<L", len(group))).data + group


def body_bytes(implicit: bool) -> bytes:
    return b"".join(e.data for e in sorted(helpers.base_elements(60, implicit), key=lambda e: e.tag))


@functools.cache
def basic_profile() -> DatasetDeidentifier:
    plan = compile_or_raise(helpers.RULESETS / "ps3.15-basic.deid").plan
    return DatasetDeidentifier(plan, resolve_keys(plan, insecure_demo_key=True))


def both_engines_write(data: bytes, tmp_path: Path) -> list[Path]:
    """Read with each engine, de-identify with ps3.15-basic and stage: the staged outputs (equal)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "input.dcm"
    path.write_bytes(data)
    written = []
    for codec in CODECS:
        source = read_input(path, codec)
        outcome = basic_profile().deidentify(source.dataset)
        assert not outcome.quarantine
        staged, _ = write_temporary(source.dataset, tmp_path / codec, source.source)
        written.append(staged)
    assert written[0].read_bytes() == written[1].read_bytes()
    return written


@pytest.mark.parametrize(("syntax", "implicit", "expected"), [
    (b"", True, ImplicitVRLittleEndian),
    (b"", False, ExplicitVRLittleEndian),
    (None, True, ImplicitVRLittleEndian),
    (None, False, ExplicitVRLittleEndian),
], ids=["empty, implicit body", "empty, explicit body", "missing, implicit body", "missing, explicit body"])
def test_an_empty_or_missing_transfer_syntax_is_the_body_s_encoding(syntax, implicit, expected, tmp_path):
    """Was: AttributeError: 'str' object has no attribute 'is_implicit_VR' (empty TransferSyntaxUID)."""
    for staged in both_engines_write(meta_bytes(syntax) + body_bytes(implicit), tmp_path):
        decodes(staged)
        result = pydicom.dcmread(staged)
        assert result.file_meta.TransferSyntaxUID == expected
        assert result.PatientName == "" and result.Modality == "OT"
        assert result.PixelData == bytes(range(100, 164))


def test_a_file_meta_without_media_storage_uids_gives_a_valid_output(tmp_path):
    for staged in both_engines_write(meta_bytes(ExplicitVRLittleEndian.encode(), media=False) + body_bytes(False),
                                     tmp_path):
        decodes(staged)
        result = pydicom.dcmread(staged)
        assert result.file_meta.MediaStorageSOPClassUID == result.SOPClassUID
        assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID


def test_an_unknown_transfer_syntax_is_refused(tmp_path):
    for refused in refusals(meta_bytes(b"1.2.3.4") + body_bytes(False), tmp_path):
        assert refused.startswith("unknown transfer syntax '1.2.3.4'")


# ---- 5. decompression bombs ------------------------------------------------------------------------


def deflated_file(inflated_mib: int) -> bytes:
    """A deflated instance whose data set ends with a private OB of `inflated_mib` MiB of zeros
    (about 1 KB deflated per MiB). Each MiB is deflated once after a full flush, so its bytes can
    be repeated: building a 4 GiB bomb takes milliseconds."""
    private = (element(0x7FE10010, "LO", "ACME").data
               + pack("<HH2sHL", 0x7FE1, 0x1001, b"OB", 0, inflated_mib << 20))
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = deflater.compress(body_bytes(False) + private) + deflater.flush(zlib.Z_FULL_FLUSH)
    mebibyte = deflater.compress(bytes(1 << 20)) + deflater.flush(zlib.Z_FULL_FLUSH)
    return meta_bytes(b"1.2.840.10008.1.2.1.99") + head + mebibyte * inflated_mib + deflater.flush()


def test_a_whole_deflated_file_passes_and_inflates(tmp_path):
    path = tmp_path / "deflated.dcm"
    path.write_bytes(deflated_file(2))
    assert integrity.check_input(path).syntax == "1.2.840.10008.1.2.1.99"
    assert len(pydicom.dcmread(path)[0x7FE11001].value) == 2 << 20


def test_a_deflate_bomb_is_refused_by_the_inflated_bytes_limit_in_bounded_memory(tmp_path):
    path = tmp_path / "bomb.dcm"
    path.write_bytes(deflated_file(4000))  # 4 GB inflated
    assert path.stat().st_size < 8 << 20
    before = limits.current()
    limits.configure(limits.with_overrides(inflated_bytes=64 << 20))
    tracemalloc.start()
    try:
        for codec in CODECS:
            with pytest.raises(LimitExceeded, match=r"inflates to more than 64 MB \(the inflated-size limit; "
                                                    r"--max-inflated MB raises it\)"):
                read_input(path, codec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        limits.configure(before)
    assert peak < 3 * path.stat().st_size + (4 << 20), f"peak {peak >> 20} MiB"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_deflate_bomb_keeps_a_worker_process_small(tmp_path):
    """A separate process: refused, and its peak RSS stays far below both the bomb (1.5 GiB) and
    the limit (256 MiB here; inflating at about 150 MiB/s is what bounds the test's time)."""
    path = tmp_path / "bomb.dcm"
    path.write_bytes(deflated_file(1536))  # 1.5 GiB inflated, 1.5 MB on disk
    script = textwrap.dedent(f"""
        from pathlib import Path
        from deidc.runtime import limits
        from deidc.runtime.codec.files import read_input
        from deidc.runtime.limits import LimitExceeded
        limits.configure(limits.with_overrides(inflated_bytes=256 << 20))
        try:
            read_input(Path({str(path)!r}), "reference")
        except LimitExceeded as err:
            print("refused:", err)
        # VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited through exec)
        print("peak", next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "refused: the deflated data set inflates to more than 256 MB" in run.stdout, run.stdout + run.stderr
    peak_kib = int(run.stdout.rsplit("peak", 1)[1])
    assert peak_kib < 128 * 1024, f"peak RSS {peak_kib >> 10} MiB"  # about 60 MiB of it is Python and pydicom


# ---- 6. the output check -----------------------------------------------------------------------------


def test_an_output_that_would_not_decode_is_refused_and_removed(tmp_path):
    ds = pydicom.dcmread(helpers.TEST_FILES / "CT_small.dcm")
    ds.PixelData = ds.PixelData[:-2]  # shorter than Rows x Columns x 2 bytes
    staging = tmp_path / "staging"
    with pytest.raises(InvalidOutput, match="native pixel data of 32766 bytes where Rows, Columns, "
                                            "SamplesPerPixel, BitsAllocated and NumberOfFrames make 32768"):
        write_temporary(ds, staging)
    assert list(staging.iterdir()) == []


@pytest.mark.parametrize(("case", "reason"), [
    ("native under a compressed syntax", "malformed: pixel data is native but the transfer syntax "
                                         "1.2.840.10008.1.2.4.50"),
    ("encapsulated under a native syntax", "malformed: pixel data is encapsulated but the transfer syntax "
                                           "1.2.840.10008.1.2.1"),
    ("unknown syntax", "unknown transfer syntax '1.2.3.4'"),
    ("empty syntax", "an empty TransferSyntaxUID"),
    ("invalid VR", "malformed: element (0018,1030)"),
    ("implicit body under an explicit syntax", "the data set is implicit VR, the transfer syntax"),
    ("short pixel data", "native pixel data of 58 bytes where"),
])
def test_the_output_check_refuses_what_would_not_decode(case, reason):
    # (trailing bytes after the frames are decoded as readers do: see the padded test below)
    data = {
        "native under a compressed syntax": lambda: small_file(syntax=JPEGBaseline8Bit),
        "encapsulated under a native syntax": lambda: small_file(
            Encoded(0x7FE00010, pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, UNDEFINED) + OFFSETS + FRAGMENT + DELIMITER)),
        "unknown syntax": lambda: meta_bytes(b"1.2.3.4") + body_bytes(False),
        "empty syntax": lambda: meta_bytes(b"") + body_bytes(False),
        "invalid VR": lambda: small_file(element(0x00181030, "ZZ", "PROTOCOL")),
        "implicit body under an explicit syntax": lambda: (meta_bytes(ExplicitVRLittleEndian.encode())
                                                           + body_bytes(True)),
        "short pixel data": lambda: small_file(element(0x7FE00010, "OB", bytes(58))),
    }[case]()
    with pytest.raises(integrity.Malformed) as refused:
        integrity.check_bytes(data, output=True)
    assert str(refused.value).startswith(reason) or reason in str(refused.value), str(refused.value)


def test_outputs_of_the_samples_pass_the_output_check_and_decode(tmp_path):
    for path in sorted(helpers.SAMPLES.rglob("*.dcm")):
        for staged in both_engines_write(path.read_bytes(), tmp_path / path.stem):
            assert integrity.check_output(staged).part10
            decodes(staged)


# ---- 7. output paths are collision-free ----------------------------------------------------------


def test_unsafe_uids_do_not_collide():
    """Was: 1.2.3/4 and 1.2.3_4 both became 1.2.3_4, the second file a false duplicate."""
    assert safe_component("1.2.3/4", "no-sop-uid") != safe_component("1.2.3_4", "no-sop-uid")
    assert safe_component("1.2.3/4", "no-sop-uid") == "1.2.3%2F4"


@pytest.mark.parametrize("value", ["1.2.840.113619.2.55.3.604688119.969.1268071029.320", "2.25.1234567890",
                                   "1CT1", "ANONYMIZED", "P-00042_a^b", "PID4711X"])
def test_ordinary_values_keep_their_paths(value):
    assert safe_component(value, "no-patient-id") == value


ALPHABET = "aA0._^-/%\\ :*?\"<>|\x00\x01+~é漢\U0001F600"


def _random_value(rng: random.Random) -> str:
    return "".join(rng.choices(ALPHABET, k=rng.choice([0, 1, 2, 3, 5, 8, 60, 127, 128, 129, 200, 400])))


def test_distinct_values_give_distinct_valid_components():
    """Property, over many seeded random strings and the hostile ones: the mapping is injective
    on values as DICOM compares them (padding spaces and NULs at either end ignored), and every
    component is one safe, visible, short name."""
    rng = random.Random(11)
    values = {_random_value(rng) for _ in range(5000)}
    values |= {".", "..", "...", ".hidden", "%", "%25", "%2F", "/", "a" * 129, "a" * 128, "a" * 300 + "/",
               "no-patient-id", "", " ", *RESERVED_NAMES, *(f"%{ord(n[0]):02X}{n[1:]}" for n in RESERVED_NAMES)}
    seen: dict[str, str] = {}
    for value in values:
        component = safe_component(value, "no-patient-id")
        key = value.strip(" \x00")
        assert seen.setdefault(component, key) == key, (component, seen[component], key)
        assert 0 < len(component) <= 128
        assert component not in (".", "..") and not component.startswith(".")
        assert "/" not in component and "\x00" not in component
        assert component not in RESERVED_NAMES
        assert set(component) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._^-%+")
        if component == "no-patient-id":
            assert key == ""


def test_output_relpath_of_colliding_uids():
    ds = pydicom.Dataset()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.2", "1.2.3"
    paths = set()
    for sop in ("1.2.3/4", "1.2.3_4", "1.2.3%2F4"):
        ds.SOPInstanceUID = sop
        paths.add(output_relpath(ds))
    assert len(paths) == 3


# ---- 8. end to end: the reported case through the command line ---------------------------------------


def test_apply_writes_the_whole_file_and_quarantines_the_cut_one(tmp_path):
    """`head -c 1005` of a sample next to the complete file: the complete one is written, the cut
    one quarantined with the truncation reason (was: the cut one written, the whole one a duplicate)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copyfile(NATIVE, inputs / "001.dcm")
    (inputs / "000-partial.dcm").write_bytes(NATIVE.read_bytes()[:1005])
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"}
    subprocess.run([sys.executable, "-m", "deidc", "apply", str(REPO / "rulesets" / "ps3.15-basic.deid"), str(inputs),
                    "-o", str(out), "--insecure-demo-key", "--workers", "1", "--no-progress"],
                   capture_output=True, text=True, env=env, timeout=300)
    written = sorted(out.rglob("*.dcm"))
    assert len(written) == 1
    result = pydicom.dcmread(written[0])
    original = pydicom.dcmread(NATIVE)
    assert result.PixelData == original.PixelData and result.SOPInstanceUID != original.SOPInstanceUID
    decodes(written[0])
    rows = (out / "quarantine.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "file,reason" and len(rows) == 2
    file, reason = rows[1].split(",", 1)
    assert file.endswith("000-partial.dcm")
    assert "truncated: the file ends inside the value of (0009,0010) at byte 990" in reason


def test_pixel_data_longer_than_its_frames_is_released():
    """pydicom and dcmtk decode the frames and ignore trailing padding (pydicom's MR_small_padded.dcm)."""
    integrity.check_bytes(small_file(element(0x7FE00010, "OB", bytes(66))), output=True)


@pytest.mark.parametrize("implicit", [True, False])
def test_a_length_that_swallows_the_next_element_is_refused(tmp_path, implicit):
    """PatientSex's length grown by the size of the element after it lands exactly on an element
    boundary: the file reads to its end, and PatientSex (kept by the profiles) would carry the
    swallowed element. A CS value cannot hold the binary bytes of an element header, so the file
    is refused (the fault suite released such a file with its PHI marker)."""
    sex = element(0x00100040, "CS", "M", implicit).data
    age = element(0x00101010, "AS", "042Y", implicit).data
    data = small_file(element(0x00100040, "CS", "M", implicit), element(0x00101010, "AS", "042Y", implicit),
                      implicit=implicit)
    assert integrity.check_bytes(data).implicit == implicit  # as written, the file is fine
    at = data.index(sex + age)
    grown = sex[:4] + (pack("<L", 2 + len(age)) if implicit else sex[4:6] + pack("<H", 2 + len(age)))
    broken = data[:at] + grown + data[at + len(grown):]
    reasons = refusals(broken, tmp_path)
    assert all(reason.startswith("malformed: element (0010,0040) at byte ") and "is CS, but its value holds" in reason
               for reason in reasons), reasons


def test_values_of_character_vrs_may_end_in_nul_padding():
    data = small_file(element(0x00080060, "CS", b"OT\x00\x00"))
    integrity.check_bytes(data, output=True)
