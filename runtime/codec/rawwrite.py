"""The fast engine's writer: a de-identified dataset → the bytes pydicom's `dcmwrite` would write
for it, with every element the de-identification left untouched copied from the input.

In: the `SourceFile` the dataset was read from, and the dataset after de-identification. Out: a
list of byte pieces — memoryviews into the bytes read for runs of untouched elements, `FileRange`s
for what was left in the input file (native pixel data: copied file to file, never through
memory), encoded bytes for the rest — or None when only pydicom's writer can produce the right
bytes: it re-encodes the whole dataset when the character set changed, or the transfer syntax did.

Same output as the reference engine: changed elements are encoded by pydicom's rules (the common
ones — ASCII text, single numbers, bytes, empty values — here, anything else by pydicom's own
`write_data_element`), the file meta as `write_file_meta_info` writes it, and sequences get the
framing pydicom writes (defined lengths recomputed, undefined lengths kept, delimiters added).
An element is "untouched" when the object in the dataset is the very object the reader built.
The conformance suite (tests/runtime/test_conformance.py) holds the two engines to the same bytes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from struct import Struct
from struct import error as struct_error

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset, validate_file_meta
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import _LUT_DESCRIPTOR_TAGS, write_data_element, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.uid import UID

from deidc.dicom import LONG_VRS, elements_of
from deidc.runtime.codec.rawread import ITEM, ITEM_END, SEQUENCE_END, UNDEFINED, SourceFile

_tag_len = Struct("<HHL").pack
_explicit_sq = Struct("<HH2sHL").pack
PREAMBLE = b"\x00" * 128 + b"DICM"  # never the input's preamble: it may carry anything


def encode_file(source: SourceFile, ds: Dataset) -> list | None:
    """The output file as byte pieces, or None when pydicom's writer must write it — also when
    encoding fails: pydicom's writer then fails the same way, with its own message."""
    try:
        return _encode_file(source, ds)
    except Exception:  # noqa: BLE001 — the reference writer reports it
        return None


def _encode_file(source: SourceFile, ds: Dataset) -> list | None:
    meta = _file_meta(ds)
    if meta is None or str(meta.TransferSyntaxUID) != source.transfer_syntax:
        return None
    body = _DatasetEncoder(source).encode(ds, default_encoding)
    if body is None:
        return None
    return [PREAMBLE, _meta_bytes(meta), *body[0]]


def _meta_bytes(meta: FileMetaDataset) -> bytes:
    """What write_file_meta_info(enforce_standard=True) writes: every element as it is, behind
    a group length counting them; pydicom's own function for anything but plain elements."""
    pieces = []
    for tag, elem in sorted(elements_of(meta).items(), key=_tag_order):
        piece = None if tag == 0x00020000 else _plain_element(elem, False)
        if piece is None and tag != 0x00020000:
            buf = DicomBytesIO()
            write_file_meta_info(buf, meta, enforce_standard=True)
            return buf.getvalue()
        if piece is not None:
            pieces.append(piece)
    body = b"".join(pieces)
    return _explicit_short(2, 0, b"UL", 4) + len(body).to_bytes(4, "little") + body


@dataclass(frozen=True)
class FileRange:
    """Bytes [start, end) of the input file, copied file to file by `write_pieces`."""
    path: Path
    size: int  # the file's size when it was read: a file changed since then is refused
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


def write_pieces(fh, pieces: list) -> None:
    """Write byte pieces and file ranges to the binary file `fh`: adjacent pieces in one write,
    file ranges with sendfile (the kernel copies them; they never pass through Python)."""
    run: list = []
    for piece in pieces:
        if not isinstance(piece, FileRange):
            run.append(piece)
            continue
        fh.write(b"".join(run))
        run = []
        fh.flush()
        with open(piece.path, "rb") as src:
            if os.fstat(src.fileno()).st_size != piece.size:
                raise OSError(f"{piece.path} changed while it was being de-identified")
            offset, left = piece.start, len(piece)
            while left:
                sent = os.sendfile(fh.fileno(), src.fileno(), offset, left)
                if sent == 0:
                    raise OSError(f"{piece.path} ended early while copying its pixel data")
                offset, left = offset + sent, left - sent
    fh.write(b"".join(run))


