"""Value exposure: how far above chance the model ranks each real sensitive value among candidate values of
the same kind in the same place (Carlini et al. 2019, "The Secret Sharer": exposure = log2(n+1) - log2 rank
among the value and n candidates), with no canaries planted. The candidates come from `sani.spans.candidates`
(Faker, or the value's format) on the audit's own seed stream. A model that never saw the values ranks them
at random: log2(n+1) - log2((n+1)!)/(n+1) bits on average, 1.44 for large n; a value ranked first reads the
cap log2(n+1), beyond which the figure cannot tell how exposed it is."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from torch import nn
from tqdm.auto import tqdm

from ..models.kinds import Kind
from ..scale import dist
from ..spans.candidates import Candidates
from ..spans.data import Encoded, Record, Span
from .common import Context, MetricResult, candidates_for, occurrence_bucket, occurrences, register


def chance(n: int) -> float:
    """Mean exposure of a value ranked at random among itself and `n` candidates."""
    return math.log2(n + 1) - math.lgamma(n + 2) / math.log(2) / (n + 1)


def exposure_bits(true: float, others: Sequence[float]) -> tuple[float, float]:
    """(rank, exposure) of a value scoring `true` against candidates scoring `others` (ties count half)."""
    rank = 1 + sum(x > true for x in others) + 0.5 * sum(x == true for x in others)
    return rank, math.log2(len(others) + 1) - math.log2(rank)


def in_place(rec: Record, span: Span, candidate: str) -> tuple[str, str, str]:
    """(prefix, candidate, suffix): the record with `candidate` at `span` and at every other span holding the
    same value, so that no copy of the value is left in the context to read it from."""
    value, parts, pos = rec.value(span), [], 0
    for s in rec.spans:
        if s is span or rec.value(s) == value:
            parts.append(rec.text[pos : s.start])
            parts.append(None if s is span else candidate)  # None: where the scored value goes
            pos = s.end
    parts.append(rec.text[pos:])
    cut = parts.index(None)
    return "".join(parts[:cut]), candidate, "".join(parts[cut + 1 :])


def sample_spans(encoded: Sequence[Encoded], n: int, seed: int) -> list[tuple[int, int]]:
    """A seeded sample of `n` (record, span) pairs, in corpus order; all of them when there are fewer."""
    every = [(r, s) for r, e in enumerate(encoded) for s in range(len(e.record.spans))]
    if n >= len(every):
        return every
    return sorted(random.Random(f"sani:audit:spans:{seed}").sample(every, n))


def value_exposure(
    models: dict[str, nn.Module],
    tokenizer: Any,
    kind: Kind,
    encoded: Sequence[Encoded],
    cfg: Any,
    cands: Candidates,
    *,
    progress: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Per model (e.g. {"model": m, "reference": r}), one row per sampled span: its rank among the same
    candidates, the exposure and the cap. Under several processes each scores its share of the spans."""
    chosen = sample_spans(encoded, cfg.exposure_spans, cfg.seed)
    occ = occurrences(encoded)
    ids = {v: i for i, v in enumerate(occ)}  # a value's number, never the value
    k = cfg.candidates_for(kind)

    def score(part: list[tuple[int, int]]) -> list[dict[str, Any]]:
        rows = []
        for r, s in tqdm(part, desc="value exposure", disable=not (progress and dist.is_main()), leave=False):
            rec = encoded[r].record
            span = rec.spans[s]
            value = rec.value(span)
            others, generator = cands.for_value(span.label, value, k, seed=f"{cfg.seed}:{rec.text}:{span.start}")
            row: dict[str, Any] = {
                "record": r,
                "span": s,
                "label": span.label,
                "occurrences": occ[value],
                "value_id": ids[value],
                "candidates": len(others),
                "generator": generator,
            }
            texts = [in_place(rec, span, c) for c in (value, *others)]
            for name, m in models.items():
                lp = kind.value_logprobs(m, tokenizer, texts)
                rank, bits = exposure_bits(lp[0], lp[1:])
                row[name] = {"rank": rank, "exposure": round(bits, 4)}
            rows.append(row)
        return rows

    rows = dist.map_shards(score, chosen)
    return {name: [{**{k: v for k, v in r.items() if k not in models}, **r[name]} for r in rows] for name in models}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean exposure with the chance level, the share at the cap (ranked first) and n, the fewest candidates
    a value had (its cap log2(n+1)); overall, per label and per number of occurrences."""

    def block(rs: list[dict[str, Any]]) -> dict[str, Any]:
        n = min(r["candidates"] for r in rs)
        return {
            "spans": len(rs),
            "values": len({r["value_id"] for r in rs}),  # distinct values: a value's spans are not independent
            "mean": round(sum(r["exposure"] for r in rs) / len(rs), 3),
            "chance": round(sum(chance(r["candidates"]) for r in rs) / len(rs), 3),
            "at_cap": round(sum(r["rank"] == 1 for r in rs) / len(rs), 4),
            "n": n,
            "cap": round(math.log2(n + 1), 3),
            # what most of its candidates came from: "holdout" (values never seen) or a generator (indicative)
            "generator": Counter(r["generator"] for r in rs).most_common(1)[0][0],
        }

    if not rows:
        return {"spans": 0}
    by_label: dict[str, list] = defaultdict(list)
    by_occ: dict[str, list] = defaultdict(list)
    for r in rows:
        by_label[r["label"]].append(r)
        by_occ[occurrence_bucket(r["occurrences"])].append(r)
    generators: dict[str, int] = defaultdict(int)
    for r in rows:
        generators[r["generator"]] += 1
    return {
        **block(rows),
        "by_label": {k: block(v) for k, v in sorted(by_label.items())},
        "bits": {k: [r["exposure"] for r in v] for k, v in sorted(by_label.items())},  # for the report's strips
        "by_occurrences": {k: block(v) for k, v in by_occ.items()},
        "generators": dict(sorted(generators.items())),
    }


@register("value_exposure")
def value_exposure_metric(ctx: Context) -> MetricResult | None:
    if ctx.cfg.exposure_spans <= 0 or not any(e.record.spans for e in ctx.encoded):
        return None
    models = {"model": ctx.model, **({"reference": ctx.reference} if ctx.reference is not None else {})}
    rows = value_exposure(
        models, ctx.tokenizer, ctx.kind, ctx.encoded, ctx.cfg, candidates_for(ctx), progress=ctx.progress
    )
    summary = summarize(rows["model"])
    summary["source"] = ctx.cfg.exposure_source
    summary["locale"] = ctx.cfg.exposure_locale
    if "reference" in rows:
        summary["reference"] = summarize(rows["reference"])
    items = [
        {
            "record": r["record"],
            "span": r["span"],
            "label": r["label"],
            "occurrences": r["occurrences"],
            "value_exposure": r["exposure"],
            "value_rank": r["rank"],
            "value_candidates": r["candidates"],
        }
        for r in rows["model"]
    ]
    return MetricResult(
        summary,
        items,
        {"exposure_spans": ctx.cfg.exposure_spans, "exposure_candidates": ctx.cfg.candidates_for(ctx.kind)},
    )
