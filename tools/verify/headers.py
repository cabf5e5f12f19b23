"""The header scan: what a released file still holds that the published tables say should be gone.

In: one released file (and, with --against, the input it was made from, as a Dataset). Out:
`Finding`s, at most one per element, naming the kind, the tag path and the file, never a value.

A second implementation, written apart from `apply` (no Plan, no walk, no `clean`): it reads the
file with pydicom, walks every element at any depth itself, and judges it by the published tables
shipped in rulesets/ -- PS3.15 Table E.1-1 (the Basic Profile action of each attribute and the
option columns) and TCIA's private tag knowledge base -- and by the data dictionary.

Kinds (first that applies, per element):
    file-meta-identifies          a file meta element naming the sender or receiver, or private
                                  file meta data; the Media Storage SOP Instance UID of the input
    private-not-safe              a private element the knowledge base does not list as kept ('k');
                                  one it says to hash or offset ('h', 'o', 'oi') when its value is
                                  the input's (without the input: reported unless the run's audit
                                  says it changed the element)
    unknown-standard-element      an even-group element the data dictionary does not know
    name-kept / pn-present        a person name: the input's value at the same path, or a part of
                                  the input patient's names / without the input: any person name
                                  but a dummy or the pseudonym the file has as PatientID
    date-not-shifted              a DA or DT with the input's value at the same path
    e1-removed-attribute-present  Table E.1-1 says X (remove) and the element holds a value; for X
                                  with an alternative (X/Z, X/D, X/Z/D): the input's value
    e1-attribute-unchanged        Table E.1-1 says Z or D (or Z/D) and the value is the input's
    not-dicom                     the file cannot be read as DICOM (as run.py names it)

The release's own De-identification Method Code Sequence (0012,0064) says which PS3.15 options it
applied; an attribute an applied option retains (K) or cleans (C) is not an E.1-1 finding (what
a cleaning left is for phi_search), and with the Retain Longitudinal Temporal Information Full
Dates Option (113106) an unchanged date is none. UIDs (action U, VR UI) are consistency.py's.
"""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from deidc.dicom import dictionary_vr, format_tag
from deidc.resources import RULESETS_DIR
from deidc.tools.verify import Finding

E1_TABLE = RULESETS_DIR / "ps3.15-table-e1-1.json"
PRIVATE_KB = RULESETS_DIR / "tcia-private-tag-kb.csv"

PATIENT_NAME = 0x00100010
PATIENT_ID = 0x00100020
# The input patient's names, whose parts must not appear in any person name of the output.
PATIENT_NAME_TAGS = (PATIENT_NAME, 0x00101001, 0x00101005, 0x00101060)  # name, other, birth, mother's birth
SOP_INSTANCE_UID = 0x00080018
MEDIA_STORAGE_SOP_INSTANCE_UID = 0x00020003
METHOD_CODE_SEQUENCE = 0x00120064
CODE_VALUE = 0x00080100
# File meta elements that name where a file came from or went (PS3.10 Table 7.1-1, all Type 3),
# or hold private data.
IDENTIFYING_META = {
    0x00020016: "Source Application Entity Title",
    0x00020017: "Sending Application Entity Title",
    0x00020018: "Receiving Application Entity Title",
    0x00020026: "Source Presentation Address",
    0x00020027: "Sending Presentation Address",
    0x00020028: "Receiving Presentation Address",
    0x00020100: "Private Information Creator UID",
    0x00020102: "Private Information",
}
# PS3.16 CID 7050 code -> the Table E.1-1 column of the option (the JSON's key).
OPTION_COLUMNS = {
    "113103": "cleanGraphOpt",
    "113104": "cleanStructContOpt",
    "113105": "cleanDescOpt",
    "113106": "rtnLongFullDatesOpt",
    "113107": "rtnLongModifDatesOpt",
    "113108": "rtnPatCharsOpt",
    "113109": "rtnDevIdOpt",
    "113110": "rtnUIDsOpt",
    "113111": "rtnSafePrivOpt",
    "113112": "rtnInstIdOpt",
}
FULL_DATES = "113106"
RETAIN_UIDS = "113110"
# Values that are no one's name: the dummies de-identifiers write (upper case, spaces collapsed).
DUMMY_NAMES = frozenset({"ANONYMIZED", "ANONYMOUS", "ANONYMISED", "ANON", "REMOVED", "REDACTED",
                         "DEIDENTIFIED", "DE-IDENTIFIED", "UNKNOWN", "NONE", "NA", "N/A", "XXX", "X"})
