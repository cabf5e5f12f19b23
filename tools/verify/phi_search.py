"""With the originals (`deidc verify OUT --against IN`): every PHI value of the original patient,
looked for in every text value of the output at any depth, and in its burned-in text (OCR).

In: the input file's dataset (what the patient's PHI was), the output file (its dataset, its
pixels). Out: `Finding`s of kind "phi-in-text" (path: the tag path) and "phi-in-pixels" (path:
"frame N", counted from 1), whose detail says what was found — "the original patient's surname" —
never the value.

A second implementation, written apart from `apply`: it reads no Plan and calls neither `clean`
nor its detectors (deidc.runtime.text), nor the burned-in text matcher of runtime/pixels. What it
shares with them: pydicom, deidc.dicom's VR sets, the OCR engines (a reader, not a matcher) and
two word lists of the rulesets folder, used only to leave out false alarms (English words, and
the generic words of street and institution names).

How a value is looked for:
- names: each word of 3 letters or more on its own, as a whole word, any case; also fuzzily
  (rapidfuzz ratio ≥ 90 in text, ≥ 85 in OCR'd text) for words of 5 letters or more, unless the
  word found is an English word. A name word that is a common English word (WHITE, HOPE) and a
  name whose words are short (LI^YU) are looked for only as the whole name, in any of its orders
  ("LAST, FIRST", "FIRST LAST", "LAST^FIRST"); initials (3 letters or more) as an upper-case word.
- IDs and telephone numbers: the value as a whole word, and its digits (runs of 5 or more) with at
  most two separators (space - . / ( )) between any two digits, not inside a longer number.
- dates: YYYYMMDD, YYYY-MM-DD, MM/DD/YYYY, DD.MM.YYYY (zero padding optional, any of - / .),
  "March 14, 1962", "14 Mar 1962", "14-Mar-1962". The study's own dates (study, series,
  acquisition, content) only where the output changed them: a release that keeps them says so
  in its headers, which the headers scanner judges.
- addresses and institutions: the whole value (its first part, up to a comma, too), any case,
  spaces and commas free; its distinctive words of 4 letters or more (not street types, states,
  directions, hospital words or common English words); a ZIP code as a 5-digit number.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import regex
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.filereader import dcmread
from pydicom.multival import MultiValue
from pydicom.pixels import pixel_array
from pydicom.sequence import Sequence
from rapidfuzz import fuzz, process

from deidc.dicom import TEXT_VRS, format_tag
from deidc.resources import RULESETS_DIR
from deidc.runtime.pixels.ocr import OcrEngine
from deidc.tools.verify import Finding

# ---- what is PHI --------------------------------------------------------------------------------

KINDS = ("name", "id", "date", "address", "phone", "place")

# tag -> what a finding calls it
NAME_TAGS = {
    0x00100010: "name",  # PatientName
    0x00101001: "other name",  # OtherPatientNames
    0x00101005: "birth name",  # PatientBirthName
    0x00101060: "mother's birth name",  # PatientMotherBirthName
    0x00102297: "responsible person's name",  # ResponsiblePerson
}
ID_TAGS = {
    0x00100020: "ID",  # PatientID
    0x00101000: "other ID",  # OtherPatientIDs
    0x00101090: "medical record locator",  # MedicalRecordLocator
    0x00080050: "accession number",  # AccessionNumber
}
OTHER_PATIENT_IDS_SEQUENCE = 0x00101002
DATE_TAGS = {
    0x00100030: "birth date",  # PatientBirthDate
    0x00080020: "study date",  # StudyDate
    0x00080021: "series date",  # SeriesDate
    0x00080022: "acquisition date",  # AcquisitionDate
    0x00080023: "content date",  # ContentDate
}
BIRTH_DATE = 0x00100030
PATIENT_ADDRESS = 0x00101040
PATIENT_TELEPHONE_NUMBERS = 0x00102154
PLACE_TAGS = {
    0x00080080: "institution name",  # InstitutionName
    0x00080081: "institution address",  # InstitutionAddress
}

# ---- what is searched ---------------------------------------------------------------------------

# Text VRs that hold no words: UIDs, numbers, ages, and dates and times (a date in a date element
# is the headers scanner's to judge).
NOT_SEARCHED_VRS = frozenset({"UI", "DA", "DT", "TM", "DS", "IS", "AS"})
SEARCHED_VRS = TEXT_VRS - NOT_SEARCHED_VRS
BYTES_SEARCHED_VRS = frozenset({"OB", "UN"})  # private and unknown elements: their printable runs
MAX_TEXT = 1 << 20  # characters of one value looked at
MIN_PRINTABLE_RUN = 4

TEXT_FUZZY = 90
OCR_FUZZY = 85
FUZZY_MIN_LETTERS = 5
MIN_DIGITS = 5
COMMON_WORD_CLASS = 16  # person-names.csv `word` ≥ 16: ≥ 10,000 occurrences in English text

TITLES = frozenset({"MR", "MRS", "MS", "MISS", "DR", "MD", "PROF", "REV", "SIR", "JR", "SR", "II", "III", "IV",
                    "PHD", "DDS", "RN", "ESQ", "MME", "HERR", "FRAU"})
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
MONTHS = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
          "NOVEMBER", "DECEMBER")

WORD = regex.compile(r"\p{L}+")
OCR_WORD = regex.compile(r"[\p{L}\p{N}]+")  # a word as OCR reads it: a letter may come out a digit
OCR_DIGITS = str.maketrans("0158", "OISB")
NAME_SEPARATORS = r"[\s^,.]+"
DIGIT_SEPARATORS = r"[\s\-./()]{0,2}"
# Tags whose bytes are never text: pixel data, waveforms, overlays.
PIXEL_GROUP = 0x7FE0


@dataclass(frozen=True)
class PhiValue:
    """One value of the original patient, and how it is looked for."""

    kind: str  # one of KINDS
    what: str  # what a finding calls it: "surname", "birth date", ...
    text: str  # the value (or a word of it): never printed
    source: int  # the tag it was read from
    # how: "word" (a whole word, any case; fuzzily for names), "phrase" (whole words in order),
    # "initials" (an upper-case word), "id" (the value as a word, and its digits), "phone" (its
    # digits), "digits" (one number, e.g. a ZIP code), "date" (YYYYMMDD, in the forms above)
    form: str

    @property
    def detail(self) -> str:
        return f"the original patient's {self.what}"


@dataclass
class PhiValues:
    """Every PHI value of one original patient, with what it takes to find them."""

    values: tuple[PhiValue, ...]
    words: dict[str, PhiValue] = field(init=False, repr=False)  # upper-case word -> value
    fuzzy: dict[str, PhiValue] = field(init=False, repr=False)  # name words searched fuzzily too
    pattern: regex.Pattern[str] | None = field(init=False, repr=False)  # everything else, one group a value
    groups: dict[str, PhiValue] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.words, self.fuzzy, self.groups = {}, {}, {}
        alternatives = []
        for value in self.values:
            if value.form == "word":
                self.words.setdefault(value.text, value)
                if value.kind == "name":
                    self.fuzzy.setdefault(value.text, value)
                continue
            body = _pattern(value)
            if body:
                name = f"v{len(self.groups)}"
                self.groups[name] = value
                alternatives.append(f"(?P<{name}>{body})")
        self.pattern = regex.compile("|".join(alternatives), regex.IGNORECASE) if alternatives else None

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[PhiValue]:
        return iter(self.values)

    def kinds(self) -> Counter[str]:
        return Counter(v.kind for v in self.values)

    def find(self, text: str, *, ocr: bool = False, initials: bool = True) -> set[PhiValue]:
        """The values found in `text`; `ocr`: text read from pixels, where letters are misread as
        digits (GALL0WAY) and the fuzzy match is looser; `initials`: look for initials too."""
        text = _plain(text[:MAX_TEXT])
        found: set[PhiValue] = set()
        english = english_words()
        cutoff = OCR_FUZZY if ocr else TEXT_FUZZY
        for match in (OCR_WORD if ocr else WORD).finditer(text):
            token = match.group().upper()
            if ocr:
                if not regex.search(r"\p{L}", token):
                    continue
                token = token.translate(OCR_DIGITS)
            if len(token) < 3:
                continue
            value = self.words.get(token)
            if value is not None:
                found.add(value)
            elif (self.fuzzy and len(token) >= FUZZY_MIN_LETTERS and token not in english
                  and (best := process.extractOne(token, self.fuzzy.keys(), scorer=fuzz.ratio,
                                                  score_cutoff=cutoff)) is not None):
                found.add(self.fuzzy[best[0]])
        if self.pattern is not None:
            for match in self.pattern.finditer(text, overlapped=True):
                value = self.groups[match.lastgroup or ""]
                if initials or value.form != "initials":
                    found.add(value)
        return found


# ---- the original's PHI ---------------------------------------------------------------------------

def original_phi(ds: Dataset) -> PhiValues:
    """Every PHI value of the original patient in `ds` (the input file)."""
    values: list[PhiValue] = []
    for tag, what in NAME_TAGS.items():
        for text in _strings(ds, tag):
            values += _name_values(text, tag, own=tag == 0x00100010, what=what)
    for tag, what in ID_TAGS.items():
        values += [_id_value(text, tag, what) for text in _strings(ds, tag)]
    for item in _items(ds, OTHER_PATIENT_IDS_SEQUENCE):
        values += [_id_value(text, OTHER_PATIENT_IDS_SEQUENCE, "other ID") for text in _strings(item, 0x00100020)]
    for tag, what in DATE_TAGS.items():
        for text in _strings(ds, tag):
            digits = regex.sub(r"\D", "", text)
            if len(digits) == 8 and _valid_date(digits):
                values.append(PhiValue("date", what, digits, tag, "date"))
    for text in _strings(ds, PATIENT_ADDRESS):
        values += _address_values(text, PATIENT_ADDRESS, "address", "address")
    for text in _strings(ds, PATIENT_TELEPHONE_NUMBERS):
        if len(regex.sub(r"\D", "", text)) >= MIN_DIGITS:
            values.append(PhiValue("phone", "telephone number", text, PATIENT_TELEPHONE_NUMBERS, "phone"))
    for tag, what in PLACE_TAGS.items():
        for text in _strings(ds, tag):
            values += _address_values(text, tag, "place", what)
    unique = list(dict.fromkeys(v for v in values if v.text))
    return PhiValues(tuple(unique))


def _strings(ds: Dataset, tag: int) -> list[str]:
    """The element's values as text (each of a multi-valued one), stripped; [] when absent."""
    try:
        elem = ds.get(tag)
    except Exception:  # a value pydicom cannot read
        return []
    if elem is None or elem.value is None or elem.VR == "SQ":
        return []
    raw = elem.value
    items = list(raw) if isinstance(raw, MultiValue | list | tuple) else [raw]
    out = []
    for item in items:
        text = item.decode("latin-1") if isinstance(item, bytes) else str(item)
        text = text.strip(" \x00")
        if text:
            out.append(text)
    return out


