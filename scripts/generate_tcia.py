"""Generate rulesets/tcia.deid from TCIA's de-identification tables.

In:  rulesets/tcia-standard-profile.csv -- TCIA's standard-attribute table ("Submission and
     De-identification Overview", table 1): Tag, Attribute Name, TCIA Profile (PS3.15 code),
     TCIA Implementation (the CTP function TCIA uses), Final CTP Script. Apache-2.0, see
     rulesets/SOURCES.md.
     rulesets/tcia-private-tag-kb.csv -- TCIA's private tag knowledge base (2024-02-01):
     element_sig_pattern, tag_name, vr, private_disposition. Apache-2.0.
Out: rulesets/tcia.deid -- TCIA's profile as deidc rules: parameters, markers, a `collect` of the
     PHI the rules remove or replace, one rule per standard attribute, one rule per private tag
     pattern of the knowledge base, the identifying file meta elements removed, then
     `private * -> remove`, `unknown * -> remove` and `default -> keep`, and the option
     keep-unknown-elements.

Standard table ("TCIA Implementation", then "TCIA Profile" and the dictionary VR):
    remove -> remove          keep -> keep, but `clean ...` (below) when the profile is C and the
    empty -> empty                    VR is free or coded text (LO SH ST LT UT UC PN AE CS)
    replace -> dummy          incrementdate -> shift date_shift (DA/DT/TM; else remove)
                              (a sequence keeps its items: `*/SEQ/* -> dummy` dummies their values)
    hashname -> hash          hashuid -> remap uid (keep for a sequence: its UIDs have own rules)
    time -> keep              process -> keep (a kept sequence is walked: rules apply inside)
    lookup -> PatientID: pseudonym "TCIA-{hmac:20}" (10^20 values: below 1e-6 for a collision
              among 10 million patients; 25 characters, within LO's 64); PatientName: replace
              PatientID
    Remove Unsafe -> remove (the "(gggg,eeee) where gggg is odd" row: `private * -> remove`)
    Any other value, or a lookup on another attribute, is an error. Rows of groups 0000 (command)
    and 0002 (file meta) are skipped with a comment.
    Where removal would break the object (dciodvfy, on MIDI-B and pydicom's test files), the
    value is still taken away but the attribute stays, as PS3.15 E.1.1 asks ("consistent with
    the IOD"): remove with TCIA Profile Z -> empty (the profile's own Z: a zero-length value,
    e.g. VerifyingObserverIdentificationCodeSequence, Type 2 in SR Document General);
    IOD_REQUIRED (OperatorsName Type 2 in General/RT Series -> empty; DeviceSerialNumber Type 1
    in Enhanced General Equipment -> dummy).
    Overlays: TCIA removes overlays ("Remove Overlays", CTP's whole-group removal), so the whole
    overlay group goes, `(60xx,xxxx) -> remove`: Overlay Data removed with the rest of the
    Overlay Plane module kept would leave a module without its Type 1 data.
Not from the tables:
    The file meta elements that name where a file came from or went, or hold private data
    (compiler/file_meta.py, PS3.10 Table 7.1-1, all Type 3) -> remove; deidc writes the other file
    meta elements itself.
    Standard-group elements the data dictionary does not know -> `unknown * -> remove`; the
    option keep-unknown-elements (`unknown * -> keep`) keeps them.
Private tag knowledge base (private_disposition, case and spaces normalised):
    k -> keep, or `clean ...` when the row's VR is free text (LO SH ST LT UT UC PN)
    d -> remove   h -> remap uid   o, oi -> shift date_shift   na or empty -> remove
    `(gggg,CREATOR",ee)` (the opening quote is missing in most rows) -> (gggg,"CREATOR",ee);
    sequence parents `...[<n>]` -> path steps (`/`; the item index is dropped: any item).
    Rows that share a pattern (creators compared case-insensitively) give one rule; when their
    actions disagree the most protective wins: remove > remap uid / shift > clean > keep.
    Skipped with a comment: patterns with an empty creator `(gggg,,ee)` (elements without a
    creator fall to `private * -> remove`), a private creator element `(gggg,00ee)` as a path
    leaf (the runtime keeps creators while their block holds elements), creators that a .deid
    private tag cannot spell (a `"` or a line break).

Usage: python scripts/generate_tcia.py            rewrite the .deid file
       python scripts/generate_tcia.py --check    exit 1, printing a diff, if the file is stale
"""

