"""Benchmark: burned-in PHI found by OCR + the fuzzy matcher (a script that prints, not a test).

Each frame goes through what `deidc apply` does to burned-in text: `display(frame)` → the OCR
engine with text detection → `match(word, candidates(phi), threshold)` on every OCR word, where
`phi` is built from the file's header as tcia.deid's `burned_in` collect would build it. The
result is scored against ground-truth text items (text, box, PHI or not):

- a PHI item is *recalled* when some matched OCR box overlaps it (intersection, or either box's
  centre inside the other): the redaction blacks out the whole OCR box;
- a matched OCR box is a *false match* when it overlaps no PHI item (a label, or nothing);
- precision = matched boxes overlapping PHI / all matched boxes.

Data sets: the first frame of deid-data's three ultrasound files, with the text transcribed by
hand in `bench/ocr_truth.json`, and N synthetic frames drawn with PIL (fake names, IDs, dates
and times in several layouts, institutions, scanner labels; 9-24 px; noise; 8-bit grey, RGB
with coloured text, 16-bit grey), deterministic for a given --seed. A second table runs the
matcher alone on the ground-truth text (no OCR) to separate matcher misses from OCR misses.

    python bench/ocr_matcher.py                       # real + 60 synthetic, rapidocr (+ tesseract if installed)
    python bench/ocr_matcher.py --synthetic 200 --seed 7 --threshold 0.9 --engine rapidocr
    python bench/ocr_matcher.py --synthetic 10 --save-frames /tmp/synth   # PNGs with truth boxes
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import tag_for_keyword
from rich.console import Console
from rich.table import Table

from deidc.compiler.build import phi_kind
from deidc.resources import RULESETS_DIR
from deidc.runtime.interpret.collect import collected_values
from deidc.runtime.pixels.burned_in import candidates, display, match, read_frames
from deidc.runtime.pixels.ocr import ENGINE_MODULES, ENGINES, OcrEngine, OcrWord
from deidc.runtime.text.phi import build_phi

TRUTH_PATH = Path(__file__).resolve().parent / "ocr_truth.json"
# The attributes tcia.deid collects `as burned_in` (read from the ruleset; this list if that fails).
FALLBACK_COLLECT = ("PatientName OtherPatientNames PatientBirthName PatientID OtherPatientIDs IssuerOfPatientID "
                    "AccessionNumber PatientBirthDate StudyDate SeriesDate AcquisitionDate ContentDate StudyTime "
                    "SeriesTime AcquisitionTime ContentTime InstitutionName InstitutionAddress PatientAddress").split()

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Item:
    text: str
    box: Box
    phi: bool
    kind: str  # name/id/date/time/place for PHI; label/setting/... otherwise
    layout: str = "real"  # how the value was written (synthetic frames)


@dataclass
class Frame:
    dataset: str  # table row it belongs to
    name: str
    image: np.ndarray  # H×W×S, as read_frames gives it
    items: list[Item]
    phi: list[tuple[str, str]]  # (kind, value) header PHI → build_phi


# ---- header PHI ------------------------------------------------------------------------------


def burned_in_collect() -> list[str]:
    try:
        text = (RULESETS_DIR / "tcia.deid").read_text()
        found = re.search(r"^collect\s+(.+?)\s+as\s+burned_in\s*$", text, re.M)
        if found:
            return [k.strip() for k in found.group(1).split(",") if k.strip()]
    except OSError:
        pass
    return FALLBACK_COLLECT


def header_phi(ds: pydicom.Dataset) -> list[tuple[str, str]]:
    wanted = {tag: phi_kind(tag) for tag in (tag_for_keyword(k) for k in burned_in_collect()) if tag is not None}
    return sorted(set(collected_values(ds, wanted)))


# ---- real frames ------------------------------------------------------------------------------


def real_frames(truth_path: Path) -> list[Frame]:
    import deid_data

    folder = Path(deid_data.__file__).parent / "data" / "ultrasounds"
    truth = json.loads(truth_path.read_text())["files"]
    frames = []
    for file_name, entry in truth.items():
        ds = pydicom.dcmread(folder / file_name)
        data, _ = read_frames(ds)
        items = [Item(i["text"], tuple(i["box"]), bool(i["phi"]), i["kind"]) for i in entry["items"]]
        phi = header_phi(ds) + [tuple(pair) for pair in entry.get("header_phi_extra", [])]
        frames.append(Frame(Path(file_name).stem, file_name, data[0], items, phi))
    return frames


# ---- synthetic frames -------------------------------------------------------------------------

LAST = """SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ
GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS SANCHEZ
CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL FLORES GREEN
ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS KOWALSKI OKAFOR NAKAMURA SCHMIDT
ODONNELL FITZGERALD VANDERBERG ABERNATHY GALLOWAY PETROVIC LONG KIM HILL KING""".split()
FIRST = """JAMES MARY ROBERT PATRICIA JOHN JENNIFER MICHAEL LINDA DAVID ELIZABETH WILLIAM BARBARA RICHARD
SUSAN JOSEPH JESSICA THOMAS SARAH CHARLES KAREN DANIEL NANCY MATTHEW LISA ANTHONY BETTY MARK HELEN
DONALD SANDRA STEVEN ASHLEY PAUL KIMBERLY ANDREW EMILY JOSHUA DONNA KEVIN MICHELLE BRIAN CAROL
GEORGE AMANDA EDWARD MELISSA REBECCA AIDEN FATIMA HIROSHI INGRID OLUWASEUN ANN MAY ROSE""".split()
PLACES = """Riverside Mercy Lakeview Harborview Oakwood Brookfield Fairview Westbrook Cedarcrest Pinehurst
Kingsbridge Ashford Stonegate Millbrook Greenfield Summit Bayside Northgate Hollister Wexford""".split()
PLACE_SUFFIX = ["Medical Center", "General Hospital", "Imaging Center", "Hospital", "Radiology", "Clinic",
                "Health", "Community Hospital", "Diagnostic Imaging"]
LABELS = """LEFT KIDNEY|RIGHT KIDNEY|GAIN 45|GAIN 62%|DEPTH 16cm|DEPTH 9.5cm|120 kV|250 mAs|LIVER|SAG|TRANS|
THYROID RT|BLADDER|FR 32Hz|TIS 0.4|MI 1.2|C5-1|L12-5|2D|CF|PW|DR 60|W 400 L 40|Slice 2.5mm|SE 3 IM 45|
ABD GEN|HGen|WF 384Hz|75 bpm|Zoom 1.5|Dyn R 58|P Med|THI|Res|FOV 350mm|Im: 112/240|Sup|Inf|Ant|Post|
CINE|FROZEN|Lt Breast 2:00|GB|CBD 4mm|AORTA|IVC|PORTAL VEIN|SPLEEN|PANCREAS|OB/GYN|CAROTID LT|ECG|
Power 100%|PRF 2.5kHz|Angle 60|Frq 5.0MHz|AX|COR|kVp 80|mA 200|WL 40 WW 350|AP|PA|LAT|Adv Breast|
LONG AXIS|RT LONG|KNEE|MARKER|SUMMARY|Sag Liver L-M|MI 0.6|TIS0.0|*Renal|General|MapE/ST2""".replace(
    "\n", "").split("|")


def _decoy(rng: random.Random) -> str:
    """A non-PHI label holding random digits: serials, counters, measures, calibration dates."""
    day = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(9000))
    return rng.choice([
        f"SN {rng.randrange(10**8):08d}", f"Frame {rng.randint(1, 300)}/{rng.randint(300, 999)}",
        f"Dist {rng.uniform(0.1, 20):.2f}cm", f"Ver {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
        f"Cal {day:%Y-%m-%d}", f"Elapsed {rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        f"Vol {rng.uniform(1, 500):.1f} ml", f"HR {rng.randint(50, 140)} bpm", f"Im {rng.randint(1, 400)}"])


COLOURS = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 165, 0), (120, 190, 255),
           (230, 230, 150), (0, 200, 160)]
FONT_NAMES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf",
              "DejaVuSansCondensed-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono-Bold.ttf"]


def font_files() -> list[Path]:
    root = Path("/usr/share/fonts")
    found = {p.name: p for p in root.rglob("DejaVu*.ttf")} if root.is_dir() else {}
    return [found[n] for n in FONT_NAMES if n in found]


def _font(files: list[Path], rng: random.Random, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(rng.choice(files)), size) if files else ImageFont.load_default(size=size)


def _background(rng: random.Random, nrng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An ultrasound-like float picture in 0..1: a speckled sector on black."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", (w, h), 0)
    cx, top = w // 2 + rng.randint(-w // 10, w // 10), rng.randint(0, h // 6)
    radius = rng.randint(int(h * 0.6), int(h * 0.95))
    spread = rng.randint(25, 45)
    ImageDraw.Draw(mask).pieslice((cx - radius, top - radius, cx + radius, top + radius), 90 - spread, 90 + spread, 255)
    speckle = nrng.rayleigh(0.12 + 0.12 * rng.random(), (h, w))
    depth = np.linspace(1.0, 0.4, h)[:, None]
    return np.clip(speckle * depth * (np.asarray(mask) / 255.0), 0, 1)


def _phi_texts(rng: random.Random) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(kind, text, layout) to burn in and (kind, value) header PHI, for one fake patient."""
    last, first = rng.choice(LAST), rng.choice(FIRST)
    pid = f"{rng.randrange(10**8):08d}"
    dob = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(26000))
    study = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(7000))
    clock = dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60))
    place = f"{rng.choice(PLACES)} {rng.choice(PLACE_SUFFIX)}"
    accession = f"{rng.randrange(10**9):09d}"
    header = [("name", f"{last}^{first}"), ("id", pid), ("date", dob.strftime("%Y%m%d")),
              ("date", study.strftime("%Y%m%d")), ("time", clock.strftime("%H%M%S")), ("place", place),
              ("id", accession)]
    date_layouts = [("mm/dd/yyyy", "%m/%d/%Y"), ("yyyymmdd", "%Y%m%d"), ("dd.mm.yyyy", "%d.%m.%Y"),
                    ("dd-Mon-yyyy", "%d-%b-%Y")]
    burn: list[tuple[str, str, str]] = []
    layout, text = rng.choice([("LAST^FIRST", f"{last}^{first}"), ("First Last", f"{first.title()} {last.title()}"),
                               ("LAST, FIRST", f"{last}, {first}")])
    burn.append(("name", text, layout))
    if rng.random() < 0.8:
        prefix = rng.choice(["", "ID: ", "MRN "])
        burn.append(("id", prefix + pid, prefix.strip(" :") or "bare"))
    if rng.random() < 0.6:
        layout, fmt = rng.choice(date_layouts)
        burn.append(("date", "DOB: " + dob.strftime(fmt) if rng.random() < 0.7 else dob.strftime(fmt), "DOB " + layout))
    if rng.random() < 0.7:
        layout, fmt = rng.choice(date_layouts)
        burn.append(("date", study.strftime(fmt), "study " + layout))
    if rng.random() < 0.6:
        layout, fmt = rng.choice([("HH:MM:SS", "%H:%M:%S"), ("HH:MM", "%H:%M"), ("HH:MM:SS", "%H:%M:%S"),
                                  ("hh:mm:ss AM/PM", "%I:%M:%S %p")])
        burn.append(("time", clock.strftime(fmt), layout))
    if rng.random() < 0.5:
        burn.append(("place", place if rng.random() < 0.5 else place.upper(), "institution"))
    if rng.random() < 0.25:
        burn.append(("id", f"Acc: {accession}", "accession"))
    return burn, header