def _items(ds: Dataset, tag: int) -> list[Dataset]:
    elem = ds.get(tag)
    return list(elem.value) if elem is not None and elem.VR == "SQ" and elem.value else []


def _name_values(text: str, tag: int, *, own: bool, what: str) -> list[PhiValue]:
    """A person name: its words, and the whole name where a word alone would not do."""
    values: list[PhiValue] = []
    for group in text.split("="):  # alphabetic, ideographic, phonetic
        if not group.strip(" ^"):
            continue
        family, given, middle = _name_parts(group)
        parts = [(family, "surname"), (given, "given name"), (middle, "middle name")]
        if what != "name":  # another name of the patient's: "other name", "birth name", ...
            parts = [(words, what) for words, _ in parts]
        common = common_words()
        weak = False
        for words, part in parts:
            for word in words:
                if len(word) < 3 or word in TITLES:
                    weak = weak or (len(word) == 2 and word not in TITLES)
                    continue
                if word in common:
                    weak = True
                    continue
                values.append(PhiValue("name", part, word, tag, "word"))
        whole = [w for w in family + given + middle if w not in TITLES]
        if weak and len(whole) >= 2:
            orders = {(*family, *given, *middle), (*given, *middle, *family), (*given, *family), (*family, *given)}
            values += [PhiValue("name", what, " ".join(o), tag, "phrase")
                       for o in sorted(orders) if len(o) >= 2]
        if own:
            initials = "".join(w[0] for w in given + middle + family if w not in TITLES)
            if len(initials) >= 3:
                values.append(PhiValue("name", "initials", initials, tag, "initials"))
    return values