from __future__ import annotations

import argparse
import csv
import difflib
import re
import sys
from pathlib import Path
from typing import NamedTuple

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from deidc.compiler.file_meta import identifying_meta_rules
from deidc.dsl.printer import format_text

ROOT = Path(__file__).resolve().parents[1]
STANDARD_PATH = ROOT / "rulesets" / "tcia-standard-profile.csv"
KB_PATH = ROOT / "rulesets" / "tcia-private-tag-kb.csv"
OUTPUT_PATH = ROOT / "rulesets" / "tcia.deid"

CLEAN = ("clean phi fuzzy 90, regex ssn, phone, email, mrn, person, dates shift date_shift, "
         "detect address, person, phone, email, url, id")
# VRs whose kept values may carry free text: cleaned instead of kept (standard C rows; the
# knowledge base's k rows use the free-text VRs only).
STANDARD_TEXT_VRS = frozenset("LO SH ST LT UT UC PN AE CS".split())
KB_TEXT_VRS = frozenset("LO SH ST LT UT UC PN".split())
DATE_VRS = frozenset({"DA", "DT", "TM"})
# The patient's PHI that the rules remove or replace, gathered for `clean`: HIPAA Safe Harbor's
# identifiers are those of the individual and of relatives, employers and household members.
# Staff names (referring physician, operators) are not, and TCIA keeps descriptions that name
# them, so they are not collected (a physician named in a description stays).
COLLECT = ["PatientName", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
           "PatientID", "OtherPatientIDs", "IssuerOfPatientID", "AccessionNumber",
           "PatientBirthDate", "PatientAddress", "PatientTelephoneNumbers", "ResponsiblePerson",
           "MedicalRecordLocator", "AdmissionID"]
# What burned-in text shows and the image must lose: the patient's identifiers, the exam's dates
# and times (HIPAA: every date of the individual's care) and where it happened.
BURNED_IN = ["PatientName", "OtherPatientNames", "PatientBirthName", "PatientID", "OtherPatientIDs",
             "IssuerOfPatientID", "AccessionNumber", "PatientBirthDate", "StudyDate", "SeriesDate",
             "AcquisitionDate", "ContentDate", "StudyTime", "SeriesTime", "AcquisitionTime",
             "ContentTime", "InstitutionName", "InstitutionAddress", "PatientAddress"]
# Images likely to carry burned-in text: flagged, or of the kinds that usually do.
PIXELS = ('pixels where BurnedInAnnotation = "YES" or Modality in (US, SC, OT, XC, ES) {\n'
          "    ocr -> redact burned_in fuzzy 85\n}")
# Lint findings that are TCIA's published choices, silenced with the reason (deidc lint).
LINT_SUPPRESSIONS = [
    "# deidc: ignore-file[DL003] TCIA's table removes these attributes where PS3.15 would empty them; kept as published",
    "# deidc: ignore-file[DL004] attributes TCIA's table does not list are kept, as TCIA does",
    "# deidc: ignore-file[DL008] TCIA keeps patient characteristics such as EthnicGroup (113108)",
    "# deidc: ignore-file[DL010] the key is read from DEIDC_KEY when the rules run, not when they are linted",
]
# Structured content (SR): the text of TEXT content items is free text like any description.
STRUCTURED_TEXT = ["*/TextValue"]
# Attributes TCIA removes (X) that an IOD requires, where dciodvfy finds them missing after a
# removal: keyword -> (action, why). The value is gone either way (empty, or a dummy), but the
# attribute stays, so the object stays valid (PS3.15 E.1.1: de-identified objects stay
# consistent with their IOD; for X where the IOD needs the attribute, PS3.15 would use Z or D).
IOD_REQUIRED = {
    "OperatorsName": ("empty", "Type 2 in General Series and RT Series: emptied, not removed"),
    "DeviceSerialNumber": ("dummy", "Type 1 in Enhanced General Equipment: a dummy, not removed"),
}
# TCIA removes overlays (its table's Overlay Data row: "Remove Overlays", CTP's removal of the
# whole overlay groups 6000-601E): the Overlay Plane module goes as a whole.
OVERLAY_GROUP = "(60xx,xxxx)"
# TCIA Implementation -> action, for the values that need no VR or attribute check.
SIMPLE_ACTIONS = {"remove": "remove", "empty": "empty", "replace": "dummy", "hashname": "hash",
                  "time": "keep", "process": "keep", "remove unsafe": "remove"}
