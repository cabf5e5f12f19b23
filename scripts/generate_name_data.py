"""Generate rulesets/person-names.csv: the name and word lists of the `person` detector.

In:  the `names` package (0.3.0, MIT code) -- the 1990 US Census name lists, public domain:
     dist.male.first (1,219 names), dist.female.first (4,275), dist.all.last (88,799 surnames),
     each line `NAME  percent  cumulative-percent  rank`.
     the `pyspellchecker` package (0.9.1, MIT) -- its English word frequency list
     (resources/en.json.gz: lower-case word -> count, from OpenSubtitles; counts start at 50).
Out: rulesets/person-names.csv, UTF-8, `\n` line ends, sorted by token, header
     `token,first,surname,word`:
     token    upper case, letters only (the Census lists spell O'Brien as OBRIEN)
     first    1 = among the 300 most common male or female first names, 2 = another listed
              first name, empty = not a listed first name
     surname  1 = surname rank <= 1,000, 2 = <= 10,000, 3 = <= 40,000 (rarer surnames are left
              out to keep the file small: ranks 40,001-88,799 cover 6.4 % of the population,
              a few hundred people each), empty = not listed
     word     how common the token is as an English word: floor(4 * log10(count)) of its
              pyspellchecker count (12 = 1,000, 16 = 10,000, 17 = 17,783, 20 = 100,000),
              empty when the word is not in the list
     Rows: every listed first name and surname (rank <= 40,000), and every other alphabetic
     English word with a count of at least 200 (so `word` answers "is this a common word?"
     for any token, name or not).

Usage: python scripts/generate_name_data.py            rewrite the file
       python scripts/generate_name_data.py --check    exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "rulesets" / "person-names.csv"
COMMON_FIRST = 300  # first-name rank for class 1
SURNAME_CLASSES = (1_000, 10_000, 40_000)  # rank limits of surname classes 1, 2, 3
WORD_MIN_COUNT = 200  # non-name words listed from this count on
HEADER = "token,first,surname,word\n"


def census_list(path: Path) -> list[str]:
    """Names of a Census list file, in rank order."""
    return [line.split()[0] for line in path.read_text(encoding="ascii").splitlines() if line.strip()]


def word_bucket(count: int) -> str:
    return str(math.floor(4 * math.log10(count))) if count > 0 else ""


def render(male: list[str], female: list[str], surnames: list[str], counts: dict[str, int]) -> str:
    first: dict[str, int] = {}
    for names in (male, female):
        for rank, name in enumerate(names, 1):
            cls = 1 if rank <= COMMON_FIRST else 2
            first[name] = min(first.get(name, cls), cls)
    last: dict[str, int] = {}
    for rank, name in enumerate(surnames[: SURNAME_CLASSES[-1]], 1):
        cls = next(i for i, limit in enumerate(SURNAME_CLASSES, 1) if rank <= limit)
        last.setdefault(name, cls)
    tokens = set(first) | set(last)
    for word, count in counts.items():
        if count >= WORD_MIN_COUNT and word.isascii() and word.isalpha():
            tokens.add(word.upper())
    lines = [HEADER]
    for token in sorted(tokens):
        f = str(first[token]) if token in first else ""
        s = str(last[token]) if token in last else ""
        lines.append(f"{token},{f},{s},{word_bucket(counts.get(token.lower(), 0))}\n")
    return "".join(lines)


def render_installed() -> str:
    """The file from the installed `names` and `pyspellchecker` packages."""
    import names  # type: ignore[import-untyped]
    import spellchecker

    census = Path(names.__file__).resolve().parent
    with gzip.open(Path(spellchecker.__file__).resolve().parent / "resources" / "en.json.gz", "rt",
                   encoding="utf-8") as fh:
        counts: dict[str, int] = json.load(fh)
    return render(census_list(census / "dist.male.first"), census_list(census / "dist.female.first"),
                  census_list(census / "dist.all.last"), counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file is stale")
    args = parser.parse_args(argv)
    text = render_installed()
    if args.check:
        if not OUT.exists() or OUT.read_bytes() != text.encode("utf-8"):
            print(f"{OUT.relative_to(ROOT)} is stale: run python scripts/generate_name_data.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_bytes(text.encode("utf-8"))
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text.encode('utf-8')):,} bytes, {text.count(chr(10)) - 1:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
