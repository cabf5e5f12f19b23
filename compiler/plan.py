"""The Plan: the contract between the compiler and the runtime, as plain data.

In: nothing (data types only). Out: what `deidc.compiler.compile_rules` returns and
`deidc.runtime` executes. Everything here is already resolved: tags are integers, private
creators are upper-cased strings, parameters are values, tables are dicts. The runtime does no
name lookups and no rule search beyond the indexes below. A Plan pickles (for worker processes)
and prints (`deidc compile --show`).

Precedence (one model, applied by `compiler.dispatch.Dispatcher`): the most specific selector
wins —

    path  >  tag or keyword  >  private element  >  private creator block  >  mask
          >  `unknown *` (standard elements the dictionary does not know)
          >  VR or name pattern  >  default (`default` / `private *`)

— and between rules of equal specificity, the one written later wins (`use`/`include` expand in
place, option blocks where they are declared). An `except` removes an element from that one rule
only; a rule under `when` exists only for datasets that meet its condition. The file meta
elements in `file_meta.FILE_META_OWNED` are never dispatched (the walk leaves them to the writer) and a rule
naming them is a compile error. Whether a standard tag is one the dictionary does not know (for
`unknown *`) is the one question the runtime asks of pydicom's dictionary, once per tag.

`PRECEDENCE` (after the Plan) declares this order once, as data: the Plan's rule indexes, best
first. The compiler fills and sorts them from it, the dispatcher tries them in its order, and
`--show`, `diff` and lint read them from it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any, Union


class Specificity(IntEnum):
    DEFAULT = 0
    VR_OR_NAME = 1
    UNKNOWN = 2  # `unknown *`: above VR rules, so a flipped-bit tag that says PN is still unknown
    MASK = 3
    PRIVATE_BLOCK = 4
    PRIVATE_ELEMENT = 5
    TAG = 6
    PATH = 7


@dataclass(frozen=True)
class Origin:
    """Where a rule was written: for audits, `explain` and diagnostics."""

    file: str
    line: int
    column: int
    selector: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


# ---- actions ---------------------------------------------------------------------------------
# Each is declared in compiler/action_specs.py (ACTIONS: its name, AST node, VRs, parameters,
# .deid text), which checks `PlanAction` lists them all; runtime/interpret/actions.py has its handler.


@dataclass(frozen=True)
class KeepAction:
    pass


@dataclass(frozen=True)
class RemoveAction:
    pass


@dataclass(frozen=True)
class EmptyAction:
    pass


@dataclass(frozen=True)
class ReplaceAction:
    value: str


@dataclass(frozen=True)
class DummyAction:
    """A dummy value chosen by the element's VR at run time (`Plan.dummy_values`)."""


@dataclass(frozen=True)
class CopyNewValueAction:
    """Replace with the de-identified value of another top-level attribute."""

    source_tag: int


@dataclass(frozen=True)
class HashAction:
    key: str


@dataclass(frozen=True)
class PseudonymAction:
    key: str
    template: str


@dataclass(frozen=True)
class LookupAction:
    table_file: str
    table: dict[str, str] = field(hash=False, compare=True)
    fallback: "PlanAction" = field(default_factory=KeepAction)


@dataclass(frozen=True)
class ShiftAction:
    shift: str  # name of a ShiftParam in Plan.shifts


@dataclass(frozen=True)
class RemapUidAction:
    key: str
    root: str


@dataclass(frozen=True)
class QuarantineAction:
    reason: str


@dataclass(frozen=True)
class CleanAction:
    """Remove the PHI of a collected set from free text; every other word stays."""

    phi: str  # name of a Plan.collects entry
    fuzzy: int | None  # similarity threshold 0-100; None: exact and regex only
    patterns: tuple[str, ...]  # built-in pattern names (ssn, phone, email, mrn) or /regex/flags
    dates: str | None  # "shift", "remove", or None: dates in the text are not looked for
    date_shift: str | None = None  # the ShiftParam that moves them, when dates == "shift"
    detectors: tuple[str, ...] = ()  # free-text detectors (compiler/detectors.py), in rule order


PlanAction = Union[
    KeepAction, RemoveAction, EmptyAction, ReplaceAction, DummyAction, CopyNewValueAction,
    HashAction, PseudonymAction, LookupAction, ShiftAction, RemapUidAction, QuarantineAction,
    CleanAction,
]

# ---- element patterns ------------------------------------------------------------------------


@dataclass(frozen=True)
class TagPattern:
    tag: int


@dataclass(frozen=True)
class MaskPattern:
    value: int
    care: int


@dataclass(frozen=True)
class PrivatePattern:
    group: int | None  # None: any odd group
    creator: str  # upper-case
    low_byte: int | None  # None: any element of the block


@dataclass(frozen=True)
class AnyDepthPattern:
    pass


ElementPattern = Union[TagPattern, MaskPattern, PrivatePattern]


