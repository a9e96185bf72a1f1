"""A downstream probe: does the model still hold the features a task needs? A linear classifier trained on
frozen, mean-pooled last-layer features of a labelled task file, scored on a held-out split.

So "utility kept" means more than perplexity: a sanitization that keeps perplexity but scrambles what the
representations encode would show here.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SaniError
from ..models.batching import device_of, pad_batch, pad_id
from .common import Context, MetricResult, register


def read_probe(path: str | Path) -> list[tuple[str, str]]:
    """JSON Lines with `text` and `label` (string or integer); at least 10 examples and 2 labels."""
    path = Path(path)
    if not path.is_file():
        raise SaniError(f"{path}: task file not found")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise SaniError(f"{path} line {n}: not valid JSON") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"]:
            raise SaniError(f"{path} line {n}: needs a non-empty string 'text'")
        if not isinstance(obj.get("label"), (str, int)) or isinstance(obj.get("label"), bool):
            raise SaniError(f"{path} line {n}: needs a 'label' (string or integer)")
        rows.append((obj["text"], str(obj["label"])))
    if len(rows) < 10 or len({lab for _, lab in rows}) < 2:
        raise SaniError(f"{path}: a task needs at least 10 examples and 2 labels")
    return rows


@torch.no_grad()
def features(
    model: nn.Module, tokenizer: Any, texts: list[str], *, batch_size: int = 16, max_length: int = 256
) -> torch.Tensor:
    """Mean of the last hidden states over each text's tokens."""
    device = device_of(model)
    pid = pad_id(tokenizer)
    out = []
    for b in range(0, len(texts), batch_size):
        x, mask = pad_batch([tokenizer(t)["input_ids"][:max_length] for t in texts[b : b + batch_size]], pid)
        hidden = (
            model(input_ids=x.to(device), attention_mask=mask.to(device), output_hidden_states=True)
            .hidden_states[-1]
            .float()
        )
        m = mask.to(device).unsqueeze(-1).float()
        out.append(((hidden * m).sum(1) / m.sum(1)).cpu())
    return torch.cat(out)


def linear_probe(
    model: nn.Module,
    tokenizer: Any,
    rows: list[tuple[str, str]],
    *,
    test_share: float = 0.3,
    seed: int = 0,
    epochs: int = 300,
    weight_decay: float = 1e-3,
) -> dict[str, Any]:
    """Accuracy of a logistic-regression probe on a seeded held-out split, with the majority-class baseline."""
    rng = random.Random(seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    n_test = max(1, int(len(rows) * test_share))
    test, train = order[:n_test], order[n_test:]
    labels = sorted({lab for _, lab in rows})
    y = torch.tensor([labels.index(lab) for _, lab in rows])
    x = features(model, tokenizer, [t for t, _ in rows])
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-6
    x = (x - mu) / sd
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        clf = nn.Linear(x.shape[1], len(labels))
        opt = torch.optim.Adam(clf.parameters(), lr=0.05, weight_decay=weight_decay)
        for _ in range(epochs):
            opt.zero_grad()
            nn.functional.cross_entropy(clf(x[train]), y[train]).backward()
            opt.step()
    with torch.no_grad():
        acc = (clf(x[test]).argmax(-1) == y[test]).float().mean().item()
    major_label = max(range(len(labels)), key=lambda k: (y[train] == k).sum().item())
    return {
        "accuracy": round(acc, 4),
        "majority_baseline": round((y[test] == major_label).float().mean().item(), 4),
        "train": len(train),
        "test": len(test),
        "labels": len(labels),
    }


@register("probe")
def probe_metric(ctx: Context) -> MetricResult | None:
    if not ctx.probe:
        return None
    return MetricResult(linear_probe(ctx.model, ctx.tokenizer, ctx.probe, seed=ctx.cfg.seed))