# 20 digits: n^2 / (2 * 10^20) < 1e-6 for n = 10 million patients (the birthday bound).
LOOKUPS = {"PatientID": 'pseudonym "TCIA-{hmac:20}"', "PatientName": "replace PatientID"}
# private_disposition -> (action, rank); the higher rank is the more protective.
DISPOSITIONS = {"k": ("keep", 0), "d": ("remove", 3), "h": ("remap uid", 2),
                "o": ("shift date_shift", 2), "oi": ("shift date_shift", 2), "na": ("remove", 3)}
RANKS = {"keep": 0, CLEAN: 1, "remap uid": 2, "shift date_shift": 2, "remove": 3}
TAG_RE = re.compile(r"\(([0-9A-FX]{4}),([0-9A-FX]{4})\)")
# One step of a knowledge-base signature: a standard tag, an element without a creator
# `(gggg,,ee)`, or a private element `(gggg,"CREATOR",ee)` (opening quote optional).
KB_STEP_RE = re.compile(r'\((?P<group>[0-9A-Fa-f]{4}),(?:(?P<element>[0-9A-Fa-f]{4})'
                        r'|,(?P<orphan>[0-9A-Fa-f]{2})'
                        r'|"?(?P<creator>.*?)",(?P<low>[0-9A-Fa-f]{2}))\)(?:\[<(?P<item>\d+)>\])?')
COMMENT_COLUMN = 48
UNKNOWN_OPTION = "keep-unknown-elements"

