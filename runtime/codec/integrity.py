"""The structural check of a DICOM file: can it be read to its end, and read as its header says?

In: a file, as an input (read the way pydicom reads it: a missing or empty transfer syntax and a
body in the other VR encoding are detected, as pydicom detects them) or as a staged output
(strict: Part 10, a transfer syntax pydicom knows, the body in that syntax's encoding, pixel data
native or encapsulated as the syntax says and, when native, at least as long as the image
attributes make it). Out: a `Structure` (the declared transfer syntax, the body's real encoding),
or `Malformed` with a reason that names the byte where the file goes wrong, or `LimitExceeded`
for sequences nested deeper than `limits.sequence_depth` or a deflated data set that would inflate
past `limits.inflated_bytes`.

A file that fails is refused by both engines, because pydicom's reader stops quietly where a file
is cut and returns what it read, and its recursive reader cannot take unbounded nesting.

This module reads the file (a big file is mapped, so pixel data is never read), its file meta and
where the data set starts and in which encoding, and inflates a deflated data set; the data set
itself is walked by runtime/codec/integrity_walk.py (which defines `Malformed`, re-exported here) and
its pixel data checked by runtime/codec/integrity_pixels.py.
"""
from __future__ import annotations

import functools
import mmap
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from pydicom.uid import UID

from deidc.dicom import format_tag
from deidc.runtime import limits
from deidc.runtime.codec.integrity_pixels import IMAGE_TAGS, check_encapsulation, check_pixels
from deidc.runtime.codec.integrity_walk import NO_TAGS, Malformed, cut_value, found_implicit, walk
from deidc.runtime.codec.rawread import (
    IMPLICIT_LE,
    PIXEL_DATA,
    UNDEFINED,
    VR_NAMES,
    unpack_explicit,
    unpack_tag,
    unpack_tag_length,
    unpack_ul,
)
from deidc.runtime.limits import LimitExceeded

__all__ = ["Malformed", "Structure", "check_bytes", "check_input", "check_output"]

DEFLATED, BIG_ENDIAN = "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"
MAPPED_FROM = 1 << 16  # files this big are mapped, not read: pixel data is never read (the fast reader reads 64 KiB)
_INFLATE_CHUNK, _DEFLATED_PIECE = 1 << 20, 1 << 16
_DEFLATE_MAX_RATIO = 1032  # deflate's best case: 258 bytes from 2 bits


@dataclass(frozen=True)
class Structure:
    syntax: str  # the TransferSyntaxUID as declared; "" when missing or empty
    implicit: bool  # the body's encoding, as found
    little: bool
    part10: bool  # preamble and DICM present


def check_input(path: Path) -> Structure:
    """The check every input passes before either engine parses it."""
    with _contents(path) as data:
        return check_bytes(data, output=False)


def check_output(path: Path) -> Structure:
    """The check every staged output passes before it is released."""
    with _contents(path) as data:
        return check_bytes(data, output=True)


class _contents:
    """The file's bytes: read when small, mapped when big (only the pages the walk touches are read)."""

    def __init__(self, path: Path) -> None:
        self.path, self.mapped = path, None

    def __enter__(self):
        with self.path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < MAPPED_FROM:
                return fh.read()
            self.mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            return self.mapped

    def __exit__(self, *exc) -> None:
        if self.mapped is not None:
            self.mapped.close()