@dataclass(frozen=True)
class StepPattern:
    element: ElementPattern
    item: int | None  # None: any item


@dataclass(frozen=True)
class PathPattern:
    steps: tuple[StepPattern | AnyDepthPattern, ...]


@dataclass(frozen=True)
class ExceptPatterns:
    """Elements an `except` takes out of a rule."""

    tags: frozenset[int] = frozenset()
    masks: tuple[MaskPattern, ...] = ()
    privates: tuple[PrivatePattern, ...] = ()
    vrs: frozenset[str] = frozenset()
    paths: tuple[PathPattern, ...] = ()


# ---- conditions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueIn:
    """True when any value of the attribute equals one of `values` (case-insensitive)."""

    tag: int
    values: frozenset[str]


@dataclass(frozen=True)
class ValueMatches:
    tag: int
    pattern: str
    flags: str
    # where the condition is written, for the reason a too-slow search gives; not compared, so
    # the same condition written twice is still evaluated once
    origin: Origin | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Present:
    tag: int


@dataclass(frozen=True)
class AllTrue:
    items: tuple["PlanCondition", ...]


@dataclass(frozen=True)
class AnyTrue:
    items: tuple["PlanCondition", ...]


@dataclass(frozen=True)
class Not:
    item: "PlanCondition"


PlanCondition = Union[ValueIn, ValueMatches, Present, AllTrue, AnyTrue, Not]

# ---- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretSource:
    kind: str  # "env" | "file"
    name: str  # variable name or absolute path
    origin: Origin


@dataclass(frozen=True)
class ShiftParam:
    unit: str  # "days" | "seconds"
    key: str
    source_tag: int
    low: int
    high: int


@dataclass(frozen=True)
class MarkerCode:
    value: str
    meaning: str


@dataclass(frozen=True)
class Markers:
    method: str
    codes: tuple[MarkerCode, ...]


@dataclass(frozen=True)
class PlanRule:
    id: int
    action: PlanAction
    specificity: Specificity
    origin: Origin
    condition: int | None = None  # index into Plan.conditions
    excepts: ExceptPatterns | None = None
    path: PathPattern | None = None  # only for Specificity.PATH


@dataclass(frozen=True)
class PhiCollection:
    """`collect ... as NAME`: the tags whose original values make up a PHI set, with the kind each
    gives (name, date, phone, place, id)."""

    name: str
    tags: dict[int, str] = field(hash=False)
    origin: Origin | None = None


@dataclass(frozen=True)
class OcrRedactOp:
    """`ocr -> redact PHI fuzzy N detect ...`: black out OCR'd text that matches the PHI set, or
    that a detector finds."""

    phi: str
    threshold: int  # 0-100
    detectors: tuple[str, ...] = ()  # free-text detectors (compiler/detectors.py), in rule order


@dataclass(frozen=True)
class RegionFillOp:
    box: tuple[int, int, int, int]  # x, y, width, height
    value: int


@dataclass(frozen=True)
class RedactAllTextOp:
    """`redact all text in region x,y,w,h`: every OCR'd word inside the region (vendor banners)."""

    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class HeaderRegionsFillOp:
    """`header regions -> fill V`: everything outside the Sequence of Ultrasound Regions (the
    image data the header declares) is filled — banners and annotations live there."""

    value: int


PixelOp = Union[OcrRedactOp, RegionFillOp, RedactAllTextOp, HeaderRegionsFillOp]


@dataclass(frozen=True)
class PixelRule:
    condition: int | None
    ops: tuple[PixelOp, ...]
    origin: Origin
    lossy_quality: int | None = None  # `allow lossy quality N`: JPEG baseline may be re-encoded


@dataclass(frozen=True)
class FileQuarantine:
    reason: str
    condition: int | None
    origin: Origin


@dataclass
class Plan:
    rules: list[PlanRule] = field(default_factory=list)
    # the rule indexes (ids best-first): `PRECEDENCE` below says what each holds and where it ranks
    by_tag: dict[int, list[int]] = field(default_factory=dict)
    by_private: dict[tuple[int | None, str, int], list[int]] = field(default_factory=dict)
    by_creator: dict[str, list[int]] = field(default_factory=dict)
    masks: list[tuple[int, int, int]] = field(default_factory=list)  # value, care, rule id
    by_vr: dict[str, list[int]] = field(default_factory=dict)
    by_name: dict[int, list[int]] = field(default_factory=dict)
    paths: list[int] = field(default_factory=list)
    defaults: list[int] = field(default_factory=list)
    private_defaults: list[int] = field(default_factory=list)
    unknown_defaults: list[int] = field(default_factory=list)  # `unknown *`
    conditions: list[PlanCondition] = field(default_factory=list)
    quarantines: list[FileQuarantine] = field(default_factory=list)
    secrets: dict[str, SecretSource] = field(default_factory=dict)
    shifts: dict[str, ShiftParam] = field(default_factory=dict)
    markers: Markers | None = None
    collects: dict[str, PhiCollection] = field(default_factory=dict)
    pixels: list[PixelRule] = field(default_factory=list)
    dummy_values: dict[str, str] = field(default_factory=dict)
    indexed_paths: bool = False  # some path names an item index: dispatch must key on it
    sources: list[str] = field(default_factory=list)  # rule files, in load order


