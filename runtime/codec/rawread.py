"""The fast engine's reader: a Part 10 file's bytes → a pydicom Dataset of raw elements, plus where
each element's bytes lie, so the writer can copy every unchanged element instead of re-encoding it.

In: the file's bytes. Out: a `SourceFile` (the dataset, the byte range of every element it built,
the transfer syntax), or `NotForFastEngine` with the reason — big endian, deflate, no Part 10
header, an element header that does not parse cleanly, a truncated value. Such files go to the
reference engine (pydicom's reader). Broken files never get here in pass 2: the structural check
(runtime/codec/integrity.py) refuses them first, with the message. The reader recurses into sequences,
so nesting deeper than `limits.sequence_depth` raises LimitExceeded (pass 1 reads unchecked files).

The dataset is built exactly as pydicom's reader builds it (same RawDataElement fields, empty
values, character sets handed to sequence items), so the shared de-identification code sees the
same thing from either engine. Sequences whose VR is certain are parsed here, eagerly, so their
unchanged items are copied too; any other raw value is left to pydicom's own conversion.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from struct import Struct

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element, empty_value_for_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID
from pydicom.values import convert_string

from deidc.dicom import LONG_VRS, VRS, dictionary_vr, elements_of, format_tag, tags_with_vr
from deidc.runtime import limits
from deidc.runtime.limits import LimitExceeded

UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
SEQUENCE_END_BYTES = b"\xfe\xff\xdd\xe0"
PIXEL_DATA = 0x7FE00010
IMPLICIT_LE, EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
# Syntaxes only the reference engine reads; the fast one takes implicit and explicit VR little
# endian and every encapsulated syntax (their datasets are explicit VR little endian).
REFERENCE_ONLY = {"1.2.840.10008.1.2.2": "explicit VR big endian",
                  "1.2.840.10008.1.2.1.99": "deflated explicit VR little endian"}

VR_NAMES = {vr.encode(): (vr, vr in LONG_VRS) for vr in VRS}  # VR bytes → (VR, 4-byte length)
# Standard attributes whose dictionary VR is SQ: in implicit VR only the dictionary says so.
IMPLICIT_SEQUENCES = tags_with_vr("SQ")
_EMPTY: dict = {}

unpack_tag = Struct("<HH").unpack_from
unpack_tag_length = Struct("<HHL").unpack_from
unpack_explicit = Struct("<HH2sH").unpack_from
unpack_ul = Struct("<L").unpack_from


def _empty(vr: str | None):
    """pydicom's raw value for an empty element (b"" or None by VR), cached: it is slow."""
    try:
        return _EMPTY[vr]
    except KeyError:
        return _EMPTY.setdefault(vr, empty_value_for_VR(vr, raw=True))


def nesting_too_deep(limit: int, pos: int) -> LimitExceeded:
    """The refusal of a file whose sequences nest deeper than the limit (readers that recurse
    stop there, so deep nesting never costs a RecursionError)."""
    return LimitExceeded(f"sequences nested more than {limit} deep (at byte {pos}): the sequence-depth limit "
                         "(limits.sequence_depth, fixed: real files stay far below it)")


class NotForFastEngine(Exception):
    """The file needs the reference engine; the message says why (for the summary)."""


class Truncated(NotForFastEngine):
    """The bytes end inside an element."""


@dataclass
class SourceFile:
    """A parsed input: `spans[id(element)] = (element, start, end)` (file offsets) for every
    element built here, the element kept alive beside its id so an id can never be reused by a
    new object. `data` holds the file from its start; native pixel data may be left in the file
    (`path`), and the elements after it are then in `tail`, which starts at `tail_offset`."""
    data: bytes
    dataset: Dataset
    transfer_syntax: str
    implicit: bool
    spans: dict[int, tuple[object, int, int]] = field(default_factory=dict)
    stopped_at: int = 0  # with headers_only: where the elements before the pixel data end
    path: Path | None = None
    size: int = 0  # of the file at `path`
    tail: bytes = b""
    tail_offset: int = 0


