"""Unit tests for deidc.runtime.text.clean.clean_texts: free text × collected PHI → the same text
without the PHI tokens, every other word kept, and hits that name the kind and matcher only."""
from __future__ import annotations

import random
import string

import numpy as np
import pytest
from rapidfuzz import fuzz, process

from deidc.runtime import limits
from deidc.runtime.limits import LimitExceeded
from deidc.runtime.text import clean as clean_module
from deidc.runtime.text import phi as phi_module
from deidc.runtime.text.clean import BUILTIN_PATTERNS, CleanSpec, best_fuzzy_matches, clean_texts
from deidc.runtime.text.phi import build_phi, normalise_word

DAY = 86400

PATIENT = [("name", "GALLOWAY^REBECCA^HOPE"), ("id", "MRN00482913"), ("id", "00123456"),
           ("date", "20170702"), ("phone", "617-555-0142"), ("place", "St. Agnes Medical Center")]
PHI_VALUES = ("GALLOWAY", "REBECCA", "HOPE", "RHG", "MRN00482913", "00482913", "482913", "00123456",
              "123456", "20170702", "07/02/2017", "2017", "617", "555", "0142", "AGNES")

EXACT = CleanSpec(None, (), None)
FUZZY = CleanSpec(85, (), None)
ALL_PATTERNS = CleanSpec(None, ("ssn", "phone", "email", "mrn", "person"), None)
SHIFT = CleanSpec(None, (), "shift")
REMOVE = CleanSpec(None, (), "remove")
TCIA = CleanSpec(90, ("ssn", "phone", "email", "mrn", "person"), "shift")


@pytest.fixture(scope="module")
def phi():
    return build_phi(PATIENT)


def clean(text: str, phi, spec: CleanSpec = EXACT, seconds: int = 0) -> str:
    [(out, _)] = clean_texts([text], phi, spec, seconds)
    return out


def hits(text: str, phi, spec: CleanSpec = EXACT, seconds: int = 0) -> list[tuple[str, str]]:
    [(_, found)] = clean_texts([text], phi, spec, seconds)
    return found


# ---- names -------------------------------------------------------------------------------------


def test_patient_name_removed_from_a_description(phi):
    text = "CT HEAD WO CONTRAST for Rebecca Galloway"
    assert clean(text, phi) == "CT HEAD WO CONTRAST for"
    assert hits(text, phi) == [("name", "exact"), ("name", "exact")]


@pytest.mark.parametrize("text, expected", [
    ("Galloway, Rebecca", ""),
    ("GALLOWAY^REBECCA", ""),
    ("GALLOWAY,REBECCA", ""),
    ("Galloway^Rebecca^^^", ""),
    ("galloway rebecca hope", ""),
    ("CT^HEAD^Galloway", "CT^HEAD"),
    ("x^Rebecca^y", "x y"),
    ("Rebecca: seen", "seen"),
    ("Ms. Galloway", "Ms."),
    ("MRI for GALLOWAY^REBECCA^HOPE today", "MRI for today"),
    ("Smith-Galloway", "Smith"),
])
def test_name_forms(phi, text, expected):
    assert clean(text, phi) == expected


def test_initials_removed_when_the_name_has_a_middle_name(phi):
    assert clean("pt RHG seen", phi) == "pt seen"
    assert hits("pt RHG seen", phi) == [("initials", "exact")]
    assert clean("rhg, follow up", phi) == "follow up"


def test_no_initials_without_a_middle_name():
    phi = build_phi([("name", "GALLOWAY^REBECCA")])
    assert clean("RG GR pt RHG seen", phi) == "RG GR pt RHG seen"


def test_initials_inside_a_compound_word_are_kept(phi):
    # parts of `A^B` words are matched as names, ids, dates... but not as initials
    assert clean("SERIES^RHG^2", phi) == "SERIES^RHG^2"