def synthetic_frames(n: int, seed: int) -> list[Frame]:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    fonts = font_files()
    frames = []
    for index in range(n):
        mode = rng.choices(["grey8", "rgb", "grey16"], weights=[0.45, 0.3, 0.25])[0]
        w, h = rng.choice([(640, 480), (800, 600), (1024, 768), (512, 512)])
        picture = _background(rng, nrng, h, w)
        burn, header = _phi_texts(rng)
        texts = [(k, t, lay, True) for k, t, lay in burn]
        texts += [("label", t, "label", False) for t in rng.sample(LABELS, rng.randint(3, 7))]
        texts += [("label", _decoy(rng), "numbers", False) for _ in range(rng.randint(0, 3))]
        rng.shuffle(texts)
        draw = ImageDraw.Draw(Image.new("L", (1, 1)))
        coverage = np.zeros((h, w), dtype=np.float64)  # text ink, 0..1 (anti-aliased edges)
        value = np.zeros((h, w, 3), dtype=np.float64)  # ink × text colour
        placed: list[Box] = []
        items = []
        for kind, text, layout, is_phi in texts:
            size = rng.randint(9, 24)
            font = _font(fonts, rng, size)
            x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
            tw, th = x1 - x0, y1 - y0
            margin = max(3, size // 2)
            for _ in range(60):
                x, y = rng.randint(2, max(2, w - tw - 3)), rng.randint(2, max(2, h - th - 3))
                box = (x, y, x + tw, y + th)
                padded = (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)
                if not any(_overlap(padded, p) for p in placed):
                    break
            else:
                continue  # no room left for it
            layer = Image.new("L", (w, h), 0)
            ImageDraw.Draw(layer).text((x - x0, y - y0), text, fill=255, font=font)
            ink = np.asarray(layer, dtype=np.float64) / 255.0
            if mode == "rgb":
                colour = np.array(rng.choice(COLOURS), dtype=np.float64) / 255.0
            else:
                colour = np.full(3, rng.randint(170, 255) / 255.0)
            coverage = np.maximum(coverage, ink)
            value += ink[..., None] * colour
            placed.append(box)
            items.append(Item(text, box, is_phi, kind, layout))
        sigma = rng.uniform(0.0, 0.08)  # Gaussian noise, in units of full scale
        if mode == "rgb":
            data = picture[..., None] * (1 - coverage[..., None]) + value
            data = data + nrng.normal(0, sigma, data.shape)
            image = (np.clip(data, 0, 1) * 255).round().astype(np.uint8)
        else:
            data = picture * (1 - coverage) + value[..., 0]
            data = data + nrng.normal(0, sigma, data.shape)
            if mode == "grey16":  # 12 bits stored, tissue well below the text
                image = (np.clip(data, 0, 1) * 4095).round().astype(np.uint16)[..., None]
            else:
                image = (np.clip(data, 0, 1) * 255).round().astype(np.uint8)[..., None]
        frames.append(Frame("synthetic", f"synthetic-{index:03d}-{mode}", image, items, header))
    return frames


# ---- scoring ----------------------------------------------------------------------------------


def _overlap(a: Box, b: Box) -> bool:
    if min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]):
        return True
    return _centre_in(a, b) or _centre_in(b, a)