def read_file(path: Path, first: int = 1 << 16) -> SourceFile:
    """Read and parse a file for the fast engine. Native pixel data is not read: it stays in the
    file, a deferred element pydicom reads on first access, and the writer copies it from file
    to file in the kernel. NotForFastEngine as `read_source`."""
    with path.open("rb", buffering=0) as fh:
        stat = os.fstat(fh.fileno())
        head = fh.read(first)
        if len(head) >= stat.st_size:
            return read_source(head)
        try:
            source = read_source(head, headers_only=True)
        except Truncated:
            return read_source(head + fh.read())
        pixels = _deferred_pixels(source, fh, stat.st_size)
        if pixels is None:  # encapsulated, odd or absent: the whole file, parsed as usual
            fh.seek(len(head))
            return read_source(head + fh.read())
    elem, pos, end = pixels
    source.path, source.size = path, stat.st_size
    ds = source.dataset
    elements_of(ds)[elem.tag] = elem
    source.spans[id(elem)] = (elem, pos, end)
    if source.tail:
        tail, after, _ = _Reader(source, source.tail, end).elements(0, len(source.tail), ds._character_set, top=True)
        if after != len(source.tail) or min(tail, default=PIXEL_DATA + 1) <= PIXEL_DATA:
            raise NotForFastEngine("odd elements after the pixel data")
        elements_of(ds).update(tail)
    # what pydicom's deferred read needs to fetch the pixel data if a rule asks for it
    ds.filename, ds.buffer, ds.fileobj_type, ds.timestamp = str(path), None, open, stat.st_mtime
    return source


def _deferred_pixels(source: SourceFile, fh, size: int) -> tuple[RawDataElement, int, int] | None:
    """The native pixel data element where parsing stopped, its value left unread; reads the
    bytes after it into `source.tail`. None when the file should be read whole instead."""
    pos = source.stopped_at
    header = os.pread(fh.fileno(), 12, pos)
    if len(header) < 12 or UID(source.transfer_syntax).is_compressed:
        return None
    group, number = unpack_tag(header, 0)
    if (group << 16 | number) != PIXEL_DATA:
        return None
    if source.implicit:
        vr, length, start = None, unpack_ul(header, 4)[0], pos + 8
    else:
        vr = VR_NAMES.get(header[4:6], (None, False))[0]
        if vr not in ("OB", "OW") or header[6:8] != b"\x00\x00":
            return None
        length, start = unpack_ul(header, 8)[0], pos + 12
    end = start + length
    if length == UNDEFINED or end > size:
        return None
    source.tail, source.tail_offset = os.pread(fh.fileno(), size - end, end), end
    return RawDataElement(BaseTag(PIXEL_DATA), vr, length, None, start, source.implicit, True), pos, end


def read_headers(path: Path, first: int = 1 << 16) -> Dataset:
    """The elements before the pixel data, reading only as much of the file as they take (for
    the pass that collects PHI); NotForFastEngine as `read_source`."""
    with path.open("rb") as fh:
        data = fh.read(first)
        try:
            return read_source(data, headers_only=True).dataset
        except Truncated:
            rest = fh.read()
            if not rest:
                raise
    return read_source(data + rest, headers_only=True).dataset


def read_source(data: bytes, headers_only: bool = False) -> SourceFile:
    """Parse a Part 10 file (preamble, DICM, file meta) whose dataset the fast engine can copy;
    `headers_only`: stop before the pixel data, and accept a file cut there."""
    if len(data) < 144 or data[128:132] != b"DICM":
        raise NotForFastEngine("no Part 10 preamble")
    meta, pos = _read_meta(data)
    syntax = str(meta.get("TransferSyntaxUID", "") or "").strip(" \x00")
    if syntax in REFERENCE_ONLY:
        raise NotForFastEngine(REFERENCE_ONLY[syntax])
    if not syntax or (syntax != IMPLICIT_LE and not UID(syntax).is_little_endian):
        raise NotForFastEngine(f"transfer syntax {syntax or 'missing'}")
    implicit = syntax == IMPLICIT_LE
    source = SourceFile(data, Dataset(), syntax, implicit)
    reader = _Reader(source, data)
    reader.stop = PIXEL_DATA if headers_only else None
    elements, end, _ = reader.elements(pos, len(data), default_encoding, top=True)
    if end != len(data) and not headers_only:
        raise NotForFastEngine("bytes after the dataset")
    source.stopped_at = end
    pixels = elements.get(PIXEL_DATA)
    compressed = UID(syntax).is_compressed
    if pixels is not None and (pixels.length == UNDEFINED) != compressed:
        raise NotForFastEngine("pixel data length does not match the transfer syntax")
    ds = source.dataset = Dataset(elements)
    ds.file_meta = meta
    ds.set_original_encoding(implicit, True, _original_encoding(elements, default_encoding))
    return source