# ---- precedence, as data ---------------------------------------------------------------------


class ElementKind(Enum):
    """What an element is, as far as precedence is concerned."""

    STANDARD = "standard"  # even group, in pydicom's data dictionary (repeating groups included)
    UNKNOWN = "unknown"  # even group, not in the dictionary (`unknown *`)
    PRIVATE = "private"  # odd group


ANY_ELEMENT = frozenset(ElementKind)
EVEN_GROUP = frozenset({ElementKind.STANDARD, ElementKind.UNKNOWN})
ODD_GROUP = frozenset({ElementKind.PRIVATE})
UNKNOWN_ONLY = frozenset({ElementKind.UNKNOWN})


class Keyed(Enum):
    """What an index files its rules under, which gives the shape of its Plan field."""

    PATH = "path"  # list[int]: path rules, tried against the element's ancestry
    TAG = "tag"  # dict[tag, list[int]]
    PRIVATE_ELEMENT = "private element"  # dict[(odd group or None, CREATOR, low byte), list[int]]
    CREATOR = "creator"  # dict[CREATOR, list[int]]
    MASK = "mask"  # list[(value, care, rule id)]
    VR = "vr"  # dict[VR, list[int]]
    NOTHING = "nothing"  # list[int]: a catch-all; each rule can decide every element it applies to


@dataclass(frozen=True)
class RuleIndex:
    """One of the Plan's rule indexes: which rules it holds, and for which elements."""

    field: str  # the Plan attribute that holds it
    specificity: Specificity  # of every rule it holds
    keyed: Keyed
    applies_to: frozenset[ElementKind]  # the elements its rules can decide
    step: str  # the precedence step that chose one of its rules, as `deidc explain` prints it
    title: str  # its section in `deidc compile --show`
    selector: str | None = None  # a catch-all's selector text, as written and printed


PATHS = RuleIndex("paths", Specificity.PATH, Keyed.PATH, ANY_ELEMENT, "path", "paths")
BY_TAG = RuleIndex("by_tag", Specificity.TAG, Keyed.TAG, ANY_ELEMENT, "tag", "tags")
BY_PRIVATE = RuleIndex("by_private", Specificity.PRIVATE_ELEMENT, Keyed.PRIVATE_ELEMENT, ODD_GROUP,
                       "private element", "private elements")
BY_CREATOR = RuleIndex("by_creator", Specificity.PRIVATE_BLOCK, Keyed.CREATOR, ODD_GROUP,
                       "private creator block", "private creator blocks")
MASKS = RuleIndex("masks", Specificity.MASK, Keyed.MASK, ANY_ELEMENT, "mask", "masks")
UNKNOWN_DEFAULTS = RuleIndex("unknown_defaults", Specificity.UNKNOWN, Keyed.NOTHING, UNKNOWN_ONLY,
                             "unknown element", "unknown elements", "unknown *")
BY_VR = RuleIndex("by_vr", Specificity.VR_OR_NAME, Keyed.VR, EVEN_GROUP, "VR or name", "VRs")
BY_NAME = RuleIndex("by_name", Specificity.VR_OR_NAME, Keyed.TAG, EVEN_GROUP, "VR or name", "name patterns")
PRIVATE_DEFAULTS = RuleIndex("private_defaults", Specificity.DEFAULT, Keyed.NOTHING, ODD_GROUP,
                             "default", "defaults", "private *")
DEFAULTS = RuleIndex("defaults", Specificity.DEFAULT, Keyed.NOTHING, ANY_ELEMENT, "default", "defaults", "default")

# The precedence model: ranks, best first. The dispatcher takes the first rank that has a rule
# for the element (meeting its condition, not excepted). Within a rank the indexes' rules tie and
# the later written (larger id) wins; `private *` is a rank of its own, above `default`.
PRECEDENCE: tuple[tuple[RuleIndex, ...], ...] = (
    (PATHS,),
    (BY_TAG,),
    (BY_PRIVATE,),
    (BY_CREATOR,),
    (MASKS,),
    (UNKNOWN_DEFAULTS,),  # above VR rules: a tag that lost a bit still says PN
    (BY_VR, BY_NAME),
    (PRIVATE_DEFAULTS,),
    (DEFAULTS,),
)
INDEXES: tuple[RuleIndex, ...] = tuple(index for rank in PRECEDENCE for index in rank)


def index_contents(plan: Plan, index: RuleIndex) -> Any:
    """The Plan field that holds `index` (shaped as `index.keyed` says: a list or a dict, hence
    Any)."""
    return getattr(plan, index.field)
