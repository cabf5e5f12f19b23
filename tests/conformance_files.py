"""Inputs for the engine conformance tests (tests/runtime/test_conformance.py, test_rawread.py,
tests/e2e/test_codec.py): the real DICOM files the suite runs on, byte-level builders for the
generated variants, and a fixed-answer OCR engine.

Not a test module and not a conftest: the test modules load it by path (`load_helpers` below is
copied into each), since the suite runs with `--import-mode=importlib` and `tests/` is no package.

Real files: pydicom's shipped test files and character-set files (read from the package folder,
never through `get_testdata_file`, which may download), the `deid-data` package's files and the
repo's samples/ folder. Generated files are written byte by byte (`Body`, `element`, `sequence`,
`item`) so that lengths, item framing and odd values are exactly what the test asks for.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from struct import pack

import deid_data
import numpy as np
import pydicom
from pydicom.charset import convert_encodings, encode_string
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit
from pydicom.valuerep import PersonName

from deidc.runtime.pixels.ocr import OcrWord

REPO = Path(__file__).resolve().parents[1]
PYDICOM_DATA = Path(pydicom.__file__).parent / "data"
TEST_FILES = PYDICOM_DATA / "test_files"
CHARSET_FILES = PYDICOM_DATA / "charset_files"
DEID_DATA = Path(deid_data.__file__).parent / "data"
SAMPLES = REPO / "samples"
RULESETS = REPO / "rulesets"

NOT_DICOM_SUFFIXES = frozenset({".py", ".pyc", ".json", ".txt", ".gz", ".bz2", ".zip", ".icc", ".dump",
                                ".md"})


def _dicom_candidates(root: Path) -> list[Path]:
    """Every file under root that is meant as DICOM (odd and broken DICOM files included)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() not in NOT_DICOM_SUFFIXES
                  and not p.name.upper().startswith("README") and "__pycache__" not in p.parts
                  and p.name != "FileInfo.txt")


def corpus_files() -> dict[str, Path]:
    """Test id -> path for every real input file (ids are stable: prefix + relative path)."""
    found: dict[str, Path] = {}
    for prefix, root in (("pydicom", TEST_FILES), ("charset", CHARSET_FILES), ("deid-data", DEID_DATA),
                         ("samples", SAMPLES)):
        for path in _dicom_candidates(root):
            found[f"{prefix}/{path.relative_to(root).as_posix()}"] = path
    return found


# ---- byte-level builders (little endian) ------------------------------------------------------

UNDEFINED = 0xFFFFFFFF
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
ITEM_END = pack("<HHL", 0xFFFE, 0xE00D, 0)
SEQUENCE_END = pack("<HHL", 0xFFFE, 0xE0DD, 0)


@dataclass(frozen=True)
class Encoded:
    tag: int
    data: bytes


def element(tag: int, vr: str, value: bytes | str, implicit: bool = False, length: int | None = None) -> Encoded:
    """One element as written: `value` as given (str: ASCII, padded to even length with a
    space, or NUL for UI), `length` overrides the header's length (UNDEFINED for undefined)."""
    if isinstance(value, str):
        value = value.encode("ascii")
        if len(value) % 2:
            value += b"\x00" if vr == "UI" else b" "
    size = len(value) if length is None else length
    group, number = tag >> 16, tag & 0xFFFF
    if implicit:
        header = pack("<HHL", group, number, size)
    elif vr in LONG_VRS:
        header = pack("<HH2sHL", group, number, vr.encode(), 0, size)
    else:
        header = pack("<HH2sH", group, number, vr.encode(), size)
    return Encoded(tag, header + value)


def item(*elements: Encoded, undefined: bool = False) -> bytes:
    content = b"".join(e.data for e in sorted(elements, key=lambda e: e.tag))
    if undefined:
        return pack("<HHL", 0xFFFE, 0xE000, UNDEFINED) + content + ITEM_END
    return pack("<HHL", 0xFFFE, 0xE000, len(content)) + content