def read_meta_syntax(data: bytes) -> tuple[str, int]:
    """(transfer syntax UID, position after the file meta), without building the meta dataset."""
    if len(data) < 144 or data[128:132] != b"DICM":
        raise NotForFastEngine("no Part 10 preamble")
    pos, syntax = 132, ""
    while pos + 8 <= len(data):
        group, number, vr, length = unpack_explicit(data, pos)
        if group != 2:
            return syntax, pos
        start = pos + 8
        if VR_NAMES.get(vr, (None, False))[1]:
            if pos + 12 > len(data):
                break
            length, start = unpack_ul(data, pos + 8)[0], pos + 12
        if number == 0x0010:
            syntax = data[start:start + length].decode("ascii", "replace").strip(" \x00")
        pos = start + length
    raise Truncated("file meta without a dataset")


def _read_meta(data: bytes) -> tuple[FileMetaDataset, int]:
    """Group 0002, always explicit VR little endian."""
    pos = 132
    raw: dict[BaseTag, DataElement | RawDataElement] = {}
    while pos + 8 <= len(data):
        group, elem, vr, length = unpack_explicit(data, pos)
        if group != 2:
            break
        vr_text = vr.decode("latin-1")
        if vr_text not in VRS:
            raise NotForFastEngine("file meta element without a valid VR")
        start = pos + 8
        if vr_text in LONG_VRS:
            if pos + 12 > len(data):
                raise Truncated("truncated file meta")
            length, start = unpack_ul(data, pos + 8)[0], pos + 12
        if length == UNDEFINED or start + length > len(data):
            raise NotForFastEngine("file meta element with an odd length")
        tag = BaseTag(group << 16 | elem)
        value: bytes | None = data[start:start + length]
        if not length:
            empty = empty_value_for_VR(vr_text, raw=True)  # b"" or None, as pydicom reads it
            value = empty if isinstance(empty, bytes) else None
        raw[tag] = RawDataElement(tag, vr_text, length, value, start, False, True)
        pos = start + length
    if not raw:
        raise NotForFastEngine("no file meta information")
    return FileMetaDataset(raw), pos


def item_length(data: bytes, pos: int, end: int | None) -> int | None:
    """The length of the sequence item at pos; None at the sequence delimiter, which may only
    end a sequence of undefined length (`end` None)."""
    if pos + 8 > len(data):
        raise Truncated("truncated sequence")
    group, number, length = unpack_tag_length(data, pos)
    tag = group << 16 | number
    if tag == SEQUENCE_END:
        if end is not None or length != 0:
            raise NotForFastEngine("odd sequence delimiter")
        return None
    if tag != ITEM:
        raise NotForFastEngine("sequence holds something other than items")
    return length


def _original_encoding(elements: dict, parent_encoding):
    """The character set pydicom's read_dataset records for a dataset (its writer compares it)."""
    charset = elements.get(0x00080005)
    if charset is None:
        return parent_encoding
    return convert_encodings(convert_raw_data_element(charset).value)