def _name_parts(text: str) -> tuple[list[str], list[str], list[str]]:
    """(family, given, middle) words, upper case: 'LAST^FIRST^MIDDLE', 'LAST, FIRST M' or 'FIRST M LAST'."""
    def words(s: str) -> list[str]:
        return [w.upper() for w in WORD.findall(_plain(s))]

    if "^" in text:
        parts = text.split("^") + ["", "", ""]
        return words(parts[0]), words(parts[1]), words(parts[2])
    if "," in text:
        family, rest = text.split(",", 1)
        rest_words = words(rest)
        return words(family), rest_words[:1], rest_words[1:]
    all_words = [w for w in words(text) if w not in TITLES]
    if len(all_words) <= 1:
        return all_words, [], []
    return all_words[-1:], all_words[:1], all_words[1:-1]


def _id_value(text: str, tag: int, what: str) -> PhiValue:
    return PhiValue("id", what, text, tag, "id")


def _address_values(text: str, tag: int, kind: str, what: str) -> list[PhiValue]:
    """An address or an institution: the whole value, its first part, its distinctive words, its ZIP."""
    values = [PhiValue(kind, what, text, tag, "phrase")]
    first = text.split(",")[0].strip()
    if first and first != text.strip() and len(WORD.findall(first)) >= 2:
        values.append(PhiValue(kind, what, first, tag, "phrase"))
    generic = generic_place_words()
    common = common_words()
    for word in WORD.findall(_plain(text)):
        word = word.upper()
        if len(word) >= 4 and word not in generic and word not in common:
            values.append(PhiValue(kind, what, word, tag, "word"))
    for number in regex.findall(r"(?<!\d)\d{5}(?!\d)", text):
        values.append(PhiValue(kind, what, number, tag, "digits"))
    return values


