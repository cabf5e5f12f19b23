"""The word lists of the PHI search (tools/verify/phi_search.py): English words, and the generic
words of street and institution names, used only to leave out false alarms. Read from two files of
the rulesets folder (person-names.csv, address-words.json) and a few lists here."""
from __future__ import annotations

import csv
import functools
import json

from deidc.resources import RULESETS_DIR

COMMON_WORD_CLASS = 16  # person-names.csv `word` ≥ 16: ≥ 10,000 occurrences in English text

TITLES = frozenset({"MR", "MRS", "MS", "MISS", "DR", "MD", "PROF", "REV", "SIR", "JR", "SR", "II", "III", "IV",
                    "PHD", "DDS", "RN", "ESQ", "MME", "HERR", "FRAU"})
# Words an input's name field holds when it names nobody: what an earlier de-identification or a
# test file left there. They are no one's PHI, and a release may hold them as its own dummies.
PLACEHOLDER_NAMES = frozenset({"ANONYMIZED", "ANONYMISED", "ANONYMOUS", "ANON", "UNKNOWN", "NONE", "NOBODY",
                               "REMOVED", "REDACTED", "DEIDENTIFIED", "PATIENT", "TEST", "PHANTOM", "DUMMY"})
DIRECTIONS = frozenset({"NORTH", "SOUTH", "EAST", "WEST", "NORTHEAST", "NORTHWEST", "SOUTHEAST", "SOUTHWEST"})
PLACE_WORDS = frozenset({
    "HOSPITAL", "HOSPITALS", "MEDICAL", "MEDICINE", "CENTER", "CENTRE", "CENTERS", "CLINIC", "CLINICS",
    "CLINICAL", "IMAGING", "GENERAL", "COMMUNITY", "UNIVERSITY", "COLLEGE", "SCHOOL", "HEALTH", "HEALTHCARE",
    "SAINT", "MEMORIAL", "REGIONAL", "RADIOLOGY", "RADIOLOGIC", "INSTITUTE", "DEPARTMENT", "SERVICES",
    "SYSTEM", "SYSTEMS", "CHILDREN", "CHILDRENS", "COUNTY", "NATIONAL", "CANCER", "HEART", "DIAGNOSTIC",
    "DIAGNOSTICS", "ASSOCIATES", "GROUP", "FOUNDATION", "PARTNERS", "NETWORK", "INFIRMARY", "LABORATORY",
    "LABORATORIES", "CARE", "WOMENS", "VETERANS", "AFFAIRS", "ACADEMIC", "TEACHING", "SPECIALTY", "SURGICAL",
    "SURGERY", "ONCOLOGY", "CARDIOLOGY", "ORTHOPEDIC", "ORTHOPAEDIC", "REHABILITATION", "OUTPATIENT",
    "EMERGENCY", "PRACTICE", "PHYSICIANS", "PEDIATRIC", "SCAN", "SCANNING", "XRAY", "TRUST", "INC", "LLC",
})


@functools.lru_cache(maxsize=1)
def _word_classes() -> dict[str, int]:
    """English words -> floor(4·log10(count)) (rulesets/person-names.csv, column `word`)."""
    with (RULESETS_DIR / "person-names.csv").open(newline="", encoding="utf-8") as fh:
        return {row["token"]: int(row["word"]) for row in csv.DictReader(fh) if row["word"]}


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Words of English text (counted 200 times or more): a fuzzy match on one is no misspelt name."""
    return frozenset(_word_classes())


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Common English words (WHITE, YOUNG, GENERAL): a name or place word that is one is looked
    for only as part of the whole value."""
    return frozenset(w for w, c in _word_classes().items() if c >= COMMON_WORD_CLASS)


@functools.lru_cache(maxsize=1)
def generic_place_words() -> frozenset[str]:
    """Words of addresses and institution names that say nothing of where: street types, unit
    designators, states and provinces, directions, hospital words."""
    data = json.loads((RULESETS_DIR / "address-words.json").read_text(encoding="utf-8"))
    words: set[str] = set(PLACE_WORDS) | DIRECTIONS
    for suffix, abbreviations in data["street_suffixes"].items():
        words |= {suffix, *abbreviations}
    words |= set(data["other_street_types"]) | set(data["other_abbreviations"]) | set(data["other_abbreviations"].values())
    for unit, abbreviations in data["unit_designators"].items():
        words |= {unit, *abbreviations}
    for table in ("us_states", "ca_provinces"):
        for code, entry in data[table].items():
            name = entry if isinstance(entry, str) else entry[0]  # a province: [name, postcode letters]
            words |= {code, *name.upper().split()}
    return frozenset(words)