def test_a_name_not_collected_stays(phi):
    text = "Dr. Smith read, discussed with Dr. Okafor"
    assert clean(text, phi, CleanSpec(85, (), "shift")) == text
    assert hits(text, phi, CleanSpec(85, (), "shift")) == []


# ---- fuzzy ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["Galoway", "GALOWAY", "Rebbeca", "Rebeca", "REBECA", "Galloways"])
def test_spelling_variants_removed_by_fuzzy_and_kept_without_it(phi, variant):
    text = f"follow up {variant} 3 mo"
    assert clean(text, phi, FUZZY) == "follow up 3 mo"
    assert hits(text, phi, FUZZY) == [("name", "fuzzy 85")]
    assert clean(text, phi, EXACT) == text


def test_fuzzy_threshold_is_a_ratio_cut(phi):
    # fuzz.ratio("GALOWEY", "GALLOWAY") is 80: removed at 80, kept at 85
    assert clean("Galowey Rebbeca", phi, CleanSpec(80, (), None)) == ""
    assert clean("Galowey Rebbeca", phi, FUZZY) == "Galowey"
    assert clean("Galowey Rebbeca", phi, CleanSpec(100, (), None)) == "Galowey Rebbeca"


def test_fuzzy_leaves_ordinary_words_alone(phi):
    text = "CT CHEST ABDOMEN PELVIS WITH CONTRAST, HOPEFUL REVIEW, SOFT TISSUE"
    assert clean(text, phi, FUZZY) == text


def test_fuzzy_ignores_short_words_and_words_with_digits(phi):
    # fewer than 4 letters, or not alphabetic: never fuzzy candidates
    assert clean("REB GAL Galloway2x", phi, FUZZY) == "REB GAL Galloway2x"


def test_fuzzy_hit_on_a_place_reports_place(phi):
    assert clean("AGNESS hospital", phi, FUZZY) == "hospital"
    assert hits("AGNESS hospital", phi, FUZZY) == [("place", "fuzzy 85")]


# ---- retention: words that are not PHI stay ------------------------------------------------------


@pytest.mark.parametrize("text", [
    "AX 2.5 SOFT TISSUE",
    "P4^P101^S108^I0, Gated, 0.0%",
    "CT HEAD WO CONTRAST",
    "T2_TSE_TRA 512 (4.5 mm)",
    "Recon 2: 1.25mm STND",
    "ISOVUE300/100",
    "ep2d_diff_3scan_trace_p2_ADC",
    "with results",
    "DOSE REPORT 1234",
])
def test_text_without_phi_is_unchanged(phi, text):
    assert clean_texts([text], phi, TCIA, -10 * DAY) == [(text, [])]


def test_only_the_date_is_touched_in_a_protocol_string(phi):
    text = "P4^P101^S108^I0, Gated, 0.0% 20170702"
    assert clean(text, phi, SHIFT, -10 * DAY) == "P4^P101^S108^I0, Gated, 0.0% 20170622"
    assert clean(text, phi, EXACT) == "P4^P101^S108^I0, Gated, 0.0%"


def test_place_removed_generic_words_kept(phi):
    assert clean("at AGNES MEDICAL CENTER today", phi) == "at MEDICAL CENTER today"
    assert hits("at AGNES MEDICAL CENTER today", phi) == [("place", "exact")]


# ---- identifiers and phones by exact match -----------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("ID MRN00482913 ok", "ID ok"),
    ("mrn00482913", ""),
    ("MRN 00482913", "MRN"),   # the digits of the id
    ("acc 123456 done", "acc done"),  # zero-stripped form of 00123456
    ("ref 00123456", "ref"),
    ("tel 6175550142", "tel"),
    ("ext 555-0142", "ext"),    # last 7 digits of the phone
])
def test_identifiers_and_phones_by_exact_match(phi, text, expected):
    assert clean(text, phi) == expected


def test_short_digit_runs_are_not_identifiers(phi):
    assert clean("series 482 image 913", phi) == "series 482 image 913"


