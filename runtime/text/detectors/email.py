"""E-mail addresses in free text.

What it finds: `local@domain.tld` addresses (`jane.doe+mri@example.org`, `J_DOE@MAIL.EXAMPLE.CO.UK`,
`mailto:` left out of the span) and the common bracketed disguises `jdoe [at] example [dot] com`,
`jdoe(at)example.org`. The span is the address.

Why: an address names its owner as surely as a name does, and patients' and relatives' addresses
turn up in comments and scanned forms. The pattern wants a dotted domain ending in letters, so
`5 mg @ 10 pm`, `T1@1.5T`, `x@y` and DICOM person names stay.

Confidence:
- 0.95  a plain address whose top-level domain is a country code or a common generic one
- 0.85  a bracketed disguise (`[at]`, `(at)`, `[dot]`) with such a domain
- 0.55  a plain or bracketed address whose last label is not a known top-level domain
        (`study@scan.dcm` would be one: still removed, but listed for review)
"""
from __future__ import annotations

from collections.abc import Iterator

import regex

from deidc.runtime.text.detectors import Detection

# Generic top-level domains common enough to be sure of; every two-letter label is taken as a
# country code.
KNOWN_TLDS = frozenset("""
com org net edu gov mil int info biz name pro mobi aero coop museum io ai app dev me tv cc
health healthcare clinic hospital care med doctor dental email mail online site web website xyz
tech cloud co academy center centre family life live group team
""".split())

_LABEL = r"[^\W_][\w-]{0,62}"
_AT = r"(?:@|\s?[\[(]\s?at\s?[\])]\s?)"
_DOT = r"(?:\.|\s?[\[(]\s?dot\s?[\])]\s?)"
_EMAIL = regex.compile(
    rf"""(?<![\w.%+-])                                    # where the address starts
    (?P<local>[\w%+-]{{1,64}}(?:\.[\w%+-]{{1,64}}){{0,8}})
    (?P<at>{_AT})
    (?P<domain>(?:{_LABEL}{_DOT}){{1,8}}(?P<tld>[^\W\d_]{{2,24}}))
    (?![\w-]|\.[^\W_])                                # the domain ends here""",
    regex.IGNORECASE | regex.VERBOSE)


def find(text: str) -> Iterator[Detection]:
    """E-mail addresses in `text` (see the module docstring for the confidence levels)."""
    if "@" not in text and "at" not in text.lower():
        return
    for match in _EMAIL.finditer(text):
        known = match["tld"].lower() in KNOWN_TLDS or len(match["tld"]) == 2
        disguised = match["at"] != "@" or "." not in match["domain"]
        if not known:
            confidence = 0.55
        elif disguised:
            confidence = 0.85
        else:
            confidence = 0.95
        yield Detection(match.start(), match.end(), confidence)
