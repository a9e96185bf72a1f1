"""Utility: what sanitizing cost. Perplexity and next-token accuracy on the tokens that are not sensitive
(a causal LM here; a masked LM's masked-token measure is in `fillin`), on the training corpus and on the
holdout, with the linear probe's accuracy (`probe`) beside them."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .. import dist
from ..batching import device_of, max_positions, pad_batch, pad_id
from ..data import Encoded, windows
from .common import Context, MetricResult, measure, register


@torch.no_grad()
def utility(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    *,
    batch_size: int = 16,
    max_length: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Perplexity and next-token accuracy on the tokens that are not sensitive, long records read in
    windows. Under several processes each scores its share of the windows and the sums are added up."""
    device = device_of(model)
    max_length = min(max_length or max_positions(model), max_positions(model))
    pid = pad_id(tokenizer)
    chunks = [w for enc in encoded for w in windows(enc, max_length)]
    chunks = chunks[dist.rank() :: dist.world()]
    nll, correct, count = 0.0, 0, 0
    for i in tqdm(
        range(0, len(chunks), batch_size), desc="perplexity", disable=not progress or not dist.is_main(), leave=False
    ):
        batch = chunks[i : i + batch_size]
        ids, mask = pad_batch([toks for toks, _ in batch], pid)
        labels, _ = pad_batch([[-100 if s else t for t, s in zip(toks, sens)] for toks, sens in batch], -100)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits[:, :-1].float()
        target = labels[:, 1:].to(device)
        keep = target != -100
        nll += F.cross_entropy(logits[keep], target[keep], reduction="sum").item()
        correct += (logits[keep].argmax(-1) == target[keep]).sum().item()
        count += int(keep.sum())
    nll, correct, count = dist.sum_all([nll, correct, count])
    if count == 0:
        return {"perplexity": None, "accuracy": None, "tokens": 0}
    return {"perplexity": round(math.exp(nll / count), 4), "accuracy": round(correct / count, 4), "tokens": count}


@register("perplexity", kinds=("causal-lm",))
def causal_perplexity(ctx: Context) -> MetricResult:
    return MetricResult(utility(ctx.model, ctx.tokenizer, ctx.encoded, progress=ctx.progress))


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