def test_spaced_phone_removed_by_exact_match(phi):
    assert clean("call 617 555 0142 today", phi) == "call today"


# ---- built-in and custom regex -----------------------------------------------------------------


@pytest.mark.parametrize("name, text, expected", [
    ("ssn", "ssn 123-45-6789 ok", "ssn ok"),
    ("phone", "call (212) 555-0199 now", "call now"),
    ("phone", "call 212.555.0199", "call"),
    ("phone", "call +1 212 555 0199 now", "call now"),
    ("email", "mail jdoe@example.org; thanks", "mail; thanks"),
    ("mrn", "mrn 7654321 x", "mrn x"),
])
def test_builtin_patterns(name, text, expected):
    empty = build_phi([])
    spec = CleanSpec(None, (name,), None)
    assert clean(text, empty, spec) == expected
    assert hits(text, empty, spec) == [(name, "regex")]


def test_builtin_patterns_do_not_eat_measurements(phi):
    text = "slice 1.25 mm, 512x512, kVp 120, 2024-0001"
    assert clean(text, phi, ALL_PATTERNS) == text


def test_mrn_needs_seven_digits():
    assert clean("study 123456", build_phi([]), CleanSpec(None, ("mrn",), None)) == "study 123456"


def test_custom_regex_with_flags():
    spec = CleanSpec(None, ("/\\bbed \\d+/i",), None)
    assert clean("Portable, BED 12, upright", build_phi([]), spec) == "Portable, upright"
    assert hits("Portable, BED 12, upright", build_phi([]), spec) == [("pattern", "regex")]


def test_custom_regex_multiline_flag():
    spec = CleanSpec(None, ("/^ward \\w+$/m",), None)
    assert clean("seen\nward Lindqvist\nok", build_phi([]), spec) == "seen\n\nok"


# ---- the `person` pattern ----------------------------------------------------------------------


PERSON = CleanSpec(None, ("person",), None)


@pytest.mark.parametrize("text, expected", [
    ("emergency contact Teresa Brennan", "emergency contact"),
    ("Discussed with Teresa", "Discussed with"),
    ("spoke to Mark Lee about results", "spoke to about results"),
    ("wife Anna present", "wife present"),
    ("son John was present", "son was present"),
])
def test_person_pattern_removes_names_after_a_relation(text, expected):
    assert clean(text, build_phi([]), PERSON) == expected
    assert set(hits(text, build_phi([]), PERSON)) == {("person", "regex")}


@pytest.mark.parametrize("text", ["with results", "contact with results", "spoke to the family",
                                  "Jason Smith reviewed", "son-in-law", "patient stable",
                                  "Pt. Teresa seen"])  # the patient's own name: collect's job
def test_person_pattern_leaves_lowercase_and_other_words(text):
    assert clean(text, build_phi([]), PERSON) == text


def test_person_pattern_keeps_staff_named_with_a_title():
    # clinicians are not the patient's PHI (HIPAA Safe Harbor); descriptions that name them stay
    assert clean("Discussed with Dr. Mark Lee", build_phi([]), PERSON) == "Discussed with Dr. Mark Lee"


def test_person_pattern_keeps_patient_protocol():
    assert clean("Patient Protocol", build_phi([]), PERSON) == "Patient Protocol"


# ---- dates in text -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("on 20170702", "on 20170622"),
    ("on 07/02/2017", "on 06/22/2017"),
    ("on 7/2/2017", "on 6/22/2017"),     # unpadded stays unpadded
    ("on 02.07.2017", "on 22.06.2017"),
    ("on 2017-07-02", "on 2017-06-22"),
    ("on July 2, 2017", "on June 22, 2017"),
    ("on 20170105", "on 20161226"),       # across a year
    ("on 20040119 and 19970430", "on 20040109 and 19970420"),  # any date, not only collected ones
])
def test_dates_shifted_in_their_own_layout(phi, text, expected):
    assert clean(text, phi, SHIFT, -10 * DAY) == expected
    assert set(hits(text, phi, SHIFT, -10 * DAY)) == {("date", "dates shift")}


