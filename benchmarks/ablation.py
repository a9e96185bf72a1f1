"""Ablation: which part of sanitizing does what? Erase strategy x reset mode x repair objective, on the
demo corpus (with canaries) and the demo's memorizing tiny models, against the oracle (the same
architecture trained from scratch with the sensitive tokens never learnt), over several seeds. Prints one
Markdown table per architecture; the full figures go to benchmarks/results/ablation-<time>.json.

    python benchmarks/ablation.py [--archs gpt2 bert] [--seeds 0 1] [--quick]

Every cell uses the default preset for the model's kind (`sani.config`) except the three ablated settings,
so "random / reinit / masked+unlikelihood" is the default and "paper" the paper's preset. Columns: greedy
and sampled regurgitation (masked LMs: tokens filled in one at a time, values filled in left to right),
mean canary exposure (bits, of log2 1e6 = 19.9), membership AUC (loss on the sensitive tokens, against
the holdout), holdout perplexity ratio to the original, erase + repair seconds. --quick (random and
activation, reinit only): about 10 minutes a seed for GPT-2 and 15 for BERT on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sani import machine
from sani.bench import rows as bench
from sani.bench.demo import build_demo_model, train_from_scratch
from sani.models import loading as models
from sani.spans import data

STRATEGIES = ("random", "activation", "gradient", "attribution")
RESETS = ("reinit", "zero")
OBJECTIVES = ("masked", "masked+unlikelihood", "masked+maxent")
COLUMNS = ("greedy", "sampled", "exposure", "mia_auc", "ppl_ratio", "seconds")


def grid(quick: bool) -> dict[str, dict[str, object]]:
    """Row name -> the SanitizeConfig values it changes."""
    strategies = ("random", "activation") if quick else STRATEGIES
    resets = ("reinit",) if quick else RESETS
    rows: dict[str, dict[str, object]] = {"paper (preset)": {"preset": "paper"}}
    for s in strategies:
        for r in resets:
            for o in OBJECTIVES:
                rows[f"{s} / {r} / {o}"] = {"strategy": s, "reset": r, "objective": o}
    for o in OBJECTIVES:
        rows[f"repair only / {o}"] = {"fraction": 0.0, "objective": o}
    rows["erase only / random / reinit"] = {"epochs": 0.0}
    return rows


def run_seed(arch: str, seed: int, quick: bool) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_demo_model(tmp, arch=arch, seed=seed, with_canaries=True, progress=False)
        canaries = json.loads(Path(paths["canaries"]).read_text())
        original, tok = models.load(paths["original"]).pair
        enc = data.encode_corpus(tok, data.read_corpus(paths["train"]))
        hold = data.encode_corpus(tok, data.read_corpus(paths["holdout"]))
        rows = {"original": {**bench.measure(original, tok, enc, hold, canaries, None, seed), "seconds": 0.0}}
        start = time.perf_counter()
        oracle = train_from_scratch(arch, tok, enc, objective="masked", seed=seed, progress=False)
        rows[bench.ORACLE] = {
            **bench.measure(oracle, tok, enc, hold, canaries, None, seed),
            "seconds": round(time.perf_counter() - start, 2),
        }
        for name, values in grid(quick).items():
            model, _ = models.load(paths["original"]).pair
            run = bench.apply_method(model, tok, enc, values, seed=seed)
            rows[name] = {**bench.measure(model, tok, enc, hold, canaries, None, seed), "seconds": run["seconds"]}
            print(
                f"  {arch} seed {seed}: {name}: greedy {rows[name]['greedy']:.3f}, exposure {rows[name]['exposure']:.1f}",
                flush=True,
            )
        bench._ratios(rows)
    return rows


def table(per_seed: list[dict[str, dict[str, float]]]) -> str:
    lines = [
        "| erase strategy / reset / repair objective | greedy | sampled | exposure (bits) | MIA AUC (sensitive) | ppl ratio | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in per_seed[0]:
        cells = []
        for c in COLUMNS:
            vals = [r[name][c] for r in per_seed if r[name].get(c) is not None]
            if not vals:
                cells.append("-")
                continue
            fmt = "{:.1%}" if c in ("greedy", "sampled") else ("{:.1f}" if c in ("exposure", "seconds") else "{:.3f}")
            m = fmt.format(statistics.mean(vals))
            cells.append(m + (f" ({fmt.format(min(vals))}-{fmt.format(max(vals))})" if len(vals) > 1 else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", nargs="+", default=["gpt2", "bert"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--quick", action="store_true", help="random and activation, reinit only")
    ap.add_argument("--out-dir", default="benchmarks/results")
    ap.add_argument(
        "--tables", nargs="+", metavar="JSON", help="only print the tables of earlier runs (their seeds pooled)"
    )
    args = ap.parse_args()
    if args.tables:
        runs = [json.loads(Path(f).read_text()) for f in args.tables]
        pooled: dict[str, list] = {}
        for run in runs:
            for arch, per_seed in run["results"].items():
                pooled.setdefault(arch, []).extend(per_seed)
        print(f"machine: {runs[0]['machine']}; {len(runs)} run(s); mean (min-max) over seeds")
        for arch, per_seed in pooled.items():
            print(f"\n### tiny {arch} ({len(per_seed)} seeds)\n\n{table(per_seed)}")
        return
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    out = Path(args.out_dir) / f"ablation-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, dict[str, float]]]] = {}
    env = machine.record()
    for arch in args.archs:
        for seed in args.seeds:
            results.setdefault(arch, []).append(run_seed(arch, seed, args.quick))
            # written after every seed, so a long run that is stopped keeps what it measured
            out.write_text(
                json.dumps({"machine": env, "seeds": args.seeds, "quick": args.quick, "results": results}, indent=1)
            )
    print(f"\nmachine: {machine.describe()}; seeds {args.seeds}; mean (min-max) over seeds; figures in {out}")
    for arch, per_seed in results.items():
        print(f"\n### tiny {arch}\n\n{table(per_seed)}")


if __name__ == "__main__":
    main()
