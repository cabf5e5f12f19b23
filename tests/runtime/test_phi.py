"""Unit tests for deidc.runtime.text.phi: collected values → the forms PHI takes in free text.

Each test builds a PhiSet from (kind, original value) pairs, as the runtime does from the
attributes a `collect` names, and checks the exact words, fuzzy list and digit strings it holds.
"""
from __future__ import annotations

import datetime as dt

import pytest

from deidc.runtime.text.phi import DATE_LAYOUTS, GENERIC_WORDS, NAME_STOP_WORDS, PhiSet, build_phi, normalise_word


def phi_of(kind: str, value: str) -> PhiSet:
    return build_phi([(kind, value)])


# ---- names -------------------------------------------------------------------------------------


def test_dicom_name_gives_every_part_and_three_letter_initials():
    phi = phi_of("name", "GALLOWAY^REBECCA^HOPE")
    assert phi.words == {"GALLOWAY": "name", "REBECCA": "name", "HOPE": "name", "RHG": "initials"}
    # initials: given, middle, family (First Middle Last), never fuzzy-matched
    assert phi.fuzzy == ["GALLOWAY", "REBECCA", "HOPE"]
    assert phi.digits == {}


def test_dicom_name_without_middle_name_has_no_initials():
    phi = phi_of("name", "GALLOWAY^REBECCA")
    assert phi.words == {"GALLOWAY": "name", "REBECCA": "name"}
    assert "initials" not in phi.words.values()


@pytest.mark.parametrize("value", ["Rebecca Galloway", "Galloway, Rebecca", "galloway^rebecca",
                                   "  Rebecca   Galloway  "])
def test_free_forms_of_a_name_give_the_same_words(value):
    phi = phi_of("name", value)
    assert phi.words == {"REBECCA": "name", "GALLOWAY": "name"}
    assert sorted(phi.fuzzy) == ["GALLOWAY", "REBECCA"]


def test_titles_and_suffixes_are_not_collected():
    phi = phi_of("name", "Dr. John Smith MD")
    assert phi.words == {"JOHN": "name", "SMITH": "name"}
    phi = phi_of("name", "SMITH^JOHN^^DR^JR")
    assert phi.words == {"SMITH": "name", "JOHN": "name"}
    for title in ("MD", "DR", "JR", "MRS", "PHD"):
        assert title in NAME_STOP_WORDS
    # prefix/suffix components after the middle name do not spoil the initials
    phi = phi_of("name", "GALLOWAY^REBECCA^HOPE^DR^MD")
    assert phi.words == {"GALLOWAY": "name", "REBECCA": "name", "HOPE": "name", "RHG": "initials"}


def test_several_names_in_one_value():
    phi = phi_of("name", "GALLOWAY^REBECCA\\BRENNAN^TERESA^ANN")
    assert phi.words == {"GALLOWAY": "name", "REBECCA": "name", "BRENNAN": "name", "TERESA": "name",
                         "ANN": "name", "TAB": "initials"}
    assert "ANN" not in phi.fuzzy  # shorter than 4 letters


def test_fuzzy_list_holds_only_long_alphabetic_name_words():
    phi = phi_of("name", "O'BRIEN^LI^SMITH-JONES")
    assert phi.words == {"O'BRIEN": "name", "LI": "name", "SMITH-JONES": "name", "LSO": "initials"}
    assert phi.fuzzy == []  # an apostrophe, a hyphen, or fewer than 4 letters: exact only


def test_one_letter_parts_and_numbers_are_not_words():
    phi = phi_of("name", "GALLOWAY^R^H 2")
    assert phi.words == {"GALLOWAY": "name", "RHG": "initials"}


def test_blank_values_give_an_empty_set():
    phi = build_phi([("name", "   "), ("id", ""), ("date", " "), ("phone", ""), ("place", "")])
    assert (phi.words, phi.fuzzy, phi.digits) == ({}, [], {})


def test_first_kind_wins_for_a_word_seen_twice():
    phi = build_phi([("name", "HOPE^MARY"), ("place", "Hope Clinic")])
    assert phi.words["HOPE"] == "name"
    assert phi.fuzzy.count("HOPE") == 1


def test_name_with_ideographic_component_group_collects_the_given_name():
    phi = phi_of("name", "GALLOWAY^REBECCA=ガロウェイ^レベッカ")
    assert phi.words.get("REBECCA") == "name"
    assert "REBECCA" in phi.fuzzy


# ---- identifiers -------------------------------------------------------------------------------


def test_identifier_whole_value_digits_and_zero_stripped_digits():
    phi = phi_of("id", "00123456")
    assert phi.words == {"00123456": "id"}
    assert phi.digits == {"00123456": "id", "123456": "id"}
    assert phi.fuzzy == []  # identifiers are never fuzzy-matched


def test_identifier_with_letters_keeps_its_text_and_its_digits():
    phi = phi_of("id", "MRN00482913")
    assert phi.words == {"MRN00482913": "id"}
    assert phi.digits == {"00482913": "id", "482913": "id"}


def test_identifier_parts_are_words_too():
    phi = phi_of("id", "AB 12345 CD")
    assert phi.words == {"AB 12345 CD": "id", "12345": "id"}  # AB, CD: shorter than 3
    assert phi.digits == {"12345": "id"}


def test_identifier_with_few_digits_has_no_digit_form():
    phi = phi_of("id", "1CT1")
    assert phi.words == {"1CT1": "id"}
    assert phi.digits == {}


def test_multi_valued_identifier():
    phi = phi_of("id", "ABC123\\00789")
    assert phi.words == {"ABC123": "id", "00789": "id"}
    assert phi.digits == {"00789": "id", "789": "id"}