HEADER = """\
# GENERATED by scripts/generate_tcia.py from rulesets/tcia-standard-profile.csv and
# rulesets/tcia-private-tag-kb.csv — do not edit
# Regenerate with `python scripts/generate_tcia.py`; tests/rulesets fail when this file is stale.
#
# Sources (Apache-2.0, see rulesets/SOURCES.md):
#   TCIA's standard-attribute de-identification table ("Submission and De-identification
#   Overview", table 1), {standard} rows: Tag, Attribute Name, TCIA Profile, TCIA Implementation.
#   TCIA's private tag knowledge base, 2024-02-01, {kb} rows: element_sig_pattern, tag_name, vr,
#   private_disposition.
#
# Standard attributes (TCIA Implementation -> action):
#   remove -> remove      empty -> empty      replace -> dummy      hashname -> hash
#   (replace on a sequence: its items stay and `*/SEQ/* -> dummy` replaces every value in them)
#   keep -> keep, or clean (below) when the TCIA Profile is C and the VR is free or coded text
#           (LO, SH, ST, LT, UT, UC, PN, AE, CS)
#   incrementdate -> shift date_shift (DA/DT/TM only; any other VR -> remove)
#   hashuid -> remap uid (keep for a sequence: the UIDs inside are remapped by their own rules)
#   time -> keep (TCIA keeps times)   process -> keep (a kept sequence is walked recursively)
#   lookup -> PatientID: pseudonym "TCIA-{{hmac:20}}" (10^20 values: a collision among 10 million
#           patients is below 1e-6); PatientName: replace PatientID (TCIA puts the looked-up
#           patient ID in the name)
#   Remove Unsafe -> remove (the private attributes row: `private * -> remove` below)
#   Groups 0000 (command) and 0002 (file meta; the runtime rewrites it) are skipped.
#   Where a removal would break the object, the value goes but the attribute stays (PS3.15
#   E.1.1: consistent with the IOD): remove with TCIA Profile Z -> empty (the profile's Z);
#   OperatorsName -> empty (Type 2 in General/RT Series); DeviceSerialNumber -> dummy (Type 1
#   in Enhanced General Equipment).
#   Overlays: TCIA removes them (Overlay Data row: "Remove Overlays"): the whole overlay group,
#   (60xx,xxxx) -> remove, since Overlay Data removed alone leaves a broken Overlay Plane module.
#   clean = {clean}
# Private tag knowledge base (private_disposition -> action):
#   k -> keep, or clean when the KB's VR is free text (LO, SH, ST, LT, UT, UC, PN)
#   d -> remove   h -> remap uid   o -> shift date_shift   oi -> shift date_shift (integer
#   seconds)   na or no disposition -> remove (not known to be safe)
#   (gggg,CREATOR",ee) -> (gggg,"CREATOR",ee); sequence parents (gggg,eeee)[<n>] -> path steps
#   (any item). One rule per pattern (creators compared case-insensitively); rows of a pattern
#   that disagree take the most protective action: remove > remap uid/shift > clean > keep.
#   Private elements the knowledge base does not list are removed (`private * -> remove`).
# Not from the tables:
#   File meta elements that name the applications or addresses a file came from or went to, or
#   hold private data (PS3.10 Table 7.1-1, Type 3: Source/Sending/ReceivingApplicationEntityTitle,
#   Source/Sending/ReceivingPresentationAddress, PrivateInformationCreatorUID,
#   PrivateInformation) are removed. deidc writes the other file meta elements itself.
#   Standard-group elements the data dictionary does not know are removed (`unknown * ->
#   remove`): nothing says they are safe (a PHI attribute whose tag lost a bit, a non-standard
#   use of a standard group). Option {unknown_option} keeps them (`unknown * -> keep`):
#   use "tcia" with {unknown_option}, or deidc apply --option {unknown_option}.
#
# Markers: codes for the options this table implements --
#   113100 Basic Application Confidentiality Profile
#   113101 Clean Pixel Data (burned-in text OCR'd and blacked out where it matches the PHI)
#   113104 Clean Structured Content (TextValue of SR content items cleaned)
#   113105 Clean Descriptors (descriptions kept by TCIA are cleaned here)
#   113107 Retain Longitudinal Temporal Information Modified Dates (incrementdate -> shift)
#   113108 Retain Patient Characteristics (sex, age, size, weight, ethnic group, ... kept)
#   113111 Retain Safe Private (the knowledge base's k elements are kept)
# and not claimed:
#   113109 Retain Device Identity: the table removes StationName, DetectorID, DeviceSerialNumber
#          (a dummy here)
"""


# ---- standard attributes ----------------------------------------------------------------------

def _parse_tag(tag: str) -> tuple[str, str] | None:
    """Return (group, element) in upper-case hex (X for any digit), or None if not a tag."""
    match = TAG_RE.fullmatch(tag.strip().upper())
    return (match.group(1), match.group(2)) if match else None


def _is_private_row(row: dict) -> bool:
    return row["Tag"].strip().lower().startswith("(gggg,eeee)")


def _skip_reason(group: str) -> str | None:
    if group == "0000":
        return "command group 0000, never in stored instances"
    if group == "0002":
        return "file meta group 0002, handled by the runtime"
    return None


def _standard_selector(group: str, element: str) -> tuple[str, str | None, str | None]:
    """Return (selector text, keyword or None, dictionary VR or None for masks and unknowns)."""
    if "X" in group + element:
        return f"({group.replace('X', 'x')},{element.replace('X', 'x')})", None, None
    value = int(group + element, 16)
    keyword = keyword_for_tag(value)
    vr = dictionary_VR(value) if keyword else None
    return (keyword or f"({group},{element})"), keyword, vr


def _vrs(vr: str | None) -> set[str]:
    return set(vr.split(" or ")) if vr else set()


