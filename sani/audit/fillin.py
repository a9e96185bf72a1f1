"""The fill-in audit of masked language models (BERT, RoBERTa, DistilBERT, DeBERTa), in the same shapes the
causal-LM metrics return so pipeline, target and report share them.

A masked LM "regurgitates" a value when, asked to fill it in, it restores it. Three ways of asking differ a
lot (measured on a MiniLM fine-tuned to memorize: 33% of tokens restored one at a time, 0.2% of values in one
joint pass), so all three are reported, and the strictest is the headline:
- one at a time (`greedy`, the headline, and `greedy_top{k}`): each token of the value masked alone,
  everything else visible: share of *tokens* restored by the top-1 (top-k) prediction; the paper counts any
  predicted sensitive token;
- `left_to_right`: all tokens of the value masked, filled one by one, each prediction fed back: share of
  *values* restored whole;
- `joint`: all masked, all filled in one pass: share of values restored whole.
Likelihoods are pseudo-log-likelihoods (Salazar et al. 2020): each token masked alone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models.batching import mask_id, max_positions, pad_id
from ..models.kinds import MaskedLM
from ..models.masking import Copy, copies, score
from ..privacy import value_hash
from ..spans.data import Encoded
from .common import Context, MetricResult, aggregate, occurrences, register


def _window(n: int, first: int, last: int, limit: int) -> tuple[int, int]:
    """A window of at most `limit` tokens around positions first..last of a record of n tokens."""
    if n <= limit:
        return 0, n
    start = max(0, min(first - (limit - (last - first + 1)) // 2, n - limit))
    return start, start + limit


@dataclass
class _Value:
    record: int
    span: int
    label: str
    value: str
    ids: list[int]  # the window of the record holding the value
    positions: list[int]  # the value's tokens, in the window


def _values(encoded: Sequence[Encoded], limit: int) -> list[_Value]:
    out = []
    for r, enc in enumerate(encoded):
        where: dict[int, list[int]] = {}
        for t, s in enumerate(enc.span_of_token):
            if s >= 0:
                where.setdefault(s, []).append(t)
        for s, pos in where.items():
            a, b = _window(len(enc.input_ids), pos[0], pos[-1], limit)
            pos = [p - a for p in pos if a <= p < b]
            span = enc.record.spans[s]
            out.append(_Value(r, s, span.label, enc.record.value(span), enc.input_ids[a:b], pos))
    return out


def _one_at_a_time(
    model: nn.Module, values: list[_Value], mid: int, pad: int, top_k: int, progress: bool
) -> tuple[list[list[bool]], list[list[bool]], list[float]]:
    """Each token of each value masked alone: top-1 and top-k hits per token, and the value's
    pseudo-log-likelihood."""
    owner = [i for i, v in enumerate(values) for _ in v.positions]
    items = [c for v in values for c in copies(v.ids, ([p] for p in v.positions), mid)]
    s = score(model, items, pad, top_k=top_k, progress=progress, desc="MLM one at a time")
    top1: list[list[bool]] = [[] for _ in values]
    topk: list[list[bool]] = [[] for _ in values]
    pll = [0.0] * len(values)
    for i, c, top, lp in zip(owner, items, s.top.tolist(), s.logp.tolist()):
        top1[i].append(top[0] == c.truth[0])
        topk[i].append(c.truth[0] in top)
        pll[i] += lp
    return top1, topk, pll


def _left_to_right(model: nn.Module, values: list[_Value], mid: int, pad: int, progress: bool) -> list[list[int]]:
    """All tokens of each value masked, filled one by one, each prediction fed back."""
    filled = [next(copies(v.ids, [v.positions], mid)).ids for v in values]
    for step in tqdm(
        range(max((len(v.positions) for v in values), default=0)),
        desc="MLM left to right",
        disable=not progress,
        leave=False,
    ):
        todo = [i for i, v in enumerate(values) if step < len(v.positions)]
        items = [Copy(filled[i], [values[i].positions[step]], [values[i].ids[values[i].positions[step]]]) for i in todo]
        for i, top in zip(todo, score(model, items, pad).top[:, 0].tolist()):
            filled[i][values[i].positions[step]] = top
    return [[filled[i][p] for p in v.positions] for i, v in enumerate(values)]


def regurgitation(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    *,
    top_k: int = 10,
    progress: bool = True,
) -> dict[str, Any]:
    """Regurgitation of every span occurrence, three ways (module docstring): `greedy` (one at a time, top-1,
    tokens), `greedy_top{k}`, `left_to_right` and `joint` (whole values); each overall, per label and per
    number of occurrences. Items carry hashes, the value's pseudo-log-likelihood and each way's result."""
    model.eval()
    mid, pad = mask_id(tokenizer), pad_id(tokenizer)
    values = _values(encoded, max_positions(model))
    seen = occurrences(encoded)
    tok_top1, tok_topk, pll = _one_at_a_time(model, values, mid, pad, top_k, progress)
    whole = [c for v in values for c in copies(v.ids, [v.positions], mid)]
    s = score(model, whole, pad, progress=progress, desc="MLM joint")
    joint = [s.top[s.rows(i), 0].tolist() for i in range(len(values))]
    in_order = _left_to_right(model, values, mid, pad, progress)
    items, modes = [], {"left_to_right": [], "joint": []}
    token_items: dict[str, list[dict]] = {"greedy": [], f"greedy_top{top_k}": []}
    for i, v in enumerate(values):
        truth = [v.ids[p] for p in v.positions]
        base = {
            "record": v.record,
            "span": v.span,
            "label": v.label,
            "length": len(v.value),
            "value_hash": value_hash(v.value),
            "occurrences": seen[v.value],
        }
        got = {"left_to_right": in_order[i], "joint": joint[i]}
        for mode, seq in got.items():
            share = sum(a == b for a, b in zip(seq, truth)) / len(truth)
            modes[mode].append({**base, "hit": seq == truth, "partial": share >= 1 / 3})
        t1, tk = tok_top1[i], tok_topk[i]
        for name, hits_ in (("greedy", t1), (f"greedy_top{top_k}", tk)):
            token_items[name] += [{**base, "hit": h} for h in hits_]
        items.append(
            {
                **base,
                "hit": sum(t1) > 0,
                "left_to_right": in_order[i] == truth,
                "joint": joint[i] == truth,
                "tokens": len(truth),
                "tokens_top1": sum(t1),
                f"tokens_top{top_k}": sum(tk),
                "pll": round(pll[i], 4),
            }
        )
    return _summary(token_items, modes, pll, items)


def _summary(
    token_items: dict[str, list[dict]], modes: dict[str, list[dict]], pll: list[float], items: list[dict]
) -> dict[str, Any]:
    """The ways of asking aggregated: one at a time counts tokens, the others whole values."""
    result: dict[str, Any] = {}
    for name, its in token_items.items():
        agg = aggregate(its)
        agg.pop("partial_rate", None)
        result[name] = {**agg, "unit": "tokens"}
    result.update({mode: {**aggregate(its), "unit": "values"} for mode, its in modes.items()})
    result["greedy"]["mean_value_pll"] = round(sum(pll) / len(pll), 4) if pll else None  # same pass
    result["items"] = items
    return result


@register("regurgitation", kinds=(MaskedLM.name,))
def fill_in_metric(ctx: Context) -> MetricResult:
    top_k = min(ctx.cfg.top_k, 10)
    reg = regurgitation(ctx.model, ctx.tokenizer, ctx.encoded, top_k=top_k, progress=ctx.progress)
    items = reg.pop("items")
    return MetricResult(reg, items, {"top_k": top_k, "seed": ctx.cfg.seed})


@torch.no_grad()
def utility(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    *,
    mask_rate: float = 0.15,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Masked-token accuracy and perplexity on non-sensitive tokens: a fixed, seeded 15% of them masked at once
    in each record (so two models are scored on the same positions)."""
    special = set(tokenizer.all_special_ids)
    mid, limit = mask_id(tokenizer), max_positions(model)
    items = []
    for r, enc in enumerate(encoded):
        rng = random.Random(seed * 1_000_003 + r)
        for a in range(0, len(enc.input_ids), limit):
            ids = enc.input_ids[a : a + limit]
            cand = [p for p, (t, s) in enumerate(zip(ids, enc.sensitive[a : a + limit])) if not s and t not in special]
            chosen = sorted(rng.sample(cand, max(1, round(mask_rate * len(cand))))) if cand else []
            items += copies(ids, [chosen] if chosen else [], mid)
    s = score(model, items, pad_id(tokenizer), progress=progress, desc="masked-token accuracy")
    truth = torch.tensor([t for c in items for t in c.truth], dtype=torch.long)
    nll, correct, count = -float(s.logp.double().sum()), int((s.top[:, 0] == truth).sum()), len(truth)
    if count == 0:
        return {"perplexity": None, "accuracy": None, "tokens": 0}
    return {
        "perplexity": round(math.exp(nll / count), 4),
        "accuracy": round(correct / count, 4),
        "tokens": count,
        "measure": "masked tokens",
    }


@register("perplexity", kinds=(MaskedLM.name,))
def masked_perplexity(ctx: Context) -> MetricResult:
    return MetricResult(utility(ctx.model, ctx.tokenizer, ctx.encoded, seed=ctx.cfg.seed, progress=ctx.progress))