NAME_SPLIT = re.compile(r"[\^=\s,.]+")


# ---- walking a dataset -------------------------------------------------------------------------

Step = tuple[int, int, str, int]  # (group, 0, "", element) standard, (group, 1, CREATOR, low byte) private


class Element(NamedTuple):
    path: str  # "(0040,a730)[0]/(0040,a160)"
    tag: int
    vr: str
    elem: DataElement
    signature: tuple[Step, ...]  # the steps from the top, as the private tag KB writes them
    creator: bool  # a private creator element (gggg,0010-00ff) of an odd group


def walk(ds: Dataset, prefix: str = "", signature: tuple[Step, ...] = ()) -> Iterator[Element]:
    """Every element of `ds` at any depth (file meta aside), items after their sequence."""
    for key in sorted(ds.keys()):
        tag = int(key)
        try:
            elem = ds[tag]
        except Exception:  # a value pydicom cannot convert: conformance.py's to report
            continue
        group, number = tag >> 16, tag & 0xFFFF
        creator = bool(group & 1) and 0x0010 <= number <= 0x00FF
        if group & 1 and number > 0x00FF:
            owner = ds.get((group << 16) | (number >> 8)) if number >= 0x1000 else None
            name = str(owner.value).strip().upper() if owner is not None and owner.value else ""
            step: Step = (group, 1, name, number & 0xFF)
        else:
            step = (group, 0, "", number)
        path = prefix + format_tag(tag, lower=True)
        vr = str(elem.VR)
        yield Element(path, tag, vr, elem, signature + (step,), creator)
        if vr == "SQ" and elem.value:
            for number_in_sequence, item in enumerate(elem.value):
                yield from walk(item, f"{path}[{number_in_sequence}]/", signature + (step,))


def index(ds: Dataset) -> dict[str, DataElement]:
    """path -> element, for the input's value at the same path."""
    return {e.path: e.elem for e in walk(ds)}


def is_empty(elem: DataElement) -> bool:
    """No value, or only padding: an element that holds nothing."""
    value = elem.value
    if value is None:
        return True
    if str(elem.VR) == "SQ":
        return len(value) == 0
    if isinstance(value, (bytes, bytearray)):
        return not bytes(value).strip(b"\x00 ")
    if isinstance(value, (list, tuple, MultiValue)):
        return all(_one(v) == "" for v in value)
    return _one(value) == ""


def _one(value: object) -> str:
    return " ".join(str(value).replace("\x00", " ").split()).upper()


def normal(elem: DataElement) -> object:
    """A value as compared with the input's: text upper case, spaces collapsed, padding dropped."""
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).rstrip(b"\x00 ")
    if isinstance(value, (list, MultiValue)):
        return tuple(_one(v) for v in value)
    return _one(value)


# ---- the published tables ----------------------------------------------------------------------

class E1Row(NamedTuple):
    name: str
    actions: frozenset[str]  # the Basic Profile codes: {"X"}, {"X", "Z", "D"}, {"U"}, ...
    kept_by: frozenset[str]  # the option codes (113xxx) that retain (K) or clean (C) it


@lru_cache(maxsize=None)
def e1_table() -> tuple[dict[int, E1Row], tuple[tuple[int, int, E1Row], ...]]:
    """Table E.1-1: tag -> row, and the repeating-group rows as (mask, value, row)."""
    exact: dict[int, E1Row] = {}
    masked: list[tuple[int, int, E1Row]] = []
    for raw in json.loads(E1_TABLE.read_text(encoding="utf-8")):
        match = re.fullmatch(r"\(([0-9A-FX]{4}),([0-9A-FX]{4})\)", raw["tag"].upper())
        if match is None:  # the private attributes row: the KB check covers private elements
            continue
        text = match.group(1) + match.group(2)
        row = E1Row(raw["name"], frozenset(raw["basicProfile"].replace("*", "").split("/")),
                    frozenset(code for code, column in OPTION_COLUMNS.items() if raw.get(column) in ("K", "C")))
        if "X" in text:
            mask = int("".join("0" if ch == "X" else "F" for ch in text), 16)
            masked.append((mask, int(text.replace("X", "0"), 16), row))
        else:
            exact[int(text, 16)] = row
    return exact, tuple(masked)


