"""Which erase or repair setting keeps the values down under relearning, against the demo's oracle.

    python benchmarks/relearn_variants.py --workdir sani-demo [--variants default,layers4-all,...]

Needs `sani demo --workdir sani-demo` and the oracle `python benchmarks/attack_grid.py` builds
(`<workdir>/oracle`). Each variant sanitizes the demo's original with the default settings but the ones
named (`default` reads `<workdir>/sanitized`), then is audited against the oracle under two relearning
settings on 20% of the records (the grid's gentlest, lr 5e-4 for 3 epochs, and a harsher one, lr 2e-3 for
10 epochs): value exposure of the other records' values (100 values among 100 candidates) and the share
ranked first, each beside the oracle's under the same attack. Writes rates and bits only.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sani.api import audit
from sani.pipeline import sanitize

VARIANTS = {
    "default": {},
    "layers4-half": {"layers": 4},  # half the FFN neurons of every layer of the demo's 4
    "layers4-all": {"layers": 4, "fraction": 1.0},  # every FFN neuron of every layer
    "epochs8": {"epochs": 8},
    "weight6": {"forget_weight": 6.0},
    "wd0.1": {"weight_decay": 0.1},
    "calib+unlik": {"objective": "masked+calibrated+unlikelihood"},
    "maskin": {"mask_sensitive_inputs": True},
}
SETTINGS = ((5e-4, 3.0), (2e-3, 10.0))


def measure(model: Path, work: Path) -> dict:
    row: dict = {}
    for lr, epochs in SETTINGS:
        got = audit(model, work / "train.jsonl", holdout=work / "holdout.jsonl", reference_model=work / "oracle",
                    progress=False, samples=0, contexts=(None,), extraction=False, exposure_spans=100,
                    exposure_candidates=100, attacks="relearn", relearn_lr=lr, relearn_epochs=epochs,
                    relearn_fraction=0.2, attack_samples=0)  # fmt: skip
        s = got["attacks"]["relearn"]["settings"][0]
        row[f"lr {lr:g}, {epochs:g} epochs"] = {
            "exposure": s.get("value_exposure"),
            "oracle": s["reference"].get("value_exposure"),
            "ranked_first": s.get("ranked_first"),
            "oracle_ranked_first": s["reference"].get("ranked_first"),
            "back": s["back"]["rate"],
        }
        row["before_attack"] = {"exposure": got["value_exposure"]["mean"],
                                "oracle": got["value_exposure"]["reference"]["mean"]}  # fmt: skip
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="sani-demo")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", default="benchmarks/results/attacks")
    args = ap.parse_args()
    work = Path(args.workdir)
    rows = {}
    for name in args.variants.split(","):
        model = work / "sanitized" if name == "default" else work / "variants" / name
        if name != "default":
            sanitize(work / "original", work / "train.jsonl", model, holdout=work / "holdout.jsonl", overwrite=True,
                     progress=False, run_audit=False, **VARIANTS[name])  # fmt: skip
        rows[name] = {"settings": VARIANTS[name], **measure(model, work)}
        print(name, json.dumps(rows[name]), flush=True)
    out = Path(args.out) / f"relearn-variants-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": f"python benchmarks/relearn_variants.py --workdir {args.workdir}",
                               "variants": rows}, indent=1) + "\n")  # fmt: skip
    print(f"written to {out}")


if __name__ == "__main__":
    main()
