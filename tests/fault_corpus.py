"""A seeded fault corpus: real DICOM files that carry a planted PHI marker, broken in known ways,
and the checks the fault suite makes on what `deidc apply` released from them.

Not a test module: tests/faults/ import it by name (tests/conftest.py puts tests/ on sys.path),
bench/fuzz.py and bench/kill_resume.py put tests/ on sys.path themselves.

Sources (`bases`): the repo's samples/, pydicom's test files (native, RLE, JPEG 2000, deflated, big
endian, an RT plan with sequences) and deid-data's CT brain, each read with pydicom and given a
marker (`ZQXMARKER` + 7 digits, the mutant's number) in values both shipped rulesets remove or clean:
PatientName, OtherPatientNames, PatientAddress, InstitutionName, StudyDescription (ps3.15-basic
removes it, tcia cleans it of the collected PHI, which includes PatientName), PatientID inside
OtherPatientIDsSequence, and a private element (odd group, with a creator). Every base has its own
PatientID and every mutant its own SOP Instance UID, so no mutant is a duplicate of another.

Mutations (`MUTATIONS`) change the bytes of a rendered base: bit flips, truncation at each kind of
boundary, bad lengths, bad VRs, deep nesting, 10 MB values, wrong file meta, random bytes, a
decompression bomb, non-DICOM files. They never touch the tag or VR bytes (nor the value) of an
element that bears the marker: a default-keep profile legitimately keeps an element whose tag a
mutation turned into a kept attribute. Length mutations may make a reader swallow a marker element
into another value; such a file must be refused, and the marker check says whether it was.

`Layout` (`walk`) is an independent, strict reader of the byte layout (element headers, items,
fragments, delimiters). It finds the marker elements to protect and, after a mutation, tells
whether some syntax reads the mutated file cleanly to its end with a marker moved into another
element (or, for tcia, a cleaned marker left without the collected PHI that would clean it): then
no tool could know the value is PHI, and the mutant is recorded as ambiguous (`Mutant.ambiguous`).

`check_run` gathers, for one run over a corpus, everything the fault suite asserts: tracebacks, exit
code, inputs not accounted for, quarantine rows that name no input, released files that fail a full
pydicom decode or `dcmdump +E`, released files holding a marker, temporary files left in the output.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import re
import struct
import subprocess
import warnings
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import deid_data
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

REPO = Path(__file__).resolve().parents[1]
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"  # never get_testdata_file: it may download
DEID_DATA = Path(deid_data.__file__).parent / "data"
RULESETS = REPO / "rulesets"

MARKER = b"ZQXMARKER"
MARKER_RE = re.compile(rb"ZQXMARKER(\d{7})")
_MARKER_PLACEHOLDER = MARKER + b"0000000"
_UID_ROOT = "1.2.826.0.1.3680043.8.498.4242"  # pydicom's documented example root, our branch
_SOP_PLACEHOLDER_COMPONENT = "90000000"  # rendered as "9" + the mutant's number on 7 digits
PRIVATE_GROUP, PRIVATE_CREATOR = 0x0013, "ZQX FAULTS"
OCR_MODALITIES = frozenset({"US", "SC", "OT", "XC", "ES"})  # tcia.deid's `pixels where ... Modality in (...)`

# (source id, path): the real files the corpus is made from
SOURCES: tuple[tuple[str, Path], ...] = (
    ("samples-MRN40417-001", REPO / "samples" / "MRN40417" / "001.dcm"),  # CT, explicit LE
    ("samples-MRN40417-003", REPO / "samples" / "MRN40417" / "003.dcm"),  # MR, RLE
    ("samples-MRN40417-005", REPO / "samples" / "MRN40417" / "005.dcm"),  # MR, implicit LE
    ("samples-MRN58832-002", REPO / "samples" / "MRN58832" / "002.dcm"),  # MR, explicit LE
    ("samples-MRN58832-004", REPO / "samples" / "MRN58832" / "004.dcm"),  # MR, JPEG-LS
    ("samples-MRN58832-006", REPO / "samples" / "MRN58832" / "006.dcm"),  # OT, RLE
    ("pydicom-CT_small", TEST_FILES / "CT_small.dcm"),
    ("pydicom-MR_small", TEST_FILES / "MR_small.dcm"),
    ("pydicom-JPEG2000", TEST_FILES / "JPEG2000.dcm"),
    ("pydicom-image_dfl", TEST_FILES / "image_dfl.dcm"),  # deflated
    ("pydicom-MR_small_bigendian", TEST_FILES / "MR_small_bigendian.dcm"),
    ("pydicom-rtplan", TEST_FILES / "rtplan.dcm"),  # implicit LE, nested sequences, no pixels
    ("pydicom-SC_rgb_rle", TEST_FILES / "SC_rgb_rle.dcm"),
    ("deid-data-ctbrain1", DEID_DATA / "humans" / "ctbrain1.dcm"),  # JPEG baseline, many private tags
)

# ---- transfer syntaxes --------------------------------------------------------------------------

IMPLICIT_LE, EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
EXPLICIT_BE, DEFLATED = "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"
KNOWN_SYNTAXES = (IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE, DEFLATED, "1.2.840.10008.1.2.4.50",
                  "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90",
                  "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.5")


@dataclass(frozen=True)
class Syntax:
    implicit: bool
    little: bool
    deflated: bool


PLAIN_SYNTAXES = (Syntax(True, True, False), Syntax(False, True, False), Syntax(False, False, False),
                  Syntax(False, True, True))


def syntax_of(uid: str) -> Syntax | None:
    """How a transfer syntax encodes the dataset; None when the UID is not a known transfer syntax."""
    uid = uid.rstrip("\x00 ")
    if uid == IMPLICIT_LE:
        return Syntax(True, True, False)
    if uid == EXPLICIT_BE:
        return Syntax(False, False, False)
    if uid == DEFLATED:
        return Syntax(False, True, True)
    if uid == EXPLICIT_LE or (UID(uid).is_transfer_syntax if uid else False):
        return Syntax(False, True, False)
    return None


# ---- the byte layout ----------------------------------------------------------------------------

UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
VRS = frozenset("AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US "
                "UT UV".split())
LONG_VRS = frozenset("OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())


class Malformed(Exception):
    """The bytes are not a dataset in the syntax they were read with."""


@dataclass(frozen=True)
class Node:
    kind: str  # "element", "item", "fragment" or "delimiter"
    start: int  # offset of the header in the dataset bytes
    value: int  # offset of the value (an item's content)
    end: int  # offset after the node, the delimiter of an undefined length included
    tag: int
    vr: str  # "" for items, fragments and delimiters
    length: int  # as the header says (UNDEFINED for an undefined length)
    length_at: int  # offset of the length field
    length_size: int  # 2 or 4 bytes
    path: tuple[int, ...]  # tags of the enclosing elements, outermost first
    implicit: bool

    @property
    def header(self) -> int:
        return self.value - self.start


def _implicit_vr(tag: int) -> str:
    group, number = tag >> 16, tag & 0xFFFF
    if number == 0:
        return "UL"
    if group % 2 and 0x0010 <= number <= 0x00FF:
        return "LO"  # private creator
    try:
        return dictionary_VR(tag)[:2]  # "OB or OW", "US or SS": the first
    except KeyError:
        return "UN"


class _Walker:
    def __init__(self, data: bytes, little: bool) -> None:
        self.data, self.order, self.nodes = data, "<" if little else ">", []

    def u16(self, at: int) -> int:
        return struct.unpack_from(self.order + "H", self.data, at)[0]

    def u32(self, at: int) -> int:
        return struct.unpack_from(self.order + "L", self.data, at)[0]

    def tag(self, pos: int, end: int) -> int:
        if pos + 8 > end:
            raise Malformed(f"header cut at {pos}")
        return (self.u16(pos) << 16) | self.u16(pos + 2)

    def dataset(self, pos: int, end: int, path: tuple[int, ...], implicit: bool, until_item_end: bool) -> int:
        while pos < end:
            tag = self.tag(pos, end)
            if tag == ITEM_END:
                if not until_item_end or self.u32(pos + 4) != 0:
                    raise Malformed(f"stray item delimiter at {pos}")
                self.nodes.append(Node("delimiter", pos, pos + 8, pos + 8, tag, "", 0, pos + 4, 4, path, implicit))
                return pos + 8
            if tag in (ITEM, SEQUENCE_END):
                raise Malformed(f"item or sequence delimiter outside a sequence at {pos}")
            pos = self.element(pos, end, path, implicit)
        if until_item_end:
            raise Malformed("undefined-length item without its delimiter")
        return pos

    def element(self, pos: int, end: int, path: tuple[int, ...], implicit: bool) -> int:
        tag = self.tag(pos, end)
        if implicit:
            vr, length_at, size = _implicit_vr(tag), pos + 4, 4
        else:
            vr = self.data[pos + 4:pos + 6].decode("latin-1")
            if vr not in VRS:
                raise Malformed(f"unknown VR {vr!r} at {pos}")
            if vr in LONG_VRS:
                if pos + 12 > end:
                    raise Malformed(f"header cut at {pos}")
                length_at, size = pos + 8, 4
            else:
                length_at, size = pos + 6, 2
        length = self.u32(length_at) if size == 4 else self.u16(length_at)
        value = length_at + size
        index = len(self.nodes)
        self.nodes.append(None)
        inner = path + (tag,)
        if length == UNDEFINED:
            if tag == PIXEL_DATA and vr in ("OB", "OW", "UN"):
                stop = self.fragments(value, end, inner)
            elif vr in ("SQ", "UN") or implicit:
                stop = self.items(value, end, inner, implicit or vr == "UN", undefined=True)
            else:
                raise Malformed(f"undefined length on a {vr} element at {pos}")
        else:
            stop = value + length
            if stop > end:
                raise Malformed(f"value of ({tag >> 16:04X},{tag & 0xFFFF:04X}) runs past its end at {pos}")
            if vr == "SQ":
                self.items(value, stop, inner, implicit, undefined=False)
        self.nodes[index] = Node("element", pos, value, stop, tag, vr, length, length_at, size, path, implicit)
        return stop

    def items(self, pos: int, end: int, path: tuple[int, ...], implicit: bool, undefined: bool) -> int:
        while True:
            if not undefined and pos == end:
                return pos
            tag = self.tag(pos, end)
            length = self.u32(pos + 4)
            if tag == SEQUENCE_END:
                if not undefined or length != 0:
                    raise Malformed(f"misplaced sequence delimiter at {pos}")
                self.nodes.append(Node("delimiter", pos, pos + 8, pos + 8, tag, "", 0, pos + 4, 4, path, implicit))
                return pos + 8
            if tag != ITEM:
                raise Malformed(f"expected an item at {pos}")
            index = len(self.nodes)
            self.nodes.append(None)
            if length == UNDEFINED:
                stop = self.dataset(pos + 8, end, path, implicit, until_item_end=True)
            else:
                stop = pos + 8 + length
                if stop > end:
                    raise Malformed(f"item runs past its sequence at {pos}")
                self.dataset(pos + 8, stop, path, implicit, until_item_end=False)
            self.nodes[index] = Node("item", pos, pos + 8, stop, tag, "", length, pos + 4, 4, path, implicit)
            pos = stop

    def fragments(self, pos: int, end: int, path: tuple[int, ...]) -> int:
        while True:
            tag = self.tag(pos, end)
            length = self.u32(pos + 4)
            if tag == SEQUENCE_END:
                if length != 0:
                    raise Malformed(f"bad sequence delimiter at {pos}")
                self.nodes.append(Node("delimiter", pos, pos + 8, pos + 8, tag, "", 0, pos + 4, 4, path, False))
                return pos + 8
            if tag != ITEM or length == UNDEFINED:
                raise Malformed(f"expected a fragment at {pos}")
            stop = pos + 8 + length
            if stop > end:
                raise Malformed(f"fragment runs past the end at {pos}")
            self.nodes.append(Node("fragment", pos, pos + 8, stop, tag, "", length, pos + 4, 4, path, False))
            pos = stop


def walk(data: bytes, syntax: Syntax) -> list[Node]:
    """Every node of a dataset (inflated already when the syntax is deflated), in file order;
    Malformed unless the bytes are a dataset that ends exactly where the data ends."""
    walker = _Walker(data, syntax.little)
    try:
        walker.dataset(0, len(data), (), syntax.implicit, until_item_end=False)
    except RecursionError:
        raise Malformed("nested deeper than this walker follows") from None
    except struct.error as err:
        raise Malformed(str(err)) from None
    return walker.nodes


@dataclass(frozen=True)
class MetaElement:
    tag: int
    vr: str
    value: bytes


def parse_meta(data: bytes) -> tuple[list[MetaElement], int]:
    """The file meta elements (explicit VR little endian, group 0002) and the offset of the dataset."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise Malformed("no preamble and DICM")
    pos, found = 132, []
    while pos + 8 <= len(data):
        group, number = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            break
        vr = data[pos + 4:pos + 6].decode("latin-1")
        if vr not in VRS:
            raise Malformed(f"unknown VR {vr!r} in the file meta")
        if vr in LONG_VRS:
            if pos + 12 > len(data):
                raise Malformed("file meta cut")
            length, value = struct.unpack_from("<L", data, pos + 8)[0], pos + 12
        else:
            length, value = struct.unpack_from("<H", data, pos + 6)[0], pos + 8
        if value + length > len(data):
            raise Malformed("file meta element runs past the end")
        found.append(MetaElement((group << 16) | number, vr, data[value:value + length]))
        pos = value + length
    return found, pos


