"""Does `sani demo` meet its target? Prints the figures for the default and the paper preset side by side,
plus two ablations (no erase; erase only), all on the same memorizing model in one run.

    python benchmarks/demo_target.py [--seed 0] [--arch gpt2]

Target (issue "sani end to end"): original regurgitates >= 50% of the values with text before them;
sanitized <= 5%; holdout non-sensitive perplexity <= 1.10x the original; the whole demo under 5 minutes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sani
from sani import machine
from sani.audit import AuditResult
from sani.bench.demo import build_demo_model

VARIANTS = {
    "default (erase + masked+unlikelihood)": dict(preset="default"),
    "paper (erase + masked)": dict(preset="paper"),
    "no erase (fraction 0) + masked+unlikelihood": dict(preset="default", fraction=0.0),
    "erase only (0 epochs)": dict(preset="default", epochs=0.0),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arch", default="gpt2")
    args = ap.parse_args()
    import transformers

    transformers.logging.disable_progress_bar()
    transformers.logging.set_verbosity_error()
    print(f"machine: {machine.describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = build_demo_model(tmp, arch=args.arch, seed=args.seed, progress=False)
        build = time.perf_counter() - start
        rows = []
        for name, opts in VARIANTS.items():
            t = time.perf_counter()
            rep = sani.sanitize(
                paths["original"],
                paths["train"],
                Path(tmp) / "out",
                holdout=paths["holdout"],
                overwrite=True,
                progress=False,
                seed=args.seed,
                **opts,
            )
            wall = time.perf_counter() - t
            b, a = AuditResult(rep["audit_before"]), AuditResult(rep["audit_after"])
            rows.append(
                (
                    name,
                    b.greedy_rate,
                    a.greedy_rate,
                    b.perplexity("holdout"),
                    a.perplexity("holdout"),
                    a.perplexity_ratio(b),
                    rep["timings"]["erase"] + rep["timings"]["repair"],
                    wall,
                )
            )
    print(f"\nmemorizing model built in {build:.0f} s (arch {args.arch}, seed {args.seed})\n")
    head = f"{'variant':45s} {'regurg. before':>14s} {'after':>7s} {'ppl before':>10s} {'after':>7s} {'ratio':>6s} {'sanitize s':>10s} {'wall s':>7s}"
    print(head)
    print("-" * len(head))
    for name, rb, ra, pb, pa, ratio, s, wall in rows:
        print(f"{name:45s} {100 * rb:13.1f}% {100 * ra:6.1f}% {pb:10.3f} {pa:7.3f} {ratio:6.3f} {s:10.1f} {wall:7.1f}")
    d = rows[0]
    demo_seconds = build + d[7]
    print("\ntargets for the default:")
    print(f"  original >= 50%:           {100 * d[1]:.1f}%  {'ok' if d[1] >= 0.5 else 'MISSED'}")
    print(f"  sanitized <= 5%:           {100 * d[2]:.1f}%  {'ok' if d[2] <= 0.05 else 'MISSED'}")
    print(f"  perplexity ratio <= 1.10:  {d[5]:.3f}  {'ok' if d[5] <= 1.10 else 'MISSED'}")
    print(f"  demo under 300 s:          {demo_seconds:.0f} s  {'ok' if demo_seconds < 300 else 'MISSED'}")


if __name__ == "__main__":
    main()
