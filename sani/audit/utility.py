"""Utility: what sanitizing cost. Perplexity and next-token accuracy on the tokens that are not sensitive
(a causal LM here; a masked LM's masked-token measure is in `fillin`), on the training corpus and on the
holdout, with the linear probe's accuracy (`probe`) beside them."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from torch import nn

from ..models.kinds import CausalLM, Kind
from ..spans.data import Encoded
from .common import Context, MetricResult, measure, register, token_stats


def utility(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, kind: Kind, progress: bool = True
) -> dict[str, Any]:
    """Perplexity and next-token accuracy on the tokens that are not sensitive, long records read in
    windows: from the audit's one teacher-forced pass (`common.token_stats`; `kind`: a causal LM's), which
    membership and extraction read too."""
    nll, correct, count = 0.0, 0.0, 0
    for st, enc in zip(token_stats(model, tokenizer, kind, encoded, progress=progress), encoded):
        for t, (lp, hit) in enumerate(zip(st["logp"], st["hit"]), start=1):
            if not enc.sensitive[t] and lp == lp:  # NaN: the first token of a window is not predicted
                nll, correct, count = nll - lp, correct + hit, count + 1
    if count == 0:
        return {"perplexity": None, "accuracy": None, "tokens": 0}
    return {"perplexity": round(math.exp(nll / count), 4), "accuracy": round(correct / count, 4), "tokens": count}


@register("perplexity", kinds=(CausalLM.name,))
def causal_perplexity(ctx: Context) -> MetricResult:
    return MetricResult(utility(ctx.model, ctx.tokenizer, ctx.encoded, kind=ctx.kind, progress=ctx.progress))


@register("utility")
def utility_metric(ctx: Context) -> MetricResult:
    """Perplexity (the kind's own measure) on the corpus and the holdout, and the linear probe's accuracy
    on a labelled task."""
    out = {"train": measure("perplexity", ctx).summary}
    if ctx.holdout:
        out["holdout"] = measure("perplexity", dataclasses.replace(ctx, encoded=ctx.holdout)).summary
    probe = measure("probe", ctx)
    if probe is not None:
        out["task"] = probe.summary
    return MetricResult(out)
