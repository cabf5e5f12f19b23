"""The element walk of the structural check (runtime/codec/integrity.py): a data set's bytes, read to their end.

In: the bytes (bytes or a mapping), the position where the data set starts, its encoding
(implicit or explicit VR, little or big endian) and the top-level tags the caller wants. Out:
those tags' (VR, value bytes) and, under PIXEL_DATA, the pixel data's length (UNDEFINED if
encapsulated); or `Malformed` with a reason that names the byte where the data set goes wrong, or
`LimitExceeded` for sequences nested deeper than `limits.sequence_depth`.

Checked: every element header and value lies inside the data (and inside its item); sequences and
items of undefined length end with their delimiters; those of defined length hold exactly their
items; encapsulated values are items closed by a sequence delimiter; every explicit VR is a VR.

The walk is a loop over an explicit stack (no recursion, so nesting costs no Python frames) and
skips values by their lengths, so pixel data is never read. Each step runs until its container
ends or opens another: a data set's elements (one loop per VR encoding, as they run for every
element of every input and output), a sequence's next item, an encapsulated value's fragments.
`Malformed` lives here, the lowest layer of the check; runtime/codec/integrity.py re-exports it.
"""
from __future__ import annotations

import re
from struct import Struct
from typing import Any

from deidc.dicom import RESTRICTED_TEXT_VRS, format_tag, listed_vr, tags_with_vr
from deidc.runtime import limits
from deidc.runtime.codec.rawread import (
    IMPLICIT_SEQUENCES,
    ITEM,
    ITEM_END,
    PIXEL_DATA,
    SEQUENCE_END,
    UNDEFINED,
    VR_NAMES,
    nesting_too_deep,
    unpack_explicit,
    unpack_tag,
    unpack_tag_length,
    unpack_ul,
)

# The byte order's readers: (tag and 4-byte length, explicit VR header, UL); big endian is rawread's twin
_LITTLE_READERS = (unpack_tag_length, unpack_explicit, unpack_ul)
_BIG_READERS = (Struct(">HHL").unpack_from, Struct(">HH2sH").unpack_from, Struct(">L").unpack_from)

NO_TAGS: frozenset = frozenset()
# A stack frame, one per open container: [kind (one of these three), end (None: closed by a delimiter),
# limit (the bytes it may use), implicit, owner tag, owner position]
_DATASET, _SEQUENCE, _FRAGMENTS = 0, 1, 2
_LONG_BY_VR = {vr_bytes: long for vr_bytes, (_, long) in VR_NAMES.items()}  # VR bytes → 4-byte length
_SEQUENCE_VRS = frozenset({b"SQ", b"UN"})  # explicit VRs that may open a sequence
# VRs whose values are characters of the default repertoire, without control characters (PS3.5
# 6.2): a byte outside it (trailing NUL padding aside) means the value is not what its length
# says — most often a wrong length that swallowed the header of the next element, which a reader
# would then release inside a kept attribute. Implicit VR: the dictionary's tags of these VRs,
# tag → VR (no dictionary entry is ambiguous between one of them and another VR).
_CHARACTER_VR_BYTES = frozenset(vr.encode() for vr in RESTRICTED_TEXT_VRS)
_CHARACTER_TAGS = {tag: vr for vr in sorted(RESTRICTED_TEXT_VRS) for tag in tags_with_vr(vr)}
_NOT_CHARACTERS = re.compile(rb"[^\x00\x20-\x7e]|\x00+[^\x00]")


class Malformed(Exception):
    """The file cannot be read to its end, or not as its header says; the message says where.
    `part10`: the file starts with a preamble and DICM (else it may not be DICOM at all)."""

    def __init__(self, reason: str, part10: bool = True) -> None:
        super().__init__(reason)
        self.part10 = part10


def found_implicit(data, pos: int, little: bool, implicit: bool) -> bool:
    """pydicom's test of a data set's first element: two capital letters where an explicit VR
    would be mean explicit VR, anything else implicit. Too few bytes: as assumed."""
    if pos + 6 > len(data):
        return implicit
    first, second = data[pos + 4], data[pos + 5]
    return not (0x40 < first < 0x5B and 0x40 < second < 0x5B)


