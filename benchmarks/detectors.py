"""Precision and recall of the built-in detectors against the synthetic corpora's ground truth, per label.

    python benchmarks/detectors.py [--records 500] [--seed 0]

A predicted span is correct when it overlaps a true span of the same label (DOB counts as DATE); a true
span is found when a predicted span of its label overlaps it. Labels with no built-in detector (NAME,
ADDRESS, MRN) show recall 0: they need annotations, term lists, --pattern or an NER backend (Presidio).
"""

from __future__ import annotations

import argparse
from collections import Counter

from sani import detect, synthetic
from sani.data import Record
from sani.spans import SpanFinder

SAME = {"DOB": "DATE"}


def score(records: list[Record]) -> dict[str, tuple[int, int, int, int]]:
    gold = [list(r.spans) for r in records]
    pred_records = [Record(r.text) for r in records]
    SpanFinder(detect="all", propagate=False).apply(pred_records)
    tp_p, n_p, tp_g, n_g = Counter(), Counter(), Counter(), Counter()
    for g_spans, r in zip(gold, pred_records):
        for g in g_spans:
            lab = SAME.get(g.label, g.label)
            n_g[lab] += 1
            tp_g[lab] += any(p.label == lab and p.start < g.end and g.start < p.end for p in r.spans)
        for p in r.spans:
            n_p[p.label] += 1
            tp_p[p.label] += any(SAME.get(g.label, g.label) == p.label and p.start < g.end and g.start < p.end for g in g_spans)
    return {lab: (tp_p[lab], n_p[lab], tp_g[lab], n_g[lab]) for lab in sorted(set(n_g) | set(n_p))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    corpora = {
        "pii (varied formats)": synthetic.make_pii_corpus(args.records, seed=args.seed),
        "clinical notes (demo)": synthetic.make_corpus(args.records // 2, seed=args.seed),
    }
    for name, records in corpora.items():
        print(f"\n{name}: {len(records)} records")
        print(f"{'label':12s} {'precision':>10s} {'recall':>8s} {'predicted':>10s} {'true':>6s}")
        for lab, (tpp, np_, tpg, ng) in score(records).items():
            prec = f"{tpp / np_:.3f}" if np_ else "-"
            rec = f"{tpg / ng:.3f}" if ng else "-"
            note = "" if lab in detect.DETECTORS else "  (no built-in detector)"
            print(f"{lab:12s} {prec:>10s} {rec:>8s} {np_:10d} {ng:6d}{note}")


if __name__ == "__main__":
    main()