def _centre_in(a: Box, b: Box) -> bool:
    cx, cy = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    return b[0] <= cx <= b[2] and b[1] <= cy <= b[3]


@dataclass
class Tally:
    frames: int = 0
    phi_items: int = 0
    recalled: int = 0
    ocr_words: int = 0
    non_phi_words: int = 0
    matched: int = 0
    true_matched: int = 0
    false_matches: int = 0
    collateral: int = 0  # non-PHI items under a matched box (blacked out with the PHI next to them)
    cpu: float = 0.0
    wall: float = 0.0
    # matcher alone, on the ground-truth text
    t_phi_matched: int = 0
    t_non_phi: int = 0
    t_false: int = 0

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Findings:
    misses: list[tuple[str, Item, list[str], str]] = field(default_factory=list)  # frame, item, OCR texts, best
    false: list[tuple[str, str, str, list[str]]] = field(default_factory=list)  # frame, OCR text, why, items under it
    transcript_misses: list[tuple[str, Item, str]] = field(default_factory=list)
    transcript_false: list[tuple[str, Item, str]] = field(default_factory=list)
    by_layout: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))


def _explain(text: str, cands: list[tuple[str, str]]) -> str:
    """The best candidate for `text` and its score, whatever the threshold."""
    best = max(((match(text, [c], 0.0) or ("", 0.0))[1], c[0], c[1]) for c in cands) if cands else (0.0, "", "")
    return f"{best[1]} ({best[2]}) {best[0]:.2f}"