def test_date_shift_moves_by_whole_days_as_the_da_shift_does(phi):
    # a `seconds` parameter: floor to days, like DA values (-1 s moves back a day)
    assert clean("on 20170702", phi, SHIFT, -1) == "on 20170701"
    assert clean("on 20170702", phi, SHIFT, DAY - 1) == "on 20170702"


@pytest.mark.parametrize("text", ["on 20170702 ok", "on 07/02/2017 ok", "on 2017-07-02 ok",
                                  "on 1.3.2005 ok", "on March 1, 2005 ok"])
def test_dates_removed(phi, text):
    assert clean(text, phi, REMOVE) == "on ok"
    assert hits(text, phi, REMOVE) == [("date", "dates remove")]


@pytest.mark.parametrize("text", ["bad 20171399", "bad 13/45/2017", "bad 2017-13-01", "bad 32.01.2017"])
def test_invalid_dates_are_left_alone(phi, text):
    assert clean_texts([text], phi, SHIFT, -10 * DAY) == [(text, [])]
    assert clean_texts([text], phi, REMOVE, 0) == [(text, [])]


@pytest.mark.parametrize("text", ["bad 2017-02-30", "bad 31.02.2017", "bad 20170231"])
def test_date_shaped_but_not_a_calendar_date(phi, text):
    # shifting needs a real date, so the text is left as it is; `dates remove` removes the shape
    assert clean_texts([text], phi, SHIFT, -10 * DAY) == [(text, [])]
    assert clean_texts([text], phi, REMOVE, 0) == [("bad", [("date", "dates remove")])]


def test_collected_date_removed_by_exact_match_without_a_dates_matcher(phi):
    for text in ("DOB 20170702", "DOB 07/02/2017", "DOB 2017-07-02", "DOB 02.07.2017", "DOB 07/02/17"):
        assert clean(text, phi) == "DOB", text


def test_collected_date_in_a_layout_the_shift_does_not_know_is_removed(phi):
    # 02/07/2017 read as day/month: no shift pattern matches it, the exact match removes it
    assert clean("DOB 2017/07/02", phi, SHIFT, -10 * DAY) == "DOB"
    assert hits("DOB 2017/07/02", phi, SHIFT, -10 * DAY) == [("date", "exact")]


@pytest.mark.parametrize("text", ["DOB 02 July 2017", "DOB Jul 02, 2017"])
@pytest.mark.parametrize("spec", [EXACT, SHIFT, REMOVE], ids=["exact", "shift", "remove"])
def test_collected_date_spelled_out_does_not_survive(phi, text, spec):
    date = text.removeprefix("DOB ")
    assert date not in clean(text, phi, spec, -10 * DAY)


# ---- batches, hits and tidy-up -----------------------------------------------------------------


def test_batch_of_texts_cleaned_independently(phi):
    texts = ["CT CHEST for Rebecca Galloway", "AX 2.5 SOFT TISSUE", "Galoway review", "call 617-555-0142"]
    results = clean_texts(texts, phi, CleanSpec(85, ("phone",), None), 0)
    assert [out for out, _ in results] == ["CT CHEST for", "AX 2.5 SOFT TISSUE", "review", "call"]
    assert [found for _, found in results] == [
        [("name", "exact"), ("name", "exact")], [], [("name", "fuzzy 85")], [("phone", "regex")]]


def test_empty_batch_and_empty_phi():
    assert clean_texts([], build_phi([]), TCIA, 0) == []
    assert clean_texts(["Rebecca Galloway"], build_phi([]), TCIA, 0) == [("Rebecca Galloway", [])]


