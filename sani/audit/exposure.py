"""Canary exposure (Carlini et al. 2019, "The Secret Sharer").

Rank each true secret's log-perplexity among the candidates of its space R: exposure = log2|R| - log2 rank.
The rank is exact when R is small enough to score every candidate, else estimated from a normal fitted to
the log-perplexities of sampled candidates (Carlini et al. fit a skew-normal; a normal is close for these
unimodal distributions and needs no extra dependency). The canaries are planted by `sani canaries`
(`sani.spans.canaries`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from torch import nn
from tqdm.auto import tqdm

from ..models.kinds import Kind
from ..scale import dist
from ..spans.canaries import CanarySpace
from .common import Context, MetricResult, register


def sequence_nll(model: nn.Module, tokenizer: Any, kind: Kind, texts: Sequence[str]) -> list[float]:
    """Negative (pseudo-)log-likelihood of each text (`Kind.sequence_nll`); under several processes each
    scores its share."""
    return dist.map_shards(lambda part: kind.sequence_nll(model, tokenizer, part), list(texts))


def exposure(
    model: nn.Module,
    tokenizer: Any,
    kind: Kind,
    definition: dict[str, Any],
    *,
    exact_limit: int = 20_000,
    samples: int = 2_000,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Exposure of each canary: exact rank among all candidates when |R| <= exact_limit, else estimated."""
    sp = CanarySpace.parse(definition["space"])
    fmt = definition["format"]
    exact = sp.size <= exact_limit
    if exact:
        candidates = [sp.nth(i) for i in range(sp.size)]
    else:
        rng = random.Random(seed)
        candidates = [sp.random(rng) for _ in range(samples)]
    cand_nll = sequence_nll(
        model,
        tokenizer,
        kind,
        [fmt.replace("{secret}", c) for c in tqdm(candidates, desc="exposure", disable=not progress, leave=False)],
    )
    mu = sum(cand_nll) / len(cand_nll)
    sd = math.sqrt(sum((x - mu) ** 2 for x in cand_nll) / max(1, len(cand_nll) - 1)) or 1e-9
    items = []
    true_nll = sequence_nll(
        model, tokenizer, kind, [fmt.replace("{secret}", c["secret"]) for c in definition["canaries"]]
    )
    for c, nll in zip(definition["canaries"], true_nll):
        if exact:
            rank = 1 + sum(x < nll for x in cand_nll)  # the true secret is among the candidates
        else:
            rank = max(1.0, sp.size * 0.5 * (1 + math.erf((nll - mu) / (sd * math.sqrt(2)))))
        items.append(
            {
                "id": c["id"],
                "repeats": c["repeats"],
                "rank": round(rank, 2),
                "exposure": round(math.log2(sp.size) - math.log2(rank), 3),
            }
        )
    by_rep: dict[int, list[float]] = {}
    for it in items:
        by_rep.setdefault(it["repeats"], []).append(it["exposure"])
    return {
        "space": sp.spec,
        "log2_space": round(math.log2(sp.size), 3),
        "method": "exact" if exact else "normal fit",
        "candidates": len(candidates),
        "mean_exposure": round(sum(i["exposure"] for i in items) / len(items), 3) if items else None,
        "by_repeats": {str(k): round(sum(v) / len(v), 3) for k, v in sorted(by_rep.items())},
        "items": items,
    }


@register("exposure")
def exposure_metric(ctx: Context) -> MetricResult | None:
    if ctx.canaries is None:
        return None
    result = exposure(ctx.model, ctx.tokenizer, ctx.kind, ctx.canaries, seed=ctx.cfg.seed, progress=ctx.progress)
    return MetricResult(result)
