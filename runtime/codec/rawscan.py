"""Pass 1 for the fast engine: the values `collect` names, read from the element headers of a
file without building a dataset (pass 2 builds one anyway; pass 1 would pay for it twice).

In: a file and the tags to collect. Out: the patient key (PatientID, else StudyInstanceUID) and
(tag, texts) for every such element at any depth, in file order — what `collected_values` finds
in the parsed dataset; or `NotForFastEngine` for anything but the plain case (explicit VR little
endian, one plain character set, values that decode as plain text, no undefined-length value
outside sequences), and the caller parses the file as usual.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from deidc.dicom import listed_vr
from deidc.runtime import limits
from deidc.runtime.codec.rawread import (
    EXPLICIT_LE,
    IMPLICIT_LE,
    IMPLICIT_SEQUENCES,
    ITEM_END,
    PIXEL_DATA,
    UNDEFINED,
    VR_NAMES,
    NotForFastEngine,
    Truncated,
    item_length,
    nesting_too_deep,
    read_meta_syntax,
    unpack_explicit,
    unpack_tag,
    unpack_tag_length,
    unpack_ul,
)
from deidc.runtime.text.element_text import PLAIN_CHARSETS, PLAIN_CODECS, raw_texts

PATIENT_ID, STUDY_UID, CHARSET = 0x00100020, 0x0020000D, 0x00080005


class _Raw(NamedTuple):
    VR: str
    value: bytes


def scan_collected(path: Path, wanted: set[int], first: int = 1 << 16) -> tuple[str, list[tuple[int, list[str]]]]:
    with path.open("rb") as fh:
        data = fh.read(first)
        try:
            return _scan(data, wanted)
        except Truncated:
            rest = fh.read()
            if not rest:
                raise
    return _scan(data + rest, wanted)


def _scan(data: bytes, wanted: set[int]) -> tuple[str, list[tuple[int, list[str]]]]:
    syntax, pos = read_meta_syntax(data)
    if syntax not in (EXPLICIT_LE, IMPLICIT_LE):
        raise NotForFastEngine("pass 1 scans plain little endian only")
    found: list[tuple[int, _Raw]] = []
    top: dict[int, _Raw] = {}
    _Scan(data, wanted, found, top, syntax == IMPLICIT_LE).elements(pos, len(data), depth=0)
    charset = top.get(CHARSET)
    charset_name = PLAIN_CHARSETS.get(charset.value.strip(b" \x00")) if charset else "iso8859"
    codec = PLAIN_CODECS.get(charset_name) if charset_name is not None else None
    if codec is None:
        raise NotForFastEngine("pass 1 scans plain character sets only")
    values = []
    for tag, raw in found:
        texts = raw_texts(raw, codec)
        if texts is None:
            raise NotForFastEngine("a collected value needs pydicom to decode it")
        values.append((tag, texts))
    return _patient_key(top, codec), values


def _patient_key(top: dict[int, _Raw], codec: str) -> str:
    for tag in (PATIENT_ID, STUDY_UID):
        raw = top.get(tag)
        texts = raw_texts(raw, codec) if raw is not None else [""]
        if texts is None or len(texts) > 1:
            raise NotForFastEngine("a multi-valued patient key")
        if texts[0].strip():
            return texts[0].strip()
    return ""


class _Scan:
    def __init__(self, data: bytes, wanted: set[int], found: list, top: dict, implicit: bool):
        self.data, self.wanted, self.found, self.top, self.implicit = data, wanted, found, top, implicit
        self.max_depth = limits.current().sequence_depth

    def elements(self, pos: int, end: int, depth: int) -> int:
        """Walk elements from pos to end (an item's end, or its delimiter); the position after."""
        data, wanted, size = self.data, self.wanted, len(self.data)
        while pos < end:
            if pos + 8 > size:
                raise Truncated("truncated element header")
            tag, vr, length, start = self._header(pos)
            if tag == ITEM_END:
                return pos + 8
            if depth == 0 and tag >= PIXEL_DATA:
                return pos
            if tag == CHARSET and depth:
                raise NotForFastEngine("a character set inside a sequence item")
            if self._is_sequence(tag, vr, length, start):
                if tag in wanted:
                    raise NotForFastEngine("a collected sequence")
                pos = self.items(start, None if length == UNDEFINED else start + length, depth)
                continue
            if length == UNDEFINED:
                raise NotForFastEngine("an undefined length outside a sequence")
            pos = start + length
            if pos > size:
                raise Truncated("truncated value")
            if tag in wanted or (depth == 0 and tag in (PATIENT_ID, STUDY_UID, CHARSET)):
                raw = _Raw(vr or _dictionary_vr(tag), data[start:pos])
                if tag in wanted:
                    self.found.append((tag, raw))
                if depth == 0:
                    self.top[tag] = raw
        return pos

    def _header(self, pos: int) -> tuple[int, str | None, int, int]:
        if self.implicit:
            group, number, length = unpack_tag_length(self.data, pos)
            return group << 16 | number, None, length, pos + 8
        group, number, vr_bytes, length = unpack_explicit(self.data, pos)
        vr, long = VR_NAMES.get(vr_bytes, (None, False))
        if vr is None:
            raise NotForFastEngine("element without a valid explicit VR")
        if not long:
            return group << 16 | number, vr, length, pos + 8
        if pos + 12 > len(self.data):
            raise Truncated("truncated element header")
        return group << 16 | number, vr, unpack_ul(self.data, pos + 8)[0], pos + 12

    def _is_sequence(self, tag: int, vr: str | None, length: int, start: int) -> bool:
        """As the fast reader and `collected_values` decide it."""
        if vr is not None:
            return vr == "SQ" or (vr == "UN" and length == UNDEFINED)
        if tag in IMPLICIT_SEQUENCES:
            return True
        if length != UNDEFINED:
            return False
        if listed_vr(tag) is not None:
            raise NotForFastEngine("an undefined length outside a sequence")
        return start + 4 <= len(self.data) and unpack_tag(self.data, start) == (0xFFFE, 0xE000)

    def items(self, pos: int, end: int | None, depth: int) -> int:
        if depth >= self.max_depth:  # the scan recurses: deep nesting is refused before Python's stack is
            raise nesting_too_deep(self.max_depth, pos)
        data = self.data
        while end is None or pos < end:
            length = item_length(data, pos, end)  # the reader's rules: both refuse the same files
            if length is None:
                return pos + 8
            if length == UNDEFINED:
                pos = self.elements(pos + 8, len(data) + 1, depth + 1)
            else:
                self.elements(pos + 8, pos + 8 + length, depth + 1)
                pos += 8 + length
        return pos


def _dictionary_vr(tag: int) -> str:
    vr = listed_vr(tag)
    if vr is None:
        raise NotForFastEngine("a private collected element in implicit VR")
    return vr