def e1_row(tag: int) -> E1Row | None:
    exact, masked = e1_table()
    row = exact.get(tag)
    if row is None and not (tag >> 16) & 1:
        for mask, value, candidate in masked:
            if tag & mask == value:
                return candidate
    return row


@lru_cache(maxsize=None)
def private_kb() -> dict[tuple[Step, ...], frozenset[str]]:
    """TCIA's private tag knowledge base: signature -> its dispositions (k, d, h, o, oi, na).

    A signature is the element's steps from the top: `(0019,"GEMS_ACQU_01",0c)` one step,
    `(0029,"X",02)[<0>](0029,"X",a9)` two (the item index is the nesting depth: any item). The
    opening quote before the creator is missing in most rows; creators compare upper case, spaces
    stripped; an empty disposition is 'na'. Rows without a creator `(gggg,,ee)` and rows that do
    not parse are left out: they make nothing safe."""
    step_re = re.compile(r'\((?P<g>[0-9A-Fa-f]{4}),(?:(?P<e>[0-9A-Fa-f]{4})|"?(?P<c>[^"]*)",(?P<lo>[0-9A-Fa-f]{2}))\)'
                         r'(?:\[<\d+>\])?')
    kb: dict[tuple[Step, ...], set[str]] = {}
    with PRIVATE_KB.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            text, steps, position = row["element_sig_pattern"].strip(), [], 0
            while position < len(text):
                match = step_re.match(text, position)
                if match is None:
                    break
                position = match.end()
                group = int(match["g"], 16)
                if match["e"] is not None:
                    steps.append((group, 0, "", int(match["e"], 16)))
                else:
                    steps.append((group, 1, match["c"].strip().upper(), int(match["lo"], 16)))
            if position != len(text) or not steps or any(s[1] and not s[2] for s in steps):
                continue
            disposition = "".join(row["private_disposition"].split()).lower() or "na"
            kb.setdefault(tuple(steps), set()).add(disposition)
    return {key: frozenset(values) for key, values in kb.items()}


def declared_options(ds: Dataset) -> frozenset[str]:
    """The PS3.16 CID 7050 codes of the release's De-identification Method Code Sequence."""
    codes = set()
    sequence = ds.get(METHOD_CODE_SEQUENCE)
    for item in (sequence.value or []) if sequence is not None and str(sequence.VR) == "SQ" else []:
        code = item.get(CODE_VALUE)
        if code is not None and code.value:
            codes.add(str(code.value).strip())
    return frozenset(codes)


# ---- the scan ----------------------------------------------------------------------------------

def scan_headers(path: Path, rel: str, original: Dataset | None = None,
                 changed: frozenset[str] | None = None) -> Iterator[Finding]:
    """The findings of one released file; `original`: the input it was made from; `changed`: the
    tag paths the run's audit says it changed in this file (used when there is no `original`)."""
    try:
        ds = pydicom.dcmread(path, force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError, TypeError, KeyError) as err:
        yield Finding("not-dicom", rel, "", f"cannot be read as DICOM ({type(err).__name__})")
        return
    yield from _file_meta(ds, rel, original)
    options = declared_options(ds)
    before = index(original) if original is not None else None
    names = _name_parts(original) if original is not None else frozenset()
    pseudonym = ds.get(PATIENT_ID)
    pseudonym_id = _one(pseudonym.value) if pseudonym is not None and pseudonym.value else None
    for e in walk(ds):
        if e.creator or (e.tag & 0xFFFF) == 0 or is_empty(e.elem):
            continue
        finding = _judge(e, rel, options, before, names, pseudonym_id, changed)
        if finding is not None:
            yield finding