def score_frame(frame: Frame, engine: OcrEngine, threshold: float, found: Findings) -> Tally:
    tally = Tally(frames=1)
    cpu, wall = time.process_time(), time.perf_counter()
    cands = candidates(build_phi(frame.phi))
    words: list[OcrWord] = engine.read(display(frame.image), detect=True)
    hits = [match(w.text, cands, threshold) for w in words]
    tally.cpu, tally.wall = time.process_time() - cpu, time.perf_counter() - wall

    phi_items = [i for i in frame.items if i.phi]
    tally.phi_items = len(phi_items)
    tally.ocr_words = len(words)
    for item in phi_items:
        recalled = any(hit and _overlap(w.box, item.box) for w, hit in zip(words, hits, strict=True))
        tally.recalled += recalled
        own = match(item.text, cands, threshold) is not None
        tally.t_phi_matched += own
        counts = found.by_layout[(item.kind, item.layout)]
        counts[0] += 1
        counts[1] += recalled
        counts[2] += own
        if not recalled:
            under = [w.text for w in words if _overlap(w.box, item.box)]
            found.misses.append((frame.name, item, under, "; ".join(_explain(t, cands) for t in under) or "-"))
        if not own:
            found.transcript_misses.append((frame.name, item, _explain(item.text, cands)))
    tally.collateral = sum(1 for i in frame.items if not i.phi
                           and any(hit and _overlap(w.box, i.box) for w, hit in zip(words, hits, strict=True)))
    for word, hit in zip(words, hits, strict=True):
        on_phi = any(_overlap(word.box, i.box) for i in phi_items)
        tally.non_phi_words += not on_phi
        if hit:
            tally.matched += 1
            tally.true_matched += on_phi
            if not on_phi:
                tally.false_matches += 1
                under = [i.text for i in frame.items if _overlap(word.box, i.box)]
                found.false.append((frame.name, word.text, _explain(word.text, cands), under))
    for item in frame.items:
        if not item.phi:
            tally.t_non_phi += 1
            if match(item.text, cands, threshold):
                tally.t_false += 1
                found.transcript_false.append((frame.name, item, _explain(item.text, cands)))
    return tally