def _standard_action(row: dict, keyword: str | None, vr: str | None) -> tuple[str, str | None]:
    """Return (action, note for the trailing comment) for one standard-table row."""
    implementation = " ".join(row["TCIA Implementation"].split()).lower()
    profile = row["TCIA Profile"].strip().upper()
    vrs = _vrs(vr)
    where = f"{row['Tag']} {_clean_name(row['Attribute Name'])}"
    if implementation == "keep":
        if profile == "C" and vrs and vrs <= STANDARD_TEXT_VRS:
            return CLEAN, "C on a text VR: cleaned"
        return "keep", None
    if implementation == "incrementdate":
        if vrs and vrs <= DATE_VRS:
            return "shift date_shift", None
        return "remove", f"incrementdate on VR {vr or 'unknown'}: cannot shift, removed"
    if implementation == "hashuid":
        if vrs == {"SQ"}:
            return "keep", "a sequence: the UIDs inside are remapped by their own rules"
        if vrs == {"UI"}:
            return "remap uid", None
        return "remove", f"hashuid on VR {vr or 'unknown'}: cannot remap, removed"
    if implementation == "lookup":
        if keyword not in LOOKUPS:
            raise ValueError(f"cannot map lookup for {where}: only PatientID and PatientName are known")
        return LOOKUPS[keyword], None
    if implementation == "remove" and keyword in IOD_REQUIRED:
        return IOD_REQUIRED[keyword]
    if implementation == "remove" and profile == "Z":
        return "empty", "the profile's Z: a zero-length value instead of a removal (Type 2 stays valid)"
    if implementation == "replace" and vrs == {"SQ"}:
        return "dummy", "a sequence: its items stay, every value in them a dummy (next rule)"
    if implementation in SIMPLE_ACTIONS:
        return SIMPLE_ACTIONS[implementation], None
    raise ValueError(f"cannot map TCIA Implementation {row['TCIA Implementation']!r} of {where}")


def _clean_name(name: str) -> str:
    """Attribute names hold zero-width spaces and line breaks here and there."""
    return " ".join(name.replace("\u200b", "").split())


def _standard_rules(rows: list[dict]) -> tuple[list[str], str, str]:
    """Rule lines for the standard table, and the private-attributes row's action and comment."""
    out: list[str] = []
    private_action, private_comment = "remove", "no private attributes row in the table"
    keyed = []
    for row in rows:
        if _is_private_row(row):
            private_action, _ = _standard_action(row, None, None)
            private_comment = (f"{_clean_name(row['Tag'])} {_clean_name(row['Attribute Name'])}; "
                               f"TCIA: {row['TCIA Profile']} {row['TCIA Implementation']}")
            continue
        parsed = _parse_tag(row["Tag"])
        if parsed is None:
            raise ValueError(f"cannot map tag {row['Tag']!r} of {row['Attribute Name']!r}")
        keyed.append((parsed[0] + parsed[1], row, parsed))
    keyed.sort(key=lambda item: (item[0], item[1]["Attribute Name"]))
    seen: dict[str, str] = {}
    for key, row, (group, element) in keyed:
        name = _clean_name(row["Attribute Name"])
        if key in seen:
            raise ValueError(f"tag {row['Tag']} appears twice ({seen[key]!r}, {name!r})")
        seen[key] = name
        reason = _skip_reason(group)
        if reason:
            out.append(f"# skipped {row['Tag']} {name}: {reason}")
            continue
        selector, keyword, vr = _standard_selector(group, element)
        action, note = _standard_action(row, keyword, vr)
        comment = f"{row['Tag']} {name}; TCIA: {row['TCIA Profile']} {row['TCIA Implementation']}"
        out.append(_line(f"{selector} -> {action}", comment + (f"; {note}" if note else "")))
        if action == "dummy" and vr == "SQ":
            # `dummy` keeps a sequence's items and lets their own rules decide them; what a
            # replaced sequence holds (the codes of a person's identification) is the identifier
            # itself, so every value in it becomes a dummy too.
            out.append(_line(f"*/{selector}/* -> dummy", f"{row['Tag']} {name}; TCIA: D replace, "
                                                          "the items' values"))
    return out, private_action, private_comment


