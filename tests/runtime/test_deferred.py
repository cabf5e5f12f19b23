"""Deferred work done per batch of datasets: DA shifts and `clean` give exactly what one dataset
at a time gives, and a text repeated across the batch is cleaned once."""
from __future__ import annotations

import pydicom

from deidc.runtime.interpret import deferred
from deidc.runtime.interpret.walk import DatasetDeidentifier

RULES = """
day_shift = days(hmac(key, PatientID), -3650..-30)
collect PatientName, PatientID as phi
PatientName -> empty
StudyDate, PatientBirthDate -> shift day_shift
StudyDescription, ImageComments -> clean phi fuzzy 85, dates shift day_shift
"""


def _datasets(read_test_file, n: int = 4) -> list[pydicom.Dataset]:
    out = []
    for i in range(n):
        ds = read_test_file("CT_small.dcm")
        ds.PatientName = "GALLOWAY^REBECCA" if i % 2 == 0 else "NGUYEN^DANA"
        ds.PatientID = f"PID{i % 2}"
        ds.StudyDate = "20200229" if i < 3 else "20230230"  # the last one cannot be shifted
        ds.StudyDescription = "CT for Rebeca Galloway on 20200229" if i % 2 == 0 else "CT for Nguyen"
        ds.ImageComments = f"slice {i} of Galloway"
        out.append(ds)
    return out


def test_a_batch_gives_what_one_at_a_time_gives(deidentifier, read_test_file):
    deid: DatasetDeidentifier = deidentifier(RULES)
    alone = [deid.deidentify(ds) for ds in _datasets(read_test_file)]
    together_ds = _datasets(read_test_file)
    together = deid.deidentify_batch([(ds, None) for ds in together_ds])
    one_by_one = _datasets(read_test_file)
    for ds in one_by_one:
        deid.deidentify(ds)
    for a, b in zip(alone, together, strict=True):
        assert a.error is None and b.error is None
        assert sorted(a.changes, key=str) == sorted(b.changes, key=str)
    for x, y in zip(one_by_one, together_ds, strict=True):
        assert x.StudyDescription == y.StudyDescription and x.StudyDate == y.StudyDate
    assert "Galloway" not in together_ds[0].StudyDescription and "Rebeca" not in together_ds[0].StudyDescription
    assert together_ds[0].StudyDate != "20200229" and together_ds[0].StudyDate.isdigit()
    assert not together_ds[3].StudyDate  # fail closed: the impossible date is emptied
    assert any(c.note and "emptied" in c.note for c in together[3].changes)


def test_repeated_texts_are_cleaned_once(deidentifier, read_test_file, monkeypatch):
    deid: DatasetDeidentifier = deidentifier(RULES)
    seen: list[str] = []
    real = deferred.clean_texts

    def counting(texts, *args, **kwargs):
        seen.extend(texts)
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(deferred, "clean_texts", counting)
    datasets = _datasets(read_test_file)
    for ds in datasets:
        ds.ImageComments = "slice of Galloway"  # the same text in every file
    deid.deidentify_batch([(ds, None) for ds in datasets])
    assert seen.count("slice of Galloway") == 2  # once per patient's PHI set, not once per file
    # Galloway is PHI of patient PID0 only: the other patient's files keep the word
    assert [ds.ImageComments for ds in datasets] == ["slice of", "slice of Galloway"] * 2


def test_one_failing_dataset_does_not_stop_the_batch(deidentifier, read_test_file, monkeypatch):
    deid: DatasetDeidentifier = deidentifier(RULES)
    datasets = _datasets(read_test_file, 3)
    real = deferred.clean_texts

    def failing(texts, *args, **kwargs):
        if any("Nguyen" in t for t in texts):
            raise RuntimeError("boom")
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(deferred, "clean_texts", failing)
    outcomes = deid.deidentify_batch([(ds, None) for ds in datasets])
    assert [o.error is not None for o in outcomes] == [False, True, False]
    assert "Galloway" not in datasets[0].StudyDescription


def test_clean_on_a_sequence_cleans_the_free_text_of_its_items(deidentifier, read_test_file):
    deid: DatasetDeidentifier = deidentifier("""
        collect PatientName as phi
        RequestAttributesSequence -> clean phi
        """)
    ds = read_test_file("CT_small.dcm")
    ds.PatientName = "GALLOWAY^REBECCA"
    item, inner = pydicom.Dataset(), pydicom.Dataset()
    item.RequestedProcedureDescription = "CT for Rebecca Galloway"
    item.RequestedProcedureID = "RP1"
    inner.CodeMeaning = "Galloway follow-up"
    item.RequestedProcedureCodeSequence = [inner]
    ds.RequestAttributesSequence = [item]
    outcome = deid.deidentify(ds)
    assert outcome.error is None and outcome.quarantine is None
    cleaned = ds.RequestAttributesSequence[0]
    assert cleaned.RequestedProcedureDescription == "CT for"
    assert cleaned.RequestedProcedureCodeSequence[0].CodeMeaning == "follow-up"
    assert cleaned.RequestedProcedureID == "RP1"
    assert {c.path for c in outcome.changes if c.action == "clean"} == {
        "(0040,0275)[0]/(0032,1060)", "(0040,0275)[0]/(0032,1064)[0]/(0008,0104)"}


def test_warnings_of_the_shared_work_are_credited_to_their_own_file(compile_plan, key, read_test_file,
                                                                     tmp_path, monkeypatch):
    """The audit must not depend on which files shared a batch (nor on --workers)."""
    import warnings as warnings_module

    from deidc.runtime.batch import worker
    from deidc.runtime.batch.key_sources import resolve_keys

    plan = compile_plan(RULES)
    root = tmp_path / "in"
    root.mkdir()
    for i in range(3):
        ds = read_test_file("CT_small.dcm")
        ds.PatientID, ds.SOPInstanceUID = f"PID{i}", f"1.2.3.{i}"
        ds.StudyDescription = f"CT for Galloway {i}"
        ds.PatientName = "GALLOWAY^REBECCA"
        ds.save_as(root / f"{i}.dcm")
    real = deferred.set_texts

    def noisy(ds, tag, values):
        # the audit names a warning by where it was raised (its text may quote values): one place per file
        warnings_module.warn_explicit("written", UserWarning, f"noisy/{ds.get('PatientID', '?')}.py", 1)
        return real(ds, tag, values)

    monkeypatch.setattr(deferred, "set_texts", noisy)
    worker.init_worker(plan, resolve_keys(plan), str(root), str(tmp_path / "stage"))
    results = worker.process_files([str(root / f"{i}.dcm") for i in range(3)])
    for i, result in enumerate(results):
        assert result.quarantine is None
        assert result.warnings == [f"UserWarning from noisy/PID{i}.py:1"]