# ---- probes: the matcher alone on chosen (header PHI, burned-in text) pairs -----------------------

# (header PHI, text as burned in, is the text PHI?, what it checks)
PROBES: list[tuple[list[tuple[str, str]], str, bool, str]] = [
    ([("name", "LONG^SARAH")], "Sarah Long", True, "First Last order"),
    ([("name", "GALLOWAY^REBECCA")], "GALL0WAY", True, "OCR reads O as 0"),
    ([("name", "O'DONNELL^BETTY")], "ODONNELL, BETTY", True, "apostrophe dropped by the scanner"),
    ([("id", "00079241539")], "79241539", True, "ID without leading zeros"),
    ([("date", "19510829")], "DOB: 08/29/51", True, "two-digit year"),
    ([("date", "19510829")], "29-Aug-1951", True, "dd-Mon-yyyy"),
    ([("date", "20220930")], "30 Sep 2022", True, "dd Mon yyyy"),
    ([("date", "20200414")], "4/14/2020", True, "month without leading zero"),
    ([("time", "171357")], "05:13:57 PM", True, "12-hour clock, afternoon"),
    ([("time", "081500")], "8:15 AM", True, "12-hour clock, morning, no seconds"),
    ([("place", "St. Agnes Medical Center")], "ST AGNES", True, "institution, distinctive word"),
    ([("name", "LEE^ANN")], "SPLEEN", False, "3-letter name inside a label"),
    ([("name", "LONG^SARAH")], "LONG AXIS", False, "name that is also a scan-plane label"),
    ([("name", "ZZZDOWNTIME^MARY")], "SUMMARY", False, "4-letter name inside a word"),
    ([("time", "100305")], "Dist 10.03cm", False, "HH:MM time as 4 digits inside a measure"),
    ([("id", "PR\\US")], "US", False, "2-letter accession value equal to a label"),
]


