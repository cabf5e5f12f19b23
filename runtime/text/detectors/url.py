"""Web addresses in free text.

What it finds:
- addresses with a scheme: `https://portal.example.org/p?id=123`, `http://10.0.0.5:8080/x`,
  `ftp://files.example.com/`;
- addresses starting `www.`: `www.example.com`, `WWW.JOHNDOE-FAMILY.NET/photos`;
- bare domains ending in a well-known top-level domain, only when a path follows:
  `example.com/jdoe`, `mychart.example.org/messages/42`.
The span is the whole address; trailing sentence punctuation and an unmatched closing bracket
are left out.

Why: HIPAA counts web addresses among the identifiers (a patient's or relative's page, a
portal link carrying a record number). Clinical shorthand is full of dotted words (`ct.abd`,
`e.g.`, `i.e.`, `pt.c/o`, `s/p`), so a dotted word alone is never an address: it needs a
scheme, `www.`, or a known top-level domain followed by a path.

Confidence:
- 0.95  with a scheme (`http://`, `https://`, `ftp://`)
- 0.9   starting `www.`
- 0.75  bare domain with a well-known top-level domain and a path
- 0.3   bare domain with a common generic top-level domain (com, org, net, edu, gov) and no path
        (`example.com`): listed for review only
"""
from __future__ import annotations

from collections.abc import Iterator

import regex

from deidc.runtime.text.detectors import Detection

# Top-level domains that make a bare `name.tld/path` an address. Country codes that are also
# English or clinical words (in, at, be, it, no, us, me, am, pm, so, to, is, ca, co, md, ms, pa,
# mr, ct, dr) are left out.
PATH_TLDS = frozenset("""
com org net edu gov mil int info biz io app dev health clinic hospital
uk de fr nl ch se dk fi es jp cn br ru nz ie eu pl cz au
""".split())
BARE_TLDS = frozenset("com org net edu gov".split())

_LABEL = r"[^\W_](?:[\w-]{0,62})"
_PATH = r"""[/?#][^\s<>"'`|\\^{}]{0,2048}"""
_PORT = r"(?::\d{1,5})?"
_URL = regex.compile(
    rf"""(?<![\w.@/:-])(?:
      (?P<scheme>(?:https?|s?ftp|ftps)://[^\s<>"'`|\\^{{}}]{{1,2048}})
    | (?P<www>www\d{{0,3}}\.(?:{_LABEL}\.){{1,10}}[^\W\d_]{{2,24}}{_PORT}(?:{_PATH})?)
    | (?P<bare>(?:{_LABEL}\.){{1,10}}(?P<tld>[^\W\d_]{{2,24}}){_PORT}(?P<path>{_PATH})?)
    )(?![\w@-])""",
    regex.IGNORECASE | regex.VERBOSE)
_TRAILING = ".,;:!?'\"*"
_CLOSING = {")": "(", "]": "[", "}": "{", ">": "<"}


def _trim(url: str) -> int:
    """How many characters of `url` to keep: without trailing punctuation or an unmatched
    closing bracket (`(see www.example.com).`)."""
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in _CLOSING and url.count(last, 0, end) > url.count(_CLOSING[last], 0, end):
            end -= 1
        else:
            break
    return end


def find(text: str) -> Iterator[Detection]:
    """Web addresses in `text` (see the module docstring for the confidence levels)."""
    if "." not in text and "//" not in text:
        return
    for match in _URL.finditer(text):
        start = match.start()
        if match["scheme"]:
            confidence = 0.95
        elif match["www"]:
            confidence = 0.9
        else:
            tld = match["tld"].lower()
            path = match["path"] or ""
            if tld in PATH_TLDS and len(path) > 1:
                confidence = 0.75
            elif tld in BARE_TLDS and not path:
                confidence = 0.3
            else:
                continue
        end = start + _trim(match.group())
        if match["scheme"] and end - start <= match.group().index("//") + 2:
            continue  # `http://` and nothing more
        yield Detection(start, end, confidence)
