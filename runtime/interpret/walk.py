"""Plan × dataset → de-identified dataset: one walk over every element, sequences included.

In: a pydicom Dataset (modified in place), a `Dispatcher` for the Plan, and the resolved keys.
Out: a `DatasetOutcome` with the changes made (for the audit and the summary), the UID and
patient-ID mappings, or the reason the file must be quarantined.

Order of work: conditions and file-level quarantines; the PHI sets `collect` names, from the
original values; the walk (`runtime/interpret/visit.py` decides the order and what each element is: the file
meta's elements, but for those deidc writes itself, then each element dispatched once, sequence
items walked recursively with their ancestry; `_FileWalk` here changes them); private creator
elements kept only while their block still holds data; the deferred DA shifts and `clean`, for
a whole batch of datasets at once; `replace AnotherAttribute` copies, which need the other
attribute's new value; the PS3.15 markers; file meta MediaStorageSOPInstanceUID = the new
SOPInstanceUID.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydicom.dataset import Dataset

from deidc.compiler.dispatch import Dispatcher, Level
from deidc.compiler.plan import CleanAction, KeepAction, Plan, PlanRule, RemoveAction, Specificity
from deidc.dicom import elements_of, format_tag
from deidc.runtime.audit import Change
from deidc.runtime.interpret.actions import ACTION_NAMES, FileContext, QuarantineFile, apply_action
from deidc.runtime.interpret.collect import collected_values
from deidc.runtime.interpret.conditions import evaluate_all
from deidc.runtime.interpret.deferred import DeferredFile, clean_batch, shift_dates
from deidc.runtime.interpret.markers import add_markers, mark_dates_modified
from deidc.runtime.interpret.visit import ElementVisitor, creator_of
from deidc.runtime.pixels.burned_in import (
    PixelsNotReadable,
    PixelsNotWritable,
    apply_boxes,
    plan_boxes,
    read_frames,
    ultrasound_regions,
    write_frames,
    write_previews,
)
from deidc.runtime.pixels.ocr import LazyOcrEngine, OcrEngine
from deidc.runtime.text.clean import check_collected
from deidc.runtime.text.detectors import DEFAULT_REVIEW_THRESHOLD
from deidc.runtime.text.element_text import components
from deidc.runtime.text.phi import build_phi

PATIENT_ID = 0x00100020
SOP_INSTANCE_UID = 0x00080018
STUDY_UID, SERIES_UID = 0x0020000D, 0x0020000E
REQUIRED = {0x00080060: "Modality", 0x00080016: "SOPClassUID", SOP_INSTANCE_UID: "SOPInstanceUID",
            STUDY_UID: "StudyInstanceUID", SERIES_UID: "SeriesInstanceUID"}


@dataclass
class DatasetOutcome:
    changes: list[Change] = field(default_factory=list)
    uid_map: dict[str, str] = field(default_factory=dict)
    patient_ids: tuple[str, str] | None = None  # (old, new)
    quarantine: str | None = None
    unknown_private: int = 0  # private elements no rule names (decided by `private *` or `default`)
    error: Exception | None = None  # the dataset could not be de-identified (the file fails closed)
    issued: list[tuple[str, str, str, str]] = field(default_factory=list)  # see FileContext.issued
    reviews: list[dict] = field(default_factory=list)  # detections to review, see FileContext.reviews


@dataclass
class FileWork:
    """One dataset between its walk and its finish."""
    ds: Dataset
    outcome: DatasetOutcome
    ctx: FileContext | None = None  # set once the walk is done; None: nothing more to do
    conditions: tuple[bool, ...] = ()
    old_ids: dict[int, str] = field(default_factory=dict)
    regions: list = field(default_factory=list)
    phi: dict = field(default_factory=dict)


def format_path(ancestry: tuple[Level, ...], tag: int) -> str:
    if not ancestry:
        return _tag_text(tag)
    parts = [f"{_tag_text(t)}[{i}]" for t, _, i in ancestry]
    parts.append(_tag_text(tag))
    return "/".join(parts)


@lru_cache(maxsize=8192)
def _tag_text(tag: int) -> str:
    return format_tag(tag, lower=True)


def _text(ds: Dataset, tag: int) -> str:
    elem = ds.get(tag)
    return "" if elem is None else "\\".join(components(elem.value)).strip(" \x00")


class DatasetDeidentifier:
    """Applies one Plan; build once per process and call for every dataset."""

    def __init__(self, plan: Plan, keys: dict[str, bytes], ocr: OcrEngine | None = None,
                 preview_dir: Path | None = None, fuzzy_workers: int = 1,
                 review_below: float = DEFAULT_REVIEW_THRESHOLD):
        self.plan = plan
        self.fuzzy_workers = fuzzy_workers
        self.review_below = review_below  # `clean ... detect`: less confident detections are reviewed
        self.keys = keys
        self.ocr = ocr if ocr is not None else (LazyOcrEngine("rapidocr") if plan.pixels else None)
        self.preview_dir = preview_dir
        self.dispatcher = Dispatcher(plan)
        self._shift_sources = {spec.source_tag for spec in plan.shifts.values()}
        self._origins = [str(rule.origin) for rule in plan.rules]

    def deidentify(self, ds: Dataset, shared_phi: dict[str, list[tuple[str, str]]] | None = None
                   ) -> DatasetOutcome:
        """`shared_phi`: PHI collected from the other files of this patient (`patient_phi`)."""
        outcome = self.deidentify_batch([(ds, shared_phi)])[0]
        if outcome.error is not None:
            raise outcome.error
        return outcome

    def deidentify_batch(self, batch: list[tuple[Dataset, dict | None]]) -> list[DatasetOutcome]:
        """Several datasets at once: each is walked on its own (`begin`), then the work the walks
        deferred (DA shifts, `clean`) is done for all of them together (`run_deferred`), then each
        is finished (`finish`). A dataset that fails gets its exception in `outcome.error`; the
        others are not affected."""
        works = [self.begin(ds, shared) for ds, shared in batch]
        self.run_deferred(works)
        for work in works:
            self.finish(work)
        return [w.outcome for w in works]

    def run_deferred_together(self, works: list[FileWork]) -> Exception | None:
        """The deferred work of the files in one go; the exception if it failed (the datasets
        may then be half changed: the caller starts those files again from their bytes)."""
        try:
            self._deferred([w for w in works if w.ctx is not None])
        except Exception as err:  # noqa: BLE001 — the caller redoes each file alone
            return err
        return None

    def run_deferred(self, works: list[FileWork]) -> None:
        live = [w for w in works if w.ctx is not None]
        try:
            self._deferred(live)
        except Exception:  # noqa: BLE001 — find the file that fails; the others go on
            for work in live:
                try:
                    self._deferred([work])
                except Exception as err:  # noqa: BLE001
                    work.outcome.error, work.ctx = err, None

    def finish(self, work: FileWork) -> None:
        if work.ctx is None:
            return
        try:
            self._finish(work)
        except Exception as err:  # noqa: BLE001 — reported per file by the caller
            work.outcome.error = err

    def begin(self, ds: Dataset, shared_phi: dict | None = None) -> FileWork:
        """Conditions, file-level quarantines, PHI collection and the walk."""
        work = FileWork(ds, DatasetOutcome())
        try:
            work.conditions = conditions = evaluate_all(self.plan.conditions, ds)
            for q in self.plan.quarantines:
                if q.condition is None or conditions[q.condition]:
                    work.outcome.quarantine = f"{q.reason} (rule {q.origin})"
                    return work
            ctx = FileContext(self.plan, self.keys, {t: _text(ds, t) for t in self._shift_sources})
            work.old_ids = {t: _text(ds, t) for t in (PATIENT_ID, SOP_INSTANCE_UID, STUDY_UID, SERIES_UID)}
            work.regions = ultrasound_regions(ds) if self.plan.pixels else []
            work.phi = {name: build_phi(sorted(set(_collected(ds, name, c.tags)) | set((shared_phi or {}).get(name, ()))))
                        for name, c in self.plan.collects.items()}
            _FileWalk(self, conditions, ctx, work.outcome.changes).visit_file(ds)
            work.ctx = ctx
        except QuarantineFile as q:
            work.outcome.quarantine = str(q)
        except Exception as err:  # noqa: BLE001 — reported per file by the caller
            work.outcome.error = err
        return work

    def _deferred(self, works: list[FileWork]) -> None:
        files: list[DeferredFile] = []
        for w in works:
            assert w.ctx is not None  # the callers pass the datasets whose walk is done
            files.append((w.ctx, w.phi, w.outcome.changes))
        shift_dates(files)
        clean_batch(files, self.fuzzy_workers, self.review_below)

    def _finish(self, work: FileWork) -> None:
        """Copies of new values, burned-in text, markers, and the identifiers for the mappings."""
        ds, outcome, ctx, old_ids = work.ds, work.outcome, work.ctx, work.old_ids
        assert ctx is not None  # `finish` comes here only for a dataset whose walk is done
        self._copy_new_values(ds, ctx, outcome.changes)
        pixel_rules = [r for r in self.plan.pixels if r.condition is None or work.conditions[r.condition]]
        if pixel_rules and 0x7FE00010 in ds:
            try:
                self._redact_pixels(ds, pixel_rules, work.phi, work.regions, outcome.changes)
            except PixelsNotWritable as err:
                outcome.quarantine = f"burned-in text found but {err}"
                return
            except PixelsNotReadable as err:  # fail closed: unchecked pixels are not released
                outcome.quarantine = f"pixel data cannot be checked for burned-in text: {err}"
                return
        if self.plan.markers is not None:
            add_markers(ds, self.plan.markers)
        if ctx.dates_shifted:
            mark_dates_modified(ds)
        outcome.uid_map = ctx.uid_map
        outcome.unknown_private = ctx.unknown_private
        outcome.issued = sorted(ctx.issued)
        outcome.reviews = ctx.reviews
        for tag in (SOP_INSTANCE_UID, STUDY_UID, SERIES_UID):  # the scorer finds files by these
            if old_ids[tag]:
                outcome.uid_map.setdefault(old_ids[tag], _text(ds, tag))
        if PATIENT_ID in ds or old_ids[PATIENT_ID]:
            outcome.patient_ids = (old_ids[PATIENT_ID], _text(ds, PATIENT_ID))
        if getattr(ds, "file_meta", None) is not None and SOP_INSTANCE_UID in ds:
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID

    _creator = staticmethod(creator_of)  # (crosscheck tests read creators as the walk does)

    def _redact_pixels(self, ds: Dataset, rules, phi, regions, changes: list[Change]) -> None:
        frames, planar = read_frames(ds)
        boxes = plan_boxes(frames, rules, phi, self.ocr, regions)
        if not boxes:
            return  # nothing burned in: the pixel data bytes stay exactly as they were
        apply_boxes(frames, boxes)
        qualities = [r.lossy_quality for r in rules if r.lossy_quality is not None]
        write_frames(ds, frames, planar, min(qualities) if qualities else None)
        origin = str(rules[0].origin)
        for box in boxes:
            # the words read are PHI: the audit names where, what kind and how sure, never the text
            note = f"frame {box.frame} box {list(box.box)} matched {box.kind} score {box.score}"
            changes.append(Change("(7fe0,0010)", "redact-pixels", origin, note))
        if qualities and ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50":
            changes.append(Change("(7fe0,0010)", "reencode-lossy", origin,
                                  f"JPEG baseline re-encoded at quality {min(qualities)} after redaction"))
        if self.preview_dir is not None:
            write_previews(self.preview_dir, str(ds.get("SOPInstanceUID", "unknown")), frames, boxes)

    def _copy_new_values(self, ds: Dataset, ctx: FileContext, changes: list[Change]) -> None:
        for target_ds, tag, source, path, origin in ctx.deferred_copies:
            if tag not in target_ds:
                continue
            new_value = ds[source].value if source in ds else None
            if target_ds[tag].value != new_value:
                target_ds[tag].value = new_value
                changes.append(Change(path, "replace-from", origin,
                                      f"copied from {format_tag(source, lower=True)}"))


_DEFAULT = Specificity.DEFAULT  # (read once: an enum member costs a look-up per element)


class _FileWalk(ElementVisitor):
    """The walk of one file: `runtime/interpret/visit.py` decides each element, these hooks change it."""

    def __init__(self, deid: DatasetDeidentifier, conditions: tuple[bool, ...], ctx: FileContext,
                 changes: list[Change]):
        super().__init__(deid.dispatcher, conditions)
        self.ctx, self.changes, self.origins = ctx, changes, deid._origins

    def meta_element(self, meta: Dataset, tag: int, vr: str, rule: PlanRule | None) -> None:
        if rule is None:
            return
        kind = type(rule.action)
        if kind is RemoveAction:
            del elements_of(meta)[tag]
            self.changes.append(Change(_tag_text(tag), "remove", self.origins[rule.id]))
        elif kind is not KeepAction:
            self._apply(meta, tag, vr, rule, ())

    def group_length(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        # group lengths go stale once values change
        del elements_of(ds)[tag]

    def element(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int, vr: str, creator: str | None,
                rule: PlanRule | None) -> None:
        if rule is None:
            if (tag >> 16) & 1:  # a private element no rule names
                self.ctx.unknown_private += 1
            return
        if (tag >> 16) & 1 and rule.specificity == _DEFAULT:
            self.ctx.unknown_private += 1
        kind = type(rule.action)
        if kind is RemoveAction:  # the most frequent change: no handler needed
            del elements_of(ds)[tag]
            self.changes.append(Change(format_path(ancestry, tag), "remove", self.origins[rule.id]))
        elif kind is not KeepAction and not (kind is CleanAction and vr == "SQ"):  # a cleaned sequence: its items
            self._apply(ds, tag, vr, rule, ancestry)

    def deferred_clean(self, item: Dataset, ancestry: tuple[Level, ...], tag: int, vr: str, rule: PlanRule) -> None:
        action = rule.action
        assert isinstance(action, CleanAction)  # `visit` calls this only for a sequence `clean` decides
        self.ctx.deferred_cleans.append((item, tag, vr, action, format_path(ancestry, tag), self.origins[rule.id]))

    def dead_creator(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        # a private creator is kept while its block still holds data
        del elements_of(ds)[tag]

    def _apply(self, ds: Dataset, tag: int, vr: str, rule: PlanRule, ancestry: tuple[Level, ...]) -> None:
        ctx = self.ctx
        ctx.note = None
        path, origin = format_path(ancestry, tag), self.origins[rule.id]
        ctx.where = (path, origin)
        if apply_action(ctx, ds, tag, vr, rule.action):
            self.changes.append(Change(path, ACTION_NAMES[type(rule.action)], origin, ctx.note))


def _collected(ds: Dataset, name: str, tags: dict[int, str]) -> list[tuple[str, str]]:
    """The file's own values for the PHI set `name`, within the limit `clean` reads."""
    values = collected_values(ds, tags)
    check_collected(values, name)
    return values