# ---- private tag knowledge base ---------------------------------------------------------------

class Step(NamedTuple):
    """One level of a knowledge-base signature. (A NamedTuple, not a dataclass: the tests load
    this script by path, outside sys.modules, where dataclasses cannot resolve annotations.)"""
    group: int
    element: int | None = None  # standard tag (or a creator element) inside a sequence
    creator: str | None = None  # private element: creator as written, and its low byte
    low: int | None = None

    @property
    def key(self) -> tuple:
        if self.creator is None:
            return (self.group, 0, "", self.element)
        return (self.group, 1, self.creator.upper(), self.low)

    def text(self) -> str:
        if self.creator is None:
            return f"({self.group:04X},{self.element:04X})"
        return f'({self.group:04x},"{self.creator}",{self.low:02x})'


class Pattern:
    """The rows of one signature, and the spelling of its steps that the rule uses."""

    def __init__(self, steps: tuple[Step, ...]):
        self.steps = steps
        self.rows: list[dict] = []


def _parse_signature(signature: str) -> tuple[list[Step], str | None]:
    """Parse one element_sig_pattern into steps; the second value is a skip reason or None."""
    steps: list[Step] = []
    position, skip = 0, None
    text = signature.strip()
    while position < len(text):
        match = KB_STEP_RE.match(text, position)
        if match is None or (match.group("item") is None and match.end() != len(text)):
            raise ValueError(f"cannot parse private tag pattern {signature!r} at {text[position:]!r}")
        position = match.end()
        group = int(match.group("group"), 16)
        if match.group("element") is not None:
            element = int(match.group("element"), 16)
            if group & 1 and 0x10 <= element <= 0xFF:
                skip = skip or "a private creator element; the runtime keeps creators with their blocks"
            elif group & 1:
                raise ValueError(f"cannot map {signature!r}: private tag {match.group(0)} without a creator")
            steps.append(Step(group, element=element))
        elif match.group("orphan") is not None:
            skip = skip or "no private creator; such elements fall to private * -> remove"
            steps.append(Step(group, creator="", low=int(match.group("orphan"), 16)))
        else:
            creator = match.group("creator")
            if "[<" in creator:  # the lazy match ran over a malformed step into the next one
                raise ValueError(f"cannot parse private tag pattern {signature!r} at {text[match.start():]!r}")
            if not creator.strip():
                skip = skip or "no private creator; such elements fall to private * -> remove"
            elif '"' in creator or "\n" in creator or "\r" in creator:
                skip = skip or "the creator holds a quote or line break, which a .deid private tag cannot spell"
            if group % 2 == 0:
                raise ValueError(f"cannot map {signature!r}: private element in even group {group:04x}")
            steps.append(Step(group, creator=creator, low=int(match.group("low"), 16)))
        if match.group("item") is not None and position == len(text):
            raise ValueError(f"cannot map {signature!r}: it ends in an item index")
    if not steps:
        raise ValueError(f"empty private tag pattern {signature!r}")
    return steps, skip


def _disposition(row: dict) -> str:
    value = "".join(row["private_disposition"].split()).lower() or "na"
    if value not in DISPOSITIONS:
        raise ValueError(f"unknown private_disposition {row['private_disposition']!r} "
                         f"for {row['element_sig_pattern']!r}")
    return value


def _row_action(row: dict) -> str:
    action, _ = DISPOSITIONS[_disposition(row)]
    if action == "keep" and row["vr"].strip().upper() in KB_TEXT_VRS:
        return CLEAN
    return action


def _pattern_action(pattern: Pattern) -> tuple[str, str | None]:
    """One action for all rows of a pattern, and a note when the rows disagree."""
    actions = sorted({_row_action(row) for row in pattern.rows}, key=lambda a: (-RANKS[a], a))
    dispositions = sorted({_disposition(row) for row in pattern.rows})
    best = actions[0]
    tied = [a for a in actions if RANKS[a] == RANKS[best]]
    if len(tied) > 1:  # remap uid against a date shift: neither fits both, so remove
        return "remove", f"dispositions disagree ({', '.join(dispositions)}): remove"
    if len(dispositions) > 1:
        return best, f"dispositions disagree ({', '.join(dispositions)}): most protective"
    return best, None


