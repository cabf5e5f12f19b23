"""The typed AST of a .deid file: one frozen dataclass per construct of grammar.lark.

In: nothing (these are plain data). Out: the nodes `deidc.dsl.parser` builds. Every node keeps
the `Span` it came from so later stages can point at the source. Names follow grammar rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from deidc.diagnostics import Span

# ---- selectors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyword:
    """A DICOM keyword such as `PatientName` (resolved against the dictionary by the compiler)."""

    name: str
    span: Span


@dataclass(frozen=True)
class Tag:
    """An exact tag `(gggg,eeee)`."""

    group: int
    element: int
    span: Span


@dataclass(frozen=True)
class TagMask:
    """A tag with `x` wildcard digits, e.g. `(50xx,xxxx)`; `value`/`care` are 32-bit masks."""

    text: str
    value: int
    care: int
    span: Span


@dataclass(frozen=True)
class PrivateTag:
    """`(gggg,"CREATOR",ee)`: a private element by group, creator and low byte (any block slot)."""

    group: int
    creator: str
    low_byte: int
    span: Span


ElementRef = Union[Keyword, Tag, TagMask, PrivateTag]


@dataclass(frozen=True)
class PathStep:
    """One level of a sequence path; `item` is an item index, or None for any item."""

    element: ElementRef
    item: int | None
    span: Span


@dataclass(frozen=True)
class AnyDepth:
    """`*` inside a path: any run of levels (zero or more in front, one or more at the end)."""

    span: Span


@dataclass(frozen=True)
class Path:
    steps: tuple[PathStep | AnyDepth, ...]
    span: Span


@dataclass(frozen=True)
class VrSelector:
    vrs: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class NamePattern:
    """`name ~ /regex/`: every dictionary keyword the regex finds."""

    pattern: str
    flags: str
    span: Span


Selector = Union[Keyword, Tag, TagMask, PrivateTag, Path, VrSelector, NamePattern]

# ---- actions ---------------------------------------------------------------------------------
# One node per alternative of `?action`; each action is declared in compiler/action_specs.py
# (ACTIONS), which pairs the node with its Plan class and checks `Action` lists them all.


@dataclass(frozen=True)
class Keep:
    span: Span


@dataclass(frozen=True)
class Remove:
    span: Span


@dataclass(frozen=True)
class Empty:
    span: Span


@dataclass(frozen=True)
class Dummy:
    """Replace with a dummy value suited to the attribute's VR (PS3.15 action D)."""

    span: Span


@dataclass(frozen=True)
class ReplaceConstant:
    value: str
    span: Span


@dataclass(frozen=True)
class ReplaceFrom:
    """Replace with the *new* value of another (top-level) attribute."""

    source: Keyword | Tag
    span: Span


@dataclass(frozen=True)
class KeyedHash:
    key: str | None
    span: Span


@dataclass(frozen=True)
class Pseudonym:
    template: str
    key: str | None
    span: Span


@dataclass(frozen=True)
class Lookup:
    table: str
    fallback: "Action"
    span: Span


@dataclass(frozen=True)
class Shift:
    param: str
    span: Span


@dataclass(frozen=True)
class RemapUid:
    root: str | None
    key: str | None
    span: Span


@dataclass(frozen=True)
class Quarantine:
    reason: str | None
    span: Span


@dataclass(frozen=True)
class FuzzyMatcher:
    threshold: int
    span: Span


@dataclass(frozen=True)
class ExactMatcher:
    span: Span


@dataclass(frozen=True)
class RegexMatcher:
    patterns: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class DateMatcher:
    shift: str | None  # None: remove dates found in the text
    span: Span


@dataclass(frozen=True)
class DetectMatcher:
    detectors: tuple[str, ...]  # names of deidc/compiler/detectors.py
    span: Span


CleanMatcher = Union[FuzzyMatcher, ExactMatcher, RegexMatcher, DateMatcher, DetectMatcher]


@dataclass(frozen=True)
class Clean:
    phi: str
    matchers: tuple[CleanMatcher, ...]
    span: Span


Action = Union[
    Keep, Remove, Empty, Dummy, ReplaceConstant, ReplaceFrom, KeyedHash, Pseudonym, Lookup,
    Shift, RemapUid, Quarantine, Clean,
]

# ---- conditions ------------------------------------------------------------------------------

Literal_ = Union[str, int]


@dataclass(frozen=True)
class Equals:
    attribute: Keyword | Tag
    value: Literal_
    span: Span


