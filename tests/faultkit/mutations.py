"""The table of mutations the corpus draws from: each `m_*` function of `mutate_bytes` and
`mutate_structure` under its name, with whether it is heavy and whether its output stays valid.

In: nothing. Out: `MUTATIONS` (in table order, which the seeded corpus depends on) and `BY_NAME`.

Mutations change the bytes of a rendered base: bit flips, truncation at each kind of
boundary, bad lengths, bad VRs, deep nesting, 10 MB values, wrong file meta, random bytes, a
decompression bomb, non-DICOM files. They never touch the tag or VR bytes (nor the value) of an
element that bears the marker: a default-keep profile legitimately keeps an element whose tag a
mutation turned into a kept attribute. Length mutations may make a reader swallow a marker element
into another value; such a file must be refused, and the marker check says whether it was.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from faultkit.bases import Base
from faultkit.mutate_bytes import (
    m_bitflip,
    m_bitflip_deflated,
    m_bitflip_header,
    m_bitflip_meta,
    m_bitflip_pixels,
    m_length_beyond_end,
    m_length_fragment,
    m_length_grow,
    m_length_huge,
    m_length_item,
    m_length_marker,
    m_length_odd,
    m_length_pixels,
    m_length_sequence,
    m_length_shrink,
    m_length_swallow_marker,
    m_length_undefined,
    m_none,
    m_truncate_at_boundary,
    m_truncate_deflated,
    m_truncate_element_header,
    m_truncate_item,
    m_truncate_item_header,
    m_truncate_magic,
    m_truncate_meta,
    m_truncate_pixels,
    m_truncate_preamble,
    m_truncate_value,
)
from faultkit.mutate_structure import (
    _nest,
    m_bomb,
    m_huge_cleaned,
    m_huge_collected,
    m_huge_kept,
    m_huge_private,
    m_meta_empty,
    m_meta_group_length,
    m_meta_no_preamble,
    m_meta_no_syntax,
    m_meta_none,
    m_meta_random,
    m_meta_syntax_empty,
    m_meta_syntax_garbage,
    m_meta_syntax_unknown,
    m_meta_syntax_wrong,
    m_meta_vr,
    m_not_dicom,
    m_random_after_dicm,
    m_random_after_meta,
    m_random_tail,
    m_trailing_garbage,
    m_vr_invalid,
    m_vr_swap,
)

# ---- mutations -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutation:
    name: str
    make: Callable[[random.Random, Base, bytes, bytes], tuple[bytes, str] | None]  # None: not for this base
    heavy: bool = False  # big or slow files (10 MB values, a bomb, 5,000-deep nesting): fewer of them
    expect_written: bool = False  # the file stays valid: it must be released, not quarantined


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("none", m_none, expect_written=True),
    Mutation("bitflip", m_bitflip),
    Mutation("bitflip-header", m_bitflip_header),
    Mutation("bitflip-meta", m_bitflip_meta),
    Mutation("bitflip-deflated", m_bitflip_deflated),
    Mutation("bitflip-pixels", m_bitflip_pixels, expect_written=True),
    Mutation("truncate-preamble", m_truncate_preamble),
    Mutation("truncate-magic", m_truncate_magic),
    Mutation("truncate-meta", m_truncate_meta),
    Mutation("truncate-element-header", m_truncate_element_header),
    Mutation("truncate-value", m_truncate_value),
    Mutation("truncate-at-boundary", m_truncate_at_boundary),
    Mutation("truncate-item-header", m_truncate_item_header),
    Mutation("truncate-item", m_truncate_item),
    Mutation("truncate-pixels", m_truncate_pixels),
    Mutation("truncate-deflated", m_truncate_deflated),
    Mutation("length-odd", m_length_odd),
    Mutation("length-grow", m_length_grow),
    Mutation("length-shrink", m_length_shrink),
    Mutation("length-undefined", m_length_undefined),
    Mutation("length-huge", m_length_huge),
    Mutation("length-beyond-end", m_length_beyond_end),
    Mutation("length-swallow-marker", m_length_swallow_marker),
    Mutation("length-marker", m_length_marker),
    Mutation("length-item", m_length_item),
    Mutation("length-sequence", m_length_sequence),
    Mutation("length-fragment", m_length_fragment),
    Mutation("length-pixels", m_length_pixels),
    Mutation("vr-invalid", m_vr_invalid),
    Mutation("vr-swap", m_vr_swap),
    Mutation("meta-vr", m_meta_vr),
    Mutation("meta-group-length", m_meta_group_length),
    Mutation("meta-empty", m_meta_empty),
    Mutation("meta-no-syntax", m_meta_no_syntax),
    Mutation("meta-syntax-empty", m_meta_syntax_empty),
    Mutation("meta-syntax-unknown", m_meta_syntax_unknown),
    Mutation("meta-syntax-wrong", m_meta_syntax_wrong),
    Mutation("meta-syntax-garbage", m_meta_syntax_garbage),
    Mutation("meta-no-preamble", m_meta_no_preamble),
    Mutation("meta-none", m_meta_none),
    Mutation("meta-random", m_meta_random),
    Mutation("random-after-dicm", m_random_after_dicm),
    Mutation("random-after-meta", m_random_after_meta),
    Mutation("random-tail", m_random_tail),
    Mutation("trailing-garbage", m_trailing_garbage),
    Mutation("nest-private-500", _nest("private", 500)),
    Mutation("nest-standard-500", _nest("standard", 500)),
    Mutation("nest-private-5000", _nest("private", 5000), heavy=True),
    Mutation("nest-standard-5000", _nest("standard", 5000), heavy=True),
    Mutation("huge-cleaned", m_huge_cleaned, heavy=True),
    Mutation("huge-kept", m_huge_kept, heavy=True),
    Mutation("huge-private", m_huge_private, heavy=True),
    Mutation("huge-collected", m_huge_collected, heavy=True),
    Mutation("bomb", m_bomb, heavy=True),
    Mutation("not-dicom", m_not_dicom),
)
BY_NAME = {m.name: m for m in MUTATIONS}