def walk(data, pos: int, implicit: bool, little: bool, wanted: frozenset) -> dict[int, object]:
    """Walk the data set from pos to the end of data; return the top-level elements in `wanted`
    as (VR, value bytes) and, under PIXEL_DATA, the pixel data's length (UNDEFINED if
    encapsulated). Each step below is given the frame on top of the stack and pops it when its
    container ends."""
    size = len(data)
    readers = _LITTLE_READERS if little else _BIG_READERS
    max_depth = limits.current().sequence_depth
    found: dict[int, object] = {}
    stack: list[list[Any]] = [[_DATASET, size, size, implicit, None, pos]]  # frames: kind, ends, ..., position
    depth = 0  # open sequences
    while stack:
        frame = stack[-1]
        kind = frame[0]
        if kind == _DATASET:
            elements = _implicit_elements if frame[3] else _explicit_elements
            pos, opened = elements(data, pos, frame, stack, found, wanted, readers)
            if opened == _SEQUENCE:
                depth += 1
                if depth > max_depth:
                    raise nesting_too_deep(max_depth, stack[-1][5])  # the sequence element's position
        elif kind == _SEQUENCE:
            pos, closed = _next_item(data, pos, frame, stack, little, readers[0])
            depth -= closed
        else:
            pos = _fragments(data, pos, frame, stack, readers[0])
    return found


def _implicit_elements(data, pos: int, frame: list, stack: list, found: dict, wanted: frozenset,
                       readers: tuple) -> tuple[int, int | None]:
    """The elements of the implicit VR data set on top of the stack, from pos: (the value position
    of an element that opened a container, its kind) or, when the data set ends, (the position
    after it, None), its frame popped."""
    end, limit, size, tag_length = frame[1], frame[2], len(data), readers[0]
    top = len(stack) == 1
    wanted_here = wanted if top else NO_TAGS
    stop = size + 1 if end is None else end  # an item of undefined length ends at its delimiter
    sequences, undefined, pixel_data = IMPLICIT_SEQUENCES, UNDEFINED, PIXEL_DATA  # locals in the loop
    character_tags, not_characters = _CHARACTER_TAGS, _NOT_CHARACTERS.search
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
                if top and tag == pixel_data:
                    found[tag] = length
                return start, opened
        after = start + length
        if after > limit:
            raise cut_value(data, pos, group, number, start, length, limit)
        if tag in character_tags and not_characters(data, start, after):
            raise _not_characters(pos, group, number, character_tags[tag])
        if tag in wanted_here:
            found[tag] = (None, bytes(data[start:after]))
        elif tag == pixel_data and top:
            found[tag] = length
        pos = after
    stack.pop()
    return pos, None


