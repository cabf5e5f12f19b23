"""Generate rulesets/ps3.15-basic.deid from DICOM PS3.15 Table E.1-1.

In:  rulesets/ps3.15-table-e1-1.json -- PS3.15 Table E.1-1 (2025 edition) as published by
     innolitics/dicom-standard (`standard/confidentiality_profile_attributes.json`, MIT licence;
     see rulesets/SOURCES.md). One row per attribute: name, tag, basicProfile and option columns.
Out: rulesets/ps3.15-basic.deid -- the Basic Application Level Confidentiality Profile as deidc
     rules, followed by one `option NAME { ... }` block per option column of the table.

Action mapping (table code -> deidc action):
    X -> remove    Z -> empty    D -> dummy    U -> remap uid    K -> keep    C -> clean phi
    Combinations resolve to the choice that keeps the IOD valid when the attribute may be
    Type 1/2: X/Z -> empty, X/D -> dummy, Z/D -> dummy, X/Z/D -> dummy, X/Z/U* -> remap uid
    (keep for a sequence: the UIDs inside are remapped by their own rules).
    Sequences (PS3.15 E.1.1: X for Type 3, Z for Type 2, D for Type 1): a sequence with no items
    is valid only where it is Type 2, and `dummy` keeps a sequence's items (D, "a non-zero length
    value"; their elements are de-identified by their own rules). So a combination on a
    sequence is X (remove) unless SEQUENCE_TYPES knows a common IOD that requires it: Type 2 ->
    empty, Type 1/1C -> dummy. D alone -> dummy.
Overlays: the table removes Overlay Data and Overlay Comments (X); with the rest of the Overlay
    Plane module kept the module has no Type 1 data, so the whole overlay group is removed
    (`(60xx,xxxx) -> remove`). The Clean Graphics option (C: keep, cleaned) keeps the module
    whole: its elements below (60xx,1000) (above, an odd group's are private data) are kept.
    Option columns: K -> keep; C -> `shift date_shift` for DA/DT/TM attributes in the
    retain-longitudinal-modified-dates option, `clean phi` otherwise (every option block that
    cleans starts with a `collect ... as phi` line).
    Tags with X digits become mask selectors such as (50xx,xxxx); other tags are written as the
    pydicom keyword when there is one, else as (GGGG,EEEE). Rows of groups 0000 (command) and
    0002 (file meta) are skipped. The "(GGGG,EEEE) where GGGG is odd" row becomes `private * ->`.
Not from the table:
    The free text that D sequences carry and the table does not name, now that `dummy` keeps
    their items (DUMMY_CONTENT): TextValue (Content Sequence), UnformattedTextValue (Graphic
    Annotation Sequence) -> dummy; every value in a Person Identification Code Sequence (the
    codes are the identifier) -> dummy. The Clean Structured Content and Clean Graphics options
    keep those texts for the sequence's `clean`.
    The file meta elements that name where a file came from or went, or hold private data
    (compiler/file_meta.py, PS3.10 Table 7.1-1, all Type 3) -> remove; deidc writes the other file
    meta elements itself.
    Standard-group elements the data dictionary does not know -> `unknown * -> remove` (nothing
    says they are safe: a PHI attribute whose tag lost a bit, a non-standard use of a standard
    group); the option keep-unknown-elements (`unknown * -> keep`, no CID 7050 code) keeps them.

Usage: python scripts/generate_ps315.py            rewrite the .deid file
       python scripts/generate_ps315.py --check    exit 1, printing a diff, if the file is stale
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

from pydicom.datadict import RepeatersDictionary, dictionary_VR, keyword_for_tag

from deidc.compiler.file_meta import identifying_meta_rules
from deidc.dsl.printer import format_text

ROOT = Path(__file__).resolve().parents[1]
TABLE_PATH = ROOT / "rulesets" / "ps3.15-table-e1-1.json"
OUTPUT_PATH = ROOT / "rulesets" / "ps3.15-basic.deid"

ACTIONS = {
    "X": "remove", "Z": "empty", "D": "dummy", "U": "remap uid", "K": "keep", "C": "clean phi",
    "X/Z": "empty", "X/D": "dummy", "Z/D": "dummy", "X/Z/D": "dummy", "X/Z/U*": "remap uid",
}
# Table column -> (option name, CID 7050 code, code meaning), in the table's column order.
OPTIONS = {
    "rtnSafePrivOpt": ("retain-safe-private", 113111, "Retain Safe Private Option"),
    "rtnUIDsOpt": ("retain-uids", 113110, "Retain UIDs Option"),
    "rtnDevIdOpt": ("retain-device-identity", 113109, "Retain Device Identity Option"),
    "rtnInstIdOpt": ("retain-institution-identity", 113112, "Retain Institution Identity Option"),
    "rtnPatCharsOpt": ("retain-patient-characteristics", 113108,
                       "Retain Patient Characteristics Option"),
    "rtnLongFullDatesOpt": ("retain-longitudinal-full-dates", 113106,
                            "Retain Longitudinal Temporal Information Full Dates Option"),
    "rtnLongModifDatesOpt": ("retain-longitudinal-modified-dates", 113107,
                             "Retain Longitudinal Temporal Information Modified Dates Option"),
    "cleanDescOpt": ("clean-descriptors", 113105, "Clean Descriptors Option"),
    "cleanStructContOpt": ("clean-structured-content", 113104, "Clean Structured Content Option"),
    "cleanGraphOpt": ("clean-graphics", 113103, "Clean Graphics Option"),
}
# Sequences given a combination with X (X/Z, X/D, X/Z/D) that a common IOD requires: keyword ->
# (the choice, where). Any other sequence with such a combination is removed (X: Type 3).
SEQUENCE_TYPES = {
    "AcquisitionContextSequence": ("empty", "Type 2 in the Acquisition Context module"),
    "ReferencedPerformedProcedureStepSequence": ("dummy", "Type 1C in DX Series; Type 3 in General Series"),
}
# Not from the table: what D sequences hold that the table does not name (rule, why, the option
# whose `clean` of the sequence takes the text instead).
DUMMY_CONTENT = [
    ("TextValue -> dummy", "TEXT content items of the Content Sequence (D)", "cleanStructContOpt"),
    ("UnformattedTextValue -> dummy", "text objects of the Graphic Annotation Sequence (D)", "cleanGraphOpt"),
    ("*/PersonIdentificationCodeSequence/* -> dummy",
     "Person Identification Code Sequence (D): its codes are the identifier", None),
]
# The overlay group: removed as a whole in the base profile; the Clean Graphics option keeps it.
OVERLAY_GROUP = "(60xx,xxxx)"
NON_OPTION_KEYS = {"name", "tag", "id", "stdCompIOD", "basicProfile"}
DATE_VRS = {"DA", "DT", "TM"}
COLLECT_PHI = ["collect PatientName, PatientID, OtherPatientNames, OtherPatientIDs,",
               "    PatientBirthDate, AccessionNumber, InstitutionName, ReferringPhysicianName,",
               "    PatientAddress as phi"]
TAG_RE = re.compile(r"\(([0-9A-FX]{4}),([0-9A-FX]{4})\)")
COMMENT_COLUMN = 48
UNKNOWN_OPTION = "keep-unknown-elements"

HEADER = """\
# GENERATED by scripts/generate_ps315.py from rulesets/ps3.15-table-e1-1.json — do not edit
# Regenerate with `python scripts/generate_ps315.py`; tests/rulesets fail when this file is stale.
#
# Source: DICOM PS3.15 Table E.1-1 (2025 edition), "Application Level Confidentiality Profile
# Attributes", from innolitics/dicom-standard standard/confidentiality_profile_attributes.json
# (MIT licence, see rulesets/SOURCES.md). {rows} table rows.
#
# Action mapping (table code -> deidc action):
#   X -> remove   Z -> empty   D -> dummy   U -> remap uid   K -> keep   C -> clean phi
#   Combinations take the choice that keeps the IOD valid when the attribute may be Type 1/2:
#   X/Z -> empty, X/D -> dummy, Z/D -> dummy, X/Z/D -> dummy, X/Z/U* -> remap uid
#   (keep for a sequence: the UIDs inside are remapped by their own rules).
#   Sequences: zero items are valid only where Type 2, and dummy keeps the items (their own
#   rules decide them), so X/Z, X/D, X/Z/D on a sequence -> remove (Type 3), but empty where a
#   common IOD makes it Type 2 and dummy where Type 1/1C (noted on the rule).
# Overlays: Overlay Data (X) removed alone breaks the Overlay Plane module: the whole overlay
#   group is removed, (60xx,xxxx) -> remove; option clean-graphics keeps it whole.
#   Option columns: K -> keep; C -> shift date_shift for DA/DT/TM attributes under
#   retain-longitudinal-modified-dates, clean phi otherwise (blocks that clean collect `phi`).
# Selectors: pydicom keyword where the tag has one, else (GGGG,EEEE); repeating groups are masks
# with lower-case x. Groups 0000 (command) and 0002 (file meta; the runtime writes
# MediaStorageSOPInstanceUID itself) are skipped, in the option blocks too.
# Not from the table:
#   Free text in D sequences that the table does not name: TextValue (Content Sequence),
#   UnformattedTextValue (Graphic Annotation Sequence) -> dummy; every value in a Person
#   Identification Code Sequence -> dummy. The clean options keep those texts for their clean.
#   File meta elements that name the applications or addresses a file came from or went to, or
#   hold private data (PS3.10 Table 7.1-1, Type 3: Source/Sending/ReceivingApplicationEntityTitle,
#   Source/Sending/ReceivingPresentationAddress, PrivateInformationCreatorUID,
#   PrivateInformation) are removed. deidc writes the other file meta elements itself.
#   Standard-group elements the data dictionary does not know are removed (`unknown * ->
#   remove`): nothing says they are safe (a PHI attribute whose tag lost a bit, a non-standard
#   use of a standard group). Option {unknown_option} keeps them (`unknown * -> keep`;
#   not a table column, so no CID 7050 code).
# Options are selected with: use "ps3.15-basic" with retain-uids, clean-descriptors, ...
# They come last so that, when selected, they override the base rules of equal specificity.
"""


def _parse_tag(tag: str) -> tuple[str, str] | None:
    """Return (group, element) in upper-case hex (X for any digit), or None if not a tag."""
    match = TAG_RE.fullmatch(tag.strip().upper())
    return (match.group(1), match.group(2)) if match else None


def _is_private_row(row: dict) -> bool:
    return row["tag"].upper().startswith("(GGGG,EEEE)")


def _skip_reason(row: dict) -> str | None:
    parsed = _parse_tag(row["tag"])
    if parsed is None:
        return None
    group = parsed[0]
    if group == "0000":
        return "command group 0000, never in stored instances"
    if group == "0002":
        return "file meta group 0002, handled by the runtime"
    return None


def _selector(row: dict) -> tuple[str, str | None]:
    """Return (selector text, VR from pydicom's dictionary or None for masks)."""
    parsed = _parse_tag(row["tag"])
    if parsed is None:
        raise ValueError(f"cannot map tag {row['tag']!r} of {row['name']!r}")
    group, element = parsed
    if "X" in group + element:
        return f"({group.replace('X', 'x')},{element.replace('X', 'x')})", None
    value = int(group + element, 16)
    keyword = keyword_for_tag(value)
    vr = dictionary_VR(value) if keyword else None
    return (keyword or f"({group},{element})"), vr


def _action(code: str, column: str, vr: str | None, keyword: str | None = None) -> str:
    if code not in ACTIONS:
        raise ValueError(f"unknown table action {code!r} in column {column}")
    if vr == "SQ" and code in ("X/Z", "X/D", "X/Z/D"):
        # zero items are valid only for a Type 2 sequence: X unless an IOD is known to need it
        return SEQUENCE_TYPES[keyword][0] if keyword in SEQUENCE_TYPES else "remove"
    if code == "C" and column == "rtnLongModifDatesOpt" and vr in DATE_VRS:
        return "shift date_shift"
    if code == "X/Z/U*" and vr == "SQ":
        # U* on a sequence means "replace the UIDs inside it": the sequence stays and the UI
        # rules remap what it holds.
        return "keep"
    return ACTIONS[code]


def _option_extras(column: str) -> list[str]:
    """Rules an option block needs besides its column: before the column's rows (which
    override them where they name the same elements)."""
    out = [_line(rule.split(" -> ")[0] + " -> keep", f"cleaned by the {why.split(' (')[0].split('of the ')[-1]}'s clean "
                 "instead of the base profile's dummy", "    ")
           for rule, why, option in DUMMY_CONTENT if option == column]
    if column == "cleanGraphOpt":
        # the Overlay Plane module kept whole: its attributes below (60xx,1000); above, the
        # elements of an odd group (60x1) are private data, which private rules decide
        out += [_line(f"({tag[:2]}xx,{tag[4:]}) -> keep", f"{name}: the overlay kept whole", "    ")
                for tag, (*_, name) in sorted(RepeatersDictionary.items())
                if tag.startswith("60xx") and int(tag[4:], 16) < 0x1000]
    return out


def _line(statement: str, comment: str, indent: str = "") -> str:
    text, comment = indent + statement, " ".join(comment.split())  # names may hold newlines
    return f"{text:<{COMMENT_COLUMN}} # {comment}" if len(text) < COMMENT_COLUMN else \
        f"{text}  # {comment}"


def _meta_lines() -> list[str]:
    return [_line(rule, comment) for rule, comment in identifying_meta_rules()]


def _sort_key(row: dict) -> tuple[int, str, str]:
    parsed = _parse_tag(row["tag"])
    if parsed is None:
        return (1, row["tag"], row["name"])
    return (0, parsed[0] + parsed[1], row["name"])


def render_ps315_ruleset(table_rows: list[dict]) -> str:
    """Render the PS3.15 Basic Profile (with its option blocks) as .deid text."""
    unknown = sorted({key for row in table_rows for key in row} - NON_OPTION_KEYS - set(OPTIONS))
    if unknown:
        raise ValueError(f"table has option columns this generator does not map: {unknown}")
    rows = sorted(table_rows, key=_sort_key)
    out = [HEADER.format(rows=len(table_rows), unknown_option=UNKNOWN_OPTION), "version 1", "",
           "# deidc: ignore-file[DL010] the key is read from DEIDC_KEY when the rules run, not when they are linted",
           "",
           'key = secret("DEIDC_KEY")',
           "date_shift = days(hmac(key, PatientID), -3650..-30)", "",
           'markers "deidc: PS3.15 Basic Application Confidentiality Profile" codes 113100', "",
           "# ---- Table E.1-1, Basic Profile column " + "-" * 54]
    private_rows = [row for row in rows if _is_private_row(row)]
    for row in rows:
        if _is_private_row(row):
            continue
        reason = _skip_reason(row)
        if reason:
            out.append(" ".join(f"# skipped {row['tag']} {row['name']}: {reason}".split()))
            continue
        selector, vr = _selector(row)
        action = _action(row["basicProfile"], "basicProfile", vr, selector)
        note = ""
        if vr == "SQ" and row["basicProfile"] in ("X/Z", "X/D", "X/Z/D"):
            note = f"; {SEQUENCE_TYPES[selector][1]}" if selector in SEQUENCE_TYPES else \
                "; Type 3: X # deidc: ignore[DL003] a sequence with no items is valid only where Type 2"
        elif vr == "SQ" and action == "dummy":
            note = "; items kept, their elements decided by their own rules"
        out.append(_line(f"{selector} -> {action}",
                         f"{row['tag']} {row['name']}; table: {row['basicProfile']}{note}"))
    out += ["", "# ---- overlays: the whole Overlay Plane module " + "-" * 47,
            _line(f"{OVERLAY_GROUP} -> remove", "Overlay Data (X) removed alone would leave the module "
                                                "without its Type 1 data")]
    out += ["", "# ---- not from the table: what D sequences hold that the table does not name " + "-" * 15]
    out += [_line(rule, why) for rule, why, _ in DUMMY_CONTENT]
    out += ["", "# ---- file meta (group 0002): where the file came from or went (PS3.10 Table 7.1-1) " + "-" * 8]
    out += _meta_lines()
    out.append("")
    private_action = _action(private_rows[0]["basicProfile"], "basicProfile", None) \
        if private_rows else "remove"
    out.append(_line(f"private * -> {private_action}",
                     "Private Attributes, (gggg,eeee) where gggg is odd; table: "
                     + (private_rows[0]["basicProfile"] if private_rows else "absent")))
    out.append(_line("unknown * -> remove", "standard-group elements the data dictionary does not know; "
                                            f"option {UNKNOWN_OPTION} keeps them"))
    out.append(_line("default -> keep", "attributes not listed in Table E.1-1 are retained"))
    for column, (option, code, meaning) in OPTIONS.items():
        out += ["", f"# ---- {meaning} (CID 7050 {code}), column {column} " + "-" * 8,
                f"option {option} {{",
                f"    markers codes {code}  # {meaning}"]
        body: list[str] = []
        for row in rows:
            value = row.get(column)
            if not value or _skip_reason(row):
                continue
            if _is_private_row(row):
                body += ["    # Safe-private knowledge is per private creator; a later",
                         "    # ruleset refines this blanket keep.",
                         _line("private * -> keep", f"Private Attributes; table: {value}", "    ")]
                continue
            selector, vr = _selector(row)
            if column == "rtnLongModifDatesOpt" and value == "C" and vr not in DATE_VRS:
                # "Modified" applies to dates and times; a non-date value (a UTC offset, a binary
                # timestamp) cannot be shifted, so the Basic Profile's action stands.
                body.append(_line(f"# {selector}: Basic Profile action kept",
                                  f"{row['tag']} {row['name']}; table: {value} on a non-date VR", "    "))
                continue
            body.append(_line(f"{selector} -> {_action(value, column, vr, selector)}",
                              f"{row['tag']} {row['name']}; table: {value}", "    "))
        body = _option_extras(column) + body
        if any("-> clean phi" in line for line in body):
            out += ["    " + line for line in COLLECT_PHI]
        out += body + ["}"]
    out += ["", "# ---- standard-group elements the data dictionary does not know: kept " + "-" * 24,
            f"option {UNKNOWN_OPTION} {{",
            _line("unknown * -> keep", "not a Table E.1-1 option: no CID 7050 code", "    "),
            "}"]
    # the canonical layout of `deidc fmt`, so `deidc fmt --check rulesets/` passes
    return format_text("\n".join(out) + "\n", "generated.deid")


def load_table(path: Path = TABLE_PATH) -> list[dict]:
    """Read the Table E.1-1 rows shipped in rulesets/."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file on disk differs from a fresh render")
    args = parser.parse_args(argv)
    text = render_ps315_ruleset(load_table())
    if args.check:
        current = OUTPUT_PATH.read_text(encoding="utf-8") if OUTPUT_PATH.exists() else ""
        if current == text:
            print(f"{OUTPUT_PATH.relative_to(ROOT)} is up to date")
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"{OUTPUT_PATH.relative_to(ROOT)} (on disk)", tofile="(generated)"))
        print(f"\n{OUTPUT_PATH.relative_to(ROOT)} is stale: run python scripts/generate_ps315.py")
        return 1
    OUTPUT_PATH.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