def check_bytes(data, output: bool = False) -> Structure:
    """Check a whole file held in `data` (bytes or a mapping); see the module docstring."""
    size = len(data)
    part10 = size >= 132 and data[128:132] == b"DICM"
    if not part10:
        if output:
            raise Malformed("no Part 10 header (preamble and DICM)")
        if 0 < size < 132 and not any(data[:128]):
            raise Malformed(f"truncated: the file ends inside the 128-byte preamble, at byte {size}")
    try:
        pos = 132 if part10 else 0
        syntax, present, pos = _file_meta(data, pos, output)
        pos = _command_group(data, pos)
        if part10 and pos >= size:
            raise Malformed(f"truncated: the file ends after its file meta (byte {size}), with no data set")
        implicit, little, declared = _body_encoding(data, pos, syntax, present, output)
        if syntax == DEFLATED:
            inflated = _inflated(data, pos)
            try:
                return _check_body(inflated, 0, syntax, implicit, little, declared, output, part10)
            except Malformed as err:  # its byte offsets count in the inflated data set
                raise Malformed(f"{err} (in the inflated data set)") from None
        return _check_body(data, pos, syntax, implicit, little, declared, output, part10)
    except Malformed as err:
        err.part10 = part10
        raise


def _check_body(data, pos: int, syntax: str, implicit: bool, little: bool, declared: UID | None, output: bool,
                part10: bool) -> Structure:
    """The data set from pos, in the encoding the transfer syntax gives (or, for an input, the one
    its first element shows, as pydicom reads it)."""
    body_implicit = found_implicit(data, pos, little, implicit)
    if body_implicit != implicit:
        if output:
            raise Malformed(f"the data set is {'implicit' if body_implicit else 'explicit'} VR, the "
                            f"transfer syntax {syntax} says {'implicit' if implicit else 'explicit'}")
        implicit = body_implicit  # as pydicom reads it (with a warning)
    image = walk(data, pos, implicit, little, IMAGE_TAGS if output else NO_TAGS)
    length = image.get(PIXEL_DATA)  # no writer can keep such pixel data as it is
    check_encapsulation(length if isinstance(length, int) else None, declared)
    if output:
        check_pixels(image, declared, little)
    return Structure(syntax, implicit, little, part10)


# ---- file meta and the start of the body --------------------------------------------------------


def _file_meta(data, pos: int, output: bool) -> tuple[str, bool, int]:
    """Group 0002 from pos: (TransferSyntaxUID or "", whether it is present, position after)."""
    syntax, present, start, size = "", False, pos, len(data)
    implicit = not output and found_implicit(data, pos, True, False)  # pydicom reads implicit meta too
    while pos + 8 <= size and unpack_tag(data, pos)[0] == 2:
        group, number, length, vr, value_at = _flat_header(data, pos, implicit, "file meta")
        end = value_at + length
        if length == UNDEFINED:
            raise Malformed(f"malformed: file meta element {format_tag(group << 16 | number)} of undefined length "
                            f"at byte {pos}")
        if end > size:
            raise cut_value(data, pos, group, number, value_at, length)
        if number == 0x0010:
            syntax, present = bytes(data[value_at:end]).decode("ascii", "replace").strip(" \x00"), True
        pos = end
    if pos < size < pos + 8 and data[pos:pos + 2] in (b"\x02\x00", b"\x02"):
        raise Malformed(f"truncated: the file ends inside the element header at byte {pos}")
    if output and (pos == start or not present):
        raise Malformed("no TransferSyntaxUID in the file meta")
    return syntax, present, pos


def _command_group(data, pos: int) -> int:
    """After the meta: group 0000 elements (a command set) are a message, not a stored instance,
    and no writer stores them. Zero padding where a data set would be is nothing to read."""
    if pos + 8 <= len(data) and data[pos:pos + 2] == b"\x00\x00":
        if not any(data[pos:]):
            return len(data)
        group, number = unpack_tag(data, pos)
        raise Malformed(f"malformed: a command element {format_tag(group << 16 | number)} at byte {pos}: a "
                        "DIMSE message, not a stored instance")
    return pos