@dataclass(frozen=True)
class NotEquals:
    attribute: Keyword | Tag
    value: Literal_
    span: Span


@dataclass(frozen=True)
class OneOf:
    attribute: Keyword | Tag
    values: tuple[Literal_, ...]
    span: Span


@dataclass(frozen=True)
class Matches:
    attribute: Keyword | Tag
    pattern: str
    flags: str
    span: Span


@dataclass(frozen=True)
class Exists:
    attribute: Keyword | Tag
    span: Span


@dataclass(frozen=True)
class AllOf:
    items: tuple["Condition", ...]
    span: Span


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Condition", ...]
    span: Span


@dataclass(frozen=True)
class Negation:
    item: "Condition"
    span: Span


Condition = Union[Equals, NotEquals, OneOf, Matches, Exists, AllOf, AnyOf, Negation]

# ---- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StringValue:
    value: str
    span: Span


@dataclass(frozen=True)
class IntValue:
    value: int
    span: Span


@dataclass(frozen=True)
class SecretEnv:
    variable: str
    span: Span


@dataclass(frozen=True)
class SecretFile:
    path: str
    span: Span


@dataclass(frozen=True)
class ShiftSpec:
    """`days(hmac(key, PatientID), -3650..-30)`: a keyed per-patient offset."""

    unit: str  # "days" | "seconds"
    key: str
    source: Keyword | Tag
    low: int
    high: int
    span: Span


ParamValue = Union[StringValue, IntValue, SecretEnv, SecretFile, ShiftSpec]

# ---- statements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    number: int
    span: Span


@dataclass(frozen=True)
class Use:
    profile: str
    options: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Include:
    path: str
    span: Span


@dataclass(frozen=True)
class Param:
    name: str
    value: ParamValue
    span: Span


@dataclass(frozen=True)
class Option:
    name: str
    statements: tuple["Statement", ...]
    span: Span


@dataclass(frozen=True)
class Markers:
    """PS3.15 markers; `method` None keeps the method text set earlier (options add codes)."""

    method: str | None
    codes: tuple[int, ...]
    span: Span


@dataclass(frozen=True)
class Rule:
    selectors: tuple[Selector, ...]
    excepts: tuple[Selector, ...]
    action: Action
    span: Span


@dataclass(frozen=True)
class PrivateEntry:
    low_byte: int | None  # None: every element of the creator's block
    action: Action
    span: Span


@dataclass(frozen=True)
class PrivateBlock:
    creator: str
    entries: tuple[PrivateEntry, ...]
    span: Span


@dataclass(frozen=True)
class DefaultRule:
    action: Action
    span: Span


@dataclass(frozen=True)
class PrivateDefault:
    action: Action
    span: Span


@dataclass(frozen=True)
class UnknownDefault:
    """`unknown * -> ACTION`: standard-group elements the data dictionary does not know."""

    action: Action
    span: Span


@dataclass(frozen=True)
class When:
    condition: Condition
    statements: tuple["Statement", ...]
    span: Span


@dataclass(frozen=True)
class QuarantineStatement:
    reason: str
    span: Span


@dataclass(frozen=True)
class Collect:
    selectors: tuple[Selector, ...]
    name: str
    span: Span


@dataclass(frozen=True)
class OcrRedact:
    phi: str
    fuzzy: int | None
    span: Span
    detectors: tuple[str, ...] = ()  # names of deidc/compiler/detectors.py


@dataclass(frozen=True)
class RegionFill:
    box: tuple[int, int, int, int]
    value: int
    span: Span


@dataclass(frozen=True)
class HeaderRegionsFill:
    value: int
    span: Span


@dataclass(frozen=True)
class RedactAllText:
    box: tuple[int, int, int, int]
    span: Span


@dataclass(frozen=True)
class AllowLossy:
    """`allow lossy quality N`: redacted JPEG baseline images may be re-encoded lossy at quality N."""

    quality: int
    span: Span


PixelStatement = Union[OcrRedact, RegionFill, HeaderRegionsFill, RedactAllText, AllowLossy]


@dataclass(frozen=True)
class Pixels:
    condition: Condition | None
    statements: tuple[PixelStatement, ...]
    span: Span


Statement = Union[
    Version, Use, Include, Param, Option, Markers, Rule, PrivateBlock, DefaultRule,
    PrivateDefault, UnknownDefault, When, QuarantineStatement, Collect, Pixels,
]


@dataclass(frozen=True)
class RuleFile:
    path: str
    statements: tuple[Statement, ...]
    span: Span
