"""Mutations that damage a rendered base in place: the control (unchanged), truncation at each kind
of boundary, bit flips (dataset, headers, file meta, deflated stream, pixel values) and wrong
lengths (odd, longer, shorter, undefined, huge, past the end, swallowing a marker element; on
items, sequences, fragments and pixel data).

In: every `m_*` takes (rng, base, head, body): a seeded `random.Random`, the `Base`, and the head
and body `Base.render` gave for this mutant.
Out: (file bytes, a one-line description of what was done), or None when the mutation does not
apply to that base. They never touch the tag or VR bytes (nor the value) of an element that bears
the marker (`Base.protected`), except the length mutations aimed at the marker on purpose.
"""
from __future__ import annotations

import random
import struct
from collections.abc import Callable

from faultkit.bases import Base
from faultkit.layout import UNDEFINED, Node, _tag_text

# ---- mutations: truncation, bit flips, lengths ---------------------------------------------------

def _cut(base: Base, head: bytes, body: bytes, at: int, what: str) -> tuple[bytes, str]:
    """The file cut `at` bytes into the dataset (a deflated file: into its inflated stream, then deflated)."""
    where = "inflated dataset" if base.syntax.deflated else "dataset"
    return base.file(head, body[:at]), f"{what}; cut at byte {at} of the {where}"


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
