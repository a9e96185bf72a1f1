"""A value's log-likelihood in its place in a record, for many candidate values at once: what value exposure
ranks (Carlini et al. 2019, "The Secret Sharer", with the record's own context as the canary's format).

- Causal LM: log p(value tokens | the record before the value). The tokens every candidate shares (the
  prefix, up to where the texts first differ) go through the model once; its key/value cache is repeated
  for each batch of candidates, so a candidate costs only its own tokens.
- Masked LM: pseudo-log-likelihood (Salazar et al. 2020) of the value tokens with the rest of the record
  visible: each token overlapping the value masked alone.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .batching import device_of, mask_id, max_positions, pad_batch, pad_id
from .masking import copies, score

BUDGET = 1 << 24  # logits held at once (floats): candidates are batched to fit
BATCH = 128  # candidates a batch: each holds its own copy of the prefix's cache


def _cache_keyword(model: nn.Module) -> str:
    """The forward argument that takes a key/value cache: `cache` in recent transformers, else
    `past_key_values`."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _common(seqs: Sequence[list[int]]) -> int:
    """How many leading tokens every sequence shares, leaving each at least one of its own."""
    n = min(len(s) for s in seqs) - 1
    first = seqs[0]
    for s in seqs[1:]:
        i = 0
        while i < n and s[i] == first[i]:
            i += 1
        n = i
    return max(n, 0)


@torch.no_grad()
def causal_logprobs(model: nn.Module, tokenizer: Any, texts: Sequence[tuple[str, str, str]]) -> list[float]:
    """For each (prefix, value, suffix): the sum of log p(token | everything before it) over the tokens of
    `prefix + value` after the part every text shares (the suffix is not read)."""
    seqs = tokenizer([p + v for p, v, _ in texts], add_special_tokens=True, verbose=False)["input_ids"]
    cut = _common(seqs)
    longest = max(len(s) for s in seqs) - cut
    keep = max(0, max_positions(model) - longest)  # the prefix's tail that fits the window with every value
    shared, rests = seqs[0][max(0, cut - keep) : cut], [s[cut:] for s in seqs]
    if not shared:  # nothing before the values: their first token is not predicted, as in sequence_nll
        return _whole(model, tokenizer, [s[:cut] + r for s, r in zip(seqs, rests)], start=max(cut, 1))
    device = device_of(model)
    try:
        out = model(input_ids=torch.tensor([shared], device=device), use_cache=True)
        cache_of = out["cache"] if "cache" in out else out["past_key_values"]
    except (TypeError, ValueError):  # a model without a cache: whole sequences
        return _whole(model, tokenizer, [shared + r for r in rests], start=len(shared))
    first = torch.log_softmax(out.logits[0, -1].float(), -1)
    scores = [float(first[r[0]]) for r in rests]
    order = sorted((i for i in range(len(rests)) if len(rests[i]) > 1), key=lambda i: len(rests[i]))
    pid, b = pad_id(tokenizer), 0
    while b < len(order):  # batches of similar lengths, within the budget of logits and cache copies
        width = len(rests[order[min(b + BATCH - 1, len(order) - 1)]]) - 1
        idx = order[b : b + max(1, min(BATCH, BUDGET // (width * out.logits.shape[-1])))]
        b += len(idx)
        ids, mask = pad_batch([rests[i] for i in idx], pid)
        ids, mask = ids.to(device), mask.to(device)
        cache = copy.deepcopy(cache_of)
        cache.batch_repeat_interleave(len(idx))
        full = torch.cat([torch.ones(len(idx), len(shared), dtype=mask.dtype, device=device), mask[:, :-1]], 1)
        logits = model(
            input_ids=ids[:, :-1], attention_mask=full, **{_cache_keyword(model): cache}, use_cache=True
        ).logits
        logits = logits.float()
        lp = logits.gather(-1, ids[:, 1:, None]).squeeze(-1) - logits.logsumexp(-1)
        for i, v in zip(idx, (lp * mask[:, 1:]).sum(-1).tolist()):
            scores[i] += v
    return scores


def _whole(model: nn.Module, tokenizer: Any, seqs: list[list[int]], start: int) -> list[float]:
    """As `causal_logprobs`, each sequence run whole: log-probs of its tokens from `start` on."""
    device, vocab = device_of(model), model.config.vocab_size
    step = max(1, BUDGET // (max(len(s) for s in seqs) * vocab))
    scores: list[float] = []
    for b in range(0, len(seqs), step):
        ids, mask = pad_batch(seqs[b : b + step], pad_id(tokenizer))
        ids, mask = ids.to(device), mask.to(device)
        lp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits[:, :-1].float(), -1)
        tok = lp.gather(-1, ids[:, 1:, None]).squeeze(-1) * mask[:, 1:]
        scores += tok[:, start - 1 :].sum(-1).tolist()
    return scores


@torch.no_grad()
def masked_logprobs_in_place(model: nn.Module, tokenizer: Any, texts: Sequence[tuple[str, str, str]]) -> list[float]:
    """For each (prefix, value, suffix): the pseudo-log-likelihood of the value's tokens in
    `prefix + value + suffix`, the rest visible."""
    enc = tokenizer(
        [p + v + s for p, v, s in texts], add_special_tokens=True, return_offsets_mapping=True, verbose=False
    )
    mid, limit = mask_id(tokenizer), max_positions(model)
    items, owner = [], []
    for i, (ids, offsets) in enumerate(zip(enc["input_ids"], enc["offset_mapping"])):
        start = len(texts[i][0])
        end = start + len(texts[i][1])
        pos = [p for p, (a, b) in enumerate(offsets) if b > a and a < end and b > start]
        lo = max(0, min(pos[0] - limit // 2, len(ids) - limit)) if len(ids) > limit and pos else 0
        ids = ids[lo : lo + limit]
        at = [p - lo for p in pos if 0 <= p - lo < len(ids)]
        items += copies(ids, ([p] for p in at), mid)
        owner += [i] * len(at)
    scores = [0.0] * len(texts)
    for i, lp in zip(owner, score(model, items, pad_id(tokenizer)).logp.tolist()):
        scores[i] += lp
    return scores