def print_probes(threshold: float, console: Console) -> None:
    table = Table(title=f"matcher probes (no OCR), threshold {threshold:.2f}")
    for col in ("header PHI", "burned-in text", "is PHI", "match", "verdict", "checks"):
        table.add_column(col)
    for phi, text, is_phi, what in PROBES:
        hit = match(text, candidates(build_phi(phi)), threshold)
        verdict = "ok" if bool(hit) == is_phi else ("missed" if is_phi else "false match")
        table.add_row(", ".join(f"{k} {v}" for k, v in phi), text, "yes" if is_phi else "no",
                      f"{hit[0]} {hit[1]:.2f}" if hit else f"- ({_explain(text, candidates(build_phi(phi)))})",
                      verdict, what)
    console.print(table)


# ---- output -----------------------------------------------------------------------------------


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "-"


def _warm_up_image() -> np.ndarray:
    from PIL import Image, ImageDraw

    picture = Image.new("L", (160, 40), 0)
    ImageDraw.Draw(picture).text((8, 12), "WARM UP 123", fill=255)
    return np.asarray(picture)


def run_engine(name: str, frames: list[Frame], threshold: float, examples: int, console: Console) -> None:
    engine = ENGINES[name]()
    engine.read(_warm_up_image(), detect=True)  # the first call allocates: not timed
    found = Findings()
    rows: dict[str, Tally] = {}
    for frame in frames:
        rows.setdefault(frame.dataset, Tally()).add(score_frame(frame, engine, threshold, found))
    real = Tally()
    for key, tally in rows.items():
        if key != "synthetic":
            real.add(tally)
    ordered = [(k, t) for k, t in rows.items() if k != "synthetic"]
    if len(ordered) > 1:
        ordered.append(("real, all", real))
    if "synthetic" in rows:
        ordered.append(("synthetic", rows["synthetic"]))

    table = Table(title=f"burned-in PHI: {name} OCR (detect) + match(threshold {threshold:.2f})")
    for col in ("data set", "frames", "PHI items", "recalled", "recall", "OCR words", "non-PHI words",
                "matched", "false", "precision", "collateral", "CPU s/frame", "wall s/frame"):
        table.add_column(col, justify="left" if col == "data set" else "right")
    for key, t in ordered:
        table.add_row(key, str(t.frames), str(t.phi_items), str(t.recalled), _pct(t.recalled, t.phi_items),
                      str(t.ocr_words), str(t.non_phi_words), str(t.matched), str(t.false_matches),
                      _pct(t.true_matched, t.matched), str(t.collateral), f"{t.cpu / t.frames:.2f}",
                      f"{t.wall / t.frames:.2f}", end_section=key == "real, all")
    console.print(table)
    console.print("  non-PHI words: OCR boxes over no PHI item; false: matched ones among them; precision: matched "
                  "boxes over PHI / all matched; collateral: non-PHI items under a matched box", highlight=False)

    table = Table(title=f"matcher alone on the ground-truth text (no OCR), threshold {threshold:.2f}")
    for col in ("data set", "PHI items", "matched", "recall", "non-PHI items", "false matches"):
        table.add_column(col, justify="left" if col == "data set" else "right")
    for key, t in ordered:
        table.add_row(key, str(t.phi_items), str(t.t_phi_matched), _pct(t.t_phi_matched, t.phi_items),
                      str(t.t_non_phi), str(t.t_false))
    console.print(table)

    table = Table(title="PHI items by kind and layout (all frames)")
    for col in ("kind", "layout", "items", "OCR+match recalled", "matcher alone"):
        table.add_column(col, justify="left" if col in ("kind", "layout") else "right")
    for (kind, layout), (n, recalled, own) in sorted(found.by_layout.items()):
        table.add_row(kind, layout, str(n), f"{recalled} ({_pct(recalled, n)})", f"{own} ({_pct(own, n)})")
    console.print(table)

    if examples:
        console.print(f"[bold]missed PHI[/] ({len(found.misses)}; OCR text over the item → best candidate, score)")
        for frame_name, item, under, best in found.misses[:examples]:
            console.print(f"  {frame_name}: {item.kind}/{item.layout} {item.text!r} ← OCR {under or 'nothing'}"
                          f" → {best}", markup=False, highlight=False)
        console.print(f"[bold]false matches[/] ({len(found.false)}; "
                      "OCR text → best candidate, score; truth items under it)")
        for frame_name, text, best, under in found.false[:examples]:
            console.print(f"  {frame_name}: {text!r} → {best}; under: {under or 'no text item'}",
                          markup=False, highlight=False)
        console.print(f"[bold]matcher alone: PHI not matched[/] ({len(found.transcript_misses)})")
        for frame_name, item, best in found.transcript_misses[:examples]:
            console.print(f"  {frame_name}: {item.kind}/{item.layout} {item.text!r} → {best}",
                          markup=False, highlight=False)
        console.print(f"[bold]matcher alone: labels matched[/] ({len(found.transcript_false)})")
        for frame_name, item, best in found.transcript_false[:examples]:
            console.print(f"  {frame_name}: {item.text!r} → {best}", markup=False, highlight=False)