def _file_meta(ds: Dataset) -> FileMetaDataset | None:
    """The file meta as dcmwrite(enforce_file_format=True) completes it. Changed in place, not on
    a copy as dcmwrite does: the dataset is discarded once written."""
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        return None
    ds_class, ds_instance = ds.get("SOPClassUID", None), ds.get("SOPInstanceUID", None)
    if meta.get("MediaStorageSOPClassUID", None) is None or (ds_class and ds_class != meta.MediaStorageSOPClassUID):
        meta.MediaStorageSOPClassUID = ds_class
    if meta.get("MediaStorageSOPInstanceUID", None) is None or (
            ds_instance and ds_instance != meta.MediaStorageSOPInstanceUID):
        meta.MediaStorageSOPInstanceUID = ds_instance
    validate_file_meta(meta, enforce_standard=True)
    return meta


def _tag_order(item: tuple) -> int:
    return item[0] + 0  # a plain int: BaseTag compares in Python, slowly


class _DatasetEncoder:
    def __init__(self, source: SourceFile):
        self.view, self.tail = memoryview(source.data), memoryview(source.tail)
        self.source = source
        self.spans = source.spans
        self.implicit = source.implicit
        self.compressed = UID(source.transfer_syntax).is_compressed

    def encode(self, ds: Dataset, parent_encoding) -> tuple[list, int] | None:
        """(pieces, total length) of one dataset, as pydicom's write_dataset orders and skips."""
        if not self._copyable(ds):
            return None
        encodings = ds.get("SpecificCharacterSet", parent_encoding)
        plain_text = encodings in PLAIN_ENCODINGS
        pieces, total, spans = [], 0, self.spans
        run_start = run_end = -1  # input bytes of consecutive untouched elements, copied as one piece
        for tag, elem in sorted(elements_of(ds).items(), key=_tag_order):
            if tag & 0xFFFF == 0 and tag >> 16 > 6:
                continue  # retired group lengths are never written
            span = spans.get(id(elem))
            if span is not None and span[0] is elem and type(elem) is not DataElement and (
                    elem.value is not None or elem.length != 0):  # type: ignore[union-attr]  # not a DataElement: raw
                if span[1] != run_end:
                    if run_end >= 0:
                        pieces.append(self._piece(run_start, run_end))
                    run_start = span[1]
                run_end = span[2]
                total += span[2] - span[1]
                continue
            if run_end >= 0:
                pieces.append(self._piece(run_start, run_end))
                run_start = run_end = -1
            if type(elem) is DataElement and elem.VR == "SQ":  # items may have changed: re-framed
                encoded = self._sequence(elem, encodings)
                if encoded is None:
                    return None
                pieces.extend(encoded[0])
                total += encoded[1]
                continue
            if span is not None and span[0] is elem:  # an empty raw value: get_item converts it
                piece = self._pydicom(ds[tag], encodings)
            else:
                piece = (plain_text and _plain_element(elem, self.implicit)) or self._pydicom(elem, encodings)
            pieces.append(piece)
            total += len(piece)
        if run_end >= 0:
            pieces.append(self._piece(run_start, run_end))
        return pieces, total

    def _copyable(self, ds: Dataset) -> bool:
        """Whether pydicom's write_dataset would write this dataset's elements one by one, as
        they are. It re-decodes and re-encodes every raw element when the character set changed
        since reading; and for a dataset it did not read (new sequence items) it first corrects
        ambiguous VRs."""
        if ds.original_encoding == (self.implicit, True) and ds.original_character_set == ds._character_set:
            return True
        return not any(getattr(elem, "is_raw", False) or " or " in (elem.VR or "") for elem in elements_of(ds).values())

    def _piece(self, start: int, end: int):
        """Input bytes [start, end): from memory, or a range of the file (the pixel data left
        there, with whatever it is contiguous with: the file holds those bytes too)."""
        if end <= len(self.view):
            return self.view[start:end]
        offset = self.source.tail_offset
        if self.source.tail and start >= offset:
            return self.tail[start - offset:end - offset]
        if self.source.path is None:
            raise ValueError("bytes past those read, and no input file to copy them from")
        return FileRange(self.source.path, self.source.size, start, end)

    def _pydicom(self, elem, encodings) -> bytes:
        if elem.tag == 0x7FE00010:  # dcmwrite sets this before writing pixel data
            elem.is_undefined_length = self.compressed
        fp = DicomBytesIO()
        fp.is_implicit_VR, fp.is_little_endian = self.implicit, True
        write_data_element(fp, elem, encodings)
        return fp.getvalue()

    def _sequence(self, elem, encodings) -> tuple[list, int] | None:
        pieces, total = [], 0
        for item in elem.value:
            encoded = self.encode(item, encodings)
            if encoded is None:
                return None
            undefined = getattr(item, "is_undefined_length_sequence_item", False)
            pieces.append(_tag_len(ITEM >> 16, ITEM & 0xFFFF, UNDEFINED if undefined else encoded[1]))
            pieces.extend(encoded[0])
            total += 8 + encoded[1]
            if undefined:
                pieces.append(_tag_len(ITEM_END >> 16, ITEM_END & 0xFFFF, 0))
                total += 8
        length = UNDEFINED if elem.is_undefined_length else total
        tag = elem.tag
        if self.implicit:
            header = _tag_len(tag >> 16, tag & 0xFFFF, length)
        else:
            header = _explicit_sq(tag >> 16, tag & 0xFFFF, b"SQ", 0, length)
        pieces.insert(0, header)
        total += len(header)
        if elem.is_undefined_length:
            pieces.append(_tag_len(SEQUENCE_END >> 16, SEQUENCE_END & 0xFFFF, 0))
            total += 8
        return pieces, total


