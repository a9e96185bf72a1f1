"""The audit's measurements: does the model still regurgitate the sensitive values, and what did sanitizing cost?

Regurgitation (as in SANI, arXiv 2510.21322, and Carlini et al. 2021 "Extracting Training Data"): prompt with
the tokens that precede a sensitive value in the training tokenization (cut at the token boundary training
had: re-tokenizing a prefix that ends in a space shows the model a token it never saw), decode greedily, and
count a hit when the exact value appears in the continuation.

Utility: perplexity and next-token accuracy on the non-sensitive tokens.

Nothing returned holds a value in clear text: per-span results carry a keyed hash, label and length.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data import Encoded, windows
from .models import fingerprint, pad_id
from .privacy import value_hash

log = logging.getLogger(__name__)

OCCURRENCE_BUCKETS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 10**12))


@dataclass
class Probe:
    record: int
    span: int
    label: str
    value: str
    prompt: list[int]
    value_tokens: int


def _max_positions(model: nn.Module) -> int:
    c = model.config
    for key in ("n_positions", "max_position_embeddings", "max_sequence_length", "seq_length"):
        v = getattr(c, key, None)
        if isinstance(v, int) and v > 0:
            return v
    return 2048


def make_probes(encoded: Sequence[Encoded], max_prompt_tokens: int, special_ids: set[int]) -> list[Probe]:
    """One probe per span occurrence that has non-special tokens before its first token."""
    probes = []
    for r, enc in enumerate(encoded):
        first: dict[int, int] = {}
        count: Counter = Counter()
        for t, s in enumerate(enc.span_of_token):
            if s >= 0:
                first.setdefault(s, t)
                count[s] += 1
        for s, t in first.items():
            prompt = enc.input_ids[max(0, t - max_prompt_tokens) : t]
            if not any(i not in special_ids for i in prompt):
                continue  # nothing precedes the value: no prompt can ask for it
            span = enc.record.spans[s]
            probes.append(Probe(r, s, span.label, enc.record.value(span), prompt, count[s]))
    return probes


@torch.no_grad()
def greedy_continuations(
    model: nn.Module, tokenizer: Any, prompts: Sequence[list[int]], new_tokens: Sequence[int], *,
    batch_size: int = 32, progress: bool = True,
) -> list[str]:
    """Greedy continuation of each prompt, batched with left padding; prompts of similar length share a batch."""
    device = next(model.parameters()).device
    pid = pad_id(tokenizer)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: list[str] = [""] * len(prompts)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc="regurgitation", unit="batch", disable=not progress, leave=False):
        width = max(len(prompts[i]) for i in batch)
        ids = torch.full((len(batch), width), pid, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            p = prompts[i]
            ids[row, width - len(p) :] = torch.tensor(p)
            mask[row, width - len(p) :] = 1
        n_new = max(new_tokens[i] for i in batch)
        gen = model.generate(
            input_ids=ids.to(device), attention_mask=mask.to(device), max_new_tokens=n_new, do_sample=False,
            pad_token_id=pid, eos_token_id=None, num_beams=1,
        )
        for row, i in enumerate(batch):
            cont = gen[row, width : width + new_tokens[i]].tolist()
            out[i] = tokenizer.decode(cont, skip_special_tokens=True)
    return out


def regurgitation(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, batch_size: int = 32, margin: int = 4,
    max_prompt_tokens: int | None = None, progress: bool = True,
) -> dict[str, Any]:
    """Greedy regurgitation of every span occurrence that has text before it, overall, per label and per
    number of times the value occurs in the corpus."""
    limit = _max_positions(model)
    max_prompt = min(max_prompt_tokens or limit, limit - 64)
    probes = make_probes(encoded, max_prompt, set(tokenizer.all_special_ids))
    occurrences = Counter(enc.record.value(s) for enc in encoded for s in enc.record.spans)
    continuations = greedy_continuations(
        model, tokenizer, [p.prompt for p in probes], [p.value_tokens + margin for p in probes],
        batch_size=batch_size, progress=progress,
    )
    items = []
    for p, cont in zip(probes, continuations):
        items.append({
            "record": p.record, "span": p.span, "label": p.label, "length": len(p.value),
            "value_hash": value_hash(p.value), "occurrences": occurrences[p.value], "hit": p.value in cont,
        })
    return {"greedy": _aggregate(items), "items": items}


def _rate(hits: int, total: int) -> dict[str, Any]:
    return {"hits": hits, "total": total, "rate": round(hits / total, 4) if total else None}


def _aggregate(items: list[dict]) -> dict[str, Any]:
    by_label: dict[str, list[bool]] = defaultdict(list)
    by_occ: dict[str, list[bool]] = defaultdict(list)
    for it in items:
        by_label[it["label"]].append(it["hit"])
        lo, hi = next(b for b in OCCURRENCE_BUCKETS if b[0] <= it["occurrences"] <= b[1])
        by_occ[str(lo) if lo == hi else (f"{lo}-{hi}" if hi < 10**12 else f">{lo - 1}")].append(it["hit"])
    return {
        **_rate(sum(it["hit"] for it in items), len(items)),
        "by_label": {k: _rate(sum(v), len(v)) for k, v in sorted(by_label.items())},
        "by_occurrences": {k: _rate(sum(v), len(v)) for k, v in by_occ.items()},
    }


@torch.no_grad()
def utility(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, batch_size: int = 16, max_length: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Perplexity and next-token accuracy on the tokens that are not sensitive."""
    device = next(model.parameters()).device
    max_length = min(max_length or _max_positions(model), _max_positions(model))
    pid = pad_id(tokenizer)
    chunks = [w for enc in encoded for w in windows(enc, max_length)]
    nll, correct, count = 0.0, 0, 0
    for i in tqdm(range(0, len(chunks), batch_size), desc="perplexity", disable=not progress, leave=False):
        batch = chunks[i : i + batch_size]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), pid, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (toks, sens) in enumerate(batch):
            ids[row, : len(toks)] = torch.tensor(toks)
            mask[row, : len(toks)] = 1
            labels[row, : len(toks)] = torch.tensor([-100 if s else t for t, s in zip(toks, sens)])
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits[:, :-1].float()
        target = labels[:, 1:].to(device)
        keep = target != -100
        nll += F.cross_entropy(logits[keep], target[keep], reduction="sum").item()
        correct += (logits[keep].argmax(-1) == target[keep]).sum().item()
        count += int(keep.sum())
    if count == 0:
        return {"perplexity": None, "accuracy": None, "tokens": 0}
    return {"perplexity": round(math.exp(nll / count), 4), "accuracy": round(correct / count, 4), "tokens": count}


def audit(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, holdout: Sequence[Encoded] | None = None,
    batch_size: int = 32, progress: bool = True, with_fingerprint: bool = True,
) -> dict[str, Any]:
    """Regurgitation on the training corpus and utility on the holdout (and on the training corpus)."""
    model.eval()
    start = time.perf_counter()
    reg = regurgitation(model, tokenizer, encoded, batch_size=batch_size, progress=progress)
    result: dict[str, Any] = {"regurgitation": reg["greedy"]}
    result["utility"] = {"train": utility(model, tokenizer, encoded, progress=progress)}
    if holdout:
        result["utility"]["holdout"] = utility(model, tokenizer, holdout, progress=progress)
    if with_fingerprint:
        result["model_fingerprint"] = fingerprint(model)
    result["seconds"] = round(time.perf_counter() - start, 2)
    result["items"] = reg["items"]
    return result


def headline(audit_result: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a summary needs."""
    u = audit_result["utility"]
    return {
        "regurgitation": audit_result["regurgitation"]["rate"],
        "holdout_perplexity": (u.get("holdout") or {}).get("perplexity"),
        "train_perplexity": u["train"]["perplexity"],
    }