# ---- dates -------------------------------------------------------------------------------------


def test_date_in_every_layout():
    phi = phi_of("date", "19620314")
    day = dt.date(1962, 3, 14)
    expected = {normalise_word(day.strftime(layout)): "date" for layout in DATE_LAYOUTS if " " not in layout}
    assert phi.words == expected
    assert set(phi.words) == {"19620314", "03/14/1962", "14.03.1962", "1962-03-14", "03-14-1962",
                              "14/03/1962", "1962/03/14", "14-MAR-1962", "03/14/62"}
    # spelled-out layouts are phrases, found in text as a whole
    assert {"MARCH 14, 1962", "MAR 14, 1962", "14 MARCH 1962", "14 MAR 1962"} <= set(phi.phrases)
    for digits in ("19620314", "03141962", "14031962", "031462"):
        assert phi.digits[digits] == "date"
    assert phi.fuzzy == []


def test_date_time_value_uses_its_date():
    assert set(phi_of("date", "196203141230").words) == set(phi_of("date", "19620314").words)


def test_multi_valued_dates():
    phi = phi_of("date", "19620314\\19700101")
    assert {"19620314", "03/14/1962", "19700101", "01/01/1970"} <= set(phi.words)


@pytest.mark.parametrize("value", ["", "1962", "19621399", "not a date"])
def test_values_that_are_not_dates_give_no_date_forms(value):
    phi = phi_of("date", value)
    assert (phi.words, phi.digits) == ({}, {})


@pytest.mark.parametrize("value", ["199913", "2000022"])
def test_malformed_da_values_give_no_date_forms(value):
    phi = phi_of("date", value)
    assert (phi.words, phi.digits) == ({}, {})


# ---- phones ------------------------------------------------------------------------------------


def test_phone_digits_last_seven_and_last_ten():
    phi = phi_of("phone", "+1 (617) 555-0142")
    assert phi.digits == {"16175550142": "phone", "5550142": "phone", "6175550142": "phone"}
    assert phi.words == {}


def test_local_phone_and_several_numbers():
    phi = phi_of("phone", "555-0142\\617-555-9999")
    assert phi.digits == {"5550142": "phone", "6175559999": "phone", "5559999": "phone"}


def test_too_short_to_be_a_phone():
    assert phi_of("phone", "12345").digits == {}


# ---- places ------------------------------------------------------------------------------------


def test_place_keeps_only_its_distinctive_words():
    phi = phi_of("place", "St. Agnes Medical Center")
    assert phi.words == {"AGNES": "place"}
    assert phi.fuzzy == ["AGNES"]
    for generic in ("ST", "MEDICAL", "CENTER"):
        assert generic in GENERIC_WORDS


def test_address_words_and_numbers():
    phi = phi_of("place", "12 Main Street, Springfield")
    assert phi.words == {"MAIN": "place", "SPRINGFIELD": "place"}
    assert phi.fuzzy == ["MAIN", "SPRINGFIELD"]
    assert phi.digits == {}  # '12' is shorter than 3 characters


def test_place_street_number_is_a_digit_string():
    phi = phi_of("place", "1450 Harbor Road")
    assert phi.words == {"HARBOR": "place"}
    assert phi.digits == {"1450": "place"}


def test_short_place_words_are_exact_only():
    phi = phi_of("place", "JFK IMAGING CENTER")
    assert phi.words == {"JFK": "place"}
    assert phi.fuzzy == []


def test_generic_words_of_a_place_are_not_collected():
    phi = phi_of("place", "University Hospital Radiology Department")
    assert (phi.words, phi.fuzzy, phi.digits) == ({}, [], {})


# ---- one set from several attributes -----------------------------------------------------------


def test_one_set_from_several_kinds():
    phi = build_phi([("name", "GALLOWAY^REBECCA^HOPE"), ("id", "MRN00482913"), ("date", "19620314"),
                     ("phone", "617-555-0142"), ("place", "St. Agnes Medical Center")])
    kinds = {kind for kind in phi.words.values()}
    assert kinds == {"name", "initials", "id", "date", "place"}
    assert phi.digits["6175550142"] == "phone"
    assert phi.digits["482913"] == "id"
    assert phi.digits["19620314"] == "date"
    assert phi.fuzzy == ["GALLOWAY", "REBECCA", "HOPE", "AGNES"]


def test_time_values_give_clock_phrases():
    phi = phi_of("time", "090012.5")
    assert phi.phrases == {"09:00": "time", "09:00:12": "time", "9:00": "time", "9:00:12": "time",
                           "09:00 AM": "time", "09:00:12 AM": "time", "9:00 AM": "time", "9:00:12 AM": "time"}
    assert (phi.words, phi.digits) == ({}, {})


def test_afternoon_times_give_12_hour_forms():
    phrases = phi_of("time", "191844").phrases
    assert {"19:18:44", "07:18:44 PM", "7:18 PM"} <= set(phrases)
    assert "19:18 PM" not in phrases


@pytest.mark.parametrize(("kind", "value"), [
    ("time", "4³0912"),         # found by the fault suite: a damaged TM value collected as PHI
    ("time", "٠٩٣٠"),           # Arabic-Indic digits: digits to str.isdigit, not to a DICOM time
    ("phone", "555²1234567"),
    ("date", "２０２００１０１"),  # full-width digits are not a DA value
])
def test_non_ascii_digits_in_collected_values_are_not_read_as_numbers(kind, value):
    phi = build_phi([(kind, value)])  # before: ValueError from int('4³') quarantined the file
    assert all(ch.isascii() for text in phi.digits for ch in text)
