"""Regular expressions as the language defines them: a rule's own `/regex/flags`, compiled with
its flags by the `regex` package, and the built-in patterns `clean ... regex ssn, phone` names.
The compiler checks patterns with this module and the runtime matches with it (under a time limit:
runtime/text/user_regex.py), so both read a pattern the same way.
"""
from __future__ import annotations

from functools import lru_cache

import regex

# the flags the language allows after a /regex/ (grammar.lark: REGEX, PATTERN_LIST)
FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}

# what to do about a pattern that backtracks without bound (compile- and run-time messages)
FIX_HINT = ("simplify the pattern: no nested or overlapping repeats such as (a+)+, (a|aa)+ or "
            "(.*?,){11}, which try exponentially many ways to fail; a possessive repeat (a++) or an "
            "atomic group (?>...) does not retry")

BUILTIN_PATTERNS = {
    "ssn": r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)",
    "phone": r"(?<![\w-])(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}(?![\w-])",
    # starts only where a run of address characters starts: tried inside a long run of letters
    # with no `@`, every start scanned to the end of the run (quadratic)
    "email": r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "mrn": r"(?<![\w.])\d{7,}(?![\w.])",
    # A capitalised name right after a word that introduces a person the record is not about:
    # relatives and contacts (HIPAA Safe Harbor counts them), and the patient named in prose.
    # (Staff named with a title — `Dr. Mark Lee` — are not PHI of the patient and stay.)
    "person": (r"(?<=\b(?:[Cc]ontact|[Dd]iscussed with|[Ss]poke (?:with|to)|[Ww]ife|[Hh]usband|[Mm]other|"
               r"[Ff]ather|[Ss]on|[Dd]aughter|[Ss]pouse|[Ss]ister|[Bb]rother|[Gg]uardian|[Ff]riend|"
               r"[Nn]eighbou?r):? )(?!(?:Dr|Mr|Mrs|Ms|Prof)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)?"),
}


def flag_bits(flags: str) -> int:
    """`imsx` as written after a /regex/ → the `regex` flags."""
    value = 0
    for flag in flags:
        value |= FLAGS[flag]
    return value


@lru_cache(maxsize=512)  # a Plan's patterns, compiled once per process
def compiled(pattern: str, flags: str = "") -> regex.Pattern[str]:
    """The pattern compiled with its flags; raises `regex.error` when it is not a regex."""
    return regex.compile(pattern, flag_bits(flags))