# Character sets in which an ASCII text encodes to its ASCII bytes, with no escape sequences.
PLAIN_ENCODINGS = (None, "", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192", default_encoding)
STRING_PADDING = {"AE": b" ", "AS": b" ", "CS": b" ", "DA": b" ", "DT": b" ", "TM": b" ", "UR": b" ",
                  "UI": b"\x00", "LO": b" ", "LT": b" ", "SH": b" ", "ST": b" ", "UC": b" ", "UT": b" "}
NUMBER_FORMATS = {vr: Struct("<" + code) for vr, code in
                  (("US", "H"), ("SS", "h"), ("UL", "L"), ("SL", "l"), ("FL", "f"), ("FD", "d"),
                   ("SV", "q"), ("UV", "Q"))}
_explicit_short = Struct("<HH2sH").pack
_explicit_long = Struct("<HH2sHL").pack


def _plain_element(elem, implicit: bool) -> bytes | None:
    """The bytes pydicom writes for the common elements: ASCII text values, single numbers,
    OB/UN bytes, empty values, raw elements made after reading. None for anything else
    (pydicom encodes those); the conformance suite holds the two to the same bytes."""
    vr, value = elem.VR, elem.value
    if getattr(elem, "is_raw", False):  # a raw element made after reading: written verbatim
        if elem.length == UNDEFINED or not isinstance(value, bytes) or (vr is None and not implicit) or (
                not implicit and vr not in LONG_VRS and len(value) > 0xFFFF):
            return None
        return _header(elem.tag, vr, len(value), implicit) + value
    if vr == "SQ" or elem.is_undefined_length or elem.tag == 0x7FE00010 or " or " in vr:
        return None  # sequences, pixel data (dcmwrite adjusts it) and ambiguous VRs: pydicom's
    if value is None or value == "" or (type(value) is not str and not isinstance(value, bytes) and elem.is_empty):
        raw = b""
    else:
        if vr in ("OB", "UN") and isinstance(value, bytes):  # OB padded to even, UN verbatim
            raw = value + b"\x00" if len(value) % 2 and vr == "OB" else value
            return _header(elem.tag, vr, len(raw), implicit) + raw
        number = NUMBER_FORMATS.get(vr)
        if number is not None:
            if type(value) not in (int, float) or elem.tag in _LUT_DESCRIPTOR_TAGS:
                return None
            try:
                raw = number.pack(value)
            except struct_error:
                return None  # out of range: pydicom reports it
            return _header(elem.tag, vr, len(raw), implicit) + raw
        padding = STRING_PADDING.get(vr)
        if padding is None:
            return None
        if not isinstance(value, str):  # str and its subclasses (UID)
            if not isinstance(value, (list, MultiValue)) or not all(isinstance(v, str) for v in value):
                return None
            value = "\\".join(value)
        if not value.isascii():
            return None
        raw = value.encode("ascii")
        if len(raw) % 2:
            raw += padding
    if len(raw) > 0xFFFF and not implicit and vr not in LONG_VRS:
        return None  # pydicom writes it as UN, with a warning
    return _header(elem.tag, vr, len(raw), implicit) + raw


def _header(tag: int, vr: str, length: int, implicit: bool) -> bytes:
    if implicit:
        return _tag_len(tag >> 16, tag & 0xFFFF, length)
    if vr in LONG_VRS:
        return _explicit_long(tag >> 16, tag & 0xFFFF, vr.encode(), 0, length)
    return _explicit_short(tag >> 16, tag & 0xFFFF, vr.encode(), length)