def sequence(tag: int, *items: bytes, undefined: bool = False, implicit: bool = False, vr: str = "SQ") -> Encoded:
    content = b"".join(items)
    if undefined:
        return element(tag, vr, content + SEQUENCE_END, implicit, length=UNDEFINED)
    return element(tag, vr, content, implicit)


def part10(elements: list[Encoded], syntax: str, preamble: bytes = b"\x00" * 128,
           meta_extra: dict[str, object] | None = None) -> bytes:
    """Preamble, DICM, file meta (pydicom's writer; `meta_extra`: more file meta elements by
    keyword) and the dataset, elements sorted by tag."""
    by_tag = {e.tag: e for e in elements}
    sop_class = _uid_of(by_tag.get(0x00080016))
    sop_instance = _uid_of(by_tag.get(0x00080018))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.9"
    for keyword, value in (meta_extra or {}).items():
        setattr(meta, keyword, value)
    buf = DicomBytesIO()
    write_file_meta_info(buf, meta, enforce_standard=True)
    return preamble + b"DICM" + buf.getvalue() + b"".join(e.data for e in sorted(elements, key=lambda e: e.tag))


def _uid_of(encoded: Encoded | None) -> str:
    if encoded is None:
        return "1.2.3"
    return encoded.data[8:].rstrip(b"\x00 ").decode("ascii")  # UI: an 8-byte header in either VR form


# ---- generated variants -----------------------------------------------------------------------

UID_ROOT = "1.2.826.0.1.3680043.8.498.77"
PATIENT_NAME, PATIENT_ID = "GALLOWAY^JOHN", "PID4711X"


