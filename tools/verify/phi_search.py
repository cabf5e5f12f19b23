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

The modules (this one re-exports their public names):
- phi_values.py   `original_phi`: the original patient's PHI values, in the forms above
- phi_match.py    `PhiValue`, `PhiValues.find`: how a value is looked for (words, fuzzy, patterns)
- phi_words.py    the word lists (English words, generic place words)
- phi_text.py     `search_text`: the output's text values, private bytes' printable runs
- phi_pixels.py   `search_pixels`: which files and frames are read, OCR's words matched
"""
from __future__ import annotations

from deidc.tools.verify.phi_match import KINDS, PhiValue, PhiValues
from deidc.tools.verify.phi_pixels import frames_to_read, may_carry_burned_in_text, search_pixels
from deidc.tools.verify.phi_text import printable_runs, search_text, text_values
from deidc.tools.verify.phi_values import original_phi
from deidc.tools.verify.phi_words import common_words, english_words, generic_place_words

__all__ = [
    "KINDS",
    "PhiValue",
    "PhiValues",
    "common_words",
    "english_words",
    "frames_to_read",
    "generic_place_words",
    "may_carry_burned_in_text",
    "original_phi",
    "printable_runs",
    "search_pixels",
    "search_text",
    "text_values",
]
