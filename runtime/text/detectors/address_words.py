"""Word lists of the `address` detector: the street, unit and place words from
rulesets/address-words.json (loaded once, on first use) and the words that are not part of an
address (function, measure and clinical words, cues)."""
from __future__ import annotations

import json
from functools import cache
from typing import NamedTuple

from deidc.resources import RULESETS_DIR

DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW", "NORTH", "SOUTH", "EAST", "WEST",
               "NORTHEAST", "NORTHWEST", "SOUTHEAST", "SOUTHWEST"}
# The suffixes people write most; a street ending in one of them is likelier an address.
COMMON_SUFFIXES = {"STREET", "AVENUE", "ROAD", "DRIVE", "LANE", "BOULEVARD", "COURT", "TERRACE",
                    "PARKWAY", "HIGHWAY", "CIRCLE", "TRAIL", "ALLEY", "CRESCENT", "PLACE", "WAY",
                    "EXPRESSWAY", "FREEWAY", "TURNPIKE", "CLOSE"}
FRENCH_TYPES = {"RUE", "CHEMIN", "BOULEVARD", "BOUL", "AVENUE", "AV", "RANG", "MONTEE", "ROUTE", "PLACE"}
ROAD_NUMBERED = {"HIGHWAY", "HWY", "ROUTE", "RTE"}
ROAD_NUMBERED_PREFIX = {"COUNTY", "STATE", "US", "INTERSTATE", "FM", "FARM"}
CUES = {"LIVES", "LIVE", "LIVED", "LIVING", "RESIDES", "RESIDE", "RESIDED", "RESIDING", "RESIDENT",
         "RESIDENCE", "ADDRESS", "ADDRESSES", "ADDR", "HOME", "MOVED", "MOVING", "MOVE", "RELOCATED",
         "RELOCATING", "RELOCATE", "LOCATED", "FROM", "BORN", "HOMETOWN", "DOMICILE", "DOMICILED",
         "STAYING", "STAYS", "NATIVE", "MAILING", "POSTAL", "ZIP", "POSTCODE", "HOUSE", "APARTMENT"}
CUE_FILLERS = {"AT", "IN", "ON", "TO", "OF", "THE", "NEAR", "BACK", "IS", "WAS", "NOW", "CURRENTLY",
                "RECENTLY", "HERE", "DOWN", "UP", "OUT", "A", "AN", "AND", "HER", "HIS", "THEIR",
                "WITH", "ORIGINALLY", "CODE", "AREA", "HOMELESS"}
FUNCTION_WORDS = {"A", "AN", "THE", "AND", "OR", "OF", "IN", "ON", "AT", "TO", "FOR", "FROM", "WITH",
                   "WITHOUT", "W", "WO", "BY", "IS", "ARE", "WAS", "WERE", "BE", "BEEN", "NO", "NOT",
                   "X", "PER", "VS", "AS", "INTO", "OVER", "UNDER", "THAN", "THEN", "THIS", "THAT",
                   "WHICH", "ALL", "EACH", "BOTH", "ALSO", "VIA", "PLUS", "MINUS", "AFTER", "BEFORE",
                   "PRIOR", "POST", "PRE", "TIMES", "ONLY", "APPROX", "APPROXIMATELY", "ABOUT"}
MEASURE_WORDS = {"MM", "CM", "M", "KM", "ML", "CC", "L", "DL", "MG", "G", "KG", "MCG", "UG", "MCL", "UL",
                  "MMOL", "MEQ", "IU", "U", "MIN", "MINS", "MINUTE", "MINUTES", "SEC", "SECS", "SECOND",
                  "SECONDS", "HR", "HRS", "H", "HOUR", "HOURS", "DAY", "DAYS", "WK", "WKS", "WEEK", "WEEKS",
                  "MO", "MOS", "MONTH", "MONTHS", "YR", "YRS", "YEAR", "YEARS", "YO", "FR", "GAUGE", "GY",
                  "CGY", "MGY", "MSV", "SV", "KV", "KVP", "MAS", "HZ", "MHZ", "KHZ", "T", "TESLA", "MMHG",
                  "BPM", "PCT", "PERCENT", "DEG", "DEGREE", "DEGREES", "CMH2O", "LPM", "MSEC", "MS",
                  "INCH", "INCHES", "FEET", "FOOT", "LB", "LBS", "OZ", "UNITS", "MBQ", "MCI", "MRAD"}