class _Reader:
    def __init__(self, source: SourceFile, data: bytes, base: int = 0):
        """`data` starts at file offset `base`: spans and value positions are file offsets."""
        self.data, self.implicit, self.spans, self.base = data, source.implicit, source.spans, base
        self.stop: int | None = None  # top-level tag at which to stop reading
        self.depth, self.max_depth = 0, limits.current().sequence_depth  # open sequences (the reader recurses)

    def elements(self, pos: int, end: int, encoding, top: bool = False, in_item: bool = False):
        """Elements from pos up to end (or, with in_item and an undefined length, the item
        delimiter). Returns (dict tag → element, position after, character set in force).
        The common element (defined length, not a sequence) is handled inline: this loop runs
        for every element of every file."""
        data, spans, implicit, size, base = self.data, self.spans, self.implicit, len(self.data), self.base
        header = unpack_tag_length if implicit else unpack_explicit
        out: dict[BaseTag, DataElement | RawDataElement] = {}
        last = -1
        new_raw, stop, names = tuple.__new__, (self.stop if top else None), VR_NAMES
        while pos < end:
            if pos + 8 > size:
                raise Truncated("truncated element header")
            if implicit:
                group, number, length = header(data, pos)
                vr = None
            else:
                group, number, vr, length = header(data, pos)
            tag = group << 16 | number
            if tag == ITEM_END and in_item:
                if length != 0:
                    raise NotForFastEngine("item delimiter with a length")
                return out, pos + 8, encoding
            if tag <= last or (top and group == 2) or group == 0xFFFE:
                raise NotForFastEngine(f"element {format_tag(tag)} out of order")
            if stop is not None and tag >= stop:
                return out, pos, encoding
            last = tag
            start = pos + 8
            if vr is not None:
                vr, long = names.get(vr, (None, False))
                if vr is None:
                    raise NotForFastEngine("element without a valid explicit VR")
                if long:
                    if length != 0 or pos + 12 > size:
                        raise NotForFastEngine("explicit VR element with odd reserved bytes")
                    length, start = unpack_ul(data, pos + 8)[0], pos + 12
            if length == UNDEFINED or vr == "SQ" or (implicit and tag in IMPLICIT_SEQUENCES):
                elem, after = self._long_element(pos, start, tag, vr, length, encoding)
            else:
                after = start + length
                if after > size:
                    raise Truncated(f"truncated value of {format_tag(tag)}")
                value = data[start:after] if length else _empty(vr)
                elem = new_raw(RawDataElement, (BaseTag(tag), vr, length, value, start + base, implicit, True, True, False))
            spans[id(elem)] = (elem, pos + base, after + base)
            out[elem.tag] = elem
            pos = after
            if tag == 0x00080005:  # as pydicom's generator: sequences below decode with it
                encoding = convert_encodings(convert_string(elem.value or b"", True))
        if in_item and end == size:
            raise Truncated("item without its delimiter")
        return out, pos, encoding

    def _long_element(self, pos: int, start: int, tag: int, vr: str | None, length: int, encoding):
        """A sequence, or a value of undefined length (encapsulated pixel data)."""
        data, btag = self.data, BaseTag(tag)
        if length == UNDEFINED:
            if self._is_sequence(vr, tag, start, undefined=True):
                items, after = self._items(start, None, encoding)
                return DataElement(btag, "SQ", Sequence(items), start + self.base, is_undefined_length=True), after
            stop = data.find(SEQUENCE_END_BYTES, start)
            if stop < 0 or stop + 8 > len(data) or unpack_ul(data, stop + 4)[0] != 0:
                raise Truncated(f"undefined length {format_tag(tag)} without delimiter")
            return RawDataElement(btag, vr, length, data[start:stop], start + self.base, self.implicit, True), stop + 8
        end = start + length
        if end > len(data):
            raise Truncated(f"truncated value of {format_tag(tag)}")
        if length and self._is_sequence(vr, tag, start, undefined=False):
            items, _ = self._items(start, end, encoding)
            seq = Sequence(items)
            seq.is_undefined_length = False
            return DataElement(btag, "SQ", seq, start + self.base, is_undefined_length=False), end
        value = data[start:end] if length else _empty(vr)
        return RawDataElement(btag, vr, length, value, start + self.base, self.implicit, True), end

    def _is_sequence(self, vr: str | None, tag: int, start: int, undefined: bool) -> bool:
        """As pydicom decides: explicit SQ (and UN of undefined length); implicit by the
        dictionary, or for an unknown tag of undefined length, by an item tag coming next."""
        if vr is not None:
            return vr == "SQ" or (undefined and vr == "UN")
        known = dictionary_vr(tag)
        if known is not None:
            return known == "SQ"
        return undefined and start + 4 <= len(self.data) and unpack_tag(self.data, start) == (0xFFFE, 0xE000)

    def _items(self, pos: int, end: int | None, encoding) -> tuple[list[Dataset], int]:
        if self.depth >= self.max_depth:
            raise nesting_too_deep(self.max_depth, pos + self.base)
        self.depth += 1
        try:
            return self._read_items(pos, end, encoding)
        finally:
            self.depth -= 1

    def _read_items(self, pos: int, end: int | None, encoding) -> tuple[list[Dataset], int]:
        data = self.data
        items: list[Dataset] = []
        while end is None or pos < end:
            length = item_length(data, pos, end)
            if length is None:
                return items, pos + 8
            undefined = length == UNDEFINED
            if not undefined and pos + 8 + length > (len(data) if end is None else end):
                raise NotForFastEngine("item longer than its sequence")
            stop = len(data) if undefined else pos + 8 + length
            elements, after, _ = self.elements(pos + 8, stop, encoding, in_item=undefined)
            item = Dataset(elements, parent_encoding=encoding)
            item.set_original_encoding(self.implicit, True, _original_encoding(elements, encoding))
            item.is_undefined_length_sequence_item = undefined
            item.seq_item_tell = pos + self.base
            items.append(item)
            pos = after
        if end is None:
            raise Truncated("sequence without its delimiter")
        return items, pos
