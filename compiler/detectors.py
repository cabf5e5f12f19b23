"""The free-text detectors a `clean` rule can name (`clean phi fuzzy 90, detect address, person`).

One line each says what the detector finds; the detectors themselves are in
deidc/runtime/text/detectors/ (one module each, documented there), and the runtime checks at
import that it has one for every name here. The compiler uses the names to check a rule and to
suggest a spelling.
"""
from __future__ import annotations

from deidc.compiler.names import did_you_mean
from deidc.diagnostics import Diagnostic, Span

DETECTORS: dict[str, str] = {
    "address": "street addresses (number, street name and suffix, unit, city, state or province, ZIP or "
               "postcode), partial ones too (`Eugene, OR 97401`, `12 Oak Lane`)",
    "person": "people's names introduced by a relation, role or contact word (next of kin, wife, "
              "guardian, discussed with, Mr./Ms.) or capitalised like a name and found in the name lists",
    "phone": "telephone and fax numbers in national and international formats",
    "email": "e-mail addresses",
    "url": "web addresses (http(s)://, www.)",
    "id": "identifying numbers with their label: MRN, account, SSN, insurance and similar",
    "date": "dates written in free text (numeric and spelled-out layouts)",
}


def known_detectors(written: tuple[str, ...], span: Span, diagnostics: list[Diagnostic]) -> tuple[str, ...]:
    """The detectors a rule names, in order and without repeats; a DC035 error for each unknown one."""
    known: list[str] = []
    for name in written:
        if name not in DETECTORS:
            diagnostics.append(Diagnostic(
                "error", f"unknown detector '{name}'", span, code="DC035",
                hint=did_you_mean(name, DETECTORS) or f"detectors: {', '.join(DETECTORS)}"))
        elif name not in known:
            known.append(name)
    return tuple(known)
