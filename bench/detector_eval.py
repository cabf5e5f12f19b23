"""Precision and recall of the free-text PHI detectors on the generated sentences.

Reads bench/detector-corpus/{tuning,held-out}.jsonl (made by bench/detector_corpus.py), runs
each detector's `find` (deidc.runtime.text.detectors.<module>) on every sentence and keeps the
detections that reach APPLY_AT (what `clean` removes). Per detector and half:

- gold: the corpus spans of the detector's kind (address, person, phone, email, url, id, date);
- found / recall: a gold span is found when >= 80 % of its characters are covered by the
  detector's kept detections (a detection may be cut in two, `12 Oak Ln` + `Eugene, OR 97401`,
  or miss a trailing `Jr.`; less than 80 % is a miss);
- dets / precision: a kept detection is correct when it overlaps (by >= 1 character) a gold span
  of its own kind; precision = correct / dets. A detection on a value of another kind (the phone
  detector on an ID number) is wrong for its own detector; the `wrong kind` count says how many;
- over-removed: the non-space characters a detector removes outside every gold span of ANY kind
  and outside the tolerated cue words (`Mr.`, `Dr.`, `MRN:`, `DOB`), summed over the sentences,
  and the number of sentences where that happens (`over sents`): the clinical text it destroys.

The `ALL` row is what `clean ... detect address, person, phone, email, url, id, date` would remove:
the kept detections of every detector present, kind-agnostic (a gold span of any kind is found
when >= 80 % of it is covered by any detections; a detection is correct when it overlaps any gold
span). A detector module that does not exist yet is skipped and listed; with --only, ALL combines
the detectors run.

    .venv/bin/python bench/detector_eval.py                      # table for both halves
    .venv/bin/python bench/detector_eval.py --only phone,date --examples 5
    .venv/bin/python bench/detector_eval.py --json > scores.json
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deidc.runtime.text.detectors import APPLY_AT

CORPUS = Path(__file__).parent / "detector-corpus"
HALVES = ("tuning", "held-out")
MODULES = {"address": "address", "person": "person", "phone": "phone", "email": "email",
           "url": "url", "id": "ids", "date": "date"}
COVER = 0.8  # share of a gold span's characters that must be removed for it to count as found


@dataclass
class Score:
    detector: str
    half: str
    gold: int = 0
    found: int = 0
    dets: int = 0
    correct: int = 0
    wrong_kind: int = 0
    over_chars: int = 0
    over_sents: int = 0
    errors: int = 0
    seconds: float = 0.0
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_hits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.dets if self.dets else None


def load(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_finders(names: Iterable[str]) -> tuple[dict[str, Callable[[str], Any]], dict[str, str]]:
    finders, missing = {}, {}
    for name in names:
        module = f"deidc.runtime.text.detectors.{MODULES[name]}"
        try:
            finders[name] = importlib.import_module(module).find
        except ModuleNotFoundError as e:
            missing[name] = "not present yet" if e.name == module else f"import failed: {e}"
        except Exception as e:  # noqa: BLE001 - a broken detector is reported, not fatal
            missing[name] = f"import failed: {type(e).__name__}: {e}"
    return finders, missing


def covered(intervals: list[tuple[int, int]], n: int) -> bytearray:
    mask = bytearray(n)
    for s, e in intervals:
        mask[s:e] = b"\x01" * (e - s)
    return mask


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score_half(sentences: list[dict[str, Any]], half: str, finders: dict[str, Callable[[str], Any]],
               examples: int) -> list[Score]:
    scores = {name: Score(name, half) for name in finders}
    combined = Score("ALL", half)
    for sent in sentences:
        text: str = sent["text"]
        n = len(text)
        gold = [(g["start"], g["end"], g["kind"]) for g in sent["spans"]]
        allowed = covered([(g[0], g[1]) for g in gold] + [(t["start"], t["end"]) for t in sent.get("tolerated", [])], n)
        every: list[tuple[int, int]] = []
        for name, find in finders.items():
            sc = scores[name]
            t0 = time.perf_counter()
            try:
                dets = [(max(0, int(d.start)), min(n, int(d.end))) for d in find(text) if d.confidence >= APPLY_AT]
            except Exception as e:  # noqa: BLE001 - count and go on
                sc.errors += 1
                if sc.errors == 1:
                    print(f"{name}: {type(e).__name__}: {e} on {text!r}", file=sys.stderr)
                dets = []
            sc.seconds += time.perf_counter() - t0
            dets = [d for d in dets if d[0] < d[1]]
            every += dets
            tally(sc, text, gold, allowed, dets, own=name, examples=examples)
        tally(combined, text, gold, allowed, every, own=None, examples=examples)
    return [*scores.values(), combined]


def tally(sc: Score, text: str, gold: list[tuple[int, int, str]], allowed: bytearray,
          dets: list[tuple[int, int]], own: str | None, examples: int) -> None:
    mine = [g for g in gold if own is None or g[2] == own]
    mask = covered(dets, len(text))
    for s, e, kind in mine:
        sc.gold += 1
        if sum(mask[s:e]) >= COVER * (e - s):
            sc.found += 1
        elif len(sc.misses) < examples:
            sc.misses.append({"text": text, "gold": text[s:e], "kind": kind,
                              "removed": [text[a:b] for a, b in dets if overlaps((a, b), (s, e))]})
    for d in dets:
        sc.dets += 1
        if any(overlaps(d, (g[0], g[1])) for g in mine):
            sc.correct += 1
            continue
        if any(overlaps(d, (g[0], g[1])) for g in gold):
            sc.wrong_kind += 1
        if len(sc.false_hits) < examples:
            sc.false_hits.append({"text": text, "removed": text[d[0]:d[1]]})
    over = sum(1 for i in range(len(text)) if mask[i] and not allowed[i] and not text[i].isspace())
    sc.over_chars += over
    sc.over_sents += over > 0


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def table(scores: list[Score], n_sent: dict[str, int]) -> str:
    head = ["detector", "half", "gold", "found", "recall", "dets", "precision", "wrong kind",
            "over chars", "over sents", "ms/1k sent"]
    rows = [head]
    for s in scores:
        rows.append([s.detector, s.half, str(s.gold), str(s.found), fmt(s.recall), str(s.dets), fmt(s.precision),
                     str(s.wrong_kind), str(s.over_chars), str(s.over_sents),
                     "-" if s.detector == "ALL" else f"{1e6 * s.seconds / max(1, n_sent[s.half]):.1f}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    out = []
    for i, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True))))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--corpus", type=Path, default=CORPUS, help=f"folder with tuning.jsonl, held-out.jsonl ({CORPUS})")
    ap.add_argument("--only", default=",".join(MODULES), help="detectors to run, comma-separated (all)")
    ap.add_argument("--half", choices=[*HALVES, "both"], default="both")
    ap.add_argument("--examples", type=int, default=0, help="print up to N misses and N false hits per row")
    ap.add_argument("--json", action="store_true", help="print the scores as JSON instead of the table")
    args = ap.parse_args(argv)
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in MODULES]
    if unknown:
        ap.error(f"unknown detector(s) {unknown}; known: {', '.join(MODULES)}")
    halves = HALVES if args.half == "both" else (args.half,)
    corpus = {}
    for h in halves:
        path = args.corpus / f"{h}.jsonl"
        if not path.exists():
            ap.error(f"{path} is missing: run bench/detector_corpus.py first")
        corpus[h] = load(path)
    finders, missing = load_finders(wanted)
    scores = [s for h in halves for s in score_half(corpus[h], h, finders, args.examples)]
    scores.sort(key=lambda s: (list(MODULES).index(s.detector) if s.detector in MODULES else 99, HALVES.index(s.half)))
    n_sent = {h: len(corpus[h]) for h in halves}
    if args.json:
        out = {"apply_at": APPLY_AT, "cover": COVER, "sentences": n_sent, "skipped": missing,
               "scores": [{**{k: v for k, v in asdict(s).items() if args.examples or k not in ("misses", "false_hits")},
                           "recall": s.recall, "precision": s.precision} for s in scores]}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"sentences: {', '.join(f'{h} {n}' for h, n in n_sent.items())}; kept: confidence >= {APPLY_AT}; "
          f"found: >= {COVER:.0%} of a gold span removed")
    for name, why in missing.items():
        print(f"skipped {name} ({MODULES[name]}.py): {why}")
    print(table(scores, n_sent))
    if args.examples:
        for s in scores:
            if s.misses or s.false_hits:
                what = f" (kind-agnostic, detectors run: {', '.join(finders)})" if s.detector == "ALL" else ""
                print(f"\n== {s.detector} / {s.half}{what}")
                for m in s.misses:
                    print(f"  MISS {m['kind']}: {m['gold']!r} (removed {m['removed']}) in {m['text']!r}")
                for f in s.false_hits:
                    print(f"  FALSE {f['removed']!r} in {f['text']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