def _explicit_elements(data, pos: int, frame: list, stack: list, found: dict, wanted: frozenset,
                       readers: tuple) -> tuple[int, int | None]:
    """The elements of the explicit VR data set on top of the stack, from pos: as `_implicit_elements`."""
    end, limit, size = frame[1], frame[2], len(data)
    tag_length, explicit_header, ul = readers
    top = len(stack) == 1
    wanted_here = wanted if top else NO_TAGS
    stop = size + 1 if end is None else end  # an item of undefined length ends at its delimiter
    long_vrs, sequence_vrs, undefined, pixel_data = _LONG_BY_VR, _SEQUENCE_VRS, UNDEFINED, PIXEL_DATA
    character_vrs, not_characters = _CHARACTER_VR_BYTES, _NOT_CHARACTERS.search
    while pos < stop:
        if pos + 8 > limit:
            raise _cut_header(pos, limit, size, frame)
        group, number, vr_bytes, length = explicit_header(data, pos)
        if group == 0xFFFE:
            pos = _item_delimiter(data, pos, group, number, tag_length(data, pos)[2], end is None and not top)
            break
        tag = group << 16 | number
        long = long_vrs.get(vr_bytes)
        if long is None:
            if top and not tag and not any(data[pos:size]):
                pos = size  # zero padding after the data set: pydicom reads it as nothing
                break
            raise Malformed(f"malformed: element {format_tag(tag)} at byte {pos} has an "
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
                if top and tag == pixel_data:
                    found[tag] = length
                return start, opened
        after = start + length
        if after > limit:
            raise cut_value(data, pos, group, number, start, length, limit)
        if vr_bytes in character_vrs and not_characters(data, start, after):
            raise _not_characters(pos, group, number, vr_bytes.decode())
        if tag in wanted_here:
            found[tag] = (vr_bytes.decode(), bytes(data[start:after]))
        elif tag == pixel_data and top:
            found[tag] = length
        pos = after
    stack.pop()
    return pos, None


def _next_item(data, pos: int, frame: list, stack: list, little: bool, tag_length) -> tuple[int, bool]:
    """In the sequence on top of the stack, at pos: push its next item (→ the item's first byte,
    False), or pop the sequence at its end or its delimiter (→ the position after it, True)."""
    end, limit, size = frame[1], frame[2], len(data)
    if end is not None and pos >= end:
        stack.pop()
        return pos, True
    if pos + 8 > limit:
        raise _cut_item(pos, limit, size, frame)
    group, number, length = tag_length(data, pos)
    tag = group << 16 | number
    if tag == SEQUENCE_END:
        if end is not None or length:
            raise Malformed(f"malformed: a sequence delimiter at byte {pos} inside {_owner(frame)}, "
                            "which has a defined length" if end is not None else
                            f"malformed: sequence delimiter with length {length} at byte {pos}")
        stack.pop()
        return pos + 8, True
    if tag != ITEM:
        raise Malformed(f"malformed: {_owner(frame)} holds {format_tag(tag)} at byte {pos} "
                        "where an item or the sequence delimiter belongs")
    item_start = pos + 8
    item_implicit = frame[3] or found_implicit(data, item_start, little, False)
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
    return item_start, False


def _fragments(data, pos: int, frame: list, stack: list, tag_length) -> int:
    """The fragments of the encapsulated value on top of the stack, from pos, skipped to its
    sequence delimiter: the position after the delimiter, its frame popped."""
    limit, size = frame[2], len(data)
    while True:
        if pos + 8 > limit:
            raise _cut_item(pos, limit, size, frame)
        group, number, length = tag_length(data, pos)
        tag = group << 16 | number
        if tag == SEQUENCE_END and not length:
            stack.pop()
            return pos + 8
        if tag != ITEM or length == UNDEFINED:
            raise Malformed(f"malformed: {_owner(frame)} is encapsulated but has no sequence delimiter: "
                            f"{format_tag(tag)} at byte {pos} where a fragment or the delimiter belongs")
        if pos + 8 + length > limit:
            raise Malformed(f"truncated: the file ends inside a fragment of {_owner(frame)} at byte {pos}: "
                            f"{length} bytes declared, {size - pos - 8} remain" if limit == size else
                            f"malformed: the fragment at byte {pos} runs past the end of its item")
        pos += 8 + length


def _misplaced_group(data, pos: int, group: int, number: int) -> None:
    """File meta (0002) or command (0000) elements in the data set, which no writer stores there
    (trailing zero padding, read as nothing, excepted)."""
    if group == 1:
        return
    if group == 0 and not any(data[pos:]):
        return
    what = "file meta" if group == 2 else "command"
    raise Malformed(f"malformed: a {what} element {format_tag(group << 16 | number)} in the data set at byte {pos}")


def _item_delimiter(data, pos: int, group: int, number: int, length: int, in_undefined_item: bool) -> int:
    """Where an item tag stands in place of an element: the item delimiter that closes an item of
    undefined length (the position after it); anything else is malformed."""
    if (group << 16 | number) == ITEM_END and in_undefined_item:
        if length:
            raise Malformed(f"malformed: item delimiter with length {length} at byte {pos}")
        return pos + 8
    raise Malformed(f"malformed: an item tag {format_tag(group << 16 | number)} at byte {pos} where an element belongs")


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
        elif undefined and listed_vr(tag) is None:
            sequence = start + 4 <= size and unpack_tag(data, start) == (0xFFFE, 0xE000)
        else:
            sequence = False
    else:
        sequence = False
    if not sequence and not undefined:
        return None
    if not sequence and tag != PIXEL_DATA:
        raise Malformed(f"malformed: {format_tag(tag)} at byte {pos} has an undefined length, "
                        "which only sequences and encapsulated pixel data may have")
    owner = [_SEQUENCE if sequence else _FRAGMENTS, None, limit, implicit, tag, pos]
    if not undefined:
        owner[1] = owner[2] = start + length
        if start + length > limit:
            raise cut_value(data, pos, tag >> 16, tag & 0xFFFF, start, length, limit)
    stack.append(owner)
    return owner[0]


def _owner(frame: list) -> str:
    """The element a frame belongs to (for an item, its sequence's tag: the item's own position is frame[5])."""
    tag = frame[4]
    if tag is None:
        return "the data set"
    name = format_tag(tag)
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


def cut_value(data, pos: int, group: int, number: int, start: int, length: int, limit: int | None = None) -> Malformed:
    """The refusal of a value that runs past the end of the file (or, with a smaller limit, of its item)."""
    size, name = len(data), format_tag(group << 16 | number)
    if limit is None or limit == size:
        return Malformed(f"truncated: the file ends inside the value of {name} at byte {pos}: "
                         f"{length} bytes declared, {max(size - start, 0)} remain")
    return Malformed(f"malformed: the value of {name} at byte {pos} runs past the end of its item (byte {limit})")


def _not_characters(pos: int, group: int, number: int, vr: str) -> Malformed:
    return Malformed(f"malformed: element {format_tag(group << 16 | number)} at byte {pos} is {vr}, but its value "
                     f"holds bytes no {vr} value can (control or non-ASCII characters): its length is probably wrong "
                     "and swallowed the next element")