def _flat_header(data, pos: int, implicit: bool, where: str) -> tuple[int, int, int, str | None, int]:
    """(group, element, length, VR, value position) of an element header in a flat little endian group."""
    if implicit:
        group, number, length = unpack_tag_length(data, pos)
        return group, number, length, None, pos + 8
    group, number, vr_bytes, length = unpack_explicit(data, pos)
    vr, long = VR_NAMES.get(vr_bytes, (None, False))
    if vr is None:
        raise Malformed(f"malformed: {where} element {format_tag(group << 16 | number)} at byte {pos} has an "
                        f"invalid VR {bytes(vr_bytes)!r}")
    if not long:
        return group, number, length, vr, pos + 8
    if pos + 12 > len(data):
        raise Malformed(f"truncated: the file ends inside the element header at byte {pos}")
    return group, number, unpack_ul(data, pos + 8)[0], vr, pos + 12


def _body_encoding(data, pos: int, syntax: str, present: bool, output: bool) -> tuple[bool, bool, UID | None]:
    """(implicit, little endian, the syntax as a known UID or None) of the data set, as pydicom
    decides them before looking at its first element."""
    if syntax:
        uid = _transfer_syntax(syntax)
        if uid is None:
            raise Malformed(f"unknown transfer syntax {syntax!r}: the data set's encoding cannot be known "
                            "(fix the TransferSyntaxUID in the file meta)")
        return uid == IMPLICIT_LE, uid != BIG_ENDIAN, uid
    if output:
        raise Malformed("an empty TransferSyntaxUID")
    if present or pos + 6 > len(data):  # empty: pydicom reads explicit VR little endian
        return False, True, None
    # missing: pydicom guesses from the first element (a VR → explicit; a big group → big endian)
    group, _, vr = unpack_tag(data, pos) + (bytes(data[pos + 4:pos + 6]),)
    if vr in VR_NAMES:
        return False, group < 1024, None
    return True, True, None


@functools.lru_cache(maxsize=256)
def _transfer_syntax(syntax: str) -> UID | None:
    """The UID if pydicom knows it as a transfer syntax (looked up once per syntax: it is slow)."""
    uid = UID(syntax)
    return uid if uid.is_transfer_syntax else None


def _inflated(data, pos: int) -> bytes:
    """The deflated data set after pos, inflated. Measured first in bounded memory (input fed in
    small pieces, output taken in chunks and dropped), so a decompression bomb is refused before
    anything of its size is allocated."""
    try:
        return _inflate(data, pos, limits.current().inflated_bytes)
    except zlib.error as err:
        raise Malformed(f"malformed: the deflated data set does not inflate ({err})") from None


def _inflate(data, pos: int, limit: int) -> bytes:
    if (len(data) - pos) * _DEFLATE_MAX_RATIO <= limit:  # cannot inflate past the limit: no need to measure
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        inflated = inflater.decompress(bytes(data[pos:]))
        if not inflater.eof:
            raise Malformed("truncated: the file ends inside the deflated data set")
        return inflated
    inflater, total = zlib.decompressobj(-zlib.MAX_WBITS), 0
    for piece_at in range(pos, len(data), _DEFLATED_PIECE):
        pending = bytes(data[piece_at:piece_at + _DEFLATED_PIECE])
        while pending and not inflater.eof:
            total += len(inflater.decompress(pending, _INFLATE_CHUNK))
            if total > limit:
                raise _too_inflated(limit)
            pending = inflater.unconsumed_tail
        if inflater.eof:
            break
    while not inflater.eof:  # output still held inside the inflater once all input is in
        chunk = inflater.decompress(b"", _INFLATE_CHUNK)
        if not chunk:
            raise Malformed("truncated: the file ends inside the deflated data set")
        total += len(chunk)
        if total > limit:
            raise _too_inflated(limit)
    # bytes after the end of the stream (padding, a writer's trailer) are ignored, as pydicom does
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(bytes(data[pos:]), total + 1)


def _too_inflated(limit: int) -> LimitExceeded:
    return LimitExceeded(f"the deflated data set inflates to more than {limit >> 20} MB (the inflated-size limit; "
                         "--max-inflated MB raises it): a decompression bomb, or a data set too big to process")

