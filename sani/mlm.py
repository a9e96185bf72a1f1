"""Masked language models (BERT, RoBERTa, DistilBERT, DeBERTa): the repair's collator and the audit's
measurements, in the same shapes the causal-LM code returns so pipeline, target and report share them.

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
from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data import Encoded
from .errors import SaniError
from .metrics import _aggregate, max_positions, pad_batch
from .models import pad_id
from .privacy import value_hash

IGNORE = -100


def mask_id(tokenizer: Any) -> int:
    if tokenizer.mask_token_id is None:
        raise SaniError(f"tokenizer {type(tokenizer).__name__} has no mask token, which a masked LM needs")
    return int(tokenizer.mask_token_id)


# --------------------------------------------------------------------------- repair data


@dataclass
class MLMCollator:
    """The library's MLM collator (15% of tokens, 80/10/10) with the sensitive tokens never chosen as targets:
    they are passed to it as special tokens. Sensitive tokens stay visible as context unless
    `mask_sensitive_inputs`. With `forget_probability` > 0, that share of the sensitive tokens is masked in
    the input and returned as `forget_labels`, for a forget term that pushes their prediction down."""

    tokenizer: Any
    mlm_probability: float = 0.15
    mask_sensitive_inputs: bool = False
    forget_probability: float = 0.0
    learn: bool = True  # False: no MLM targets at all, only the forget term (gradient ascent)

    def __post_init__(self) -> None:
        from transformers import DataCollatorForLanguageModeling

        self.base = DataCollatorForLanguageModeling(self.tokenizer, mlm=True, mlm_probability=self.mlm_probability)

    def __call__(self, batch: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        special = set(self.tokenizer.all_special_ids)
        feats = [{"input_ids": b["input_ids"],
                  "special_tokens_mask": [int(t in special or bool(s)) for t, s in zip(b["input_ids"], b["sensitive"])]}
                 for b in batch]
        out = self.base(feats)
        width = out["input_ids"].shape[1]
        sens = torch.tensor([list(b["sensitive"]) + [0] * (width - len(b["sensitive"])) for b in batch], dtype=torch.bool)
        truth = torch.tensor([list(b["input_ids"]) + [0] * (width - len(b["input_ids"])) for b in batch], dtype=torch.long)
        forget = sens & (torch.rand(sens.shape) < self.forget_probability) if self.forget_probability else torch.zeros_like(sens)
        out["forget_labels"] = torch.where(forget, truth, torch.full_like(truth, IGNORE))
        if not self.learn:
            out["labels"] = torch.full_like(out["labels"], IGNORE)
        hide = sens if self.mask_sensitive_inputs else forget
        out["input_ids"] = out["input_ids"].masked_fill(hide, mask_id(self.tokenizer))
        return out


# --------------------------------------------------------------------------- one forward pass per masked copy


def _window(n: int, first: int, last: int, limit: int) -> tuple[int, int]:
    """A window of at most `limit` tokens around positions first..last of a record of n tokens."""
    if n <= limit:
        return 0, n
    start = max(0, min(first - (limit - (last - first + 1)) // 2, n - limit))
    return start, start + limit


@torch.no_grad()
def _masked_logprobs(model: nn.Module, rows: Sequence[tuple[list[int], list[int]]], pad: int, *, batch_size: int,
                     progress: bool, desc: str) -> list[torch.Tensor]:
    """For each (ids, positions): log-probabilities [len(positions), vocab] at those positions. Rows are
    batched by length."""
    device = next(model.parameters()).device
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    out: list[torch.Tensor] = [torch.empty(0)] * len(rows)
    for b in tqdm(range(0, len(order), batch_size), desc=desc, disable=not progress, leave=False):
        idx = order[b : b + batch_size]
        ids, mask = pad_batch([rows[i][0] for i in idx], pad)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        for r, i in enumerate(idx):
            out[i] = torch.log_softmax(logits[r, rows[i][1]].float(), -1).cpu()
    return out


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


def regurgitation(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, top_k: int = 10, batch_size: int = 64,
    progress: bool = True,
) -> dict[str, Any]:
    """Regurgitation of every span occurrence, three ways (module docstring): `greedy` (one at a time, top-1,
    tokens), `greedy_top{k}`, `left_to_right` and `joint` (whole values); each overall, per label and per
    number of occurrences. Items carry hashes, the value's pseudo-log-likelihood and each way's result."""
    from collections import Counter

    model.eval()
    mid, pad = mask_id(tokenizer), pad_id(tokenizer)
    values = _values(encoded, max_positions(model))
    occurrences = Counter(enc.record.value(s) for enc in encoded for s in enc.record.spans)
    # one at a time: a copy per token
    singles = [(i, j) for i, v in enumerate(values) for j in range(len(v.positions))]
    rows = [(_masked(values[i].ids, [values[i].positions[j]], mid), [values[i].positions[j]]) for i, j in singles]
    lps = _masked_logprobs(model, rows, pad, batch_size=batch_size, progress=progress, desc="MLM one at a time")
    tok_top1: list[list[bool]] = [[] for _ in values]
    tok_topk: list[list[bool]] = [[] for _ in values]
    pll = [0.0] * len(values)
    for (i, j), lp in zip(singles, lps):
        true = values[i].ids[values[i].positions[j]]
        top = lp[0].topk(min(top_k, lp.shape[-1])).indices.tolist()
        tok_top1[i].append(top[0] == true)
        tok_topk[i].append(true in top)
        pll[i] += float(lp[0, true])
    # joint: all masked, one pass
    rows = [(_masked(v.ids, v.positions, mid), v.positions) for v in values]
    joint = [lp.argmax(-1).tolist() for lp in _masked_logprobs(model, rows, pad, batch_size=batch_size, progress=progress, desc="MLM joint")]
    # left to right: all masked, fill the first, feed it back, and so on
    filled = [_masked(v.ids, v.positions, mid) for v in values]
    for step in tqdm(range(max((len(v.positions) for v in values), default=0)), desc="MLM left to right",
                     disable=not progress, leave=False):
        todo = [i for i, v in enumerate(values) if step < len(v.positions)]
        lps = _masked_logprobs(model, [(filled[i], [values[i].positions[step]]) for i in todo], pad,
                               batch_size=batch_size, progress=False, desc="")
        for i, lp in zip(todo, lps):
            filled[i][values[i].positions[step]] = int(lp[0].argmax())
    items, modes = [], {"left_to_right": [], "joint": []}
    token_items: dict[str, list[dict]] = {"greedy": [], f"greedy_top{top_k}": []}
    for i, v in enumerate(values):
        truth = [v.ids[p] for p in v.positions]
        seq = [filled[i][p] for p in v.positions]
        base = {"record": v.record, "span": v.span, "label": v.label, "length": len(v.value),
                "value_hash": value_hash(v.value), "occurrences": occurrences[v.value]}
        hits = {"left_to_right": seq == truth, "joint": joint[i] == truth}
        for mode, hit in hits.items():
            got = seq if mode == "left_to_right" else joint[i]
            share = sum(a == b for a, b in zip(got, truth)) / len(truth)
            modes[mode].append({**base, "hit": hit, "partial": share >= 1 / 3})
        t1, tk = tok_top1[i], tok_topk[i]
        for name, hits_ in (("greedy", t1), (f"greedy_top{top_k}", tk)):
            token_items[name] += [{**base, "hit": h} for h in hits_]
        items.append({**base, "hit": sum(t1) > 0, "left_to_right": hits["left_to_right"], "joint": hits["joint"], "tokens": len(truth),
                      "tokens_top1": sum(t1), f"tokens_top{top_k}": sum(tk), "pll": round(pll[i], 4)})
    result: dict[str, Any] = {}
    for name, its in token_items.items():
        agg = _aggregate(its)
        agg.pop("partial_rate", None)
        result[name] = {**agg, "unit": "tokens"}
    result.update({mode: {**_aggregate(its), "unit": "values"} for mode, its in modes.items()})
    result["greedy"]["mean_value_pll"] = round(sum(pll) / len(pll), 4) if pll else None  # same pass
    result["items"] = items
    return result


def _masked(ids: list[int], positions: Sequence[int], mid: int) -> list[int]:
    out = list(ids)
    for p in positions:
        out[p] = mid
    return out


# --------------------------------------------------------------------------- likelihoods


@torch.no_grad()
def token_stats(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, batch_size: int = 64, progress: bool = True
) -> list[dict[str, list[float]]]:
    """Per record, for each token after the first: its pseudo-log-likelihood (the token masked alone) and the
    mean and std of log-probs at that position (for Min-K%++): the same shape as the causal `token_stats`.
    Records longer than the model's window are truncated."""
    mid, pad, limit = mask_id(tokenizer), pad_id(tokenizer), max_positions(model)
    rows, owner = [], []
    for r, enc in enumerate(encoded):
        ids = enc.input_ids[:limit]
        for p in range(1, len(ids)):
            rows.append((_masked(ids, [p], mid), [p]))
            owner.append((r, ids[p]))
    lps = _masked_logprobs(model, rows, pad, batch_size=batch_size, progress=progress, desc="pseudo-likelihood")
    out = [{"logp": [], "mu": [], "sigma": []} for _ in encoded]
    for (r, true), lp in zip(owner, lps):
        lp = lp[0]
        p = lp.exp()
        mu = float((p * lp).sum())
        out[r]["logp"].append(float(lp[true]))
        out[r]["mu"].append(mu)
        out[r]["sigma"].append(max(float((p * lp * lp).sum()) - mu * mu, 1e-12) ** 0.5)
    return out