CLINICAL_WORDS = {"CT", "MR", "MRI", "MRA", "CTA", "XR", "CR", "DX", "US", "NM", "PET", "SPECT", "AP",
                   "PA", "LAT", "LATERAL", "OBL", "OBLIQUE", "AXIAL", "COR", "CORONAL", "SAG", "SAGITTAL",
                   "PORTABLE", "LEFT", "RIGHT", "LT", "RT", "BILAT", "BILATERAL", "CONTRAST", "VIEW",
                   "VIEWS", "SERIES", "IMAGE", "IMAGES", "SLICE", "SLICES", "LEVEL", "LEVELS", "LEAD",
                   "LEADS", "VESSEL", "VESSELS", "SEGMENT", "SEGMENTS", "LESION", "LESIONS", "NODE",
                   "NODES", "NODULE", "NODULES", "MASS", "MASSES", "CYST", "CYSTS", "STENT", "STENTS",
                   "TUBE", "TUBES", "LINE", "LINES", "DRAIN", "DRAINS", "CATHETER", "WIRE", "WIRES",
                   "CLIP", "CLIPS", "SCREW", "SCREWS", "FRACTURE", "FRACTURES", "RIB", "RIBS", "DISC",
                   "DISK", "VERTEBRA", "VERTEBRAE", "CHEST", "HEAD", "ABD", "ABDOMEN", "PELVIS",
                   "SPINE", "KNEE", "HIP", "SHOULDER", "ANKLE", "WRIST", "HAND", "FOOT", "BRAIN", "LUNG",
                   "LUNGS", "LIVER", "KIDNEY", "KIDNEYS", "HEART", "BREAST", "BONE", "BONES", "DOSE",
                   "DOSES", "PHASE", "PHASES", "SCAN", "SCANS", "STUDY", "STUDIES", "EXAM", "EXAMS",
                   "PROTOCOL", "PT", "PTS", "PATIENT", "PATIENTS", "DR", "DRS", "MD", "RN", "ECG",
                   "EKG", "STAT", "PRN", "PO", "IV", "IM", "SQ", "BID", "TID", "QID", "QD", "HX",
                   "TX", "SX", "RX", "FX", "NORMAL", "ABNORMAL", "ACUTE", "CHRONIC", "MILD",
                   "MODERATE", "SEVERE", "SMALL", "LARGE", "STABLE", "ANTERIOR",
                   "POSTERIOR", "SUPERIOR", "INFERIOR", "MEDIAL", "PROXIMAL", "DISTAL", "UPPER",
                   "LOWER", "MID", "TOTAL", "CONTROL"}
# Two-letter state codes that are also words or common abbreviations.
AMBIGUOUS_CODES = {"OR", "IN", "ME", "HI", "OK", "OH", "LA", "MA", "PA", "DE", "AL", "CO", "ID", "AS",
                    "AR", "GA", "MI", "MS", "NE", "DC", "VA", "SC", "MD", "MO", "MT", "CT", "PR", "ON",
                    "AB", "PE", "NS", "NB", "NT", "SK"}
NOT_A_NAME = FUNCTION_WORDS | MEASURE_WORDS | CLINICAL_WORDS | CUES | CUE_FILLERS | AMBIGUOUS_CODES
# Common suffixes that are also everyday words (`in place`, `one way`): in an all-capitals text
# without a cue they are not enough on their own.
WORDLIKE_SUFFIXES = {"PLACE", "WAY", "TRAIL", "CIRCLE", "CLOSE", "COURT", "DRIVE"}
# Suffixes that are everyday (or imaging) words: `AT 12 FOCAL POINTS`, `on Bed Rest` -- a word
# before a number or a preposition is not enough to make them a street.
EVERYDAY_SUFFIXES = {"VIEW", "VIEWS", "LIGHT", "LIGHTS", "STATION", "CENTER", "CENTERS", "CENTRE", "RUN",
                     "FALL", "FALLS", "REST", "WELL", "WELLS", "UNION", "UNIONS", "CLUB", "COURSE", "PASS",
                     "TRACK", "TRACKS", "KEY", "KEYS", "LOCK", "LOCKS", "SPRING", "SPRINGS", "FLAT", "FLATS",
                     "LAND", "WALL", "MALL", "FIELD", "FIELDS", "FORK", "FORKS", "CAMP", "STOP", "PORT",
                     "PORTS", "MISSION", "PARK", "POINT", "POINTS", "BRANCH", "BRIDGE", "BEND", "EXTENSION",
                     "DIVIDE", "RAMP", "SQUARE", "PATH", "CROSSING", "CORNER", "CORNERS", "COMMON", "RADIAL",
                     "BOTTOM", "CAPE", "GATE", "RISE", "GROUNDS", "STREAM", "ISLAND", "LODGE", "ROW",
                     "SPUR", "PIKE", "RAPID", "RAPIDS", "CLIFF", "NECK", "LOOPS", "FORGE", "WALKS"}
