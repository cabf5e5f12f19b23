"""Aggregation (series- vs instance-based), category tallies, the discrepancy list, the report
files and --json, and robustness against odd output folders."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from deidc.scoring.report import DISCREPANCY_COLUMNS, discrepancies
from deidc.scoring.text import BLANK, FAIL, PASS

DESCRIPTION = "(0008,1030)"
SERIES_A, SERIES_B = "1.3.1", "1.3.2"


def _two_series(case):
    """Series A: 3 instances, the 2nd leaks 'Smith'; series B: 2 clean instances.
    Every instance has a text_removed and a tag_retained check."""
    checks = [case.check("text_removed", DESCRIPTION, text="John Smith", name="Study Description"),
              case.check("tag_retained", "(0008,0060)", name="Modality")]
    for leaked in (False, True, False):
        case.instance(checks, {"StudyDescription": "CT of Smith" if leaked else "CT CHEST"}, series=SERIES_A)
    for _ in range(2):
        case.instance(checks, {"StudyDescription": "CT HEAD"}, series=SERIES_B)


# ---- aggregation -----------------------------------------------------------------------------

def test_instance_based_counts_every_check(case):
    _two_series(case)
    run, _, instance = case.scores()
    assert instance.by == "instance"
    assert (instance.overall.passed, instance.overall.failed, instance.overall.total) == (9, 1, 10)
    assert (instance.actions["text_removed"].passed, instance.actions["text_removed"].failed) == (4, 1)
    assert instance.actions["tag_retained"].total == 5
    assert instance.checks == 10 and instance.missing_files == 0


def test_series_based_one_result_per_series_action_tag(case):
    _two_series(case)
    _, series, _ = case.scores()
    assert series.by == "series"
    # text_removed: series A fails (one failing instance fails it), series B passes
    assert (series.actions["text_removed"].passed, series.actions["text_removed"].failed) == (1, 1)
    assert (series.actions["tag_retained"].passed, series.actions["tag_retained"].failed) == (2, 0)
    assert (series.overall.passed, series.overall.total) == (3, 4)
    assert series.overall.score == 0.75
    assert series.checks == 10  # the number of checks behind the results


def test_series_results_are_per_tag(case):
    checks = [case.check("tag_retained", DESCRIPTION), case.check("tag_retained", "(0008,0060)"),
              case.check("text_notnull", DESCRIPTION)]
    case.instance(checks, {"StudyDescription": "CT"})
    case.instance(checks, {"StudyDescription": ""})
    _, series, instance = case.scores()
    assert series.overall.total == 3 and instance.overall.total == 6
    assert (series.actions["text_notnull"].failed, series.actions["tag_retained"].passed) == (1, 2)


def test_series_result_fail_then_pass_then_blank(case):
    """The published scorer sorts check_passed (0, 1, NaN last) and keeps the first of a group:
    FAIL beats PASS, PASS beats BLANK."""
    blank = case.check("text_retained", DESCRIPTION, text="of the")  # stop words only, not found: BLANK
    case.instance([blank], {"StudyDescription": "CT"}, series=SERIES_A)
    case.instance([case.check("text_retained", DESCRIPTION, text="CT")], {"StudyDescription": "CT"}, series=SERIES_A)
    case.instance([blank], {"StudyDescription": "CT"}, series=SERIES_B)
    case.instance([case.check("text_retained", DESCRIPTION, text="MR")], {"StudyDescription": "CT"}, series=SERIES_B)
    case.instance([blank], {"StudyDescription": "CT"}, series="1.3.3")
    case.instance([blank], {"StudyDescription": "CT"}, series="1.3.3")
    run, series, _ = case.scores()
    assert run.judgement.status.tolist() == [BLANK, PASS, BLANK, FAIL, BLANK, BLANK]
    assert (series.overall.passed, series.overall.failed, series.overall.blank) == (1, 1, 1)


def test_series_pixel_checks_one_result_per_series(case):
    """Pixel checks have no tag path, and a missing tag path is one value (NaN equals NaN in
    pandas' drop_duplicates): however many boxes a series has, one pixels_hidden result, failed
    when any box of any instance is still readable."""
    boxes = [case.box_check("GALLOWAY^REBECCA", (30, 40), (100, 55)),
             case.box_check("12/03/1961", (30, 60), (100, 75)),
             case.box_check("MRN 4471", (30, 80), (100, 95))]
    image = np.tile(np.arange(128, dtype=np.uint8), (128, 1))  # not flat in any box: the fake OCR reads them
    for _ in range(3):
        case.instance(boxes, series=SERIES_A, pixels=image)  # every box readable: fails
    for _ in range(2):
        case.instance(boxes, series=SERIES_B, pixels=np.zeros((128, 128), dtype=np.uint8))  # flat: passes
    _, series, instance = case.scores(ocr=case.FakeOcr("GALLOWAY 12/03/1961 MRN 4471"))
    assert (instance.actions["pixels_hidden"].passed, instance.actions["pixels_hidden"].failed) == (6, 9)
    hidden = series.actions["pixels_hidden"]
    assert (hidden.passed, hidden.failed, hidden.total) == (1, 1, 2)
    assert series.categories[("hipaa", "HIPAA-A")].total == 2


def test_series_missing_tag_path_groups_as_one_value_for_any_action(case):
    """Checks of other actions without a tag path group the same way; they never merge with a
    check that has one, nor across actions or series."""
    no_tag = [case.check("tag_retained", None, name="A"), case.check("tag_retained", None, name="B"),
              case.check("text_retained", None, text="X")]
    case.instance([*no_tag, case.check("tag_retained", DESCRIPTION)], {"StudyDescription": "CT"}, series=SERIES_A)
    case.instance(no_tag, {"StudyDescription": "CT"}, series=SERIES_A)
    case.instance(no_tag, {"StudyDescription": "CT"}, series=SERIES_B)
    _, series, instance = case.scores()
    assert instance.actions["tag_retained"].total == 7
    assert series.actions["tag_retained"].total == 3  # (None, A), (None, B), (DESCRIPTION, A)
    assert (series.actions["tag_retained"].passed, series.actions["tag_retained"].failed) == (1, 2)
    assert series.actions["text_retained"].total == 2


def test_series_groups_by_patient_and_study_too(case):
    """The published key is (action, tag_ds, patient, study, series)."""
    checks = [case.check("tag_retained", DESCRIPTION)]
    case.instance(checks, {"StudyDescription": "CT"}, patient="PAT1", study="1.4.1")
    case.instance(checks, {"StudyDescription": "CT"}, patient="PAT2", study="1.4.1")
    case.instance(checks, {"StudyDescription": "CT"}, patient="PAT2", study="1.4.2")
    case.instance(checks, {"StudyDescription": "CT"}, patient="PAT2", study="1.4.2")
    _, series, _ = case.scores()
    assert series.actions["tag_retained"].total == 3


def test_series_result_stands_for_its_failing_check(case):
    """A failed group counts under the category of a failing check (the one the scorer keeps)."""
    case.instance([case.check("text_removed", DESCRIPTION, text="Smith", category={"hipaa": {"z": "HIPAA-Z"}})],
                  {"StudyDescription": "CT"})
    case.instance([case.check("text_removed", DESCRIPTION, text="Smith", category={"tcia": {"rev": "TCIA-REV"}})],
                  {"StudyDescription": "CT of Smith"})
    _, series, _ = case.scores()
    assert series.categories == {("tcia", "TCIA-REV"): series.overall}
    assert series.overall.failed == 1


def _uneven(case):
    """Instance-based: tag_retained 1 of 4, text_notnull 2 of 2: score 3/6, normalised
    (1/4 + 1) / 2. Series-based (one series): the four tag_retained checks are four tag paths
    (1 of 4), text_notnull one result (1 of 1): score 2/5, the same normalised score."""
    _uneven_instances(case)


def _uneven_instances(case):
    case.instance([case.check("tag_retained", DESCRIPTION), case.check("tag_retained", "(0008,103e)"),
                   case.check("text_notnull", "(0008,0060)")],
                  {"StudyDescription": "CT", "SeriesDescription": case.ABSENT})
    case.instance([case.check("tag_retained", "(0008,1090)"), case.check("tag_retained", "(0008,1010)"),
                   case.check("text_notnull", "(0008,0060)")],
                  {"ManufacturerModelName": case.ABSENT, "StationName": case.ABSENT})


def test_normalised_score_is_the_mean_of_the_action_scores(case):
    _uneven(case)
    _, series, instance = case.scores()
    assert (instance.overall.passed, instance.overall.total) == (3, 6)
    assert instance.normalised == pytest.approx(0.625)
    assert (series.overall.passed, series.overall.total) == (2, 5)
    assert (series.actions["tag_retained"].passed, series.actions["tag_retained"].total) == (1, 4)
    assert series.normalised == pytest.approx((0.25 + 1) / 2)


def test_normalised_score_of_nothing_is_zero(case):
    case.instance([])
    _, series, instance = case.scores()
    assert series.normalised == instance.normalised == 0.0


def test_missing_files_are_counted(case):
    case.instance([case.check("tag_retained", DESCRIPTION)], {"StudyDescription": "CT"})
    case.instance([case.check("tag_retained", DESCRIPTION)], missing=True)
    _, series, instance = case.scores()
    assert series.missing_files == instance.missing_files == 1


# ---- categories ------------------------------------------------------------------------------

def test_category_tallies(case):
    case.instance([
        case.check("text_removed", DESCRIPTION, text="John Smith",
                   category={"hipaa": {"z": "HIPAA-Z"}, "tcia": {"p15": "TCIA-P15-BASIC-X"}}),  # HIPAA first
        case.check("text_retained", "(0008,0060)", text="CT", category={"tcia": {"rev": "TCIA-REV"}}),
        case.check("text_retained", "(0008,0070)", text="ACME", category={"tcia": {"rev": "TCIA-REV"}}),
        case.check("tag_retained", "(0008,0060)", category={"dicom": {"iod": "DICOM-IOD-1"}}),
        case.check("date_shifted", "(0008,0020)", value="20200101"),  # always hipaa / HIPAA-C
        case.check("text_retained", "(0008,0016)", text="1.2.840.10008.5.1.4.1.1.2"),  # no category
    ], {"StudyDescription": "CT", "Manufacturer": "OTHER", "StudyDate": "20210101"})
    _, series, instance = case.scores()
    tallies = {c: (t.passed, t.failed) for c, t in instance.categories.items()}
    assert tallies == {
        ("dicom", "DICOM-IOD-1"): (1, 0),
        ("hipaa", "HIPAA-C"): (1, 0),
        ("hipaa", "HIPAA-Z"): (1, 0),
        ("tcia", "TCIA-REV"): (1, 1),
        ("unknown", "unknown"): (1, 0),
    }
    assert {c: (t.passed, t.failed) for c, t in series.categories.items()} == tallies


# ---- discrepancies ---------------------------------------------------------------------------

def test_discrepancies_list_failing_checks_only(case):
    _two_series(case)
    leaking = case.instances[1]
    case.instance([case.check("tag_retained", DESCRIPTION, name="Study Description")],
                  {"StudyDescription": case.ABSENT})
    case.instance([case.check("text_retained", "(0008,0060)", text="CT", name="Modality")], missing=True)
    run = case.run()
    rows = discrepancies(run.key, run.index, run.judgement)
    assert [(r["tag_path"], r["action"]) for r in rows] == [
        ("<(0008,1030)>", "text_removed"), ("<(0008,1030)>", "tag_retained"), ("<(0008,0060)>", "text_retained")]
    leak, absent, missing = rows
    assert leak == {
        "status": "fail", "file": str(leaking.path), "input_sop_uid": leaking.sop, "series_uid": SERIES_A,
        "tag_path": "<(0008,1030)>", "tag_name": "Study Description", "action": "text_removed",
        "expected": "<John Smith>", "found": "<CT of Smith>", "category": "unknown", "subcategory": "unknown",
    }
    assert (absent["found"], absent["file"]) == ("(absent)", str(case.instances[5].path))
    assert (missing["found"], missing["file"], missing["expected"]) == ("(absent)", "(missing)", "<CT>")


def test_discrepancy_expected_is_the_value_when_no_action_text(case):
    case.instance([case.check("date_shifted", "(0008,0020)", value="20200101")], {"StudyDate": "20200101"})
    run = case.run()
    (row,) = discrepancies(run.key, run.index, run.judgement)
    assert (row["expected"], row["found"], row["status"]) == ("<20200101>", "<20200101>", "fail")


def test_discrepancies_mark_blanks(case):
    case.instance([case.check("text_retained", DESCRIPTION, text="of the")], {"StudyDescription": "CT"})
    run = case.run()
    assert [r["status"] for r in discrepancies(run.key, run.index, run.judgement)] == ["blank"]


# ---- the CLI: reports and --json -------------------------------------------------------------

def test_cli_csv_report(case):
    _two_series(case)
    done = case.cli("--report", str(case.root / "report.csv"))
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # rich wraps long lines
    assert "series-based score: 75.0000%" in text
    assert "instance-based score: 90.0000%" in text
    with (case.root / "report.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert tuple(reader.fieldnames) == DISCREPANCY_COLUMNS
    assert len(rows) == 1
    assert (rows[0]["tag_path"], rows[0]["action"], rows[0]["found"]) == ("<(0008,1030)>", "text_removed",
                                                                          "<CT of Smith>")
    assert rows[0]["file"] == str(case.instances[1].path)


def test_cli_xlsx_report(case):
    openpyxl = pytest.importorskip("openpyxl")
    _two_series(case)
    done = case.cli(report="report.xlsx")
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(case.root / "report.xlsx")
    assert book.sheetnames == ["Summary", "Actions", "Categories", "Discrepancies", "Findings"]
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert summary[0] == ("aggregation", "passed", "failed", "blank", "total", "score", "normalised")
    assert summary[1] == ("series", 3, 1, 0, 4, 0.75, 0.75)  # (1/2 + 2/2) / 2
    assert summary[2] == ("instance", 9, 1, 0, 10, 0.9, 0.9)  # (4/5 + 5/5) / 2
    discrepancy = list(book["Discrepancies"].iter_rows(values_only=True))
    assert discrepancy[0] == DISCREPANCY_COLUMNS
    row = dict(zip(DISCREPANCY_COLUMNS, discrepancy[1], strict=True))
    assert (row["action"], row["tag_path"], row["expected"], row["found"]) == (
        "text_removed", "<(0008,1030)>", "<John Smith>", "<CT of Smith>")
    actions = {(r[0], r[1]): r[2:] for r in book["Actions"].iter_rows(min_row=2, values_only=True)}
    assert actions[("series", "text_removed")] == (1, 1, 0, 2, 0.5)


def test_cli_normalised_score_everywhere(case):
    """The normalised score next to the series- and instance-based ones: terminal, CSV summary,
    XLSX Summary sheet and --json."""
    _uneven(case)
    done = case.cli("--report", str(case.root / "report.csv"))
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "series-based score: 40.0000%, normalised 62.5000%" in text
    assert "instance-based score: 50.0000%, normalised 62.5000%" in text
    assert "normalised" in text and "62.50%" in text  # the Scores table
    with (case.root / "report-summary.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    summary = {r["aggregation"]: r for r in rows if r["part"] == "summary"}
    assert (summary["series"]["score"], summary["series"]["normalised"]) == ("0.4", "0.625")
    assert (summary["instance"]["score"], summary["instance"]["normalised"]) == ("0.5", "0.625")
    actions = {(r["aggregation"], r["key"]): r for r in rows if r["part"] == "actions"}
    assert (actions[("series", "tag_retained")]["passed"], actions[("series", "tag_retained")]["total"]) == ("1", "4")

    done = case.cli("--json")
    scores = json.loads(done.stdout)["scores"]
    assert (scores["series"]["overall"]["score"], scores["series"]["normalised"]) == (0.4, 0.625)
    assert (scores["instance"]["overall"]["score"], scores["instance"]["normalised"]) == (0.5, 0.625)

    openpyxl = pytest.importorskip("openpyxl")
    done = case.cli(report="report.xlsx")
    assert done.returncode == 0, done.stderr
    summary_sheet = list(openpyxl.load_workbook(case.root / "report.xlsx")["Summary"].iter_rows(values_only=True))
    assert summary_sheet[1] == ("series", 2, 3, 0, 5, 0.4, 0.625)
    assert summary_sheet[2] == ("instance", 3, 3, 0, 6, 0.5, 0.625)


def test_cli_json(case):
    _two_series(case)
    done = case.cli("--json", "--by", "instance")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["scores"]["instance"]["overall"] == {"passed": 9, "failed": 1, "blank": 0, "total": 10,
                                                        "score": 0.9}
    assert summary["scores"]["series"]["overall"]["score"] == 0.75
    assert summary["scores"]["series"]["actions"]["text_removed"]["failed"] == 1
    assert summary["scores"]["series"]["normalised"] == 0.75
    assert (summary["checks"], summary["output_files"], summary["missing_files"]) == (10, 5, 0)
    assert summary["statuses"] == {"pass": 9, "fail": 1}
    assert summary["findings"] == []


def test_cli_reads_mappings_from_the_output_folder(case):
    """Without --uid-map/--patid-map the CLI reads OUT/mappings/*.csv; a wrong path warns and
    every row becomes a missing file."""
    case.instance([case.check("patid_consistent", "(0010,0020)", value="PAT1")])
    done = case.cli("--json")
    assert json.loads(done.stdout)["scores"]["instance"]["overall"]["passed"] == 1

    done = case.cli("--json", "--uid-map", str(case.root / "nowhere.csv"))
    assert done.returncode == 0
    assert "no UID mapping" in " ".join(done.stderr.split())
    summary = json.loads(done.stdout)
    assert summary["missing_files"] == 1 and summary["scores"]["instance"]["overall"]["failed"] == 1


@pytest.mark.parametrize("wrong", ["output", "key"])
def test_cli_missing_output_or_key_exits_2(case, wrong):
    case.instance([case.check("tag_retained", DESCRIPTION)])
    key = case.write_key()
    out, key = (case.root / "nowhere", key) if wrong == "output" else (case.out, case.root / "no.db")
    done = subprocess.run([sys.executable, "-m", "deidc", "score", str(out), str(key), "--ocr", "none"],
                          capture_output=True, text=True, cwd=case.root, timeout=120)
    assert done.returncode == 2 and "does not exist" in " ".join(done.stderr.split())  # rich wraps lines


# ---- robustness: odd output folders ----------------------------------------------------------

def test_non_dicom_and_duplicate_files_are_findings(case):
    first = case.instance([case.check("tag_retained", DESCRIPTION)], {"StudyDescription": "CT"})
    (case.out / "notes.txt").write_text("not a DICOM file\n", encoding="utf-8")
    (case.out / "zz-copy.dcm").write_bytes(first.path.read_bytes())  # the same SOPInstanceUID again
    run = case.run()
    findings = dict((name.rsplit("/", 1)[-1], what) for name, what in run.index.findings)
    assert set(findings) == {"notes.txt", "zz-copy.dcm"}
    assert "not DICOM" in findings["notes.txt"]
    assert "duplicate SOPInstanceUID" in findings["zz-copy.dcm"]
    assert run.judgement.status.tolist() == [PASS]  # scoring went on, with the first file
    assert run.index.files[run.judgement.file_of_row[0]].path == first.path

    done = case.cli("--json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["findings"]) == 2


def test_the_runs_own_sidecars_are_not_outputs(case):
    """audit.jsonl, quarantine.csv, review.jsonl, mappings/ and .deidc-run/ at the top of the
    output folder are deidc's, not outputs to score nor findings; the same names deeper down are
    not sidecars."""
    case.instance([case.check("tag_retained", DESCRIPTION)], {"StudyDescription": "CT"})
    case.write_mappings()
    for name in ("audit.jsonl", "quarantine.csv", "review.jsonl", "mappings/notes.txt", ".deidc-run/journal.jsonl",
                 ".deidc-run/staging/0001.dcm", "series/review.jsonl"):
        (case.out / name).parent.mkdir(parents=True, exist_ok=True)
        (case.out / name).write_text("{}\n", encoding="utf-8")
    run = case.run()
    assert [name.rsplit("/", 2)[-2:] for name, _ in run.index.findings] == [["series", "review.jsonl"]]
    assert [f.path for f in run.index.files] == [case.instances[0].path]
    assert run.judgement.status.tolist() == [PASS]


def test_output_missing_modality_is_a_finding(case):
    case.instance([case.check("tag_retained", DESCRIPTION)], {"StudyDescription": "CT", "Modality": case.ABSENT})
    run = case.run()
    ((_, what),) = run.index.findings
    assert "missing Modality" in what
    assert run.judgement.status.tolist() == [PASS]  # still scored


def test_empty_output_folder(case):
    case.instance([case.check("tag_retained", DESCRIPTION), case.check("text_removed", DESCRIPTION, text="X")],
                  missing=True)
    run, series, _ = case.scores()
    assert run.judgement.status.tolist() == [FAIL, PASS]
    assert series.missing_files == 1 and run.index.files == []


def test_mapping_with_byte_order_mark(tmp_path):
    from deidc.scoring import read_mapping

    path = tmp_path / "uid_mapping.csv"
    path.write_bytes("\ufeffid_old,id_new\r\n1.2.3,2.2.3\r\n".encode("utf-8"))
    assert read_mapping(path) == {"1.2.3": "2.2.3"}


def test_cli_unavailable_ocr_engine_is_reported(case):
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("tesserocr is installed: the engine is available")
    case.instance([case.box_check("GALLOWAY^REBECCA", (30, 40), (100, 55))])
    done = case.cli("--json", ocr="tesseract")
    assert done.returncode != 0 or "tesser" in done.stderr.lower()