@torch.no_grad()
def sequence_nll(model: nn.Module, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 256) -> list[float]:
    """Negative pseudo-log-likelihood (nats) of each text: every non-special token masked alone in turn."""
    special = set(tokenizer.all_special_ids)
    mid, pad = mask_id(tokenizer), pad_id(tokenizer)
    rows, owner = [], []
    for t, text in enumerate(texts):
        ids = tokenizer(text)["input_ids"]
        for p, tok in enumerate(ids):
            if tok not in special:
                rows.append((_masked(ids, [p], mid), [p]))
                owner.append((t, tok))
    out = [0.0] * len(texts)
    for (t, tok), lp in zip(owner, _masked_logprobs(model, rows, pad, batch_size=batch_size, progress=False, desc="")):
        out[t] -= float(lp[0, tok])
    return out


@torch.no_grad()
def utility(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, mask_rate: float = 0.15, seed: int = 0,
    batch_size: int = 32, progress: bool = True,
) -> dict[str, Any]:
    """Masked-token accuracy and perplexity on non-sensitive tokens: a fixed, seeded 15% of them masked at once
    in each record (so two models are scored on the same positions)."""
    device = next(model.parameters()).device
    special = set(tokenizer.all_special_ids)
    mid, pad, limit = mask_id(tokenizer), pad_id(tokenizer), max_positions(model)
    rows = []
    for r, enc in enumerate(encoded):
        rng = random.Random(seed * 1_000_003 + r)
        for a in range(0, len(enc.input_ids), limit):
            ids = enc.input_ids[a : a + limit]
            cand = [p for p, (t, s) in enumerate(zip(ids, enc.sensitive[a : a + limit])) if not s and t not in special]
            chosen = sorted(rng.sample(cand, max(1, round(mask_rate * len(cand))))) if cand else []
            if chosen:
                rows.append((ids, chosen))
    nll, correct, count = 0.0, 0, 0
    for b in tqdm(range(0, len(rows), batch_size), desc="masked-token accuracy", disable=not progress, leave=False):
        batch = rows[b : b + batch_size]
        ids, mask = pad_batch([_masked(i, c, mid) for i, c in batch], pad)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        for r, (orig, chosen) in enumerate(batch):
            lp = torch.log_softmax(logits[r, chosen], -1)
            true = torch.tensor([orig[p] for p in chosen], device=lp.device)
            nll -= float(lp.gather(-1, true.unsqueeze(-1)).sum())
            correct += int((lp.argmax(-1) == true).sum())
            count += len(chosen)
    if count == 0:
        return {"perplexity": None, "accuracy": None, "tokens": 0}
    return {"perplexity": round(math.exp(nll / count), 4), "accuracy": round(correct / count, 4), "tokens": count,
            "measure": "masked tokens"}


def sensitive_logprob(model: nn.Module, tokenizer: Any, ids: torch.Tensor, mask: torch.Tensor, sens: torch.Tensor) -> torch.Tensor:
    """Sum of log p(true token) at the sensitive positions, all masked at once: what erase scores attribute."""
    masked = ids.masked_fill(sens, mask_id(tokenizer))
    lp = torch.log_softmax(model(input_ids=masked, attention_mask=mask).logits.float(), -1)
    return (lp.gather(-1, ids.unsqueeze(-1)).squeeze(-1) * sens).sum()
