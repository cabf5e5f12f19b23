"""Whether releasing a mutant's marker would be no fault of deidc: some syntax reads the mutated file
cleanly to its end and finds the marker in an element no rule removes (or, for tcia, a cleaned
text keeps its marker while every collected element holding it is cut off). Then no tool could
know the value is PHI, and the mutant is recorded as ambiguous (`Mutant.ambiguous`).

In: a mutated file's bytes and the `Base` it was made from.
Out: `ambiguity(data, base)` -> {ruleset ("*" for both, or "tcia"): why}, empty when nothing is ambiguous.
"""
from __future__ import annotations

from faultkit.bases import Base, marker_paths
from faultkit.layout import PLAIN_SYNTAXES, Malformed, _tag_text, inflate, parse_meta, walk
from faultkit.sources import MARKER_RE

# ---- ambiguity: can a clean reading of the mutated bytes hold the marker where no rule removes it? --

# tcia.deid cleans these of the PHI it collects from COLLECTED (its `collect ... as phi` line)
TCIA_CLEANED = frozenset({(0x00081030,), (0x0018937F,)})
TCIA_COLLECTED = frozenset({(0x00100010,), (0x00101001,), (0x00101040,)})
# where mutations themselves put a marker: DecompositionDescription (removed by ps3.15-basic,
# cleaned by tcia); markers in private elements (anywhere) are removed by both rulesets
ADDED_MARKER_PATHS = frozenset({(0x0018937F,)})


def _removed_or_cleaned(path: tuple[int, ...] | None, planted: set[tuple[int, ...]]) -> bool:
    if path is None:
        return False
    return path in planted or path in ADDED_MARKER_PATHS or any((tag >> 16) % 2 for tag in path)


def ambiguity(data: bytes, base: Base) -> dict[str, str]:
    """ruleset ("*" for both, or "tcia") -> why releasing the marker would be no fault of deidc:
    some syntax reads the file cleanly to its end and finds a marker in an element no rule removes
    (a length mutation that lands exactly on a later element), or (tcia) a cleaned text keeps its
    marker while every collected element that holds it is cut off."""
    if data[128:132] == b"DICM":  # the dataset starts after the file meta, whatever its syntax
        try:
            offsets = [parse_meta(data)[1]]
        except Malformed:
            offsets = []  # no reader can tell where the dataset starts
    else:
        offsets = [0]  # a bare dataset (or one after a meta without preamble: group 0002 read as elements)
    planted = marker_paths(base)
    for offset in offsets:
        if offset >= len(data):
            continue
        for syntax in PLAIN_SYNTAXES:
            dataset = inflate(data[offset:], 64 << 20) if syntax.deflated else data[offset:]
            if not dataset:
                continue
            try:
                nodes = walk(dataset, syntax)
            except Malformed:
                continue
            leaves = [n for n in nodes if n.kind in ("element", "fragment") and n.vr != "SQ"]
            holders = set()
            for found in MARKER_RE.finditer(dataset):
                node = next((n for n in leaves if n.value <= found.start() < n.end), None)
                path = node.path + (node.tag,) if node is not None and node.kind == "element" else None
                if not _removed_or_cleaned(path, planted):
                    where = _tag_text(node) if node is not None else f"byte {found.start()}"
                    return {"*": f"read as {syntax} from byte {offset}, the file is whole and a marker sits "
                                 f"in {where}, which no rule removes"}
                holders.add(path)
            if holders & TCIA_CLEANED and not holders & TCIA_COLLECTED:
                return {"tcia": f"read as {syntax} from byte {offset}, the file is whole and the text tcia "
                                f"cleans keeps its marker, but every collected element holding it is cut off"}
    return {}