def _valid_date(digits: str) -> bool:
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    return 1800 <= year <= 2200 and 1 <= month <= 12 and 1 <= day <= 31


# ---- patterns -------------------------------------------------------------------------------------

def _pattern(value: PhiValue) -> str:
    """The regular expression (without flags) that finds `value`, or '' when there is none."""
    if value.form == "phrase":
        parts = regex.findall(r"\p{L}+|\d+", _plain(value.text))
        if not parts:
            return ""
        return r"(?<![\p{L}\p{N}])" + NAME_SEPARATORS.join(regex.escape(p) for p in parts) + r"(?![\p{L}\p{N}])"
    if value.form == "initials":
        return r"(?-i:(?<![\p{L}\p{N}])" + regex.escape(value.text) + r"(?![\p{L}\p{N}]))"
    if value.form == "digits":
        return r"(?<!\d)" + regex.escape(value.text) + r"(?!\d)"
    if value.form in ("id", "phone"):
        forms = []
        if value.form == "id" and len(value.text) >= 3:
            forms.append(r"(?<![\p{L}\p{N}])" + regex.escape(_plain(value.text)) + r"(?![\p{L}\p{N}])")
        runs = regex.findall(r"\d+", value.text) if value.form == "id" else [regex.sub(r"\D", "", value.text)]
        for run in runs:
            if len(run) >= MIN_DIGITS:
                forms.append(r"(?<!\d)" + DIGIT_SEPARATORS.join(run) + r"(?!\d)")
        return "|".join(f"(?:{f})" for f in forms)
    if value.form == "date":
        return _date_pattern(value.text)
    return ""