def base_elements(index: int, implicit: bool = False, pixels: bool = True, name: bytes | None = None,
                  charset: bytes | str | None = None) -> list[Encoded]:
    """A small storable OT instance with PHI in the usual places and an 8x8 8-bit image."""
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    out = [
        e(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.7"),
        e(0x00080018, "UI", f"{UID_ROOT}.{index}.3"),
        e(0x00080020, "DA", "20200102"),
        e(0x00080030, "TM", "101500"),
        e(0x00080050, "SH", "ACC123456"),
        e(0x00080060, "CS", "OT"),
        e(0x00080080, "LO", "SPRINGFIELD GENERAL"),
        e(0x00080090, "PN", "HIBBERT^JULIUS"),
        e(0x00081030, "LO", "CT HEAD for GALLOWAY"),
        e(0x00100010, "PN", name if name is not None else PATIENT_NAME),
        e(0x00100020, "LO", PATIENT_ID),
        e(0x00100030, "DA", "19510829"),
        e(0x00100040, "CS", "M"),
        e(0x0020000D, "UI", f"{UID_ROOT}.{index}.1"),
        e(0x0020000E, "UI", f"{UID_ROOT}.{index}.2"),
        e(0x00200013, "IS", "1"),
    ]
    if charset is not None:
        out.append(e(0x00080005, "CS", charset))
    if pixels:
        out += [
            e(0x00280002, "US", pack("<H", 1)),
            e(0x00280004, "CS", "MONOCHROME2"),
            e(0x00280010, "US", pack("<H", 8)),
            e(0x00280011, "US", pack("<H", 8)),
            e(0x00280100, "US", pack("<H", 8)),
            e(0x00280101, "US", pack("<H", 8)),
            e(0x00280102, "US", pack("<H", 7)),
            e(0x00280103, "US", pack("<H", 0)),
            e(0x7FE00010, "OB" if not implicit else "OW", bytes(range(100, 164))),
        ]
    return out


def _replace(elements: list[Encoded], *new: Encoded) -> list[Encoded]:
    tags = {e.tag for e in new}
    return [e for e in elements if e.tag not in tags] + list(new)


def _text(value: str, charsets: list[str], pn: bool = False) -> bytes:
    encodings = convert_encodings(charsets)
    data = PersonName(value).encode(encodings) if pn else encode_string(value, encodings)
    return data + (b" " if len(data) % 2 else b"")


def _nested_undefined(implicit: bool) -> list[Encoded]:
    """Undefined-length sequences and items, three levels deep, with PHI and UIDs inside."""
    s, e = (lambda tag, *items, undefined=True: sequence(tag, *items, undefined=undefined, implicit=implicit),
            lambda tag, vr, value: element(tag, vr, value, implicit))
    codes = s(0x00400008,  # ScheduledProtocolCodeSequence
              item(e(0x00080100, "SH", "P1"), e(0x00080102, "SH", "99X"), e(0x00080104, "LO", "GALLOWAY protocol"),
                   undefined=True),
              item(e(0x00080100, "SH", "P2"), e(0x00080102, "SH", "99X"), undefined=True))
    request = s(0x00400275,  # RequestAttributesSequence
                item(e(0x00401001, "SH", "RP77"), e(0x00400009, "SH", "SPS88"), codes,
                     e(0x0032000A, "CS", "SCHEDULED"), undefined=True))
    referenced = s(0x00081140,  # ReferencedImageSequence
                   item(e(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.2"), e(0x00081155, "UI", f"{UID_ROOT}.900.1"),
                        undefined=True),
                   item(e(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.2"), e(0x00081155, "UI", f"{UID_ROOT}.900.2"),
                        undefined=True))
    other_ids = s(0x00101002,  # OtherPatientIDsSequence
                  item(e(0x00100020, "LO", "OTHER-99"), e(0x00100021, "LO", "HOSP"), undefined=True))
    return [request, referenced, other_ids]


def _defined_in_undefined(implicit: bool) -> list[Encoded]:
    """A defined-length sequence (defined items) inside an undefined-length one, and the reverse."""
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    inner_defined = sequence(0x00081199,  # ReferencedSOPSequence
                             item(e(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.7"),
                                  e(0x00081155, "UI", f"{UID_ROOT}.901.1")),
                             item(e(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.7"),
                                  e(0x00081155, "UI", f"{UID_ROOT}.901.2")), implicit=implicit)
    outer_undefined = sequence(0x0040A370,  # ReferencedRequestSequence
                               item(e(0x00080050, "SH", "ACC123456"), inner_defined,
                                    e(0x0020000D, "UI", f"{UID_ROOT}.901.9"), undefined=False),
                               undefined=True, implicit=implicit)
    inner_undefined = sequence(0x00081199,
                               item(e(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.7"),
                                    e(0x00081155, "UI", f"{UID_ROOT}.902.1"), undefined=True),
                               undefined=True, implicit=implicit)
    outer_defined = sequence(0x00081115,  # ReferencedSeriesSequence
                             item(inner_undefined, e(0x0020000E, "UI", f"{UID_ROOT}.902.9")), implicit=implicit)
    return [outer_undefined, outer_defined]


def _private_blocks(implicit: bool) -> list[Encoded]:
    """A private block with values and private sequences (undefined and defined length) holding
    their own private creator, private values and standard PHI."""
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    inner = item(e(0x00110010, "LO", "ACME INNER"), e(0x00111001, "LO", "inner secret GALLOWAY"),
                 e(0x00100010, "PN", PATIENT_NAME), e(0x00081155, "UI", f"{UID_ROOT}.903.1"), undefined=True)
    inner_defined = item(e(0x00110010, "LO", "ACME INNER"), e(0x00111002, "DS", "1.5"),
                         e(0x00080090, "PN", "HIBBERT^JULIUS"))
    return [
        e(0x00090010, "LO", "ACME 1.1"),
        e(0x00091001, "LO", "private text"),
        e(0x00091002, "US", pack("<H", 42)),
        sequence(0x00091010, inner, undefined=True, implicit=implicit),
        sequence(0x00091011, inner_defined, implicit=implicit),
        e(0x00291010, "LO", "orphan without creator"),
    ]


def _odd_lengths(implicit: bool) -> list[Encoded]:
    """Values of odd length, as some writers leave them (no padding)."""
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    return [
        e(0x00081030, "LO", b"ODD"),             # StudyDescription, 3 bytes
        e(0x00081090, "LO", b"SCANNER X"),        # ManufacturerModelName, 9 bytes (kept)
        e(0x00180015, "CS", b"HEAD"),             # even, for contrast
        e(0x00181030, "LO", b"PROTOCOL7"),        # ProtocolName, 9 bytes
        e(0x00100010, "PN", b"GALLOWAY^JOH"),     # 12: even
        e(0x00204000, "LT", b"odd comment"),      # ImageComments, 11 bytes
        e(0x00090010, "LO", b"ACME 1.1"),
        e(0x00091001, "OB", b"\x01\x02\x03"),     # private OB, 3 bytes
        e(0x00091002, "UN", b"\x01\x02\x03\x04\x05"),
    ]


def _empty_binary(implicit: bool) -> list[Encoded]:
    """Empty US / SS / FL / AT / UN elements: pydicom's raw value is None and it converts them
    (UN of a known tag gets the dictionary's VR) when it writes."""
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    return [
        e(0x00280034, "IS", b""),                 # PixelAspectRatio (IS), empty
        e(0x00281050, "DS", b""),                 # WindowCenter, empty
        e(0x00280106, "US", b""),                 # SmallestImagePixelValue, empty US
        e(0x00280107, "UN", b""),                 # LargestImagePixelValue as UN, empty
        e(0x00181310, "US", b""),                 # AcquisitionMatrix, empty US (VM 4)
        e(0x00209165, "AT", b""),                 # DimensionIndexPointer, empty AT
        e(0x00189087, "FD", b""),                 # DiffusionBValue, empty FD
        e(0x00280120, "UN", pack("<H", 0)),       # PixelPaddingValue as UN with a value
        e(0x00090010, "LO", "ACME 1.1"),
        e(0x00091003, "US", b""),                 # private empty US
    ]


def _group_lengths(implicit: bool) -> list[Encoded]:
    """Group length elements at the top level and inside items (pydicom drops the retired ones
    when writing; (gggg,0000) inside items too)."""
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    inner = [e(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.2"), e(0x00081155, "UI", f"{UID_ROOT}.904.1")]
    inner_length = sum(len(x.data) for x in inner)
    in_item = item(e(0x00080000, "UL", pack("<L", inner_length)), *inner)
    in_undefined_item = item(e(0x00080000, "UL", pack("<L", inner_length)), *inner, undefined=True)
    return [
        e(0x00080000, "UL", pack("<L", 0)),     # stale on purpose
        e(0x00100000, "UL", pack("<L", 0)),
        e(0x00200000, "UL", pack("<L", 0)),
        sequence(0x00081140, in_item, in_undefined_item, implicit=implicit),
        sequence(0x00081115, item(e(0x00200000, "UL", pack("<L", 0)),
                                  e(0x0020000E, "UI", f"{UID_ROOT}.904.9"), undefined=True),
                 undefined=True, implicit=implicit),
    ]


def _large_native(index: int, implicit: bool) -> bytes:
    """A native image bigger than the fast reader's first read (64 KiB), so its pixel data is left
    in the file (a deferred element, copied file to file), followed by elements the reader
    parses separately: a private block, a digital-signatures sequence and trailing padding."""
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    rows, columns = 256, 300
    pixels = (np.arange(rows * columns, dtype=np.uint32) % 251).astype(np.uint8).tobytes()
    elements = _replace(
        base_elements(index, implicit),
        e(0x00280010, "US", pack("<H", rows)), e(0x00280011, "US", pack("<H", columns)),
        e(0x7FE00010, "OW" if implicit else "OB", pixels),
        e(0x7FE10010, "LO", "ACME PIXELS"),
        e(0x7FE11001, "LO", "trailer text GALLOWAY"),
        sequence(0xFFFAFFFA, item(e(0x04000005, "US", pack("<H", 2)), e(0x04000015, "CS", "SHA256"),
                                  undefined=True), undefined=True, implicit=implicit),
        e(0xFFFCFFFC, "OB", b"\x00" * 10),
    )
    return part10(elements, ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)


def _jpeg_baseline() -> bytes:
    """A 16x16 greyscale image, JPEG baseline (Pillow), encapsulated with a basic offset table."""
    from PIL import Image
    from pydicom.encaps import encapsulate

    picture = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))
    buffer = io.BytesIO()
    Image.fromarray(picture, "L").save(buffer, "JPEG", quality=90)
    return encapsulate([buffer.getvalue()], has_bot=True)


def _encapsulated(index: int) -> bytes:
    elements = [x for x in base_elements(index) if x.tag != 0x7FE00010 and x.tag >> 16 != 0x0028]
    e = element
    elements += [
        e(0x00280002, "US", pack("<H", 1)), e(0x00280004, "CS", "MONOCHROME2"),
        e(0x00280010, "US", pack("<H", 16)), e(0x00280011, "US", pack("<H", 16)),
        e(0x00280100, "US", pack("<H", 8)), e(0x00280101, "US", pack("<H", 8)),
        e(0x00280102, "US", pack("<H", 7)), e(0x00280103, "US", pack("<H", 0)),
        e(0x00282110, "CS", "01"),
        element(0x7FE00010, "OB", _jpeg_baseline() + SEQUENCE_END, length=UNDEFINED),
    ]
    return part10(elements, JPEGBaseline8Bit)


def _dataset_variant(source: Path, implicit: bool) -> bytes:
    """A real file re-written by pydicom in implicit VR little endian."""
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


# Source files rewritten in implicit VR little endian (nested sequences, SEG functional groups,
# non-ASCII character sets, waveforms).
IMPLICIT_SOURCES = {
    "implicit/CT_small.dcm": TEST_FILES / "CT_small.dcm",
    "implicit/test-SR.dcm": TEST_FILES / "test-SR.dcm",
    "implicit/liver_1frame.dcm": TEST_FILES / "liver_1frame.dcm",
    "implicit/chrX1.dcm": CHARSET_FILES / "chrX1.dcm",
    "implicit/chrH31.dcm": CHARSET_FILES / "chrH31.dcm",
    "implicit/waveform_ecg.dcm": TEST_FILES / "waveform_ecg.dcm",
}


def generated_files() -> dict[str, bytes]:
    """Test id -> file bytes for every generated variant."""
    files: dict[str, bytes] = {name: _dataset_variant(path, True) for name, path in IMPLICIT_SOURCES.items()}
    for n, (name, implicit, extra) in enumerate([
        ("nested-undefined-explicit.dcm", False, _nested_undefined),
        ("nested-undefined-implicit.dcm", True, _nested_undefined),
        ("defined-in-undefined-explicit.dcm", False, _defined_in_undefined),
        ("defined-in-undefined-implicit.dcm", True, _defined_in_undefined),
        ("private-sq-explicit.dcm", False, _private_blocks),
        ("private-sq-implicit.dcm", True, _private_blocks),
        ("odd-lengths-explicit.dcm", False, _odd_lengths),
        ("odd-lengths-implicit.dcm", True, _odd_lengths),
        ("empty-binary-explicit.dcm", False, _empty_binary),
        ("empty-binary-implicit.dcm", True, _empty_binary),
        ("group-lengths-explicit.dcm", False, _group_lengths),
        ("group-lengths-implicit.dcm", True, _group_lengths),
    ], start=10):
        elements = _replace(base_elements(n, implicit), *extra(implicit))
        files[f"generated/{name}"] = part10(elements, ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)

    # character sets: empty, ISO 2022 with a G1 set (escape sequences), UTF-8
    files["generated/charset-empty.dcm"] = part10(base_elements(30, charset=""), ExplicitVRLittleEndian)
    multi = ["", "ISO 2022 IR 100"]
    multi_elements = _replace(
        base_elements(31, charset="\\ISO 2022 IR 100", name=_text("Müller^Jürgen", multi, pn=True)),
        element(0x00080080, "LO", _text("Klinikum Dürener Straße", multi)),
        element(0x00081030, "LO", _text("Schädel für Müller", multi)),
    )
    files["generated/charset-iso2022-ir100.dcm"] = part10(multi_elements, ExplicitVRLittleEndian)
    utf8 = ["ISO_IR 192"]
    for implicit in (False, True):
        e = lambda tag, vr, value, implicit=implicit: element(tag, vr, value, implicit)  # noqa: E731
        utf8_elements = _replace(
            base_elements(32 + implicit, implicit, charset="ISO_IR 192",
                          name=_text("Çelik^Zoë=김^민준", utf8, pn=True)),
            e(0x00080080, "LO", _text("Hôpital Saint-Éloi", utf8)),
            e(0x00080090, "PN", _text("Ødegård^Åse", utf8, pn=True)),
            e(0x00081030, "LO", _text("Tête pour Çelik", utf8)),
            sequence(0x00101002, item(e(0x00100020, "LO", _text("Ünal-7", utf8)), undefined=True),
                     undefined=True, implicit=implicit),
        )
        files[f"generated/charset-utf8-{'implicit' if implicit else 'explicit'}.dcm"] = part10(
            utf8_elements, ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)
    files["generated/jpeg-baseline.dcm"] = _encapsulated(34)
    files["generated/large-native-explicit.dcm"] = _large_native(35, False)
    files["generated/large-native-implicit.dcm"] = _large_native(36, True)
    for implicit in (False, True):
        files[f"generated/file-meta-{'implicit' if implicit else 'explicit'}.dcm"] = part10(
            base_elements(37 + implicit, implicit) + _unknown_elements(implicit),
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian, meta_extra=IDENTIFYING_META)
    return files


# The file meta elements that identify where a file came from or went (PS3.10 7.1), as a real
# corpus held them; and standard-group elements the dictionary does not know (a flipped bit).
IDENTIFYING_META = {
    "SourceApplicationEntityTitle": "ST_AGNES_CT", "SendingApplicationEntityTitle": "AGNES_SEND",
    "ReceivingApplicationEntityTitle": "AGNES_RECV", "SourcePresentationAddress": "dicom://agnes.example.org:104",
    "PrivateInformationCreatorUID": "1.2.826.0.1.3680043.8.498.4711", "PrivateInformation": b"GALLOWAY JOHN",
}


def _unknown_elements(implicit: bool) -> list[Encoded]:
    e = lambda tag, vr, value: element(tag, vr, value, implicit)  # noqa: E731
    return [
        e(0x00100011, "PN", PATIENT_NAME),  # PatientName (0010,0010) with a bit flipped
        sequence(0x00081140, item(e(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.7"),
                                  e(0x00081157, "LO", PATIENT_ID)), implicit=implicit),
    ]


GENERATED_NAMES = ("implicit/CT_small.dcm", "implicit/test-SR.dcm", "implicit/liver_1frame.dcm",
                   "implicit/chrX1.dcm", "implicit/chrH31.dcm", "implicit/waveform_ecg.dcm",
                   "generated/nested-undefined-explicit.dcm", "generated/nested-undefined-implicit.dcm",
                   "generated/defined-in-undefined-explicit.dcm", "generated/defined-in-undefined-implicit.dcm",
                   "generated/private-sq-explicit.dcm", "generated/private-sq-implicit.dcm",
                   "generated/odd-lengths-explicit.dcm", "generated/odd-lengths-implicit.dcm",
                   "generated/empty-binary-explicit.dcm", "generated/empty-binary-implicit.dcm",
                   "generated/group-lengths-explicit.dcm", "generated/group-lengths-implicit.dcm",
                   "generated/charset-empty.dcm", "generated/charset-iso2022-ir100.dcm",
                   "generated/charset-utf8-explicit.dcm", "generated/charset-utf8-implicit.dcm",
                   "generated/jpeg-baseline.dcm", "generated/large-native-explicit.dcm",
                   "generated/large-native-implicit.dcm", "generated/file-meta-explicit.dcm",
                   "generated/file-meta-implicit.dcm")


def write_generated(folder: Path) -> dict[str, Path]:
    """Write every generated variant under `folder`; test id -> path."""
    files = generated_files()
    assert tuple(files) == GENERATED_NAMES, "keep GENERATED_NAMES (collection-time ids) in step"
    out = {}
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out[name] = path
    return out


# ---- OCR with a fixed answer ------------------------------------------------------------------

PHI_KEYWORDS = ("PatientID", "PatientName", "AccessionNumber", "PatientBirthDate", "StudyDate", "InstitutionName")


def phi_text(ds: Dataset) -> str | None:
    """A PHI value of the file that the pixel matcher accepts (the first of PHI_KEYWORDS with at
    least four letters or digits), as OCR would read it burned into the image."""
    for keyword in PHI_KEYWORDS:
        try:
            value = ds.get(keyword)
        except Exception:  # noqa: BLE001 — an undecodable value: try the next one
            continue
        text = str(value or "").replace("^", " ").strip(" \x00")
        if sum(ch.isalnum() for ch in text) >= 4:
            return text
    return None


class FixedTextOcr:
    """The OcrEngine protocol, deterministic: one word, `text`, in a box in the image's top-left
    corner (set `text` per file; None reads nothing). Counts calls."""

    name = "fixed"

    def __init__(self) -> None:
        self.text: str | None = None
        self.calls = 0

    def read(self, image: np.ndarray, detect: bool = True) -> list[OcrWord]:
        self.calls += 1
        if not self.text:
            return []
        height, width = image.shape[:2]
        return [OcrWord(self.text, (0, 0, max(1, min(width, 12)) - 1, max(1, min(height, 6)) - 1), 0.99)]


# ---- one file through one engine, as runtime/batch/folder.py does it --------------------------------

@dataclass
class EngineRun:
    """What one engine made of one file: "written" (with the bytes), "quarantined" (with the
    reason) or "raised" (with the exception's type and message)."""
    outcome: str
    detail: str = ""
    data: bytes | None = None
    routed: str | None = None  # the fast engine handed the file to the reference engine
    fast_written: bool | None = None  # the fast engine's writer copied (False: pydicom's wrote)
    changes: tuple = ()  # (path, action, rule, note) of every change: the audit lines

    @property
    def redacted(self) -> bool:
        return any(change[1] == "redact-pixels" for change in self.changes)

    def summary(self) -> tuple[str, str]:
        return self.outcome, self.detail


def run_engine(path: Path, codec: str, deidentifier, folder: Path, ocr: FixedTextOcr | None = None) -> EngineRun:
    """Read `path` with `codec`, de-identify, check the required attributes survive, write:
    the steps of batch._read_and_walk / _complete, without the batch around them."""
    import warnings

    from deidc.runtime.codec.files import read_input, write_temporary
    from deidc.runtime.interpret.walk import REQUIRED

    routed, changes = None, ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            source = read_input(path, codec)
            routed, ds = source.routed, source.dataset
            if ocr is not None:
                ocr.text = phi_text(ds)
            present = {tag for tag in REQUIRED if tag in ds}
            outcome = deidentifier.deidentify(ds)
            changes = tuple((c.path, c.action, c.rule, c.note) for c in outcome.changes)
            if outcome.quarantine:
                return EngineRun("quarantined", outcome.quarantine, routed=routed)
            lost = [REQUIRED[t] for t in sorted(present) if t not in ds]
            if lost:
                return EngineRun("quarantined", f"required attribute(s) removed: {', '.join(lost)}", routed=routed)
            written, fast = write_temporary(ds, folder, source.source)
        except Exception as err:  # noqa: BLE001 — compared between the engines
            return EngineRun("raised", f"{type(err).__name__}: {err}", routed=routed)
    try:
        return EngineRun("written", "", written.read_bytes(), routed, fast if source.source is not None else None,
                         changes)
    finally:
        written.unlink()