def encode_meta(elements: Iterable[MetaElement], group_length: int | None = None) -> bytes:
    """File meta bytes (without preamble and DICM), with a group length element first."""
    body = b"".join(encode_element(e.tag, e.vr, e.value, implicit=False) for e in elements if e.tag != 0x00020000)
    length = len(body) if group_length is None else group_length
    return encode_element(0x00020000, "UL", struct.pack("<L", length), implicit=False) + body


def encode_element(tag: int, vr: str, value: bytes, implicit: bool, little: bool = True,
                   length: int | None = None) -> bytes:
    order = "<" if little else ">"
    size = len(value) if length is None else length
    if implicit:
        return struct.pack(order + "HHL", tag >> 16, tag & 0xFFFF, size) + value
    if vr in LONG_VRS:
        return struct.pack(order + "HH2sHL", tag >> 16, tag & 0xFFFF, vr.encode(), 0, size) + value
    return struct.pack(order + "HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), size) + value


def _text(value: str) -> bytes:
    data = value.encode("ascii")
    return data + b" " if len(data) % 2 else data


def inflate(data: bytes, limit: int = 256 << 20) -> bytes:
    """A raw deflate stream inflated, at most `limit` bytes (a bomb stops there), cut streams as far as they go."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        return inflater.decompress(data, limit)
    except zlib.error:
        return b""


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# ---- bases: the real files with the marker planted ----------------------------------------------

@dataclass
class Base:
    name: str
    source: Path
    head: bytes  # preamble, DICM and file meta, placeholders included
    body: bytes  # the dataset as encoded (inflated for the deflated syntax)
    syntax: Syntax
    nodes: list[Node]
    marker_nodes: list[Node]  # elements whose value holds the marker
    protected: list[tuple[int, int]]  # body ranges no mutation touches: marker tags, VRs and values
    sop_placeholder: str
    modality: str

    @property
    def explicit_le(self) -> bool:
        return not self.syntax.implicit and self.syntax.little

    @property
    def pixel_node(self) -> Node | None:
        return next((n for n in self.nodes if n.kind == "element" and n.tag == PIXEL_DATA and not n.path), None)

    def render(self, number: int) -> tuple[bytes, bytes]:
        """(head, body) with the marker and SOP Instance UID of mutant `number` (lengths unchanged)."""
        marker = MARKER + b"%07d" % number
        sop_old = self.sop_placeholder.encode()
        sop_new = self.sop_placeholder[:-len(_SOP_PLACEHOLDER_COMPONENT)].encode() + b"9%07d" % number
        return (self.head.replace(sop_old, sop_new),
                self.body.replace(_MARKER_PLACEHOLDER, marker).replace(sop_old, sop_new))

    def file(self, head: bytes, body: bytes) -> bytes:
        return head + (deflate(body) if self.syntax.deflated else body)

    def top_level(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "element" and not n.path]

    def is_protected(self, at: int) -> bool:
        return any(lo <= at < hi for lo, hi in self.protected)

    def free_elements(self) -> list[Node]:
        """Elements whose header a mutation may change: no marker inside, not a marker's ancestor."""
        return [n for n in self.nodes if n.kind == "element" and not self.is_protected(n.start)
                and not any(n.start <= m.start < n.end for m in self.marker_nodes)]


def _plant(ds: Dataset, number: int, ocr: bool) -> str:
    placeholder = _MARKER_PLACEHOLDER.decode()
    for tag in [t for t in ds.keys() if t.group == PRIVATE_GROUP]:
        del ds[tag]
    ds.PatientName = f"{placeholder}^JANE"
    ds.PatientID = f"FAULTPAT{number:02d}"
    ds.OtherPatientNames = f"{placeholder}^OTHER"
    ds.PatientAddress = f"12 {placeholder} STREET"
    ds.InstitutionName = f"{placeholder} HOSPITAL"
    ds.StudyDescription = f"BRAIN MRI FOR {placeholder}"
    other = Dataset()
    other.PatientID = placeholder
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", f"NOTE {placeholder}")
    sop = f"{_UID_ROOT}.{number}.{_SOP_PLACEHOLDER_COMPONENT}"
    ds.SOPInstanceUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    if not ocr and str(ds.get("Modality", "")) in OCR_MODALITIES:
        ds.Modality = "MR"  # tcia.deid would OCR the pixels: slow, and not what the fuzzer tests
    if not ocr and "BurnedInAnnotation" in ds:
        del ds.BurnedInAnnotation
    return sop


_BASES: dict[bool, list[Base]] = {}


def bases(ocr: bool = False) -> list[Base]:
    """The marked bases (cached per process). `ocr=False` gives the files that would trigger
    tcia.deid's OCR (US, SC, OT, ...) another modality, so tcia runs stay fast."""
    if ocr in _BASES:
        return _BASES[ocr]
    made = []
    for number, (name, path) in enumerate(SOURCES, start=1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            sop = _plant(ds, number, ocr)
            buf = io.BytesIO()
            ds.save_as(buf, enforce_file_format=True)
        data = buf.getvalue()
        meta, offset = parse_meta(data)
        syntax = syntax_of(next(e.value for e in meta if e.tag == 0x00020010).decode("ascii"))
        head, body = data[:offset], data[offset:]
        if syntax.deflated:
            body = inflate(body)
        nodes = walk(body, syntax)
        markers = [n for n in nodes if n.kind == "element" and n.vr != "SQ"
                   and _MARKER_PLACEHOLDER in body[n.value:n.end]]
        protected = []
        for m in markers:
            protected += [(m.start, m.start + (4 if m.implicit else 6)), (m.value, m.end)]
            protected += [(a.start, a.start + (4 if a.implicit else 6)) for a in nodes
                          if a.kind == "element" and a.vr == "SQ" and a.start < m.start < a.end]
        made.append(Base(name, path, head, body, syntax, nodes, markers, protected, sop, str(ds.get("Modality", ""))))
    _BASES[ocr] = made
    return made


def marker_paths(base: Base) -> set[tuple[int, ...]]:
    return {m.path + (m.tag,) for m in base.marker_nodes}


# ---- mutations -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutation:
    name: str
    make: Callable[[random.Random, Base, bytes, bytes], tuple[bytes, str] | None]  # None: not for this base
    heavy: bool = False  # big or slow files (10 MB values, a bomb, 5,000-deep nesting): fewer of them
    expect_written: bool = False  # the file stays valid: it must be released, not quarantined


def _cut(base: Base, head: bytes, body: bytes, at: int, what: str) -> tuple[bytes, str]:
    """The file cut `at` bytes into the dataset (a deflated file: into its inflated stream, then deflated)."""
    where = "inflated dataset" if base.syntax.deflated else "dataset"
    return base.file(head, body[:at]), f"{what}; cut at byte {at} of the {where}"


def _tag_text(node: Node) -> str:
    steps = [f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in node.path + (node.tag,)]
    return "/".join(steps)


def _pick(rng: random.Random, nodes: list[Node]) -> Node | None:
    return rng.choice(nodes) if nodes else None


def m_none(rng, base, head, body):
    return base.file(head, body), "unchanged (control)"


def m_truncate_preamble(rng, base, head, body):
    at = rng.randrange(0, 128)
    return base.file(head, body)[:at], f"cut at byte {at}, inside the preamble"


def m_truncate_magic(rng, base, head, body):
    at = 128 + rng.randrange(1, 4)
    return base.file(head, body)[:at], f"cut at byte {at}, inside DICM"


def m_truncate_meta(rng, base, head, body):
    at = rng.randrange(133, len(head))
    return head[:at], f"cut at byte {at}, inside the file meta ({len(head)} bytes)"


def m_truncate_element_header(rng, base, head, body):
    node = _pick(rng, [n for n in base.nodes if n.kind == "element"])
    return _cut(base, head, body, node.start + rng.randrange(1, node.header), f"inside the header of {_tag_text(node)}")


def m_truncate_value(rng, base, head, body):
    node = _pick(rng, [n for n in base.nodes if n.kind == "element" and n.vr != "SQ" and n.length != UNDEFINED
                       and n.length >= 2])
    return _cut(base, head, body, node.value + rng.randrange(1, node.length), f"inside the value of {_tag_text(node)}")


def m_truncate_at_boundary(rng, base, head, body):
    node = _pick(rng, base.top_level()[1:])
    return _cut(base, head, body, node.start, f"exactly before {_tag_text(node)} (an element boundary)")


def m_truncate_item_header(rng, base, head, body):
    node = _pick(rng, [n for n in base.nodes if n.kind == "item"])
    if node is None:
        return None
    return _cut(base, head, body, node.start + rng.randrange(1, 8), f"inside an item header of {_tag_text(node)}")


def m_truncate_item(rng, base, head, body):
    node = _pick(rng, [n for n in base.nodes if n.kind == "item" and n.end - n.value >= 2])
    if node is None:
        return None
    return _cut(base, head, body, rng.randrange(node.value + 1, node.end), f"inside an item of {_tag_text(node)}")


def m_truncate_pixels(rng, base, head, body):
    pixels = base.pixel_node
    if pixels is None:
        return None
    if pixels.length != UNDEFINED:
        return _cut(base, head, body, pixels.value + rng.randrange(1, pixels.length), "inside native pixel data")
    fragments = [n for n in base.nodes if n.kind == "fragment"]
    choice = rng.randrange(3)
    if choice == 0:
        return _cut(base, head, body, pixels.end - 8, "before the sequence delimiter of encapsulated pixel data")
    node = rng.choice(fragments)
    if choice == 1:
        return _cut(base, head, body, node.start + rng.randrange(1, 8), "inside a fragment header")
    if node.length < 2:
        return _cut(base, head, body, node.start + 4, "inside a fragment header")
    return _cut(base, head, body, node.value + rng.randrange(1, node.length), "inside a pixel data fragment")


def m_truncate_deflated(rng, base, head, body):
    if not base.syntax.deflated:
        return None
    data = base.file(head, body)
    at = rng.randrange(len(head) + 1, len(data))
    return data[:at], f"deflated stream cut at byte {at} of {len(data)}"


def _flip(data: bytearray, at: int, rng: random.Random) -> None:
    data[at] ^= 1 << rng.randrange(8)


def _free_offset(rng: random.Random, base: Base, lo: int, hi: int) -> int | None:
    for _ in range(200):
        at = rng.randrange(lo, hi)
        if not base.is_protected(at):
            return at
    return None


def m_bitflip(rng, base, head, body):
    data, places = bytearray(body), []
    for _ in range(rng.randint(1, 8)):
        at = _free_offset(rng, base, 0, len(body))
        if at is not None:
            _flip(data, at, rng)
            places.append(at)
    return base.file(head, bytes(data)), f"bits flipped at dataset bytes {sorted(places)}"


def m_bitflip_header(rng, base, head, body):
    data, places = bytearray(body), []
    nodes = [n for n in base.nodes if n.kind in ("item", "fragment", "delimiter")] + base.free_elements()
    for _ in range(rng.randint(1, 3)):
        node = rng.choice(nodes)
        at = node.start + rng.randrange(node.header)
        if not base.is_protected(at):
            _flip(data, at, rng)
            places.append(f"{_tag_text(node)}+{at - node.start}")
    return base.file(head, bytes(data)), f"bits flipped in headers {places}"


def m_bitflip_meta(rng, base, head, body):
    data = bytearray(head)
    places = sorted({rng.randrange(132, len(head)) for _ in range(rng.randint(1, 3))})
    for at in places:
        _flip(data, at, rng)
    return base.file(bytes(data), body), f"bits flipped in the file meta at {places}"


def m_bitflip_deflated(rng, base, head, body):
    if not base.syntax.deflated:
        return None
    data = bytearray(base.file(head, body))
    places = sorted({rng.randrange(len(head), len(data)) for _ in range(rng.randint(1, 8))})
    for at in places:
        _flip(data, at, rng)
    return bytes(data), f"bits flipped in the deflated stream at {places}"


def m_bitflip_pixels(rng, base, head, body):
    pixels = base.pixel_node
    if pixels is None or pixels.length == UNDEFINED or pixels.length < 16:
        return None
    data = bytearray(body)
    places = sorted({pixels.value + rng.randrange(pixels.length) for _ in range(rng.randint(1, 8))})
    for at in places:
        _flip(data, at, rng)
    return base.file(head, bytes(data)), f"bits flipped in native pixel values at {places}"


def _with_length(base: Base, body: bytes, node: Node, length: int) -> bytes | None:
    limit = 0xFFFF if node.length_size == 2 else 0xFFFFFFFF
    if not 0 <= length <= limit or length == node.length:
        return None
    order = "<" if base.syntax.little else ">"
    packed = struct.pack(order + ("H" if node.length_size == 2 else "L"), length)
    return body[:node.length_at] + packed + body[node.length_at + node.length_size:]


def _length_mutation(rng, base, head, body, nodes: list[Node], what: str, choices: Callable[[Node], list[int]]):
    rng.shuffle(nodes)
    for node in nodes[:20]:
        options = [v for v in choices(node) if v != node.length]
        if not options:
            continue
        length = rng.choice(options)
        changed = _with_length(base, body, node, length)
        if changed is not None:
            return base.file(head, changed), f"{what} {_tag_text(node)}: length {node.length} -> {length}"
    return None


def _defined_values(base: Base) -> list[Node]:
    return [n for n in base.free_elements() if n.vr != "SQ" and n.length != UNDEFINED]


def m_length_odd(rng, base, head, body):
    return _length_mutation(rng, base, head, body, _defined_values(base), "odd length on",
                            lambda n: [n.length + 1, max(n.length - 1, 1)])


def m_length_grow(rng, base, head, body):
    return _length_mutation(rng, base, head, body, _defined_values(base), "longer length on",
                            lambda n: [n.length + 2, n.length + 2 * rng.randint(2, 128), n.length * 2 + 2])


def m_length_shrink(rng, base, head, body):
    return _length_mutation(rng, base, head, body, [n for n in _defined_values(base) if n.length >= 2],
                            "shorter length on", lambda n: [n.length - 2, 0, n.length // 2])


def m_length_undefined(rng, base, head, body):
    return _length_mutation(rng, base, head, body, _defined_values(base), "undefined length on",
                            lambda n: [0xFFFF if n.length_size == 2 else UNDEFINED])


def m_length_huge(rng, base, head, body):
    return _length_mutation(rng, base, head, body, _defined_values(base), "huge length on",
                            lambda n: [0xFFFE if n.length_size == 2 else 0x7FFFFFFE])


def m_length_beyond_end(rng, base, head, body):
    return _length_mutation(rng, base, head, body, _defined_values(base), "length past the end of the file on",
                            lambda n: [len(body) - n.value + 2 * rng.randint(1, 64)])


def m_length_swallow_marker(rng, base, head, body):
    """The element just before a marker element claims it and part of its value: a reader that
    follows the length reads the marker as that element's value, then garbage."""
    pairs = []
    for marker in base.marker_nodes:
        before = [n for n in base.nodes if n.kind == "element" and n.end == marker.start and n.path == marker.path
                  and n.length != UNDEFINED and n not in base.marker_nodes]
        pairs += [(b, marker) for b in before]
    rng.shuffle(pairs)
    for node, marker in pairs:
        length = node.length + (marker.value - marker.start) + rng.randrange(1, max(2, marker.length))
        changed = _with_length(base, body, node, length)
        if changed is not None:
            return (base.file(head, changed),
                    f"{_tag_text(node)} length {node.length} -> {length}: swallows marker element {_tag_text(marker)}")
    return None


def m_length_marker(rng, base, head, body):
    return _length_mutation(rng, base, head, body, list(base.marker_nodes), "length of marker element",
                            lambda n: [n.length + 2, n.length + 4, n.length + 8, max(n.length - 2, 0)])


def m_length_item(rng, base, head, body):
    items = [n for n in base.nodes if n.kind == "item" and n.length != UNDEFINED]
    return _length_mutation(rng, base, head, body, items, "item length",
                            lambda n: [n.length + 2, n.length + 8, max(n.length - 2, 0), max(n.length - 8, 0),
                                       n.length + 4096])


def m_length_sequence(rng, base, head, body):
    sequences = [n for n in base.nodes if n.kind == "element" and n.vr == "SQ" and n.length != UNDEFINED]
    return _length_mutation(rng, base, head, body, sequences, "sequence length",
                            lambda n: [n.length + 2, n.length + 8, max(n.length - 2, 0), max(n.length - 8, 0)])


def m_length_fragment(rng, base, head, body):
    fragments = [n for n in base.nodes if n.kind == "fragment"]
    return _length_mutation(rng, base, head, body, fragments, "fragment length",
                            lambda n: [n.length + 2, max(n.length - 2, 0), n.length + (1 << 20), 0x7FFFFFFE])


def m_length_pixels(rng, base, head, body):
    pixels = base.pixel_node
    if pixels is None or pixels.length == UNDEFINED:
        return None
    return _length_mutation(rng, base, head, body, [pixels], "native pixel data",
                            lambda n: [n.length - 2, n.length + 2, n.length // 2, n.length * 2])


def _meta(head: bytes) -> tuple[bytes, list[MetaElement]]:
    elements, _ = parse_meta(head)
    return head[:128], elements


def _replace_meta(head: bytes, tag: int, value: bytes | None) -> bytes:
    preamble, elements = _meta(head)
    if value is None:
        kept = [e for e in elements if e.tag != tag]
    else:
        kept = [MetaElement(e.tag, e.vr, value) if e.tag == tag else e for e in elements]
    return preamble + b"DICM" + encode_meta(kept)


def m_meta_group_length(rng, base, head, body):
    preamble, elements = _meta(head)
    true = len(head) - 132 - 12
    wrong = rng.choice([true + 8, true - 8, 0, 2, 0x7FFFFFF0, true + 1])
    return base.file(preamble + b"DICM" + encode_meta(elements, group_length=wrong), body), \
        f"file meta group length {true} -> {wrong}"


def m_meta_empty(rng, base, head, body):
    return base.file(head[:132], body), "file meta with no elements at all (DICM, then the dataset)"


def m_meta_no_syntax(rng, base, head, body):
    return base.file(_replace_meta(head, 0x00020010, None), body), "no TransferSyntaxUID in the file meta"


def m_meta_syntax_empty(rng, base, head, body):
    return base.file(_replace_meta(head, 0x00020010, b""), body), "empty TransferSyntaxUID"


def m_meta_syntax_unknown(rng, base, head, body):
    uid = rng.choice(["1.2.3.4.5.6.7.8.9", "1.2.840.10008.1.2.99", "1.2.840.10008.5.1.4.1.1.2"])
    return base.file(_replace_meta(head, 0x00020010, _uid_bytes(uid)), body), f"TransferSyntaxUID {uid} (unknown)"


def _uid_bytes(uid: str) -> bytes:
    data = uid.encode("ascii")
    return data + b"\x00" if len(data) % 2 else data


def m_meta_syntax_wrong(rng, base, head, body):
    _, elements = _meta(head)
    actual = next(e.value for e in elements if e.tag == 0x00020010).rstrip(b"\x00").decode()
    uid = rng.choice([s for s in KNOWN_SYNTAXES if s != actual])
    return base.file(_replace_meta(head, 0x00020010, _uid_bytes(uid)), body), \
        f"TransferSyntaxUID {actual} -> {uid} (the dataset is not in that syntax)"


def m_meta_syntax_garbage(rng, base, head, body):
    value = bytes(rng.randrange(256) for _ in range(2 * rng.randint(1, 32)))
    return base.file(_replace_meta(head, 0x00020010, value), body), "TransferSyntaxUID of random bytes"


def m_meta_vr(rng, base, head, body):
    _, elements = _meta(head)
    offsets, pos = [], 132
    for element in elements:  # offsets of each element's VR
        offsets.append(pos + 4)
        pos += (12 if element.vr in LONG_VRS else 8) + len(element.value)
    at = rng.choice(offsets[1:] or offsets)
    vr = rng.choice([b"ZZ", b"\x00\x00", b"ui"])
    return base.file(head[:at] + vr + head[at + 2:], body), f"file meta VR at byte {at} -> {vr!r}"


def m_meta_no_preamble(rng, base, head, body):
    return head[132:] + base.file(b"", body), "no preamble and no DICM; file meta, then the dataset"


def m_meta_none(rng, base, head, body):
    return base.file(b"", body), "the dataset alone: no preamble, DICM or file meta"


def m_meta_random(rng, base, head, body):
    return base.file(head[:132] + rng.randbytes(len(head) - 132), body), "random bytes in place of the file meta"


def m_random_after_dicm(rng, base, head, body):
    size = rng.choice([8, 64, 1024, 65536])
    return head[:132] + rng.randbytes(size), f"{size} random bytes after DICM"


def m_random_after_meta(rng, base, head, body):
    size = rng.choice([8, 64, 1024, 65536])
    return head + rng.randbytes(size), f"valid file meta, then {size} random bytes"


def m_random_tail(rng, base, head, body):
    node = _pick(rng, base.top_level()[1:])
    size = rng.choice([16, 256, 4096])
    return base.file(head, body[:node.start] + rng.randbytes(size)), \
        f"random bytes ({size}) from {_tag_text(node)} on"


def m_trailing_garbage(rng, base, head, body):
    size = rng.randint(1, 512)
    return base.file(head, body) + rng.randbytes(size), f"{size} random bytes after the end of the file"


def m_vr_invalid(rng, base, head, body):
    if base.syntax.implicit:
        return None
    node = rng.choice(base.free_elements())
    vr = rng.choice([b"ZZ", b"\x00\x00", b"ui", b"  ", b"A1"])
    return base.file(head, body[:node.start + 4] + vr + body[node.start + 6:]), f"VR of {_tag_text(node)} -> {vr!r}"


def m_vr_swap(rng, base, head, body):
    if base.syntax.implicit:
        return None
    node = rng.choice([n for n in base.free_elements() if n.vr != "SQ"])
    vr = rng.choice(["UT", "OB", "UN", "SQ"] if node.vr not in LONG_VRS else ["LO", "US", "CS", "DA"])
    return base.file(head, body[:node.start + 4] + vr.encode() + body[node.start + 6:]), \
        f"VR of {_tag_text(node)} {node.vr} -> {vr} (the other header form)"


def _insert_top(base: Base, body: bytes, tag: int, data: bytes) -> bytes:
    """`data` (one encoded element) placed among the top-level elements in tag order (replacing `tag`)."""
    top = base.top_level()
    same = next((n for n in top if n.tag == tag), None)
    if same is not None:
        return body[:same.start] + data + body[same.end:]
    after = next((n for n in top if n.tag > tag), None)
    at = after.start if after is not None else len(body)
    return body[:at] + data + body[at:]


def _nested(tag: int, depth: int, prefix: bytes, inner: bytes, implicit: bool, undefined: bool) -> bytes:
    """`depth` sequences `tag`, each with one item that holds `prefix` and the next sequence;
    the innermost item holds `prefix` and `inner`. Linear in depth (lengths computed inside out)."""
    def sequence_header(length: int) -> bytes:
        return encode_element(tag, "SQ", b"", implicit, length=length)

    def item_header(length: int) -> bytes:
        return struct.pack("<HHL", 0xFFFE, 0xE000, length)

    if undefined:
        opening = sequence_header(UNDEFINED) + item_header(UNDEFINED) + prefix
        closing = struct.pack("<HHL", 0xFFFE, 0xE00D, 0) + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
        return opening * depth + inner + closing * depth
    headers, content = [], len(prefix) + len(inner)
    header_size = len(sequence_header(0))
    for _ in range(depth):
        headers.append(sequence_header(8 + content) + item_header(content) + prefix)
        content = len(prefix) + header_size + 8 + content
    return b"".join(reversed(headers)) + inner


def _nest(kind: str, depth: int):
    def make(rng, base, head, body):
        if not base.syntax.little or base.syntax.deflated and depth > 500:
            return None
        implicit = base.syntax.implicit
        undefined = rng.random() < 0.5 or (implicit and kind == "private")
        if kind == "private":
            creator = encode_element((PRIVATE_GROUP << 16) | 0x0010, "LO", _text(PRIVATE_CREATOR), implicit)
            marker = encode_element((PRIVATE_GROUP << 16) | 0x1010, "LO", _text(f"DEEP {_MARKER_PLACEHOLDER.decode()}"),
                                    implicit)
            tag = (PRIVATE_GROUP << 16) | 0x1020
            data = _nested(tag, depth, creator, marker, implicit, undefined)
        else:
            tag = 0x00082112  # SourceImageSequence: both shipped rulesets keep it, and walk into it
            inner = (encode_element(0x00081150, "UI", _uid_bytes("1.2.840.10008.5.1.4.1.1.4"), implicit)
                     + encode_element(0x00081155, "UI", _uid_bytes(f"{_UID_ROOT}.7.7"), implicit))
            data = _nested(tag, depth, b"", inner, implicit, undefined)
        number = re.search(rb"ZQXMARKER(\d{7})", body).group(1)
        data = data.replace(_MARKER_PLACEHOLDER, MARKER + number)
        return base.file(head, _insert_top(base, body, tag, data)), \
            f"{kind} sequence nested {depth} deep ({'undefined' if undefined else 'defined'} lengths)"
    return make


HUGE = 10 << 20


def _huge_text(rng: random.Random, size: int, marker: bytes | None) -> bytes:
    words = [b"LOREM", b"IPSUM", b"DOLOR", b"SIT", b"AMET", b"CONSECTETUR", b"ADIPISCING", b"ELIT"]
    chunk = b" ".join(rng.choice(words) for _ in range(4096)) + b" "
    text = (chunk * (size // len(chunk) + 1))[:size]
    if marker is not None:
        at = size * 9 // 10  # past any prefix a cleaner might look at before giving up
        text = text[:at] + b" " + marker + b" " + text[at + len(marker) + 2:]
    return text[:size - (size % 2)]


def _marker_of(body: bytes) -> bytes:
    return MARKER + MARKER_RE.search(body).group(1)


def m_huge_cleaned(rng, base, head, body):
    # DecompositionDescription (UT): ps3.15-basic removes it, tcia.deid cleans it
    text = _huge_text(rng, HUGE, _marker_of(body))
    data = encode_element(0x0018937F, "UT", text, base.syntax.implicit, base.syntax.little)
    return base.file(head, _insert_top(base, body, 0x0018937F, data)), \
        "10 MB DecompositionDescription (UT, cleaned by tcia) with the marker at 90 %"


def m_huge_kept(rng, base, head, body):
    # ImageFilterDescription (UT): neither shipped ruleset lists it, so default -> keep
    text = _huge_text(rng, HUGE, None)
    data = encode_element(0x00189941, "UT", text, base.syntax.implicit, base.syntax.little)
    return base.file(head, _insert_top(base, body, 0x00189941, data)), "10 MB ImageFilterDescription (UT, kept)"


def m_huge_private(rng, base, head, body):
    value = bytearray(rng.randbytes(HUGE))
    marker = _marker_of(body)
    value[HUGE // 2:HUGE // 2 + len(marker)] = marker
    data = encode_element((PRIVATE_GROUP << 16) | 0x1012, "OB", bytes(value), base.syntax.implicit, base.syntax.little)
    return base.file(head, _insert_top(base, body, (PRIVATE_GROUP << 16) | 0x1012, data)), \
        "10 MB private OB value (removed) with the marker inside"


def m_huge_collected(rng, base, head, body):
    """A 10 MB PatientAddress (collected as PHI by tcia) and a 10 MB cleaned text in one file:
    a cleaner that compares every word with every PHI word is quadratic here."""
    if not base.syntax.implicit:
        return None  # PatientAddress is LO: a 16-bit length in explicit VR
    marker = _marker_of(body)
    address = encode_element(0x00101040, "LO", _huge_text(rng, HUGE, marker), True)
    text = encode_element(0x0018937F, "UT", _huge_text(rng, HUGE, marker), True)
    node = next(n for n in base.top_level() if n.tag == 0x00101040)
    changed = body[:node.start] + address + body[node.end:]
    shift = len(address) - (node.end - node.start)
    after = next((n for n in base.top_level() if n.tag > 0x0018937F), None)
    at = after.start + shift if after is not None else len(changed)
    return base.file(head, changed[:at] + text + changed[at:]), \
        "10 MB PatientAddress (collected) and 10 MB DecompositionDescription (cleaned), markers inside both"


BOMB_BYTES = 3 << 30  # what the bomb's private element inflates to


def deflate_bomb(prefix: bytes, zeros: int, suffix: bytes) -> bytes:
    """A raw deflate stream of `prefix`, `zeros` zero bytes and `suffix`, built without compressing
    the zeros: after a full flush a compressed block of 1 MiB of zeros depends on nothing before
    it, so it can be repeated (about 1 KiB per MiB)."""
    chunk_size = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = [compressor.compress(prefix), compressor.flush(zlib.Z_FULL_FLUSH)]
    whole, rest = divmod(zeros, chunk_size)
    if whole:
        chunk = compressor.compress(bytes(chunk_size)) + compressor.flush(zlib.Z_FULL_FLUSH)
        out.append(chunk * whole)
    out += [compressor.compress(bytes(rest) + suffix), compressor.flush()]
    return b"".join(out)


def m_bomb(rng, base, head, body, size: int | None = None):
    pixels = base.pixel_node
    if not base.explicit_le or pixels is not None and pixels.length == UNDEFINED:
        return None  # the deflated syntax is explicit VR little endian with native pixel data
    size = BOMB_BYTES if size is None else size
    tag = (PRIVATE_GROUP << 16) | 0x1011
    header = encode_element(tag, "OB", b"", implicit=False, length=size)
    top = base.top_level()
    after = next(n for n in top if n.tag > tag)
    prefix, suffix = body[:after.start] + header, body[after.start:]
    new_head = _replace_meta(head, 0x00020010, _uid_bytes(DEFLATED))
    stream = deflate_bomb(prefix, size, suffix)
    return new_head + stream, \
        f"deflated file of {len(stream) >> 10} KiB whose private OB element inflates to {size >> 20} MiB of zeros"


def m_not_dicom(rng, base, head, body):
    kind = rng.choice(["empty", "text", "json", "png", "gzip", "zip", "dicm-only", "one-byte", "random", "html"])
    if kind == "empty":
        data = b""
    elif kind == "text":
        data = b"Patient notes\nnothing to see here\n" * rng.randint(1, 50)
    elif kind == "json":
        data = json.dumps({"PatientName": "NOT^DICOM", "n": rng.randint(0, 1 << 30)}).encode()
    elif kind == "png":
        data = b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randint(16, 4096))
    elif kind == "gzip":
        data = gzip.compress(base.file(head, body), mtime=0)
    elif kind == "zip":
        buf = io.BytesIO()
        import zipfile
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr(zipfile.ZipInfo("image.dcm", (1980, 1, 1, 0, 0, 0)), base.file(head, body))
        data = buf.getvalue()
    elif kind == "dicm-only":
        data = bytes(128) + b"DICM"
    elif kind == "one-byte":
        data = bytes([rng.randrange(256)])
    elif kind == "random":
        data = rng.randbytes(rng.choice([3, 131, 132, 4096, 65537]))
    else:
        data = b"<html><body>404 Not Found</body></html>\n"
    return data, f"not DICOM: {kind}"


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("none", m_none, expect_written=True),
    Mutation("bitflip", m_bitflip),
    Mutation("bitflip-header", m_bitflip_header),
    Mutation("bitflip-meta", m_bitflip_meta),
    Mutation("bitflip-deflated", m_bitflip_deflated),
    Mutation("bitflip-pixels", m_bitflip_pixels, expect_written=True),
    Mutation("truncate-preamble", m_truncate_preamble),
    Mutation("truncate-magic", m_truncate_magic),
    Mutation("truncate-meta", m_truncate_meta),
    Mutation("truncate-element-header", m_truncate_element_header),
    Mutation("truncate-value", m_truncate_value),
    Mutation("truncate-at-boundary", m_truncate_at_boundary),
    Mutation("truncate-item-header", m_truncate_item_header),
    Mutation("truncate-item", m_truncate_item),
    Mutation("truncate-pixels", m_truncate_pixels),
    Mutation("truncate-deflated", m_truncate_deflated),
    Mutation("length-odd", m_length_odd),
    Mutation("length-grow", m_length_grow),
    Mutation("length-shrink", m_length_shrink),
    Mutation("length-undefined", m_length_undefined),
    Mutation("length-huge", m_length_huge),
    Mutation("length-beyond-end", m_length_beyond_end),
    Mutation("length-swallow-marker", m_length_swallow_marker),
    Mutation("length-marker", m_length_marker),
    Mutation("length-item", m_length_item),
    Mutation("length-sequence", m_length_sequence),
    Mutation("length-fragment", m_length_fragment),
    Mutation("length-pixels", m_length_pixels),
    Mutation("vr-invalid", m_vr_invalid),
    Mutation("vr-swap", m_vr_swap),
    Mutation("meta-vr", m_meta_vr),
    Mutation("meta-group-length", m_meta_group_length),
    Mutation("meta-empty", m_meta_empty),
    Mutation("meta-no-syntax", m_meta_no_syntax),
    Mutation("meta-syntax-empty", m_meta_syntax_empty),
    Mutation("meta-syntax-unknown", m_meta_syntax_unknown),
    Mutation("meta-syntax-wrong", m_meta_syntax_wrong),
    Mutation("meta-syntax-garbage", m_meta_syntax_garbage),
    Mutation("meta-no-preamble", m_meta_no_preamble),
    Mutation("meta-none", m_meta_none),
    Mutation("meta-random", m_meta_random),
    Mutation("random-after-dicm", m_random_after_dicm),
    Mutation("random-after-meta", m_random_after_meta),
    Mutation("random-tail", m_random_tail),
    Mutation("trailing-garbage", m_trailing_garbage),
    Mutation("nest-private-500", _nest("private", 500)),
    Mutation("nest-standard-500", _nest("standard", 500)),
    Mutation("nest-private-5000", _nest("private", 5000), heavy=True),
    Mutation("nest-standard-5000", _nest("standard", 5000), heavy=True),
    Mutation("huge-cleaned", m_huge_cleaned, heavy=True),
    Mutation("huge-kept", m_huge_kept, heavy=True),
    Mutation("huge-private", m_huge_private, heavy=True),
    Mutation("huge-collected", m_huge_collected, heavy=True),
    Mutation("bomb", m_bomb, heavy=True),
    Mutation("not-dicom", m_not_dicom),
)
BY_NAME = {m.name: m for m in MUTATIONS}


# ---- ambiguity: can a clean reading of the mutated bytes hold the marker where no rule removes it? --

# tcia.deid cleans these of the PHI it collects from COLLECTED (its `collect ... as phi` line)
TCIA_CLEANED = frozenset({(0x00081030,), (0x0018937F,)})
TCIA_COLLECTED = frozenset({(0x00100010,), (0x00101001,), (0x00101040,)})
# where mutations themselves put a marker: DecompositionDescription (removed by ps3.15-basic,
# cleaned by tcia); markers in private elements (anywhere) are removed by both rulesets
ADDED_MARKER_PATHS = frozenset({(0x0018937F,)})


def _removed_or_cleaned(path: tuple[int, ...] | None, planted: set[tuple[int, ...]]) -> bool:
    if path is None:
        return False
    return path in planted or path in ADDED_MARKER_PATHS or any((tag >> 16) % 2 for tag in path)


def ambiguity(data: bytes, base: Base) -> dict[str, str]:
    """ruleset ("*" for both, or "tcia") -> why releasing the marker would be no fault of deidc:
    some syntax reads the file cleanly to its end and finds a marker in an element no rule removes
    (a length mutation that lands exactly on a later element), or (tcia) a cleaned text keeps its
    marker while every collected element that holds it is cut off."""
    if data[128:132] == b"DICM":  # the dataset starts after the file meta, whatever its syntax
        try:
            offsets = [parse_meta(data)[1]]
        except Malformed:
            offsets = []  # no reader can tell where the dataset starts
    else:
        offsets = [0]  # a bare dataset (or one after a meta without preamble: group 0002 read as elements)
    planted = marker_paths(base)
    for offset in offsets:
        if offset >= len(data):
            continue
        for syntax in PLAIN_SYNTAXES:
            dataset = inflate(data[offset:], 64 << 20) if syntax.deflated else data[offset:]
            if not dataset:
                continue
            try:
                nodes = walk(dataset, syntax)
            except Malformed:
                continue
            leaves = [n for n in nodes if n.kind in ("element", "fragment") and n.vr != "SQ"]
            holders = set()
            for found in MARKER_RE.finditer(dataset):
                node = next((n for n in leaves if n.value <= found.start() < n.end), None)
                path = node.path + (node.tag,) if node is not None and node.kind == "element" else None
                if not _removed_or_cleaned(path, planted):
                    where = _tag_text(node) if node is not None else f"byte {found.start()}"
                    return {"*": f"read as {syntax} from byte {offset}, the file is whole and a marker sits "
                                 f"in {where}, which no rule removes"}
                holders.add(path)
            if holders & TCIA_CLEANED and not holders & TCIA_COLLECTED:
                return {"tcia": f"read as {syntax} from byte {offset}, the file is whole and the text tcia "
                                f"cleans keeps its marker, but every collected element holding it is cut off"}
    return {}


# ---- the corpus ----------------------------------------------------------------------------------

@dataclass
class Mutant:
    file: str  # path relative to the corpus folder
    number: int
    source: str
    mutation: str
    detail: str
    marker: str  # "ZQXMARKER" + 7 digits, planted in this file's values
    expect_written: bool
    ambiguous: dict[str, str] = field(default_factory=dict)
    size: int = 0

    def ambiguous_for(self, ruleset: str) -> str:
        return self.ambiguous.get("*") or self.ambiguous.get(ruleset, "")


def make_corpus(folder: Path, count: int, seed: int, *, heavy: int | None = 1, ocr: bool = False,
                mutations: Iterable[str] | None = None, controls: bool = True,
                skip_ambiguity: Iterable[str] = ("bomb",)) -> list[Mutant]:
    """Write `count` mutated files into `folder` (one sub-folder per source) and `<folder>.json`.

    The same seed gives the same bytes. Mutations take turns (each round in a seeded order), each
    on a base it applies to; a heavy mutation appears at most `heavy` times (None: no limit).
    `controls`: the first files are the unmutated bases. `skip_ambiguity`: mutations whose
    output is not re-read for the ambiguity check (a bomb is not inflated here)."""
    rng = random.Random(seed)
    pool = bases(ocr)
    names = [m.name for m in MUTATIONS if m.name != "none"] if mutations is None else list(mutations)
    chosen = [BY_NAME[n] for n in names]
    skip = set(skip_ambiguity)
    made: list[Mutant] = []
    queue: list[tuple[Mutation, list[Base]]] = [(BY_NAME["none"], [b]) for b in pool] if controls else []
    used: dict[str, int] = {}
    fits_nothing: set[str] = set()
    folder.mkdir(parents=True, exist_ok=True)
    while len(made) < count:
        if not queue:  # a new round: every mutation still available, in a seeded order
            round_ = [m for m in chosen if m.name not in fits_nothing
                      and not (m.heavy and heavy is not None and used.get(m.name, 0) >= heavy)]
            if not round_:
                break
            rng.shuffle(round_)
            queue = [(m, rng.sample(pool, len(pool))) for m in round_]
        mutation, candidates = queue.pop(0)
        number = len(made) + 1
        for base in candidates:
            head, body = base.render(number)
            result = mutation.make(rng, base, head, body)
            if result is None:
                continue
            data, detail = result
            relative = f"{base.name}/{number:05d}-{mutation.name}.dcm"
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            marker = (MARKER + b"%07d" % number).decode()
            ambiguous = {} if mutation.name in skip else ambiguity(data, base)
            made.append(Mutant(relative, number, base.name, mutation.name, detail, marker,
                               mutation.expect_written, ambiguous, len(data)))
            used[mutation.name] = used.get(mutation.name, 0) + 1
            break
        else:
            fits_nothing.add(mutation.name)
    manifest = folder.with_suffix(".json")
    manifest.write_text(json.dumps([asdict(m) for m in made], indent=1))
    return made


def load_corpus(folder: Path) -> list[Mutant]:
    return [Mutant(**record) for record in json.loads(folder.with_suffix(".json").read_text())]


# ---- a corpus of valid files for the kill and full-disk tests ------------------------------------

def valid_corpus(folder: Path, count: int, seed: int = 0, broken: int = 4) -> list[Path]:
    """`count` files: valid copies of the real sources, each a distinct instance (patients, studies,
    series and SOP Instance UIDs derived from the seed), and `broken` of them cut short or not
    DICOM, so the run also quarantines. Every StudyDescription names its patient, and every fifth
    file has no PatientName: tcia.deid can clean those only with the PHI it collected from the
    patient's other files (a resumed run must collect it again). Deterministic for a seed."""
    rng = random.Random(seed)
    sources = [b for b in bases(ocr=False) if b.explicit_le or b.syntax.implicit]
    datasets = []
    for base in sources:
        head, body = base.render(1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            datasets.append(pydicom.dcmread(io.BytesIO(base.file(head, body))))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    patients = max(1, count // 25)
    for number in range(count - broken):
        source = datasets[number % len(datasets)]
        ds = source.copy()
        ds.file_meta = source.file_meta.copy()
        patient = rng.randrange(patients)
        study = rng.randrange(2)
        ds.PatientID = f"KILLPAT{patient:03d}"
        ds.PatientName = f"KILLROY^PATIENT{patient:03d}"
        if number % 5 == 4:
            del ds.PatientName
        ds.StudyDescription = f"CT FOR KILLROY PATIENT{patient:03d}"
        ds.StudyInstanceUID = f"{_UID_ROOT}.{seed}.1.{patient}.{study}"
        ds.SeriesInstanceUID = f"{_UID_ROOT}.{seed}.2.{patient}.{study}.{number % len(datasets)}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{_UID_ROOT}.{seed}.3.{number}"
        ds.InstanceNumber = number
        path = folder / f"patient{patient:03d}" / f"{number:05d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(path, enforce_file_format=True)
        written.append(path)
    for number in range(broken):
        path = folder / "broken" / f"{number:03d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        good = written[rng.randrange(len(written))].read_bytes()
        path.write_bytes(good[:rng.randrange(200, len(good) - 1)] if number % 2 == 0 else b"not a DICOM file\n")
        written.append(path)
    return written


# ---- checks on a run -----------------------------------------------------------------------------

SIDE_FILES = frozenset({"mappings/uid_mapping.csv", "mappings/patid_mapping.csv", "audit.jsonl", "quarantine.csv"})
INTERNAL_ERRORS = re.compile(r"\b(AttributeError|TypeError|KeyError|IndexError|ValueError|RecursionError|"
                             r"UnboundLocalError|NameError|AssertionError|ZeroDivisionError|OverflowError|"
                             r"MemoryError|UnicodeDecodeError|UnicodeEncodeError|struct\.error|NotImplementedError)\b")
DCMDUMP = Path("/usr/bin/dcmdump")


def output_files(out: Path) -> tuple[list[Path], list[str]]:
    """(released DICOM files, anything else that is not a sidecar: temporary or stray files and folders)."""
    released, stray = [], []
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()
        hidden = any(part.startswith(".") for part in path.relative_to(out).parts)
        if path.is_dir():
            if hidden:
                stray.append(relative + "/")
            continue
        if relative in SIDE_FILES:
            continue
        if path.suffix == ".dcm" and not hidden and ".partial" not in path.name and ".tmp" not in path.name:
            released.append(path)
        else:
            stray.append(relative)
    return released, stray


def read_quarantine(out: Path) -> list[tuple[str, str]] | None:
    path = out / "quarantine.csv"
    if not path.exists():
        return None
    import csv
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        rows = list(csv.reader(handle))
    return [(r[0], r[1] if len(r) > 1 else "") for r in rows[1:]] if rows else []


def audit_outputs(out: Path) -> dict[str, str]:
    """output path (relative to OUT) -> the input it came from, from audit.jsonl (names in messages)."""
    found: dict[str, str] = {}
    path = out / "audit.jsonl"
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("output") and record.get("file"):
            found.setdefault(record["output"], record["file"])
    return found


def decode_problem(path: Path) -> str | None:
    """Why pydicom cannot decode the file fully (every element at any depth, and the pixel data:
    encapsulated fragments framed, native pixel data of the size the image attributes say)."""
    from pydicom.encaps import generate_fragments
    from pydicom.pixels.utils import get_expected_length
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)  # no force: a released file must be Part 10
            stack = [ds]
            while stack:
                for element in stack.pop():
                    value = element.value
                    if element.VR == "SQ":
                        stack.extend(value)
            if "PixelData" in ds:
                syntax = ds.file_meta.TransferSyntaxUID
                if syntax.is_encapsulated:
                    fragments = list(generate_fragments(ds.PixelData))
                    if not fragments:
                        return "encapsulated pixel data without fragments"
                else:
                    expected = get_expected_length(ds, "bytes")
                    actual = len(ds.PixelData)
                    if actual not in (expected, expected + expected % 2):
                        return f"native pixel data of {actual} bytes, the image attributes say {expected}"
    except Exception as err:  # noqa: BLE001 — any failure to decode is the finding
        return f"{type(err).__name__}: {err}"
    return None


def dcmdump_problem(path: Path) -> str | None:
    if not DCMDUMP.exists():
        return None
    run = subprocess.run([str(DCMDUMP), "+E", str(path)], capture_output=True, text=True, errors="replace",
                         timeout=120)
    errors = [line for line in run.stderr.splitlines() if line.startswith("E:")]
    if run.returncode != 0 or errors:
        return (errors[0] if errors else f"exit {run.returncode}")[:300]
    return None


def markers_in(path: Path) -> set[str]:
    """The markers in a file's bytes (a deflated dataset inflated first)."""
    data = path.read_bytes()
    found = {m.group(0).decode() for m in MARKER_RE.finditer(data)}
    try:
        meta, offset = parse_meta(data)
        uid = next((e.value for e in meta if e.tag == 0x00020010), b"").rstrip(b"\x00 ").decode("ascii", "replace")
        if uid == DEFLATED:
            found |= {m.group(0).decode() for m in MARKER_RE.finditer(inflate(data[offset:]))}
    except Malformed:
        pass
    return found


@dataclass
class RunFindings:
    """What one `deidc apply` over a corpus did, and every breach of the output contract, by kind."""
    inputs: int
    released: int
    quarantined: int
    returncode: int | None
    reasons: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    ambiguous_leaks: list[str] = field(default_factory=list)

    def add(self, kind: str, detail: str) -> None:
        self.problems.setdefault(kind, []).append(detail)

    def report(self, kind: str, limit: int = 25) -> str:
        items = self.problems.get(kind, [])
        shown = "\n  ".join(items[:limit])
        more = f"\n  ... and {len(items) - limit} more" if len(items) > limit else ""
        return f"{len(items)} {kind}:\n  {shown}{more}"


def reason_kind(reason: str) -> str:
    """A quarantine reason without its file-specific details, to count reasons."""
    text = re.sub(r"\d+", "N", reason)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    return text.split(";")[0][:90]


def check_run(input_dir: Path, out: Path, mutants: list[Mutant] | None, run: ApplyRun, ruleset: str,
              use_dcmdump: bool = True) -> RunFindings:
    """Every check of the fault suite on one finished run (nothing asserted here)."""
    returncode, stderr = run.returncode, run.stderr
    inputs = sorted(p for p in input_dir.rglob("*") if p.is_file() and not p.is_symlink())
    input_names = {str(p) for p in inputs}
    released, stray = output_files(out)
    rows = read_quarantine(out)
    findings = RunFindings(len(inputs), len(released), len(rows or []), returncode)
    by_number = {m.number: m for m in mutants or []}
    by_file = {str(input_dir / m.file): m for m in mutants or []}
    by_file.update({m.file: m for m in mutants or []})  # names in messages, whatever form a row uses
    sources = audit_outputs(out)

    def origin(path: Path) -> str:
        relative = path.relative_to(out).as_posix()
        source = sources.get(relative)
        mutant = by_file.get(str(input_dir / source)) if source else None
        if mutant is not None:
            return f"{relative} <- {mutant.file} [{mutant.mutation}: {mutant.detail}]"
        return f"{relative} <- {source or 'unknown input'}"

    for stream in (run.stderr, run.stdout):
        if "Traceback (most recent call last)" in stream:
            findings.add("tracebacks", stream[stream.index("Traceback"):][:1500])
    if rows is None:
        findings.add("missing quarantine.csv", str(out / "quarantine.csv"))
        rows = []
    expected_code = 3 if rows else 0
    if returncode != expected_code:
        findings.add("wrong exit code", f"exit {returncode}, expected {expected_code} "
                                        f"({len(rows)} quarantine rows); stderr: {stderr[-600:].strip()}")
    names = [r[0] for r in rows]
    for name, reason in rows:
        findings.reasons[reason_kind(reason)] = findings.reasons.get(reason_kind(reason), 0) + 1
        if name not in input_names:
            findings.add("quarantine rows naming no input", f"{name!r}: {reason[:200]}")
        if INTERNAL_ERRORS.search(reason):
            mutant = by_file.get(name)
            findings.add("internal errors as quarantine reasons",
                         f"{name} [{mutant.mutation if mutant else '?'}]: {reason[:300]}")
    duplicates = {n for n in names if names.count(n) > 1}
    for name in sorted(duplicates):
        findings.add("inputs quarantined twice", name)
    if len(released) + len(rows) != len(inputs):
        findings.add("inputs not accounted for", f"{len(inputs)} inputs, {len(released)} written + "
                                                 f"{len(rows)} quarantined = {len(released) + len(rows)}")
    for relative in stray:
        findings.add("temporary or stray files in the output", relative)
    quarantined = set(names)
    for mutant in mutants or []:
        if mutant.expect_written and str(input_dir / mutant.file) in quarantined:
            reason = next(r for n, r in rows if n == str(input_dir / mutant.file))
            findings.add("valid files quarantined", f"{mutant.file} [{mutant.mutation}]: {reason[:200]}")
    for path in released:
        problem = decode_problem(path)
        if problem:
            findings.add("released files pydicom cannot decode", f"{origin(path)}: {problem}")
        if use_dcmdump:
            problem = dcmdump_problem(path)
            if problem:
                findings.add("released files dcmdump +E rejects", f"{origin(path)}: {problem}")
        for marker in sorted(markers_in(path)):
            mutant = by_number.get(int(marker[len(MARKER):]))
            why = mutant.ambiguous_for(ruleset) if mutant else ""
            text = (f"{origin(path)}: {marker} from {mutant.file if mutant else '?'} "
                    f"[{mutant.mutation if mutant else '?'}: {mutant.detail if mutant else ''}]")
            if why:
                findings.ambiguous_leaks.append(f"{text} (ambiguous: {why})")
            else:
                findings.add("released files holding the marker", text)
    return findings


# ---- running the CLI -----------------------------------------------------------------------------

def deidc_command() -> str:
    """The `deidc` entry point next to the interpreter running the tests."""
    import sys
    return str(Path(sys.executable).parent / "deidc")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb", DEIDC_CACHE="off")
    return env


def tree_digests(out: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under `out`."""
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def tree_difference(reference: dict[str, str], actual: dict[str, str], limit: int = 15) -> str:
    missing = sorted(set(reference) - set(actual))
    extra = sorted(set(actual) - set(reference))
    changed = sorted(k for k in set(reference) & set(actual) if reference[k] != actual[k])
    if not (missing or extra or changed):
        return ""
    parts = []
    for title, items in (("missing", missing), ("extra", extra), ("different", changed)):
        if items:
            parts.append(f"{len(items)} {title}: " + ", ".join(items[:limit]) + (" ..." if len(items) > limit else ""))
    return "; ".join(parts)


@dataclass
class ApplyRun:
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool


def apply_command(rules: Path, source: Path, out: Path, *extra: str, workers: int = 2) -> list[str]:
    return [deidc_command(), "apply", str(rules), str(source), "-o", str(out), "--insecure-demo-key",
            "--no-progress", "--workers", str(workers), *extra]


def run_apply(rules: Path, source: Path, out: Path, *extra: str, workers: int = 2, timeout: float = 600,
              memory_soft_limit: int | None = 4 << 30, cwd: Path | None = None,
              monitor: Callable[[int], None] | None = None) -> ApplyRun:
    """`deidc apply RULES SOURCE -o OUT --insecure-demo-key --no-progress --workers N EXTRA...` in
    its own session; on timeout the whole process group is killed. `memory_soft_limit`: a soft
    RLIMIT_DATA for every process of the run, so a tool without its own bound cannot exhaust a
    shared machine (a soft limit: deidc may raise it for its own `--max-memory`). `monitor` is
    called with the run's pid about ten times a second while it runs."""
    import resource
    import signal
    import tempfile
    import time

    def limit() -> None:
        if memory_soft_limit is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_DATA)
            soft = memory_soft_limit if hard == resource.RLIM_INFINITY else min(memory_soft_limit, hard)
            resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))

    started = time.monotonic()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(apply_command(rules, source, out, *extra, workers=workers), stdout=stdout,
                                   stderr=stderr, env=cli_env(), cwd=cwd or REPO, start_new_session=True,
                                   preexec_fn=limit)
        timed_out = False
        while process.poll() is None:
            if monitor is not None:
                monitor(process.pid)
            if time.monotonic() - started > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                timed_out = True
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
        stdout.seek(0)
        stderr.seek(0)
        return ApplyRun(None if timed_out else process.returncode, stdout.read().decode("utf-8", "replace"),
                        stderr.read().decode("utf-8", "replace"), seconds, timed_out)


# ---- processes of a run --------------------------------------------------------------------------

JOURNAL = Path(".deidc-run") / "journal.jsonl"


def settled(out: Path) -> int:
    """Inputs the run journal says are settled (its first line is a header); -1 before it exists."""
    try:
        return (out / JOURNAL).read_bytes().count(b"\n") - 1
    except OSError:
        return -1


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc/<pid>/task/*/children), depth first."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in children.read_text().split()]
        except OSError:
            continue
    return [d for child in found for d in (child, *descendants(child))]


def pool_workers(pid: int) -> list[int]:
    """The worker processes of a run: its descendants that are not multiprocessing helpers."""
    workers = []
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in command and b"forkserver" not in command:
            workers.append(child)
    return workers


def rss(pid: int) -> int:
    """Resident memory of one process in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pgid: int, timeout: float = 10) -> bool:
    import time
    deadline = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