def _date_pattern(digits: str) -> str:
    """YYYYMMDD -> the forms a date is written in."""
    year, month, day = digits[:4], int(digits[4:6]), int(digits[6:])
    mm = f"0?{month}" if month < 10 else str(month)
    dd = f"0?{day}" if day < 10 else str(day)
    name = MONTHS[month - 1]
    sept = r"|SEPT\.?" if month == 9 else ""
    mon = f"(?:{name}|{name[:3]}\\.?{sept})"
    nth = r"(?:st|nd|rd|th)?"
    forms = [
        rf"{year}[-/.]?{month:02d}[-/.]?{day:02d}",
        rf"{year}[-/.]{mm}[-/.]{dd}",
        *(rf"{mm}{sep}{dd}{sep}{year}" for sep in ("/", "-", r"\.")),  # US: MM/DD/YYYY
        *(rf"{dd}{sep}{mm}{sep}{year}" for sep in ("/", "-", r"\.")),  # DD.MM.YYYY
        rf"{mon}\s*{dd}{nth},?\s*{year}",  # March 14, 1962
        rf"{dd}{nth}[\s\-]*(?:of\s+)?{mon}[\s\-,]*{year}",  # 14 Mar 1962, 14-Mar-1962
    ]
    return r"(?<![\p{L}\p{N}])(?:" + "|".join(forms) + r")(?![\p{L}\p{N}])"


def _plain(text: str) -> str:
    """Accents dropped (JOSÉ -> JOSE), so a name matches however it was typed."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


# ---- word lists -----------------------------------------------------------------------------------

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


# ---- text ----------------------------------------------------------------------------------------

def search_text(out_ds: Dataset, phi: PhiValues, rel: str) -> Iterator[Finding]:
    """Every text value of the output (file meta and data set, at any depth, private elements'
    printable bytes too) that holds a PHI value of the original patient."""
    if not len(phi):
        return
    kept = _kept_dates(out_ds, phi)
    seen: set[tuple[str, str]] = set()
    for path, text, binary in text_values(out_ds):
        # three upper-case letters in a binary value are as likely noise as initials
        for value in sorted(phi.find(text, initials=not binary), key=lambda v: (KINDS.index(v.kind), v.what)):
            if value in kept or (path, value.detail) in seen:
                continue
            seen.add((path, value.detail))
            yield Finding("phi-in-text", rel, path, value.detail)


def _kept_dates(out_ds: Dataset, phi: PhiValues) -> set[PhiValue]:
    """The study's own dates that the output's date element still holds: the release keeps them."""
    kept = set()
    for value in phi:
        if value.kind == "date" and value.source != BIRTH_DATE:
            out = _strings(out_ds, value.source)
            if out and regex.sub(r"\D", "", out[0]) == value.text:
                kept.add(value)
    return kept


def text_values(ds: Dataset) -> Iterator[tuple[str, str, bool]]:
    """(tag path, text, read from bytes) for every searched value: string VRs but UIDs, numbers
    and dates; the printable runs of OB and UN values; file meta first."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        yield from _walk(meta, "")
    yield from _walk(ds, "")


def _walk(ds: Dataset, prefix: str) -> Iterator[tuple[str, str, bool]]:
    for tag in list(ds.keys()):
        try:
            elem = ds[tag]
        except Exception:  # a value pydicom cannot read: the conformance scanner's to report
            continue
        path = prefix + format_tag(int(tag), lower=True)
        if elem.VR == "SQ" or isinstance(elem.value, Sequence):
            for index, item in enumerate(elem.value or ()):
                if isinstance(item, Dataset):
                    yield from _walk(item, f"{path}[{index}]/")
            continue
        text = _element_text(elem)
        if text:
            yield path, text, str(elem.VR) in BYTES_SEARCHED_VRS


def _element_text(elem: DataElement) -> str:
    tag, vr, value = int(elem.tag), str(elem.VR), elem.value
    if value is None or value == "" or value == b"":
        return ""
    if vr in SEARCHED_VRS:
        items: Iterable[object] = value if isinstance(value, MultiValue | list | tuple) else [value]
        return "\\".join(i.decode("latin-1") if isinstance(i, bytes) else str(i) for i in items)
    if vr in BYTES_SEARCHED_VRS and isinstance(value, bytes) and tag >> 16 != PIXEL_GROUP:
        return printable_runs(value[:MAX_TEXT])
    return ""


