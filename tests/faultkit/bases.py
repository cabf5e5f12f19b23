"""The bases: the real files of `SOURCES`, read with pydicom, given the marker placeholders (see
`sources`), saved as Part 10 and laid out with `walk`, so mutations know which bytes they may change.

In: `SOURCES` and `ocr` (False: files that would trigger tcia.deid's OCR get another modality).
Out: `bases()` -> the `Base`s, cached per process; `Base.render(number)` -> (head, body) with the
marker and SOP Instance UID of mutant `number`; `Base.file(head, body)` -> the file's bytes
(deflated again for the deflated syntax); `marker_paths(base)` -> the tag paths holding a marker.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from faultkit.layout import PIXEL_DATA, Node, Syntax, deflate, inflate, parse_meta, syntax_of, walk
from faultkit.sources import (
    _MARKER_PLACEHOLDER,
    _SOP_PLACEHOLDER_COMPONENT,
    _UID_ROOT,
    MARKER,
    OCR_MODALITIES,
    PRIVATE_CREATOR,
    PRIVATE_GROUP,
    SOURCES,
)

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
