"""`collect` and `clean` inside one file: gather PHI before the walk, clean the texts after it.

In: a dataset and the Plan's PHI collections (tag → kind); later the `clean` requests the walk
deferred. Out: (kind, text) pairs for `build_phi`; cleaned values written back, one `Change` per
cleaned element whose note names the PHI kinds and matchers that hit (never the values).
All texts of a file that share a rule are cleaned as one batch, so fuzzy matching scores every
word of the batch against every PHI word in one `cdist` call.
"""
from __future__ import annotations

from collections import defaultdict

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.runtime.actions import FileContext, components
from deidc.runtime.clean import CleanSpec, clean_texts
from deidc.runtime.phi import PhiSet


def collected_values(ds: Dataset, wanted: dict[int, str]) -> list[tuple[str, str]]:
    """(kind, text) of every element whose tag `wanted` names, at any depth, before any change."""
    found: list[tuple[str, str]] = []
    for tag in list(ds._dict):
        if tag in wanted:
            found.extend((wanted[tag], text) for text in _texts(ds[tag].value))
            continue
        raw = ds._dict[tag]
        if raw.VR == "SQ" or (raw.VR is None and getattr(raw, "length", 0) == 0xFFFFFFFF):
            value = ds[tag].value
            if isinstance(value, Sequence):
                for item in value:
                    found.extend(collected_values(item, wanted))
    return found


def _texts(value) -> list[str]:
    if isinstance(value, bytes):
        return [_decode(value)] if _decode(value) is not None else []
    return components(value)


def _decode(value: bytes) -> str | None:
    """Bytes of a private element kept as UN/OB: text only if it reads as printable text."""
    text = value.rstrip(b"\x00 ").decode("latin-1")
    return text if text and all(ch.isprintable() for ch in text) else None


def clean_deferred(ctx: FileContext, phi: dict[str, PhiSet], changes: list) -> None:
    from deidc.runtime.walk import Change  # walk imports this module

    batches: dict[tuple, list] = defaultdict(list)
    for request in ctx.deferred_cleans:
        batches[request[3]].append(request)
    for action, requests in batches.items():
        seconds = ctx.offset_seconds(action.date_shift) if action.date_shift else 0
        spec = CleanSpec(action.fuzzy, action.patterns, action.dates)
        texts, owners = [], []
        for n, (ds, tag, vr, _, _, _) in enumerate(requests):
            value = ds[tag].value
            for index, text in enumerate(_texts(value)):
                texts.append(text)
                owners.append((n, index))
        results = clean_texts(texts, phi[action.phi], spec, seconds)
        per_element: dict[int, dict[int, tuple[str, list]]] = defaultdict(dict)
        for (n, index), result in zip(owners, results):
            per_element[n][index] = result
        for n, (ds, tag, vr, _, path, origin) in enumerate(requests):
            cleaned = per_element.get(n, {})
            hits = [hit for _, h in cleaned.values() for hit in h]
            if not hits:
                continue
            _write(ds, tag, [cleaned[i][0] for i in sorted(cleaned)])
            ctx.dates_shifted |= any(kind == "date" and "shift" in how for kind, how in hits)
            note = ", ".join(sorted({f"{kind}:{how}" for kind, how in hits}))
            changes.append(Change(path, "clean", origin, note))


def _write(ds: Dataset, tag: int, values: list[str]) -> None:
    elem = ds[tag]
    if isinstance(elem.value, bytes):
        elem.value = values[0].encode("latin-1") if values else b""
    else:
        elem.value = values if len(values) > 1 else (values[0] if values else None)
