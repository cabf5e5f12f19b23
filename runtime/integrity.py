"""The structural check of a DICOM file: can it be read to its end, and read as its header says?

In: a file, as an input (read the way pydicom reads it: a missing or empty transfer syntax and a
body in the other VR encoding are detected, as pydicom detects them) or as a staged output
(strict: Part 10, a transfer syntax pydicom knows, the body in that syntax's encoding, pixel data
native or encapsulated as the syntax says and, when native, at least as long as the image
attributes make it). Out: a `Structure` (the declared transfer syntax, the body's real encoding),
or `Malformed` with a reason that names the byte where the file goes wrong, or `LimitExceeded`
for sequences nested deeper than `limits.sequence_depth` or a deflated data set that would inflate
past `limits.inflated_bytes`.

Checked: every element header and value lies inside the file (and inside its item); sequences and
items of undefined length end with their delimiters; those of defined length hold exactly their
items; encapsulated values are items closed by a sequence delimiter; every explicit VR is a VR.
A file that fails is refused by both engines, because pydicom's reader stops quietly where a file
is cut and returns what it read, and its recursive reader cannot take unbounded nesting.

The walk is a loop over an explicit stack (no recursion, so nesting costs no Python frames) and
skips values by their lengths: a big file is mapped, and pixel data is never read.
"""
from __future__ import annotations

import functools
import mmap
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from struct import Struct

from pydicom.datadict import DicomDictionary
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import UID

from deidc.runtime import limits
from deidc.runtime.limits import LimitExceeded
from deidc.runtime.rawread import (
    IMPLICIT_LE, IMPLICIT_SEQUENCES, ITEM, ITEM_END, PIXEL_DATA, SEQUENCE_END, UNDEFINED, VR_NAMES,
    nesting_too_deep, unpack_explicit, unpack_tag_length, unpack_ul,
)

DEFLATED, BIG_ENDIAN = "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"
MAPPED_FROM = 1 << 16  # files this big are mapped, not read: pixel data is never read (the fast reader reads 64 KiB)
_INFLATE_CHUNK, _DEFLATED_PIECE = 1 << 20, 1 << 16
_DEFLATE_MAX_RATIO = 1032  # deflate's best case: 258 bytes from 2 bits

# Big endian twins of rawread's little endian struct helpers
_BE_TAG_LENGTH, _BE_EXPLICIT = Struct(">HHL").unpack_from, Struct(">HH2sH").unpack_from
_BE_UL = Struct(">L").unpack_from
_LE_TAG = Struct("<HH").unpack_from

# What the output check reads to know how long native pixel data must be
ROWS, COLUMNS, SAMPLES, BITS = 0x00280010, 0x00280011, 0x00280002, 0x00280100
FRAMES, PHOTOMETRIC = 0x00280008, 0x00280004
_IMAGE_TAGS = frozenset({ROWS, COLUMNS, SAMPLES, BITS, FRAMES, PHOTOMETRIC})
_NO_TAGS: frozenset = frozenset()

_DATASET, _SEQUENCE, _FRAGMENTS = 0, 1, 2
_LONG_BY_VR = {vr_bytes: long for vr_bytes, (_, long) in VR_NAMES.items()}  # VR bytes → 4-byte length
_SEQUENCE_VRS = frozenset({b"SQ", b"UN"})  # explicit VRs that may open a sequence


class Malformed(Exception):
    """The file cannot be read to its end, or not as its header says; the message says where.
    `part10`: the file starts with a preamble and DICM (else it may not be DICOM at all)."""

    def __init__(self, reason: str, part10: bool = True) -> None:
        super().__init__(reason)
        self.part10 = part10


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
    found_implicit = _found_implicit(data, pos, little, implicit)
    if found_implicit != implicit:
        if output:
            raise Malformed(f"the data set is {'implicit' if found_implicit else 'explicit'} VR, the "
                            f"transfer syntax {syntax} says {'implicit' if implicit else 'explicit'}")
        implicit = found_implicit  # as pydicom reads it (with a warning)
    image = _walk(data, pos, implicit, little, _IMAGE_TAGS if output else _NO_TAGS)
    _check_encapsulation(image.get(PIXEL_DATA), declared)  # no writer can keep such pixel data as it is
    if output:
        _check_pixels(image, declared, little)
    return Structure(syntax, implicit, little, part10)