def save_frames(frames: list[Frame], directory: Path) -> None:
    from PIL import Image, ImageDraw

    directory.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        picture = Image.fromarray(display(frame.image)).convert("RGB")
        draw = ImageDraw.Draw(picture)
        for item in frame.items:
            draw.rectangle(item.box, outline=(255, 0, 0) if item.phi else (0, 160, 0))
        picture.save(directory / f"{Path(frame.name).stem}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=60, metavar="N", help="synthetic frames (default 60; 0: none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic frames (default 0)")
    parser.add_argument("--threshold", type=float, default=0.85, help="match threshold, 0..1 (default 0.85)")
    parser.add_argument("--engine", choices=[*ENGINES, "all"], default="all",
                        help="OCR engine; all (default): rapidocr, and tesseract when tesserocr is installed")
    parser.add_argument("--truth", type=Path, default=TRUTH_PATH, help="ground truth of the real frames")
    parser.add_argument("--no-real", action="store_true", help="skip the deid-data ultrasounds")
    parser.add_argument("--examples", type=int, default=12, help="misses and false matches to list (default 12)")
    parser.add_argument("--save-frames", type=Path, metavar="DIR", help="write every frame as PNG with its truth boxes")
    args = parser.parse_args()

    console = Console() if sys.stdout.isatty() else Console(width=170)
    frames = ([] if args.no_real else real_frames(args.truth)) + synthetic_frames(args.synthetic, args.seed)
    if args.save_frames:
        save_frames(frames, args.save_frames)
    fonts = font_files()
    console.print(f"{len(frames)} frames ({args.synthetic} synthetic, seed {args.seed}); fonts: "
                  f"{', '.join(f.stem for f in fonts) if fonts else 'PIL default'}; "
                  f"CPU s = time.process_time (all threads of this process)", highlight=False)
    print_probes(args.threshold, console)
    engines = list(ENGINES) if args.engine == "all" else [args.engine]
    for name in engines:
        if importlib.util.find_spec(ENGINE_MODULES[name]) is None:
            console.print(f"{name}: not installed (Python package {ENGINE_MODULES[name]!r} missing), skipped")
            continue
        if name == "tesseract" and "TESSDATA_PREFIX" not in os.environ:
            # pip's tesserocr wheel bundles its own tesseract, which looks for its models in ./
            found = sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata/eng.traineddata"))
            if found:
                os.environ["TESSDATA_PREFIX"] = str(found[-1].parent)
                console.print(f"tesseract: TESSDATA_PREFIX not set, using {found[-1].parent}", highlight=False)
        try:
            run_engine(name, frames, args.threshold, args.examples, console)
        except Exception as err:  # noqa: BLE001 — an optional engine that fails is reported, not fatal
            console.print(f"{name}: failed, skipped ({type(err).__name__}: {err})", markup=False, highlight=False)


if __name__ == "__main__":
    main()
