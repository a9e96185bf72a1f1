"""Extraction metrics on the sensitive tokens, from teacher-forced predictions and greedy continuations.

- MA, memorization accuracy (Tirumala et al. 2022; Jang et al. 2023, "Knowledge Unlearning"): share of
  positions whose greedy next token given the true prefix is the true token. Per record.
- EM, exact memorization (open-unlearning): MA restricted to a value's tokens. Per span.
- ES, extraction strength (open-unlearning): 1 - k/|y| for the smallest k such that, given the prefix and
  the value's first k tokens, greedy decoding reproduces the rest of the value exactly. Per span.
- EL_n, extraction likelihood (Jang et al. 2023): mean over the value's prefix lengths t of the share of
  n-grams of the greedy continuation of (prefix + y[:t]) found in y[t:]. Per span, on a sample of spans.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from torch import nn

from ..models.kinds import CausalLM, Kind
from ..spans.data import Encoded
from .common import Context, MetricResult, occurrence_bucket, occurrences, register, token_stats
from .regurgitation import continuations


def teacher_forced(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, kind: Kind, progress: bool = True
) -> list[tuple[list[bool], list[float]]]:
    """Per record: for each token, whether the greedy prediction from the true prefix is that token, and its
    log-probability (False and NaN where there is no prediction: the first token of the record and of each
    window of a longer one). From the audit's one teacher-forced pass (`common.token_stats`; `kind`: a
    causal LM's)."""
    out = []
    for st in token_stats(model, tokenizer, kind, encoded, progress=progress):
        out.append(([False] + [h == 1.0 for h in st["hit"]], [float("nan")] + st["logp"]))
    return out


def _ngrams(seq: Sequence[int], n: int) -> list[tuple[int, ...]]:
    return [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)]


def extraction(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    *,
    kind: Kind,
    el_n: int = 2,
    el_spans: int = 100,
    seed: int = 0,
    batch_size: int = 32,
    progress: bool = True,
) -> dict[str, Any]:
    """MA per record, EM and ES per span, EL_n on up to `el_spans` spans (chosen with `seed`)."""
    tf = teacher_forced(model, tokenizer, encoded, kind=kind, progress=progress)
    seen = occurrences(encoded)
    records, spans = [], []
    for r, (enc, (correct, _)) in enumerate(zip(encoded, tf)):
        if len(correct) > 1:
            records.append({"record": r, "ma": round(sum(correct[1:]) / (len(correct) - 1), 4)})
        positions: dict[int, list[int]] = {}
        for t, s in enumerate(enc.span_of_token):
            if s >= 0 and t > 0:
                positions.setdefault(s, []).append(t)
        for s, ts in positions.items():
            c = [correct[t] for t in ts]
            wrong = [k for k, ok in enumerate(c) if not ok]
            k = wrong[-1] + 1 if wrong else 0
            span = enc.record.spans[s]
            spans.append(
                {
                    "record": r,
                    "span": s,
                    "label": span.label,
                    "occurrences": seen[enc.record.value(span)],
                    "tokens": ts,
                    "em": round(sum(c) / len(c), 4),
                    "es": round(1 - k / len(c), 4),
                }
            )
    sample = random.Random(seed).sample(range(len(spans)), min(el_spans, len(spans)))
    _el_n(model, tokenizer, encoded, spans, sample, el_n, batch_size, progress)
    for sp in spans:
        del sp["tokens"]

    by_label, by_occ = _breakdown(spans)
    return {
        "ma": _mean("ma", records),
        "em": _mean("em", spans),
        "es": _mean("es", spans),
        f"el_{el_n}": _mean("el", spans),
        "el_n": el_n,
        "el_spans": len(sample),
        "by_label": by_label,
        "by_occurrences": by_occ,
        "spans": spans,
        "records": records,
    }


def _el_n(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    spans: list[dict],
    sample: list[int],
    el_n: int,
    batch_size: int,
    progress: bool,
) -> None:
    """EL_n of each sampled span (into its row): greedy continuations from every prefix length of the value,
    scored by the share of their n-grams found in the rest of the value."""
    prompts, lengths, owner = [], [], []
    for j in sample:
        sp = spans[j]
        ids = encoded[sp["record"]].input_ids
        y = [ids[t] for t in sp["tokens"]]
        for t in range(len(y) - el_n + 1):
            prompts.append(ids[: sp["tokens"][0] + t])
            lengths.append(len(y) - t)
            owner.append((j, y[t:]))
    outs = continuations(model, tokenizer, prompts, lengths, batch_size=batch_size, progress=progress, desc="EL_n")
    scores: dict[int, list[float]] = {}
    for (j, truth), gen in zip(owner, outs):
        true_ng = set(_ngrams(truth, el_n))
        gen_ng = _ngrams(gen[0], el_n)
        scores.setdefault(j, []).append(sum(g in true_ng for g in gen_ng) / len(gen_ng) if gen_ng else 0.0)
    for j, vals in scores.items():
        spans[j]["el"] = round(sum(vals) / len(vals), 4)


def _mean(key: str, rows: list[dict]) -> float | None:
    vals = [x[key] for x in rows if key in x]
    return round(sum(vals) / len(vals), 4) if vals else None


def _breakdown(spans: list[dict]) -> tuple[dict, dict]:
    """EM, ES and EL per label and per occurrence bucket."""
    by_label: dict[str, dict[str, float | None]] = {}
    for lab in sorted({s["label"] for s in spans}):
        rows = [s for s in spans if s["label"] == lab]
        by_label[lab] = {"em": _mean("em", rows), "es": _mean("es", rows), "el": _mean("el", rows)}
    by_occ: dict[str, dict[str, float | None]] = {}
    for bucket in dict.fromkeys(
        occurrence_bucket(s["occurrences"]) for s in sorted(spans, key=lambda s: s["occurrences"])
    ):
        rows = [s for s in spans if occurrence_bucket(s["occurrences"]) == bucket]
        by_occ[bucket] = {"em": _mean("em", rows), "es": _mean("es", rows), "el": _mean("el", rows), "spans": len(rows)}
    return by_label, by_occ


@register("extraction", kinds=(CausalLM.name,))  # MA/EM/ES/EL are defined on left-to-right decoding
def extraction_metric(ctx: Context) -> MetricResult | None:
    if not ctx.cfg.extraction:
        return None
    ext = extraction(
        ctx.model,
        ctx.tokenizer,
        ctx.encoded,
        kind=ctx.kind,
        el_spans=ctx.cfg.el_spans,
        seed=ctx.cfg.seed,
        batch_size=ctx.cfg.batch_size,
        progress=ctx.progress,
    )
    items = [
        {k: v for k, v in sp.items() if k in ("record", "span", "label", "em", "es", "el")} for sp in ext.pop("spans")
    ]
    ext.pop("records")
    return MetricResult(ext, items)