# ---- file meta and the start of the body --------------------------------------------------------


def _file_meta(data, pos: int, output: bool) -> tuple[str, bool, int]:
    """Group 0002 from pos: (TransferSyntaxUID or "", whether it is present, position after)."""
    syntax, present, start, size = "", False, pos, len(data)
    implicit = not output and _found_implicit(data, pos, True, False)  # pydicom reads implicit meta too
    while pos + 8 <= size and _LE_TAG(data, pos)[0] == 2:
        group, number, length, vr, value_at = _flat_header(data, pos, implicit, "file meta")
        end = value_at + length
        if length == UNDEFINED:
            raise Malformed(f"malformed: file meta element (0002,{number:04X}) of undefined length at byte {pos}")
        if end > size:
            raise _cut_value(data, pos, group, number, value_at, length)
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
        raise Malformed(f"malformed: a command element (0000,{_LE_TAG(data, pos)[1]:04X}) at byte {pos}: a "
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
        raise Malformed(f"malformed: {where} element ({group:04X},{number:04X}) at byte {pos} has an "
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
    group, _, vr = _LE_TAG(data, pos) + (bytes(data[pos + 4:pos + 6]),)
    if vr in VR_NAMES:
        return False, group < 1024, None
    return True, True, None


@functools.lru_cache(maxsize=256)
def _transfer_syntax(syntax: str) -> UID | None:
    """The UID if pydicom knows it as a transfer syntax (looked up once per syntax: it is slow)."""
    uid = UID(syntax)
    return uid if uid.is_transfer_syntax else None


def _found_implicit(data, pos: int, little: bool, implicit: bool) -> bool:
    """pydicom's test of a data set's first element: two capital letters where an explicit VR
    would be mean explicit VR, anything else implicit. Too few bytes: as assumed."""
    if pos + 6 > len(data):
        return implicit
    first, second = data[pos + 4], data[pos + 5]
    return not (0x40 < first < 0x5B and 0x40 < second < 0x5B)


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


# ---- the walk ------------------------------------------------------------------------------------


def _walk(data, pos: int, implicit: bool, little: bool, wanted: frozenset) -> dict[int, object]:
    """Walk the data set from pos to the end of data; return the top-level elements in `wanted`
    as (VR, value bytes) and, under PIXEL_DATA, the pixel data's length (UNDEFINED if
    encapsulated).

    The stack holds one frame per open container: [kind, end (None: closed by a delimiter),
    limit (the bytes it may use), implicit, owner tag, owner position]. The element loops are
    written out once per VR encoding: they run for every element of every input and output."""
    size = len(data)
    if little:
        tag_length, explicit_header, ul = unpack_tag_length, unpack_explicit, unpack_ul
    else:
        tag_length, explicit_header, ul = _BE_TAG_LENGTH, _BE_EXPLICIT, _BE_UL
    max_depth = limits.current().sequence_depth
    # locals, not globals, in the loops below
    long_vrs, sequences, sequence_vrs, undefined, pixel_data = (_LONG_BY_VR, IMPLICIT_SEQUENCES, _SEQUENCE_VRS,
                                                                UNDEFINED, PIXEL_DATA)
    found: dict[int, object] = {}
    stack = [[_DATASET, size, size, implicit, None, pos]]
    depth = 0  # open sequences
    while stack:
        frame = stack[-1]
        kind, end, limit = frame[0], frame[1], frame[2]
        if kind == _DATASET:
            top = len(stack) == 1
            wanted_here = wanted if top else _NO_TAGS
            stop = size + 1 if end is None else end  # an item of undefined length ends at its delimiter
            opened = None
            if frame[3]:  # implicit VR
                while pos < stop:
                    if pos + 8 > limit:
                        raise _cut_header(pos, limit, size, frame)
                    group, number, length = tag_length(data, pos)
                    if group == 0xFFFE:
                        pos = _item_delimiter(data, pos, group, number, length, end is None and not top)
                        break
                    if group <= 2 and top:
                        _misplaced_group(data, pos, group, number)
                    tag, start = group << 16 | number, pos + 8
                    if length == undefined or tag in sequences:
                        opened = _open(data, stack, tag, None, length, pos, start, limit, True, size)
                        if opened is not None:
                            break
                    after = start + length
                    if after > limit:
                        raise _cut_value(data, pos, group, number, start, length, limit)
                    if tag in wanted_here:
                        found[tag] = (None, bytes(data[start:after]))
                    elif tag == pixel_data and top:
                        found[tag] = length
                    pos = after
            else:
                while pos < stop:
                    if pos + 8 > limit:
                        raise _cut_header(pos, limit, size, frame)
                    group, number, vr_bytes, length = explicit_header(data, pos)
                    if group == 0xFFFE:
                        pos = _item_delimiter(data, pos, group, number, tag_length(data, pos)[2],
                                              end is None and not top)
                        break
                    tag = group << 16 | number
                    long = long_vrs.get(vr_bytes)
                    if long is None:
                        if top and not tag and not any(data[pos:size]):
                            pos = size  # zero padding after the data set: pydicom reads it as nothing
                            break
                        raise Malformed(f"malformed: element ({group:04X},{number:04X}) at byte {pos} has an "
                                        f"invalid VR {bytes(vr_bytes)!r}")
                    if group <= 2 and top:
                        _misplaced_group(data, pos, group, number)
                    if long:
                        if pos + 12 > limit:
                            raise _cut_header(pos, limit, size, frame)
                        length, start = ul(data, pos + 8)[0], pos + 12
                    else:
                        start = pos + 8
                    if length == undefined or vr_bytes in sequence_vrs:
                        opened = _open(data, stack, tag, vr_bytes.decode(), length, pos, start, limit, False, size)
                        if opened is not None:
                            break
                    after = start + length
                    if after > limit:
                        raise _cut_value(data, pos, group, number, start, length, limit)
                    if tag in wanted_here:
                        found[tag] = (vr_bytes.decode(), bytes(data[start:after]))
                    elif tag == pixel_data and top:
                        found[tag] = length
                    pos = after
            if opened is None:
                stack.pop()
                continue
            if opened == _SEQUENCE:
                depth += 1
                if depth > max_depth:
                    raise nesting_too_deep(max_depth, pos)
            if top and stack[-1][4] == PIXEL_DATA:
                found[PIXEL_DATA] = length
            pos = start
        elif kind == _SEQUENCE:
            if end is not None and pos >= end:
                stack.pop()
                depth -= 1
                continue
            if pos + 8 > limit:
                raise _cut_item(pos, limit, size, frame)
            group, number, length = tag_length(data, pos)
            tag = group << 16 | number
            if tag == SEQUENCE_END:
                if end is not None or length:
                    raise Malformed(f"malformed: a sequence delimiter at byte {pos} inside {_owner(frame)}, "
                                    "which has a defined length" if end is not None else
                                    f"malformed: sequence delimiter with length {length} at byte {pos}")
                pos += 8
                stack.pop()
                depth -= 1
                continue
            if tag != ITEM:
                raise Malformed(f"malformed: {_owner(frame)} holds ({group:04X},{number:04X}) at byte {pos} "
                                "where an item or the sequence delimiter belongs")
            item_start = pos + 8
            item_implicit = frame[3] or _found_implicit(data, item_start, little, False)
            if length == UNDEFINED:
                stack.append([_DATASET, None, limit, item_implicit, frame[4], pos])
            else:
                item_end = item_start + length
                if item_end > limit:
                    if limit == size:
                        raise Malformed(f"truncated: the file ends inside an item of {_owner(frame)}: the item "
                                        f"at byte {pos} declares {length} bytes, {size - item_start} remain")
                    raise Malformed(f"malformed: the item at byte {pos} runs past the end of {_owner(frame)}")
                stack.append([_DATASET, item_end, item_end, item_implicit, frame[4], pos])
            pos = item_start
        else:  # _FRAGMENTS
            if pos + 8 > limit:
                raise _cut_item(pos, limit, size, frame)
            group, number, length = tag_length(data, pos)
            tag = group << 16 | number
            if tag == SEQUENCE_END and not length:
                pos += 8
                stack.pop()
                continue
            if tag != ITEM or length == UNDEFINED:
                raise Malformed(f"malformed: {_owner(frame)} is encapsulated but has no sequence delimiter: "
                                f"({group:04X},{number:04X}) at byte {pos} where a fragment or the delimiter belongs")
            if pos + 8 + length > limit:
                raise Malformed(f"truncated: the file ends inside a fragment of {_owner(frame)} at byte {pos}: "
                                f"{length} bytes declared, {size - pos - 8} remain" if limit == size else
                                f"malformed: the fragment at byte {pos} runs past the end of its item")
            pos += 8 + length
    return found


def _misplaced_group(data, pos: int, group: int, number: int) -> None:
    """File meta (0002) or command (0000) elements in the data set, which no writer stores there
    (trailing zero padding, read as nothing, excepted)."""
    if group == 1:
        return
    if group == 0 and not any(data[pos:]):
        return
    raise Malformed(f"malformed: a {'file meta' if group == 2 else 'command'} element ({group:04X},{number:04X}) "
                    f"in the data set at byte {pos}")


def _item_delimiter(data, pos: int, group: int, number: int, length: int, in_undefined_item: bool) -> int:
    """Where an item tag stands in place of an element: the item delimiter that closes an item of
    undefined length (the position after it); anything else is malformed."""
    if (group << 16 | number) == ITEM_END and in_undefined_item:
        if length:
            raise Malformed(f"malformed: item delimiter with length {length} at byte {pos}")
        return pos + 8
    raise Malformed(f"malformed: an item tag ({group:04X},{number:04X}) at byte {pos} where an element belongs")


def _open(data, stack: list, tag: int, vr: str | None, length: int, pos: int, start: int, limit: int,
          implicit: bool, size: int) -> int | None:
    """Push the container an element opens, as pydicom reads it: a sequence (SQ; UN of undefined
    length; in implicit VR, a dictionary sequence or an unknown tag whose value starts with an item;
    UN of a dictionary sequence, which pydicom converts), encapsulated fragments (any other value of
    undefined length); None for a plain value."""
    undefined = length == UNDEFINED
    if vr == "SQ" or (undefined and vr == "UN"):
        sequence = True
    elif vr is None or vr == "UN":  # implicit VR, or UN: the dictionary decides, as pydicom's reader does
        if tag in IMPLICIT_SEQUENCES:
            sequence = undefined or vr is None or length < 0xFFFF
        elif undefined and tag not in DicomDictionary:
            sequence = start + 4 <= size and _LE_TAG(data, start) == (0xFFFE, 0xE000)
        else:
            sequence = False
    else:
        sequence = False
    if not sequence and not undefined:
        return None
    if not sequence and tag != PIXEL_DATA:
        raise Malformed(f"malformed: ({tag >> 16:04X},{tag & 0xFFFF:04X}) at byte {pos} has an undefined length, "
                        "which only sequences and encapsulated pixel data may have")
    owner = [_SEQUENCE if sequence else _FRAGMENTS, None, limit, implicit, tag, pos]
    if not undefined:
        owner[1] = owner[2] = start + length
        if start + length > limit:
            raise _cut_value(data, pos, tag >> 16, tag & 0xFFFF, start, length, limit)
    stack.append(owner)
    return owner[0]


def _owner(frame: list) -> str:
    """The element a frame belongs to (for an item, its sequence's tag: the item's own position is frame[5])."""
    tag = frame[4]
    if tag is None:
        return "the data set"
    name = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return name if frame[0] == _DATASET else f"{name} at byte {frame[5]}"


def _cut_header(pos: int, limit: int, size: int, frame: list) -> Malformed:
    if pos >= size:
        return Malformed(f"truncated: the file ends inside the item at byte {frame[5]} of {_owner(frame)}, "
                         "before its item delimiter")
    if limit == size:
        return Malformed(f"truncated: the file ends inside the element header at byte {pos}")
    return Malformed(f"malformed: the element header at byte {pos} runs past the end of its item (byte {limit})")


def _cut_item(pos: int, limit: int, size: int, frame: list) -> Malformed:
    what = "sequence" if frame[0] == _SEQUENCE else "encapsulated value"
    if pos >= size:
        return Malformed(f"truncated: the file ends inside the {what} {_owner(frame)}, before its delimiter")
    if limit == size:
        return Malformed(f"truncated: the file ends inside the item header at byte {pos} of {_owner(frame)}")
    return Malformed(f"malformed: the {what} {_owner(frame)} is not closed by its delimiter before its item "
                     f"ends (byte {limit})")


def _cut_value(data, pos: int, group: int, number: int, start: int, length: int, limit: int | None = None) -> Malformed:
    size = len(data)
    if limit is None or limit == size:
        return Malformed(f"truncated: the file ends inside the value of ({group:04X},{number:04X}) at byte {pos}: "
                         f"{length} bytes declared, {max(size - start, 0)} remain")
    return Malformed(f"malformed: the value of ({group:04X},{number:04X}) at byte {pos} runs past the end of "
                     f"its item (byte {limit})")


# ---- what the output check adds -------------------------------------------------------------------


def _check_encapsulation(length: int | None, syntax: UID | None) -> None:
    """Pixel data encapsulated (undefined length) exactly when the transfer syntax is encapsulated."""
    if length is None or syntax is None or (length == UNDEFINED) == syntax.is_encapsulated:
        return
    found, declared = ("encapsulated", "native") if length == UNDEFINED else ("native", "encapsulated")
    raise Malformed(f"malformed: pixel data is {found} but the transfer syntax {syntax} ({syntax.name}) is {declared}")


@dataclass
class _ImagePixels:
    """The attributes pydicom's `get_expected_length` reads, decoded here from their bytes
    (building a pydicom Dataset for them would cost more than the whole walk)."""
    Rows: int
    Columns: int
    SamplesPerPixel: int
    BitsAllocated: int
    NumberOfFrames: int
    PhotometricInterpretation: str


def _check_pixels(image: dict, syntax: UID | None, little: bool) -> None:
    """Pixel data as the transfer syntax says: encapsulated under an encapsulated syntax, native
    otherwise, and native pixel data at least as long as its image attributes make it (readers
    decode the frames and ignore trailing padding, as in pydicom's MR_small_padded.dcm)."""
    length = image.get(PIXEL_DATA)
    if length is None or syntax is None or syntax.is_encapsulated:
        return
    numbers, problems = {}, []
    for tag, name in ((ROWS, "Rows"), (COLUMNS, "Columns"), (SAMPLES, "SamplesPerPixel"), (BITS, "BitsAllocated")):
        vr, value = image.get(tag, (None, b""))
        if not value:
            problems.append(f"no {name}")
        elif vr not in (None, "US", "UN") or len(value) != 2:
            problems.append(f"{name} is not one US value")
        else:
            numbers[name] = int.from_bytes(value, "little" if little else "big")
    frames_text = image.get(FRAMES, (None, b""))[1].strip(b" \x00")
    try:
        frames = int(frames_text) if frames_text else 1
    except ValueError:
        problems.append(f"NumberOfFrames {frames_text!r} is not a number")
    photometric = image.get(PHOTOMETRIC, (None, b""))[1].decode("ascii", "replace").strip(" \x00")
    if not photometric:
        problems.append("no PhotometricInterpretation")
    if problems:
        raise Malformed(f"native pixel data that cannot be decoded: {', '.join(problems)}")
    expected = get_expected_length(_ImagePixels(NumberOfFrames=frames or 1, PhotometricInterpretation=photometric,
                                                **numbers), "bytes")
    expected += expected & 1
    if length < expected:  # more is decoded as pydicom and dcmtk do: the frames, then padding
        raise Malformed(f"native pixel data of {length} bytes where Rows, Columns, SamplesPerPixel, "
                        f"BitsAllocated and NumberOfFrames make {expected}")
