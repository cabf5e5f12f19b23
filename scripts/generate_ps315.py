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
    Option columns: K -> keep; C -> `shift date_shift` for DA/DT/TM attributes in the
    retain-longitudinal-modified-dates option, `clean phi` otherwise (every option block that
    cleans starts with a `collect ... as phi` line).
    Tags with X digits become mask selectors such as (50xx,xxxx); other tags are written as the
    pydicom keyword when there is one, else as (GGGG,EEEE). Rows of groups 0000 (command) and
    0002 (file meta) are skipped. The "(GGGG,EEEE) where GGGG is odd" row becomes `private * ->`.
Not from the table:
    The file meta elements that name where a file came from or went, or hold private data
    (IDENTIFYING_META, PS3.10 Table 7.1-1, all Type 3) -> remove; deidc writes the other file
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

from deidc.dsl.printer import format_text
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

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
NON_OPTION_KEYS = {"name", "tag", "id", "stdCompIOD", "basicProfile"}
DATE_VRS = {"DA", "DT", "TM"}
COLLECT_PHI = ["collect PatientName, PatientID, OtherPatientNames, OtherPatientIDs,",
               "    PatientBirthDate, AccessionNumber, InstitutionName, ReferringPhysicianName,",
               "    PatientAddress as phi"]
TAG_RE = re.compile(r"\(([0-9A-FX]{4}),([0-9A-FX]{4})\)")
COMMENT_COLUMN = 48
# File meta elements (PS3.10 Table 7.1-1, all Type 3) that name the applications and network
# addresses a file came from or went to, or carry private data: removed. (Table E.1-1 lists only
# MediaStorageSOPInstanceUID of group 0002, which deidc writes itself, as it does the group
# length, version, SOP class, transfer syntax and implementation elements.)
IDENTIFYING_META = {
    "SourceApplicationEntityTitle": "the AE title of the application that created the file",
    "SendingApplicationEntityTitle": "the AE title of the application that sent it",
    "ReceivingApplicationEntityTitle": "the AE title of the application that received it",
    "SourcePresentationAddress": "the network address of the source",
    "SendingPresentationAddress": "the network address of the sender",
    "ReceivingPresentationAddress": "the network address of the receiver",
    "PrivateInformationCreatorUID": "who wrote the private information",
    "PrivateInformation": "private data of the application that wrote the file",
}
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
#   Option columns: K -> keep; C -> shift date_shift for DA/DT/TM attributes under
#   retain-longitudinal-modified-dates, clean phi otherwise (blocks that clean collect `phi`).
# Selectors: pydicom keyword where the tag has one, else (GGGG,EEEE); repeating groups are masks
# with lower-case x. Groups 0000 (command) and 0002 (file meta; the runtime writes
# MediaStorageSOPInstanceUID itself) are skipped, in the option blocks too.
# Not from the table:
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


def _action(code: str, column: str, vr: str | None) -> str:
    if code not in ACTIONS:
        raise ValueError(f"unknown table action {code!r} in column {column}")
    if code == "C" and column == "rtnLongModifDatesOpt" and vr in DATE_VRS:
        return "shift date_shift"
    if code == "X/Z/U*" and vr == "SQ":
        # U* on a sequence means "replace the UIDs inside it": the sequence stays and the UI
        # rules remap what it holds.
        return "keep"
    return ACTIONS[code]


def _line(statement: str, comment: str, indent: str = "") -> str:
    text, comment = indent + statement, " ".join(comment.split())  # names may hold newlines
    return f"{text:<{COMMENT_COLUMN}} # {comment}" if len(text) < COMMENT_COLUMN else \
        f"{text}  # {comment}"


def _meta_lines() -> list[str]:
    lines = []
    for keyword, what in IDENTIFYING_META.items():
        tag = tag_for_keyword(keyword)
        if tag is None or tag >> 16 != 0x0002:
            raise ValueError(f"{keyword} is not a file meta element of the data dictionary")
        lines.append(_line(f"{keyword} -> remove", f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {what}"))
    return lines


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
        action = _action(row["basicProfile"], "basicProfile", vr)
        out.append(_line(f"{selector} -> {action}",
                         f"{row['tag']} {row['name']}; table: {row['basicProfile']}"))
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
            body.append(_line(f"{selector} -> {_action(value, column, vr)}",
                              f"{row['tag']} {row['name']}; table: {value}", "    "))
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