def test_hits_name_kind_and_matcher_never_the_value(phi):
    text = ("Rebecca Galowey RHG MRN00482913 DOB 07/02/2017 tel 617-555-0142 ssn 123-45-6789 "
            "jdoe@example.org contact Teresa Brennan at Agnes")
    out, found = clean_texts([text], phi, CleanSpec(80, ("ssn", "phone", "email", "mrn", "person"), "shift"),
                             -10 * DAY)[0]
    assert out == "DOB 06/22/2017 tel ssn contact at"
    assert sorted(set(found)) == [("date", "dates shift"), ("email", "regex"), ("id", "exact"),
                                  ("initials", "exact"), ("name", "exact"), ("name", "fuzzy 80"),
                                  ("person", "regex"), ("phone", "regex"), ("place", "exact"),
                                  ("ssn", "regex")]
    flat = " ".join(part for hit in found for part in hit).upper()
    for value in (*PHI_VALUES, "GALOWEY", "TERESA", "JDOE", "6789"):
        assert value not in flat


def test_custom_regex_hits_are_reported_as_pattern(phi):
    _, found = clean_texts(["Rebecca x /X9/"], phi, CleanSpec(85, ("/X9/", *BUILTIN_PATTERNS), "shift"), 0)[0]
    assert found == [("pattern", "regex"), ("name", "exact")]


@pytest.mark.parametrize("text, expected", [
    ("for Rebecca Galloway today", "for today"),
    ("Galloway, Rebecca, 54F", "54F"),
    ("a , Rebecca , b", "a, b"),
    ("CT^Galloway^HEAD", "CT HEAD"),
    ("^Galloway^", ""),
    ("Rebecca^", ""),
    ("for Rebecca Galloway (DOB 07/02/2017)", "for (DOB)"),
    ("Rebecca; Galloway; ok", "ok"),
    ("  x   Rebecca   y  ", "x y"),
])
def test_tidy_up_leaves_no_double_spaces_or_orphan_separators(phi, text, expected):
    out = clean(text, phi)
    assert out == expected
    assert "  " not in out
    assert not out.startswith((",", "^", ";", " ")) and not out.endswith((",", "^", ";", " "))


def test_tidy_up_removes_empty_brackets(phi):
    assert clean("seen (Rebecca) today", phi) == "seen today"


# ---- bounded work: cleaning is linear in the text, or the file is refused (issue 11) -----------


@pytest.fixture
def scored_pairs(monkeypatch) -> list[int]:
    """Counts the (word, PHI word) pairs handed to rapidfuzz: the work of fuzzy matching."""
    pairs: list[int] = []
    real = process.cdist

    def counting(queries, choices, **kwargs):
        pairs.append(len(queries) * len(choices))
        return real(queries, choices, **kwargs)

    monkeypatch.setattr(clean_module.process, "cdist", counting)
    return pairs


