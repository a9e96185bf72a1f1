"""Audit speed: batched greedy regurgitation against a one-prompt-at-a-time loop, same prompts, same results.

    python benchmarks/audit_speed.py [--model DIR --corpus FILE] [--batch-size 32]

Without --model it builds the demo's memorizing model first (about 2 minutes). Target (issue "privacy
audit"): batched at least 5x faster than one prompt at a time on the demo corpus, with identical results.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from sani import machine
from sani.audit import regurgitation as metrics
from sani.bench.demo import build_demo_model
from sani.models import loading as models
from sani.models.batching import max_positions
from sani.spans import data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--corpus")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as tmp:
        if args.model is None:
            paths = build_demo_model(tmp, progress=False)
            args.model, args.corpus = paths["original"], paths["train"]
        model, tok = models.load(args.model).pair
        enc = data.encode_corpus(tok, data.read_corpus(args.corpus))
        probes = metrics.make_probes(enc, set(tok.all_special_ids), limit=max_positions(model))
        prompts, lengths = [p.prompt for p in probes], [p.value_tokens + 4 for p in probes]
        timings, outs = {}, {}
        for name, bs in (("one at a time", 1), (f"batched ({args.batch_size})", args.batch_size)):
            start = time.perf_counter()
            outs[name] = metrics.greedy_continuations(model, tok, prompts, lengths, batch_size=bs, progress=False)
            timings[name] = time.perf_counter() - start
        start = time.perf_counter()
        metrics.continuations(model, tok, prompts, lengths, samples=5, batch_size=args.batch_size * 5, progress=False)
        sampled = time.perf_counter() - start
    a, b = outs.values()
    print(f"machine: {machine.describe()}; {len(prompts)} prompts")
    for name, t in timings.items():
        print(f"  {name:16s} {t:7.2f} s  {len(prompts) / t:7.1f} prompts/s")
    ratio = timings["one at a time"] / timings[f"batched ({args.batch_size})"]
    print(f"  speed-up: {ratio:.1f}x (target >= 5x: {'ok' if ratio >= 5 else 'MISSED'}); same results: {a == b}")
    print(
        f"  sampled, 5 samples a prompt, KV cache shared: {sampled:.2f} s ({5 * len(prompts) / sampled:.1f} samples/s)"
    )


if __name__ == "__main__":
    main()
