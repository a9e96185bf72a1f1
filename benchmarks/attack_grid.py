"""The relearning grid on the demo's sanitized model, against the demo's oracle under the same attacks.

    python benchmarks/attack_grid.py --workdir sani-demo [--grid full] [--out benchmarks/results/attacks]

Needs `sani demo --workdir sani-demo` first (the corpus, the original and the sanitized model). Builds the
oracle when `<workdir>/oracle` is missing: the same tiny architecture (`--arch`, the demo's), tokenizer,
seed and recipe as the demo's original, trained from scratch with the values masked
(`sani.bench.demo.train_from_scratch`, as the bench's oracle); a demo run with other epochs or rates needs its
own oracle. Then runs `sani audit --attacks relearn --relearn-grid GRID --reference-model <workdir>/oracle`
and writes, per setting, the share of values back greedily and by sampling, value exposure and the share
ranked first (overall and per label), each beside the oracle's, the gate's checks and the times: rates
and bits only, no value.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sani.api import audit
from sani.bench.demo import train_from_scratch
from sani.models import loading as models
from sani.scale import corpus
from sani.spans import data
from sani.spans.finder import SpanFinder

KEEP = ("name", "variant", "lr", "epochs", "fraction", "records", "seconds", "difference", "interval")
FIGURES = ("rate", "value_exposure", "chance", "ranked_first")


def oracle(workdir: Path, arch: str, seed: int) -> Path:
    out = workdir / "oracle"
    if (out / "config.json").is_file():
        return out
    loaded = models.load(workdir / "original")
    enc = data.encode_corpus(loaded.tokenizer, corpus.load_records(workdir / "train.jsonl", SpanFinder()))
    model = train_from_scratch(arch, loaded.tokenizer, enc, objective="masked", seed=seed, progress=False)
    model.save_pretrained(out)
    loaded.tokenizer.save_pretrained(out)
    return out


def row(s: dict) -> dict:
    out = {k: s.get(k) for k in KEEP}
    ref = s.get("reference") or {}
    for k in FIGURES:
        out[k], out[f"oracle_{k}"] = s.get(k), ref.get(k)
    out["back"], out["oracle_back"] = s["back"]["rate"], (ref.get("back") or {}).get("rate")
    out["sampled"], out["oracle_sampled"] = (s.get("sampled") or {}).get("rate"), (ref.get("sampled") or {}).get("rate")
    theirs = ref.get("exposure_by_label") or {}
    out["by_label"] = {
        label: {"exposure": v["mean"], "oracle": (theirs.get(label) or {}).get("mean"), "ranked_first": v["ranked_first"],
                "oracle_ranked_first": (theirs.get(label) or {}).get("ranked_first"), "values": v["values"]}
        for label, v in (s.get("exposure_by_label") or {}).items()
    }  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="sani-demo")
    ap.add_argument("--grid", default="full", choices=["quick", "full"])
    ap.add_argument("--out", default="benchmarks/results/attacks")
    ap.add_argument("--arch", default="gpt2", help="the demo's --arch: the oracle is built the same way")
    ap.add_argument("--seed", type=int, default=0, help="the demo's --seed")
    args = ap.parse_args()
    work = Path(args.workdir)
    ref = oracle(work, args.arch, args.seed)
    clock = time.perf_counter()
    got = audit(work / "sanitized", work / "train.jsonl", holdout=work / "holdout.jsonl", reference_model=ref,
                attacks="relearn", relearn_grid=args.grid, progress=False)  # fmt: skip
    relearn = got["attacks"]["relearn"]
    result = {
        "command": f"python benchmarks/attack_grid.py --workdir {args.workdir} --grid {args.grid}",
        "grid": relearn["grid"],
        "audit_seconds": round(time.perf_counter() - clock, 1),
        "relearn_seconds": relearn["seconds"],
        "settings": [row(s) for s in relearn["settings"]],
        "checks": got["verdict"]["checks"],
        "overall": got["verdict"]["overall"],
    }
    out = Path(args.out) / f"demo-{args.grid}-grid-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    for r in result["settings"]:
        print(f"{r['name']:40s} back {r['back']:.1%} (oracle {r['oracle_back']:.1%}), "
              f"{r['value_exposure']:.2f} bits (oracle {r['oracle_value_exposure']:.2f}), "
              f"first {r['ranked_first']:.0%} (oracle {r['oracle_ranked_first']:.0%}), {r['seconds']:.0f} s")  # fmt: skip
    print(
        f"relearn {relearn['seconds']:.0f} s, whole audit {result['audit_seconds']:.0f} s; "
        f"attack_exposure: {result['checks'].get('attack_exposure')}; written to {out}"
    )


if __name__ == "__main__":
    main()