def test_fuzzy_work_does_not_grow_with_repeated_words(phi, scored_pairs):
    """A long value repeats its words: each distinct word is scored once. (Every occurrence
    against every PHI word made a long cleaned value and a long collected one quadratic.)"""
    for repeat in (1, 20_000):
        text = "Galoway Smyth Rebeca " * repeat
        out = clean(text, phi, FUZZY)
        assert out.split() == ["Smyth"] * repeat
    one, many = sum(scored_pairs[: len(scored_pairs) // 2]), sum(scored_pairs[len(scored_pairs) // 2:])
    assert one == many <= 3 * len(phi.fuzzy)


def test_fuzzy_scores_only_pairs_whose_lengths_can_reach_the_threshold(scored_pairs):
    short, long = "ABCD", "ABCDEFGHIJKLMNOPQRST"
    assert best_fuzzy_matches([short, long + "X"], [short, long], 90) == {short: 0, long + "X": 1}
    assert sum(scored_pairs) == 2  # 4 letters against 21 cannot reach 90: 200 * 4 / 25 = 32


@pytest.mark.parametrize("threshold", [1, 50, 70, 85, 88, 90, 95, 100])
def test_best_fuzzy_matches_is_what_scoring_every_pair_gives(threshold):
    """The length filter and the cutoff never change the outcome: same matches, same columns
    (the first among equal rounded scores) as the full `cdist` matrix."""
    rng = random.Random(threshold)
    stems = ["".join(rng.choice("ABCDE") for _ in range(rng.randint(4, 12))) for _ in range(40)]
    choices = list(dict.fromkeys(stems[:20]))

    def variant(word: str) -> str:
        k = rng.randrange(len(word))
        return rng.choice([word, word[:k] + word[k + 1:], word[:k] + rng.choice("ABCDE") + word[k:]])

    words = sorted({variant(w) for w in stems for _ in range(3)} - {""})
    scores = process.cdist(words, choices, scorer=fuzz.ratio, dtype=np.uint8)
    expected = {w: int(scores[i].argmax()) for i, w in enumerate(words) if scores[i].max() >= threshold}
    assert best_fuzzy_matches(words, choices, threshold) == expected


def test_overlap_checks_agree_with_the_definition():
    """Edits are free of one another when each ends before the other starts (empty ones too: a
    /regex/ may match nothing); the character map gives the same answers as checking every edit."""
    rng = random.Random(7)
    for _ in range(300):
        size = rng.randint(0, 30)
        edits, naive = clean_module._Edits(size), []
        for _ in range(40):
            start = rng.randint(0, size)
            end = min(size, start + rng.choice([0, 0, 1, 2, 5]))
            expected = all(end <= s or start >= e for s, e in naive)
            assert edits.free(start, end) == expected, (naive, start, end)
            if expected:
                edits.add(start, end, "")
                naive.append((start, end))


@pytest.fixture
def small_limits():
    before = limits.current()
    limits.configure(limits.with_overrides(clean_chars=1000, phi_words=20))
    yield limits.current()
    limits.configure(before)


def test_a_text_longer_than_the_limit_is_refused_naming_limit_and_option(phi, small_limits):
    assert len(phi.words) <= small_limits.phi_words
    text = ("Rebecca Galloway " * 58).ljust(1000)
    assert len(text) == 1000 and clean(text, phi) == ""  # at the limit: cleaned
    with pytest.raises(LimitExceeded) as info:
        clean_texts([text + "x"], phi, EXACT, 0)
    message = str(info.value)
    assert info.value.kind == "exceeds a limit"
    assert "1,001 characters" in message and "1,000" in message
    assert "clean_chars" in message and "--max-clean-chars" in message
    assert "GALLOWAY" not in message.upper()  # never the value


def test_a_phi_set_with_too_many_words_is_refused(small_limits):
    crowd = build_phi([("name", "^".join(f"NAME{letter}" for letter in string.ascii_uppercase))])
    assert len(crowd.words) > small_limits.phi_words
    with pytest.raises(LimitExceeded) as info:
        clean_texts(["seen today"], crowd, FUZZY, 0)
    message = str(info.value)
    assert f"{len(crowd.words):,} distinct words" in message and "phi_words" in message
    assert "--max-phi-words" in message and "NAMEA" not in message


def test_a_file_over_the_limit_fails_alone_and_its_batch_is_unchanged(deidentifier, read_test_file, small_limits):
    """The file whose comment is too long fails with a reason naming the attribute's tag; the other
    files of its batch come out exactly as they do alone (dates shifted once, texts cleaned)."""
    rules = """
    day_shift = days(hmac(key, PatientID), -3650..-30)
    collect PatientName as phi
    StudyDate -> shift day_shift
    StudyDescription, ImageComments -> clean phi fuzzy 85
    """

    def datasets():
        out = []
        for i in range(3):
            ds = read_test_file("CT_small.dcm")
            ds.PatientName, ds.PatientID, ds.StudyDate = "GALLOWAY^REBECCA", f"PID{i}", "20200229"
            ds.StudyDescription = "CT for Rebeca Galloway"
            ds.ImageComments = "Galloway " * (200 if i == 1 else 1)  # 1,800 characters: over 1,000
            out.append(ds)
        return out

    deid = deidentifier(rules)
    alone = datasets()
    alone_outcomes = [deid.deidentify_batch([(ds, None)])[0] for ds in alone]
    together = datasets()
    outcomes = deid.deidentify_batch([(ds, None) for ds in together])
    error = outcomes[1].error
    assert isinstance(error, LimitExceeded) and isinstance(alone_outcomes[1].error, LimitExceeded)
    assert str(error).startswith("(0020,4000): a text of 1,800 characters") and "--max-clean-chars" in str(error)
    assert "GALLOWAY" not in str(error).upper()
    for i in (0, 2):
        assert outcomes[i].error is None
        assert (together[i].StudyDate, together[i].StudyDescription, together[i].ImageComments) == \
               (alone[i].StudyDate, alone[i].StudyDescription, alone[i].ImageComments)
        assert together[i].StudyDate != "20200229" and together[i].StudyDescription == "CT for"
        assert sorted(outcomes[i].changes, key=str) == sorted(alone_outcomes[i].changes, key=str)


def test_a_user_regex_that_backtracks_without_bound_is_stopped(phi):
    limits.configure(limits.with_overrides(regex_seconds=0.2))
    spec = CleanSpec(None, ("/(a|aa)+b/",), None)
    try:
        with pytest.raises(LimitExceeded) as info:
            clean_texts(["a" * 60 + "!"], phi, spec, 0, rule="rules.deid:7")
    finally:
        limits.configure(limits.DEFAULT)
    assert "/(a|aa)+b/" in str(info.value) and "backtracks" in str(info.value)
    assert "(rule rules.deid:7)" in str(info.value) and "0.2 s" in str(info.value)
    assert clean("aab then", phi, spec) == "then"  # the same pattern, where it matches


def test_patterns_start_only_where_a_run_starts():
    """The email pattern and the tidy-up try each run once: the same matches as before."""
    email = clean_module._compile("email")
    assert [m.group() for m in email.finditer("x a.b+c@d-e.org, q@r.s and rgalloway@example.org.")] == \
           ["a.b+c@d-e.org", "q@r.s", "rgalloway@example.org"]
    assert not list(email.finditer("a" * 5000 + " no at sign"))
    assert normalise_word("  ..Ann  Lee..  ") == "ANN  LEE" and normalise_word("!!!") == "" and normalise_word("a!b") == "A!B"


def test_spelled_dates_overlapping_other_dates_are_found():
    only_1962 = build_phi([("date", "19620312")])
    assert clean_texts(["seen 14 MAR 2012 MAR 1962 ok"], only_1962, EXACT, 0) == \
           [("seen 14 MAR 20 ok", [("date", "exact")])]
    old_year = build_phi([("date", "09990314")])  # years before 1000 have no four digits
    assert clean("on 14 Mar 999 and March 14, 999.", old_year) == "on and."


def test_many_collected_dates_are_found_in_one_pass(monkeypatch):
    """One scan of the text finds every collected date spelled out (a scan per date made the
    work grow with the number of dates times the length of the text)."""
    dates = build_phi([("date", f"19{year:02d}0{month}1{day}") for year in range(100) for month in (1, 5) for day in (1, 5)])
    assert len(dates.spelled_dates) > 1000
    scans: list[str] = []
    real = phi_module._SPELLED_DATE

    class Counting:
        def finditer(self, text, **kwargs):
            scans.append(text)
            return real.finditer(text, **kwargs)

        def fullmatch(self, text):
            return real.fullmatch(text)

    monkeypatch.setattr(phi_module, "_SPELLED_DATE", Counting())
    text = "seen 15 May 1977, 11 JANUARY 1903 and Jan 15, 1999; kept 16 May 1977"
    assert clean(text, dates) == "seen, and; kept 16 May 1977"
    assert scans == [text]