def _judge(e: Element, rel: str, options: frozenset[str], before: dict[str, DataElement] | None,
           names: frozenset[str], pseudonym_id: str | None, changed: frozenset[str] | None = None) -> Finding | None:
    group = e.tag >> 16
    old = before.get(e.path) if before is not None else None
    same = old is not None and not is_empty(old) and normal(old) == normal(e.elem)
    if group & 1:
        dispositions = private_kb().get(e.signature)
        if dispositions is None:
            return Finding("private-not-safe", rel, e.path, "a private element TCIA's private tag KB does not list")
        if dispositions & {"d", "na"}:
            return Finding("private-not-safe", rel, e.path,
                           "a private element TCIA's private tag KB says to delete (or gives no disposition)")
        if dispositions != {"k"}:
            if before is None:
                if changed is not None and e.path in changed:
                    return None  # the run's audit says it changed this element (hashed or shifted)
                return Finding("private-not-safe", rel, e.path, "TCIA's private tag KB says to hash or offset "
                               "this element; without the input or the run's audit it cannot be told whether it was")
            if same:
                return Finding("private-not-safe", rel, e.path,
                               "TCIA's private tag KB says to hash or offset this element; it holds the input's value")
    elif dictionary_vr(e.tag) is None:
        return Finding("unknown-standard-element", rel, e.path, "a standard-group element the data dictionary does not know")
    if e.vr == "PN":
        return _judge_name(e, rel, before, names, pseudonym_id, same)
    if e.vr in ("DA", "DT") and same and FULL_DATES not in options:
        return Finding("date-not-shifted", rel, e.path, f"a {e.vr} with the input's value at the same path")
    row = None if group & 1 else e1_row(e.tag)
    if row is None or e.vr == "UI" or "U" in row.actions or row.kept_by & options:
        return None
    if row.actions == {"X"}:
        return Finding("e1-removed-attribute-present", rel, e.path,
                       f"{row.name}: PS3.15 Table E.1-1 says remove (X), and it holds a value")
    if not same or e.vr in ("DA", "DT") or e.vr == "SQ":  # dates: date-not-shifted; sequences: their elements
        return None
    if "X" in row.actions:
        return Finding("e1-removed-attribute-present", rel, e.path,
                       f"{row.name}: PS3.15 Table E.1-1 says {'/'.join(sorted(row.actions))}; it holds the input's value")
    return Finding("e1-attribute-unchanged", rel, e.path,
                   f"{row.name}: PS3.15 Table E.1-1 says {'/'.join(sorted(row.actions))}; it holds the input's value")


def _judge_name(e: Element, rel: str, before: dict[str, DataElement] | None, names: frozenset[str],
                pseudonym_id: str | None, same: bool) -> Finding | None:
    text = normal(e.elem)
    values = text if isinstance(text, tuple) else (text,)
    # Not a name: a dummy, or the pseudonym this file has as PatientID (deidc's shipped rulesets
    # write the PatientID pseudonym into PatientName).
    values = tuple(v for v in values if isinstance(v, str) and v and v not in DUMMY_NAMES and v != pseudonym_id)
    if not values:
        return None
    if before is None:
        return Finding("pn-present", rel, e.path, "a person name a curator must look at (no input to compare with)")
    if same:
        return Finding("name-kept", rel, e.path, "a person name with the input's value at the same path")
    for value in values:
        tokens = {t for t in NAME_SPLIT.split(value) if t}
        letters = re.sub(r"[^A-Z]", "", value)
        if tokens & names or any(len(part) >= 4 and part in letters for part in names):
            return Finding("name-kept", rel, e.path, "a person name holding a part of the input patient's name")
    return None


def _name_parts(original: Dataset) -> frozenset[str]:
    """The family, given and middle names of the input patient's names, upper case, 2+ letters."""
    parts: set[str] = set()
    for tag in PATIENT_NAME_TAGS:
        elem = original.get(tag)
        if elem is None or not elem.value:
            continue
        for value in elem.value if isinstance(elem.value, (list, MultiValue)) else [elem.value]:
            name = value if isinstance(value, PersonName) else PersonName(str(value))
            for group in (name.alphabetic, name.ideographic, name.phonetic):
                for component in group.split("^")[:3]:
                    parts.update(t for t in NAME_SPLIT.split(component.upper()) if len(t) >= 2)
    return frozenset(parts - DUMMY_NAMES)


def _file_meta(ds: Dataset, rel: str, original: Dataset | None) -> Iterator[Finding]:
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return
    for tag, name in IDENTIFYING_META.items():
        elem = meta.get(tag)
        if elem is not None and not is_empty(elem):
            yield Finding("file-meta-identifies", rel, format_tag(tag, lower=True), f"{name} is present")
    elem = meta.get(MEDIA_STORAGE_SOP_INSTANCE_UID)
    if original is None or elem is None or is_empty(elem):
        return
    olds = [original.get(SOP_INSTANCE_UID), getattr(original, "file_meta", Dataset()).get(MEDIA_STORAGE_SOP_INSTANCE_UID)]
    if any(old is not None and not is_empty(old) and normal(old) == normal(elem) for old in olds):
        yield Finding("file-meta-identifies", rel, format_tag(MEDIA_STORAGE_SOP_INSTANCE_UID, lower=True),
                      "Media Storage SOP Instance UID is the input's SOP Instance UID")
