"""Mutations that rewrite structure or size: a wrong file meta (group length, missing, empty, unknown,
wrong or garbage transfer syntax, bad VR, no preamble, none at all, random), random bytes after
DICM, after the meta or from an element on, trailing garbage, invalid or swapped VRs, sequences
nested 500 and 5,000 deep, 10 MB values, a decompression bomb, and files that are not DICOM.

In: every `m_*` takes (rng, base, head, body) as in `mutate_bytes` (`m_bomb` also a `size`).
Out: (file bytes, a one-line description), or None when the mutation does not apply to that base.
`_nest(kind, depth)` -> such an `m_*` function; `deflate_bomb` -> a raw deflate stream.
"""
from __future__ import annotations

import gzip
import io
import json
import random
import re
import struct
import zlib

from faultkit.bases import Base
from faultkit.layout import (
    DEFLATED,
    KNOWN_SYNTAXES,
    LONG_VRS,
    UNDEFINED,
    MetaElement,
    _tag_text,
    _text,
    encode_element,
    encode_meta,
    parse_meta,
)
from faultkit.mutate_bytes import _pick
from faultkit.sources import _MARKER_PLACEHOLDER, _UID_ROOT, MARKER, MARKER_RE, PRIVATE_CREATOR, PRIVATE_GROUP

# ---- mutations: file meta, random bytes, VRs, nesting, huge values, a bomb, not DICOM ------------

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
