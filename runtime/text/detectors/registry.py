"""Detector name (as a rule writes it, deidc/compiler/detectors.py) → its `find`.

Checked at import: a name the compiler accepts without a detector here, or a detector no rule
can name, stops the runtime from loading instead of failing in the middle of a run."""
from __future__ import annotations

from deidc.compiler.detectors import DETECTORS
from deidc.runtime.text.detectors import Finder, address, date, email, ids, person, phone, url

FINDERS: dict[str, Finder] = {
    "address": address.find,
    "person": person.find,
    "phone": phone.find,
    "email": email.find,
    "url": url.find,
    "id": ids.find,
    "date": date.find,
}

if set(FINDERS) != set(DETECTORS):
    raise ImportError(f"detectors without a finder: {sorted(set(DETECTORS) - set(FINDERS))}; "
                      f"finders no rule can name: {sorted(set(FINDERS) - set(DETECTORS))}")