_PRINTABLE = regex.compile(rb"[\x20-\x7e\xa0-\xff\t]{%d,}" % MIN_PRINTABLE_RUN)


def printable_runs(data: bytes) -> str:
    """The runs of printable latin-1 characters in `data`, one a line (`strings`, in short)."""
    return "\n".join(run.decode("latin-1") for run in _PRINTABLE.findall(data))


# ---- pixels --------------------------------------------------------------------------------------

BURNED_IN_MODALITIES = frozenset({"US", "SC", "OT", "XC", "ES", "GM", "SM", "DOC"})
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
COLOUR = ("RGB", "YBR")
FRAME_CAP = 8  # frames read of a multi-frame image: first, middle, last and evenly between
COLOUR_FRAMES_MAX = 10  # a colour image of more frames (a cine loop of a colour modality) only by modality


def may_carry_burned_in_text(ds: Dataset) -> bool:
    """Images whose pixels often carry text: the modalities that draw it (ultrasound, secondary
    capture, photographs), an image that says it has some, a colour image of a few frames."""
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        return False
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        return True
    if str(ds.get("Modality", "")).strip().upper() in BURNED_IN_MODALITIES:
        return True
    if str(ds.get("SOPClassUID", "")).startswith(SECONDARY_CAPTURE):
        return True
    frames = _frame_count(ds)
    return str(ds.get("PhotometricInterpretation", "")).strip().upper().startswith(COLOUR) and frames <= COLOUR_FRAMES_MAX


def frames_to_read(count: int, cap: int = FRAME_CAP) -> list[int]:
    """0-based frame indices: first, middle, last, and evenly spaced others up to `cap`."""
    if count <= cap:
        return list(range(count))
    chosen = {0, count // 2, count - 1}
    for i in range(1, cap - 1):
        if len(chosen) >= cap:
            break
        chosen.add(round(i * (count - 1) / (cap - 1)))
    return sorted(chosen)


def search_pixels(out_path: Path, phi: PhiValues, rel: str, ocr: OcrEngine,
                  notes: Counter[str] | None = None) -> Iterator[Finding]:
    """OCR of the output's frames (of images that may carry burned-in text): a word that is a PHI
    value of the original patient is a "phi-in-pixels" finding, path "frame N" (from 1). A file
    whose pixels cannot be decoded is skipped and counted in `notes` ("pixels-unreadable"); the
    frames read are counted as "frames-read"."""
    notes = notes if notes is not None else Counter()
    if not len(phi):
        return
    try:
        ds = dcmread(out_path, force=True, defer_size=4096)  # pixels present, not read
    except Exception:
        notes["pixels-unreadable"] += 1
        return
    if not may_carry_burned_in_text(ds):
        return
    seen_frames: set[bytes] = set()
    for index in frames_to_read(_frame_count(ds)):
        try:
            frame = pixel_array(out_path, index=index)
        except Exception:
            notes["pixels-unreadable"] += 1
            return
        image = _ocr_image(frame)
        if image is None:
            continue
        key = hashlib.blake2b(image.tobytes(), digest_size=16).digest() + bytes(str(image.shape), "ascii")
        if key in seen_frames:
            continue
        seen_frames.add(key)
        notes["frames-read"] += 1
        found: set[PhiValue] = set()
        for word in ocr.read(image, detect=True):
            found |= phi.find(word.text, ocr=True, initials=False)
        for detail in sorted({v.detail for v in found}):
            yield Finding("phi-in-pixels", rel, f"frame {index + 1}", detail)


def _frame_count(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _ocr_image(frame: np.ndarray) -> np.ndarray | None:
    """A frame as OCR reads it: 2-D grey or H×W×3; None for what is no picture."""
    if frame.ndim == 3 and frame.shape[-1] in (3, 4):
        return np.ascontiguousarray(frame[..., :3])
    if frame.ndim == 2 and min(frame.shape) >= 16:
        return frame
    return None
