"""Ablation: which part of sanitizing does what? Selection strategy x reset mode x repair objective, on
the demo's memorizing tiny GPT-2 (trained with canaries), against the oracle trained from scratch with
the sensitive tokens masked, over several seeds. Prints one Markdown table.

    python benchmarks/ablation.py [--seeds 0 1] [--quick]

Columns: greedy and sampled (any of 5) regurgitation, mean canary exposure (bits, of log2 1e6 = 19.9),
membership AUC (loss on the sensitive tokens, against the holdout), holdout perplexity ratio to the
original, erase + repair seconds. About 12 minutes a seed on a 2-core CPU (--quick: about 4).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from sani import data, erase, metrics, models, repair, tiny
from sani.demo import MEMORIZE_EPOCHS, MEMORIZE_LR, build_demo_model

STRATEGIES = ("random", "activation", "gradient", "attribution")
RESETS = ("reinit", "zero")
OBJECTIVES = ("masked", "masked+unlikelihood", "masked+maxent")


def measure(model, tok, enc, henc, definition) -> dict[str, float]:
    res = metrics.audit(model, tok, enc, holdout=henc, samples=5, canaries=definition, progress=False, with_fingerprint=False)
    return {
        "greedy": res["regurgitation"]["greedy"]["rate"], "sampled": res["regurgitation"]["sampled"]["rate"],
        "exposure": res["exposure"]["mean_exposure"], "auc": res["membership"]["sensitive"]["loss"]["auc"],
        "ppl": res["utility"]["holdout"]["perplexity"],
    }


def run_seed(seed: int, quick: bool) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_demo_model(tmp, seed=seed, with_canaries=True, progress=False)
        definition = json.loads(Path(paths["canaries"]).read_text())
        original, tok = models.load(paths["original"])
        enc = data.encode_corpus(tok, data.read_corpus(paths["train"]))
        henc = data.encode_corpus(tok, data.read_corpus(paths["holdout"]))
        base = measure(original, tok, enc, henc, definition)
        rows["original"] = {**base, "seconds": 0.0}
        start = time.perf_counter()
        oracle = tiny.tiny_model("gpt2", tok, seed=seed)
        repair.train(oracle, tok, enc, objective="masked", epochs=MEMORIZE_EPOCHS, lr=MEMORIZE_LR, batch_size=16,
                     max_length=256, seed=seed, warmup_ratio=0.05, progress=False)
        rows["oracle (masked from scratch)"] = {**measure(oracle.eval(), tok, enc, henc, definition), "seconds": time.perf_counter() - start}
        scores = {s: erase.score_neurons(original, tok, enc, s, seed=seed, progress=False) for s in STRATEGIES if s != "random"}
        strategies = ("random", "activation") if quick else STRATEGIES
        resets = ("reinit",) if quick else RESETS
        grid = [(s, r, o) for s in strategies for r in resets for o in OBJECTIVES]
        grid += [("none", "-", o) for o in OBJECTIVES]  # repair only
        for strategy, reset, objective in grid:
            model, _ = models.load(paths["original"])
            start = time.perf_counter()
            if strategy != "none":
                sel = erase.select_neurons(model, layers=1, fraction=0.5, seed=seed, strategy=strategy, scores=scores.get(strategy))
                erase.reset_neurons(model, sel, mode=reset, seed=seed)
            repair.train(model, tok, enc, objective=objective, epochs=2, lr=5e-4, batch_size=8, seed=seed, progress=False)
            rows[f"{strategy} / {reset} / {objective}"] = {**measure(model, tok, enc, henc, definition),
                                                          "seconds": time.perf_counter() - start}
        for name in list(rows):
            rows[name]["ppl_ratio"] = rows[name]["ppl"] / base["ppl"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--quick", action="store_true", help="random and activation, reinit only")
    args = ap.parse_args()
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    per_seed = [run_seed(s, args.quick) for s in args.seeds]
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; "
          f"seeds {args.seeds}; mean (min-max) over seeds\n")
    cols = ("greedy", "sampled", "exposure", "auc", "ppl_ratio", "seconds")
    print("| erase strategy / reset / repair objective | greedy | sampled | exposure (bits) | MIA AUC (sensitive) | ppl ratio | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in per_seed[0]:
        cells = []
        for c in cols:
            vals = [r[name][c] for r in per_seed if r[name][c] is not None]
            m = statistics.mean(vals)
            fmt = "{:.1%}" if c in ("greedy", "sampled") else ("{:.1f}" if c in ("exposure", "seconds") else "{:.3f}")
            cells.append(fmt.format(m) + (f" ({fmt.format(min(vals))}-{fmt.format(max(vals))})" if len(vals) > 1 else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
