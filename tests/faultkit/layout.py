"""The byte layout of a DICOM file, read by an independent, strict reader (not pydicom): transfer
syntaxes, element headers, items, fragments, delimiters, the file meta, and the encoders and
(de)compressors the mutations build bytes with.

In: bytes (a file, its file meta, or a dataset already inflated) and the `Syntax` to read them in.
Out: `walk` -> every `Node` in file order, or `Malformed` unless the bytes are a dataset that ends
exactly where the data ends; `parse_meta` -> the `MetaElement`s and the dataset offset;
`encode_element`/`encode_meta` -> bytes; `inflate`/`deflate` -> raw deflate streams undone/made.

`walk` finds the marker elements to protect (`bases`) and, after a mutation, tells whether some
syntax reads the mutated file cleanly to its end with a marker moved into another element
(`ambiguity`).
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR
from pydicom.uid import UID

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


def _tag_text(node: Node) -> str:
    steps = [f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in node.path + (node.tag,)]
    return "/".join(steps)