# ...and those that make no street without a house number: `on Bed Rest`, `on Cold Light`.
NOT_WITHOUT_NUMBER = {"REST", "FALL", "FALLS", "LIGHT", "LIGHTS", "WELL", "WELLS", "VIEW", "VIEWS", "STOP",
                      "PASS", "COURSE", "TRACK", "TRACKS", "LOCK", "LOCKS", "KEY", "KEYS", "RUN", "UNION",
                      "CLUB", "NECK", "FLAT", "FLATS", "RADIAL", "LAND", "SPRING", "BOTTOM", "WALL",
                      "EXTENSION", "DIVIDE", "STATION", "FIELD", "PATH"}
# Prepositions that put a place right after them: `found down outside 56 Kahn Rdg`.
LOCATIVES = {"AT", "OUTSIDE", "NEAR", "BEHIND", "OPPOSITE", "ACROSS", "ON", "OFF", "ALONG", "TO", "FROM",
             "BY", "PAST", "INTO"}
# Street names that are ordinals spelled out (`Second Ave`): not a lower-case common word.
SPELLED_ORDINALS = {"FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH", "EIGHTH", "NINTH",
                    "TENTH", "ELEVENTH", "TWELFTH"}
# State codes that are also credentials after a name (`Jane Clinton, MD`).
CREDENTIAL_CODES = {"MD", "PA", "DO", "NP", "RN"}
TITLES = {"DR", "DOCTOR", "MR", "MRS", "MS", "MISS", "PROF", "NURSE"}
COUNTRIES = {("CANADA",), ("USA",), ("UNITED", "STATES"), ("UK",), ("UNITED", "KINGDOM"), ("ENGLAND",),
              ("SCOTLAND",), ("WALES",), ("NORTHERN", "IRELAND")}
CITY_PREFIXES = {"ST": "SAINT", "STE": "SAINTE", "MT": "MOUNT", "FT": "FORT", "PT": "PORT"}



class WordLists(NamedTuple):
    suffix: dict[str, str]          # any spelling -> primary name (STREET, AVENUE...)
    units: set[str]                 # unit designators, any spelling
    states: dict[tuple[str, ...], str]     # ("OR",), ("OREGON",), ("NEW", "YORK") -> "OR"
    provinces: dict[tuple[str, ...], str]  # ("ON",), ("ONTARIO",) -> "ON"
    province_letters: dict[str, str]       # "ON" -> "KLMNP"
    uk_areas: set[str]
    zip3: dict[str, set[str]]
    city_lists: dict[str, str]      # state -> "CITY|CITY|..." (split on first use)


@cache
def word_lists() -> WordLists:
    data = json.loads((RULESETS_DIR / "address-words.json").read_text(encoding="utf-8"))
    suffix: dict[str, str] = {}
    for primary, spellings in data["street_suffixes"].items():
        for spelling in [primary, *spellings]:
            suffix.setdefault(spelling, primary)
    for word in data["other_street_types"]:
        suffix.setdefault(word, word)
    for abbreviation, word in data["other_abbreviations"].items():
        suffix.setdefault(abbreviation, suffix.get(word, word))
    units = {"#"}
    for name, spellings in data["unit_designators"].items():
        units.update([name, *spellings])
    states: dict[tuple[str, ...], str] = {}
    for code, name in data["us_states"].items():
        states[(code,)] = code
        states[tuple(name.split())] = code
    provinces: dict[tuple[str, ...], str] = {}
    letters: dict[str, str] = {}
    for code, (name, first) in data["ca_provinces"].items():
        provinces[(code,)] = code
        provinces[tuple(name.split())] = code
        letters[code] = first
    provinces[("QUÉBEC",)] = "QC"
    provinces[("NEWFOUNDLAND",)] = "NL"
    return WordLists(suffix, units, states, provinces, letters, set(data["uk_postcode_areas"]),
                  {prefix: set(codes.split()) for prefix, codes in data["us_zip3"].items()},
                  data["us_cities"])


@cache
def cities_of(state: str) -> frozenset[str]:
    return frozenset(word_lists().city_lists.get(state, "").split("|")) - {""}


@cache
def all_cities() -> frozenset[str]:
    return frozenset().union(*(cities_of(state) for state in word_lists().city_lists))