def _kb_comment(pattern: Pattern, note: str | None) -> str:
    names = sorted({" ".join(row["tag_name"].split()) for row in pattern.rows})
    values = sorted({f"{row['vr'].strip() or '-'} {row['private_disposition'].strip() or '-'}"
                     for row in pattern.rows})
    spellings = sorted({step.creator for row in pattern.rows
                        for step in _parse_signature(row["element_sig_pattern"])[0]
                        if step.creator} - {step.creator for step in pattern.steps})
    comment = f"{' / '.join(names) or 'unnamed'}; KB: {', '.join(values)}"
    if spellings:
        comment += f"; also spelt {', '.join(repr(s) for s in spellings)}"
    return comment + (f"; {note}" if note else "")


def _kb_rules(rows: list[dict]) -> tuple[list[str], dict[str, int]]:
    """Rule lines for the knowledge base, and counts for the summary."""
    patterns: dict[tuple, Pattern] = {}
    skipped: dict[tuple, tuple[str, list[dict]]] = {}
    for row in rows:
        steps, skip = _parse_signature(row["element_sig_pattern"])
        _disposition(row)  # unknown dispositions fail here, skipped rows too
        key = tuple(step.key for step in steps)
        if skip:
            skipped.setdefault(key, (skip, []))[1].append(row)
            continue
        pattern = patterns.get(key)
        if pattern is None:
            pattern = patterns[key] = Pattern(tuple(steps))
        elif tuple(s.text() for s in steps) < tuple(s.text() for s in pattern.steps):
            pattern.steps = tuple(steps)  # the spelling kept does not depend on row order
        pattern.rows.append(row)
    out: list[str] = []
    counts = {"rows": len(rows), "patterns": len(patterns), "conflicts": 0,
              "skipped patterns": len(skipped), "skipped rows": 0}
    current_block = None
    for key in sorted(patterns):
        pattern = patterns[key]
        first = pattern.steps[0]
        block = (first.group, first.creator.upper() if first.creator else f"{first.element:04X}")
        if block != current_block:
            current_block = block
            out += ["", f'# group {first.group:04x}, creator "{first.creator}"' if first.creator
                    else f"# inside {first.text()}"]
        action, note = _pattern_action(pattern)
        if note:
            counts["conflicts"] += 1
        selector = "/".join(step.text() for step in pattern.steps)
        out.append(_line(f"{selector} -> {action}", _kb_comment(pattern, note)))
    if skipped:
        out += ["", "# ---- knowledge-base patterns that cannot be written as selectors " + "-" * 28]
    for key in sorted(skipped):
        reason, skip_rows = skipped[key]
        counts["skipped rows"] += len(skip_rows)
        signature = skip_rows[0]["element_sig_pattern"]
        values = sorted({f"{row['vr'].strip() or '-'} {row['private_disposition'].strip() or '-'}"
                         for row in skip_rows})
        out.append(" ".join(f"# skipped {signature} ({', '.join(values)}): {reason}".split()))
    return out, counts


# ---- the file ---------------------------------------------------------------------------------

def _line(statement: str, comment: str) -> str:
    comment = " ".join(comment.split())
    return f"{statement:<{COMMENT_COLUMN}} # {comment}" if len(statement) < COMMENT_COLUMN else \
        f"{statement}  # {comment}"


def _meta_lines() -> list[str]:
    return [_line(rule, comment) for rule, comment in identifying_meta_rules()]


def _collect_line(keywords: list[str] = COLLECT, name: str = "phi") -> list[str]:
    known = [keyword for keyword in keywords if tag_for_keyword(keyword) is not None]
    missing = [keyword for keyword in keywords if keyword not in known]
    lines = [f"# not in the data dictionary, left out: {', '.join(missing)}"] if missing else []
    return lines + [f"collect {', '.join(known)} as {name}"]


