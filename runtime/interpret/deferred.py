"""Work the walk defers, done once for a whole batch of files: DA date shifts and `clean`.

In: per file of the batch, its `FileContext` (the deferred requests), its PHI sets and its list
of changes. Out: the new values written back, and one `Change` per element that really changed,
in that file's list. A batch is the files a worker holds at once; its texts are cleaned together:
texts repeated across the batch (a series shares its descriptions) are cleaned once, and the
words of all texts that share a rule and a PHI set are scored against that set's words in one
`rapidfuzz` `cdist` call. DA values of the whole batch are shifted by one numpy addition.

A batch that fails is retried file by file (`DatasetDeidentifier.run_deferred`), so a date is
never shifted twice: its request is dropped once done; and the `clean` limits of every file are
checked before any text is cleaned, so a file over a limit fails before anything is written.
"""
from __future__ import annotations

import warnings
from collections import defaultdict

from deidc.runtime.audit import Change
from deidc.runtime.interpret.actions import FileContext
from deidc.runtime.interpret.dates import shift_da_batch
from deidc.runtime.text.clean import CleanSpec, Review, check_clean_limits, clean_texts
from deidc.runtime.text.detectors import DEFAULT_REVIEW_THRESHOLD
from deidc.runtime.text.element_text import element_texts, set_texts
from deidc.runtime.text.phi import PhiSet

DeferredFile = tuple[FileContext, dict[str, PhiSet], list]  # context, PHI sets, changes


class FileWarnings(warnings.catch_warnings):
    """Warnings raised while one file's values are read or written back, credited to that file
    (`file`: its list), so the audit never depends on which files shared a batch."""

    def __init__(self) -> None:
        super().__init__(record=False)
        self.file: list | None = None

    def __enter__(self):
        super().__enter__()
        warnings.simplefilter("always")
        warnings.showwarning = self._show
        return self

    def _show(self, message, category, filename, lineno, file=None, line=None) -> None:
        if self.file is not None:
            self.file.append(warnings.WarningMessage(message, category, filename, lineno))


def shift_dates(files: list[DeferredFile]) -> None:
    requests = [(ctx, changes, *request) for ctx, _, changes in files for request in ctx.deferred_dates]
    with FileWarnings() as credit:
        values = []
        for ctx, _, ds, tag, _, _, _ in requests:
            credit.file = ctx.warnings
            values.append("\\".join(element_texts(ds, tag)))
    shifted = shift_da_batch(values, [seconds for _, _, _, _, seconds, _, _ in requests])
    with FileWarnings() as credit:
        for (ctx, changes, ds, tag, _, path, origin), old, new in zip(requests, values, shifted, strict=True):
            credit.file = ctx.warnings
            _write_date(ctx, changes, ds, tag, path, origin, old, new)
    for ctx, _, _ in files:  # done: a retry of the batch must not shift them again
        ctx.deferred_dates.clear()


def _write_date(ctx: FileContext, changes: list, ds, tag: int, path: str, origin: str, old: str, new) -> None:
    note = None
    if isinstance(new, Exception):  # fail closed: an unparseable date is emptied
        ds[tag].value, note = None, f"{new}; emptied"
    elif new == old:
        return
    else:
        set_texts(ds, tag, new.split("\\") if new else [])
        ctx.dates_shifted = True
    changes.append(Change(path, "shift", origin, note))


def clean_batch(files: list[DeferredFile], workers: int = 1, review_below: float = DEFAULT_REVIEW_THRESHOLD) -> None:
    """`workers`: threads for the fuzzy scoring (1 inside a process pool; -1: all cores).
    `review_below`: detections less confident than this go to each file's `reviews`."""
    groups: dict[tuple, list] = defaultdict(list)  # (rule, PHI set, offset) → requests
    for ctx, phi, changes in files:
        for request in ctx.deferred_cleans:
            action = request[3]
            seconds = ctx.offset_seconds(action.date_shift) if action.date_shift else 0
            groups[(action, id(phi[action.phi]), seconds)].append((ctx, phi[action.phi], changes, request))
    with FileWarnings() as credit:  # limits first; the values are read again when cleaned
        for (action, _, _), requests in groups.items():
            for ctx, phi_set, _, (ds, tag, _vr, _, path, _) in requests:
                credit.file = ctx.warnings
                check_clean_limits(element_texts(ds, tag), phi_set, path, f"the PHI collected as `{action.phi}`")
    for (action, _, seconds), requests in groups.items():
        with FileWarnings() as credit:
            texts_by_request = []
            for ctx, _, _, (ds, tag, *_rest) in requests:
                credit.file = ctx.warnings
                texts_by_request.append(element_texts(ds, tag))
        texts = {text: None for texts in texts_by_request for text in texts}
        spec = CleanSpec(action.fuzzy, action.patterns, action.dates, action.detectors, review_below)
        rules = ", ".join(sorted({request[5] for _, _, _, request in requests}))  # file:line, for reasons
        reviews: list[list[Review]] = []
        results = clean_texts(list(texts), requests[0][1], spec, seconds, workers, rules, reviews)
        cleaned = dict(zip(texts, zip(results, reviews, strict=True), strict=True))
        with FileWarnings() as credit:
            for (ctx, _, changes, (ds, tag, _vr, _, path, origin)), element in zip(requests, texts_by_request, strict=True):
                credit.file = ctx.warnings
                _write_clean(ctx, changes, ds, tag, path, origin, [cleaned[text] for text in element])


def _write_clean(ctx: FileContext, changes: list, ds, tag: int, path: str, origin: str, cleaned: list) -> None:
    results = [result for result, _ in cleaned]
    ctx.reviews.extend({"path": path, "rule": origin, "detector": r.detector, "confidence": r.confidence,
                        "words": r.words, "applied": r.applied} for _, reviews in cleaned for r in reviews)
    hits = [hit for _, found in results for hit in found]
    if not hits:
        return
    set_texts(ds, tag, [text for text, _ in results])
    ctx.dates_shifted |= any(kind == "date" and "shift" in how for kind, how in hits)
    note = ", ".join(sorted({f"{kind}:{how}" for kind, how in hits}))
    changes.append(Change(path, "clean", origin, note))
