"""`deidc apply` with `clean ... detect`: free-text PHI that no header holds is removed from the
output, the audit names the detector, and review.jsonl (0600) lists the doubtful detections."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pydicom

from deidc.runtime.audit import line_changes

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
RULES = """\
version 1
collect PatientName as phi
AdditionalPatientHistory, MedicalAlerts -> clean phi detect address, person, phone, email
PatientName -> empty
"""


def test_detectors_remove_what_no_header_holds(tmp_path, deidc):
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.AdditionalPatientHistory = "pt lives at 1742 Quarry Ridge Road, Dayton, OH 45402, transport needed"
    ds.MedicalAlerts = "Latex allergy; emergency contact: daughter Imelda, phone (937) 555-0188"
    (tmp_path / "in").mkdir()
    ds.save_as(tmp_path / "in" / "ct.dcm")
    (tmp_path / "rules.deid").write_text(RULES, encoding="utf-8")
    out = tmp_path / "out"
    run = deidc("apply", tmp_path / "rules.deid", tmp_path / "in", "-o", out, "--insecure-demo-key",
                "--workers", "1", "--no-progress", "--review-threshold", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    [written] = sorted(out.rglob("*.dcm"))
    result = pydicom.dcmread(written)
    history, alerts = str(result.AdditionalPatientHistory), str(result.MedicalAlerts)
    for phi in ("1742", "Quarry", "Dayton", "OH", "45402", "Imelda", "937", "555-0188"):
        assert phi not in history.split() + alerts.split() and phi not in history + alerts, phi
    assert "transport needed" in history and "Latex allergy" in alerts
    notes = [c for line in (out / "audit.jsonl").read_text().splitlines() for c in line_changes(line)]
    text = json.dumps(notes)
    assert "address:detect" in text and "person:detect" in text and "phone:detect" in text
    # --review-threshold 1: every detection is listed, with its words, for a curator
    review = out / "review.jsonl"
    assert stat.S_IMODE(review.stat().st_mode) == 0o600
    items = [json.loads(line) for line in review.read_text(encoding="utf-8").splitlines()]
    assert {i["detector"] for i in items} >= {"address", "person", "phone"}
    assert all(i["file"] == "ct.dcm" and i["path"] and 0 <= i["confidence"] <= 1 for i in items)
    assert any("Imelda" in i["words"] and i["applied"] for i in items)
    assert f"{len(items)} detection(s) of `clean ... detect` to review" in run.stdout