def render_tcia_ruleset(standard_rows: list[dict], kb_rows: list[dict]) -> str:
    """Render TCIA's standard table and private tag knowledge base as .deid text."""
    standard, private_action, private_comment = _standard_rules(standard_rows)
    private, counts = _kb_rules(kb_rows)
    out = [HEADER.format(standard=len(standard_rows), kb=len(kb_rows), clean=CLEAN, unknown_option=UNKNOWN_OPTION),
           "version 1", "",
           *LINT_SUPPRESSIONS, "",
           'key = secret("DEIDC_KEY")',
           "date_shift = days(hmac(key, PatientID), -3650..-30)", "",
           'markers "deidc: TCIA de-identification profile" codes 113100, 113101, 113104, 113105, 113107, 113108, 113111',
           "",
           "# PHI the rules below remove or replace, looked for in the text that `clean` keeps",
           *_collect_line(), "",
           "# ---- standard attributes: TCIA table 1 " + "-" * 54,
           *standard, "",
           "# ---- overlays: TCIA removes them (Remove Overlays), the whole overlay group " + "-" * 16,
           _line(f"{OVERLAY_GROUP} -> remove", "Overlay Plane module as a whole: Overlay Data removed "
                                               "alone would leave the module without its Type 1 data"), "",
           "# ---- burned-in text: OCR, matched against this PHI, blacked out in every frame " + "-" * 12,
           *_collect_line(BURNED_IN, "burned_in"), PIXELS, "",
           "# ---- structured content: text of SR content items, at any depth " + "-" * 28,
           *(_line(f"{path} -> {CLEAN}", "TEXT content items (113104)") for path in STRUCTURED_TEXT), "",
           "# ---- private tag knowledge base " + "-" * 61,
           f"# {counts['rows']} rows -> {counts['patterns']} patterns, of which "
           f"{counts['conflicts']} with disagreeing dispositions (most protective action taken); "
           f"{counts['skipped patterns']} patterns ({counts['skipped rows']} rows) skipped, listed at the end.",
           *private, "",
           "# ---- file meta (group 0002): where the file came from or went (PS3.10 Table 7.1-1) " + "-" * 8,
           *_meta_lines(), "",
           "# ---- everything else " + "-" * 72,
           _line(f"private * -> {private_action}",
                 f"private elements the knowledge base does not list: TCIA deletes them; "
                 f"table row {private_comment}"),
           _line("unknown * -> remove", "standard-group elements the data dictionary does not know; "
                                        f"option {UNKNOWN_OPTION} keeps them"),
           _line("default -> keep", "standard attributes the table does not list are kept"), "",
           f"option {UNKNOWN_OPTION} {{",
           _line("    unknown * -> keep", "standard-group elements the data dictionary does not know"),
           "}"]
    # the canonical layout of `deidc fmt`, so `deidc fmt --check rulesets/` passes
    return format_text("\n".join(out) + "\n", "generated.deid")


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def load_standard(path: Path = STANDARD_PATH) -> list[dict]:
    """Read TCIA's standard-attribute table shipped in rulesets/."""
    return _read_csv(path)


def load_kb(path: Path = KB_PATH) -> list[dict]:
    """Read TCIA's private tag knowledge base shipped in rulesets/."""
    return _read_csv(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file on disk differs from a fresh render")
    args = parser.parse_args(argv)
    text = render_tcia_ruleset(load_standard(), load_kb())
    if args.check:
        current = OUTPUT_PATH.read_text(encoding="utf-8") if OUTPUT_PATH.exists() else ""
        if current == text:
            print(f"{OUTPUT_PATH.relative_to(ROOT)} is up to date")
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"{OUTPUT_PATH.relative_to(ROOT)} (on disk)", tofile="(generated)"))
        print(f"\n{OUTPUT_PATH.relative_to(ROOT)} is stale: run python scripts/generate_tcia.py")
        return 1
    OUTPUT_PATH.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
