"""Text comparison as MIDI-B's scorer does it, quirks included.

In: the value found in the output and the expected text, both as `<...>` strings. Out: PASS,
FAIL or BLANK. Both sides are lower-cased and lose every `<` and `>`; if both read as numbers
(digits with at most one '.') they compare as numbers; otherwise the whole expected text is looked
for as a substring, then every word of it (English stop words and punctuation dropped).

Reproduced quirks (each has a test):
- expected text whose words are all stop words or punctuation, and that is not a substring as a
  whole, scores BLANK (the published scorer divides by zero there) — counted as not passed;
- an empty expected text is a substring of everything: `text_retained` passes and
  `text_removed` fails whenever the attribute is present;
- a null expected text scores BLANK;
- negative numbers are not numbers (`-1` vs `-1.0` compare as text).
The published scorer tokenises with NLTK's Treebank tokenizer; NLTK needs data downloaded at run
time, so words are split here by `tokenize`, which follows Treebank's rules for punctuation and
English contractions.
"""
from __future__ import annotations

import functools
import string

import regex

PASS, FAIL, BLANK = 1, 0, -1

# NLTK's English stop word list (the `stopwords` corpus), which the published scorer uses.
STOP_WORDS = frozenset("""
a about above after again against ain all am an and any are aren aren't as at be because been
before being below between both but by can couldn couldn't d did didn didn't do does doesn
doesn't doing don don't down during each few for from further had hadn hadn't has hasn hasn't
have haven haven't having he he'd he'll her here hers herself he's him himself his how i i'd
if i'll i'm in into is isn isn't it it'd it'll it's its itself i've just ll m ma me mightn
mightn't more most mustn mustn't my myself needn needn't no nor not now o of off on once only
or other our ours ourselves out over own re s same shan shan't she she'd she'll she's should
shouldn shouldn't should've so some such t than that that'll the their theirs them themselves
then there these they they'd they'll they're they've this those through to too under until up
ve very was wasn wasn't we we'd we'll we're were weren weren't we've what when where which
while who whom why will with won won't wouldn wouldn't y you you'd you'll your you're yours
yourself yourselves you've
""".split())
PUNCTUATION = frozenset(string.punctuation) | {"“", "”", "‘", "’", "``", "•"}

_CONTRACTION = regex.compile(r"(?i)^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")
_TOKEN = regex.compile(r"\w+(?:[-'.]\w+)*|\S")


@functools.lru_cache(maxsize=65536)
def tokenize(text: str) -> tuple[str, ...]:
    """Words and punctuation marks, contractions split off (`don't` → `do`, `n't`), as Treebank does."""
    tokens: list[str] = []
    for piece in _TOKEN.findall(text.replace('"', " `` ")):
        match = _CONTRACTION.match(piece)
        tokens.extend(match.groups() if match else (piece,))
    return tuple(tokens)


@functools.lru_cache(maxsize=65536)
def content_words(expected: str) -> tuple[str, ...]:
    return tuple(t for t in tokenize(expected) if t not in STOP_WORDS and t not in PUNCTUATION)


def clean(text: str) -> str:
    return text.replace("<", "").replace(">", "").lower()


def _number(text: str) -> float | None:
    """The published scorer's test (digits, at most one '.'), made safe for digits such as '²'
    that str.isdigit accepts and float() does not."""
    if not text.replace(".", "", 1).isdigit():
        return None
    try:
        return float(text)
    except ValueError:
        return None


def compare_text(found: str, expected: str | None, retain: bool) -> int:
    """PASS/FAIL/BLANK for one text check; `found` is the rendered value (never None here)."""
    if expected is None:
        return BLANK
    found, expected = clean(found), clean(expected)
    found_number, expected_number = _number(found), _number(expected)
    if found_number is not None and expected_number is not None:
        same = found_number == expected_number
        return PASS if same == retain else FAIL
    if expected in found:
        return PASS if retain else FAIL
    words = content_words(expected)
    if not words:
        return BLANK
    kept = sum(word in found for word in words)
    if retain:
        return PASS if kept == len(words) else FAIL
    return PASS if kept == 0 else FAIL
