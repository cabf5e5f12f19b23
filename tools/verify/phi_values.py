"""The original patient's PHI (see tools/verify/phi_search.py): `original_phi` reads the input
file's names, IDs, dates, address, telephone numbers and institution, each in the forms it is
looked for in (a name's words, its whole name where a word alone would not do, its initials; an
address's distinctive words and ZIP code)."""
from __future__ import annotations

import regex
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from deidc.tools.verify.phi_match import MIN_DIGITS, WORD, PhiValue, PhiValues, plain
from deidc.tools.verify.phi_words import PLACEHOLDER_NAMES, TITLES, common_words, generic_place_words

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


def original_phi(ds: Dataset) -> PhiValues:
    """Every PHI value of the original patient in `ds` (the input file)."""
    values: list[PhiValue] = []
    for tag, what in NAME_TAGS.items():
        for text in strings(ds, tag):
            values += _name_values(text, tag, own=tag == 0x00100010, what=what)
    for tag, what in ID_TAGS.items():
        values += [_id_value(text, tag, what) for text in strings(ds, tag)]
    for item in _items(ds, OTHER_PATIENT_IDS_SEQUENCE):
        values += [_id_value(text, OTHER_PATIENT_IDS_SEQUENCE, "other ID") for text in strings(item, 0x00100020)]
    for tag, what in DATE_TAGS.items():
        for text in strings(ds, tag):
            digits = regex.sub(r"\D", "", text)
            if len(digits) == 8 and _valid_date(digits):
                values.append(PhiValue("date", what, digits, tag, "date"))
    for text in strings(ds, PATIENT_ADDRESS):
        values += _address_values(text, PATIENT_ADDRESS, "address", "address")
    for text in strings(ds, PATIENT_TELEPHONE_NUMBERS):
        if len(regex.sub(r"\D", "", text)) >= MIN_DIGITS:
            values.append(PhiValue("phone", "telephone number", text, PATIENT_TELEPHONE_NUMBERS, "phone"))
    for tag, what in PLACE_TAGS.items():
        for text in strings(ds, tag):
            values += _address_values(text, tag, "place", what)
    unique = list(dict.fromkeys(v for v in values if v.text))
    return PhiValues(tuple(unique))


def strings(ds: Dataset, tag: int) -> list[str]:
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
                if word in PLACEHOLDER_NAMES:
                    continue
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
        return [w.upper() for w in WORD.findall(plain(s))]

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
    for word in WORD.findall(plain(text)):
        word = word.upper()
        if len(word) >= 4 and word not in generic and word not in common:
            values.append(PhiValue(kind, what, word, tag, "word"))
    for number in regex.findall(r"(?<!\d)\d{5}(?!\d)", text):
        values.append(PhiValue(kind, what, number, tag, "digits"))
    return values


def _valid_date(digits: str) -> bool:
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    return 1800 <= year <= 2200 and 1 <= month <= 12 and 1 <= day <= 31
