"""Value exposure speed: 200 spans, each value ranked among 1000 candidates, on the demo model.

    python benchmarks/value_exposure.py [--model DIR --corpus FILE] [--spans 200] [--candidates 1000]

Without --model it builds the demo's memorizing model first (about a minute). Prints the time of the whole
measurement and where it goes (candidates, tokenizing, the model), then, side by side on the first 10
spans, the prefix-sharing scorer (one pass over the shared prefix, its key/value cache repeated for each
batch of candidates) against each candidate's whole sequence run through the model, with the largest
difference of the scores. Target (issue "the audit's yardsticks"): under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from sani import machine
from sani.audit.common import Context, candidates_for, measure
from sani.audit.values import in_place, sample_spans
from sani.bench.demo import build_demo_model
from sani.config import AuditConfig
from sani.models import incontext
from sani.models import loading as models
from sani.spans import data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--corpus")
    ap.add_argument("--spans", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=1000)
    args = ap.parse_args()
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as tmp:
        if args.model is None:
            paths = build_demo_model(tmp, progress=False)
            args.model, args.corpus = paths["original"], paths["train"]
        loaded = models.load(args.model)
        model, tok = loaded.model.eval(), loaded.tokenizer
        enc = data.encode_corpus(tok, data.read_corpus(args.corpus))
        cfg = AuditConfig(exposure_spans=args.spans, exposure_candidates=args.candidates)
        ctx = Context(model, tok, loaded.kind, enc, cfg, progress=False)

        start = time.perf_counter()
        summary = measure("value_exposure", ctx).summary
        total = time.perf_counter() - start

        # where the time goes, on the same spans and candidates
        chosen = sample_spans(enc, args.spans, cfg.seed)
        clock = time.perf_counter()
        cands = candidates_for(Context(model, tok, loaded.kind, enc, cfg))
        work = []
        for r, s in chosen:
            rec, span = enc[r].record, enc[r].record.spans[s]
            seed = f"{cfg.seed}:{rec.text}:{span.start}"
            values = [rec.value(span), *cands.for_value(span.label, rec.value(span), args.candidates, seed)[0]]
            work.append([in_place(rec, span, v) for v in values])
        t_cands = time.perf_counter() - clock
        clock = time.perf_counter()
        for texts in work:
            tok([p + v for p, v, _ in texts])
        t_tok = time.perf_counter() - clock

        # side by side on the first 10 spans: shared prefix and cache against whole sequences
        clock = time.perf_counter()
        shared = [incontext.causal_logprobs(model, tok, texts) for texts in work[:10]]
        t_shared = time.perf_counter() - clock
        clock = time.perf_counter()
        whole = []
        with torch.no_grad():
            for texts in work[:10]:
                seqs = tok([p + v for p, v, _ in texts])["input_ids"]
                whole.append(incontext._whole(model, tok, seqs, start=incontext._common(seqs)))
        t_whole = time.perf_counter() - clock
        diff = max(abs(a - b) for s, w in zip(shared, whole) for a, b in zip(s, w))

    print(f"machine: {machine.describe()}")
    print(f"value exposure of {summary['spans']} spans, {args.candidates} candidates each: {total:.1f} s "
          f"(mean {summary['mean']:.2f} bits, cap {summary['cap']:.2f})")  # fmt: skip
    print(
        f"  candidates {t_cands:.1f} s, tokenizing {t_tok:.1f} s, the model and the rest {total - t_cands - t_tok:.1f} s"
    )
    print(f"first 10 spans: prefix cache shared {t_shared:.1f} s, whole sequences {t_whole:.1f} s "
          f"({t_whole / t_shared:.1f}x); largest score difference {diff:.2e} nats")  # fmt: skip


if __name__ == "__main__":
    main()
