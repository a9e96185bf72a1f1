"""The relearning attack: fine-tune a copy of the model a little, then see which values come back.

Hu et al. 2024 ("Jogging the memory of unlearned LLMs through targeted relearning attacks", arXiv
2406.13356) and Lynch et al. 2024 ("Eight methods to evaluate robust unlearning in LLMs", arXiv 2402.16835)
show that a few steps of ordinary fine-tuning bring "unlearned" knowledge back when it was hidden rather
than removed. Two variants:

- attack: ordinary fine-tuning (every token learnt) on a seeded share of the records holding values; scored
  on the *other* records' values, leaving out any value that also occurs anywhere in the attack records'
  text (those are simply learnt, not recovered);
- benign (`relearn_corpus`): the same fine-tuning on records the model never saw; scored on every value.

A model that forgot the values gives back what the reference (the oracle) gives back under the same attack.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from torch import nn

from .. import repair
from ..config import RepairConfig
from ..data import Encoded
from .attack import both, keep_spans, reaudit, release
from .common import Context, MetricResult, register

DEFAULT_LR = 5e-4  # without a sanitization.json: the default repair's rate


def split(encoded: Sequence[Encoded], fraction: float, seed: int) -> tuple[list[int], list[Encoded]]:
    """The attack records (a seeded `fraction` of those holding values) and the scored records: the others,
    each with only its spans whose values occur nowhere in the attack records' text."""
    holding = [i for i, e in enumerate(encoded) if e.record.spans]
    attack = sorted(random.Random(seed).sample(holding, max(1, round(fraction * len(holding)))))
    seen = "\n".join(encoded[i].record.text for i in attack)  # a value anywhere in them is learnt, not recovered
    chosen = set(attack)
    scored = []
    for i, e in enumerate(encoded):
        keep = [j for j, s in enumerate(e.record.spans) if e.record.value(s) not in seen]
        if i not in chosen and keep:
            scored.append(keep_spans(e, keep))
    return attack, scored


def _fine_tune(ctx: Context, records: Sequence[Encoded], cfg: RepairConfig):
    def attack(model: nn.Module) -> nn.Module:
        examples = repair.examples_for(model, ctx.tokenizer, records, cfg, ctx.kind)
        repair.train(model, ctx.tokenizer, examples, cfg, kind=ctx.kind, progress=False)
        return model

    return attack


def _variant(ctx: Context, train_on: Sequence[Encoded], scored: Sequence[Encoded], cfg: RepairConfig) -> dict:
    model, ref = both(ctx, _fine_tune(ctx, train_on, cfg))
    out = {"records": len(train_on), **reaudit(ctx, model, scored, ref)}
    del model, ref
    release()
    return out


@register("relearn")
def relearn_metric(ctx: Context) -> MetricResult | None:
    c = ctx.cfg
    if sum(bool(e.record.spans) for e in ctx.encoded) < 2:
        return None
    lr = c.relearn_lr or ctx.relearn_lr or DEFAULT_LR
    cfg = RepairConfig(objective="full", epochs=c.relearn_epochs, lr=lr, seed=c.seed, max_length=512)
    attack, scored = split(ctx.encoded, c.relearn_fraction, c.seed)
    out: dict[str, Any] = {"epochs": c.relearn_epochs, "lr": lr, "fraction": c.relearn_fraction}
    if scored:
        out["attack"] = _variant(ctx, [ctx.encoded[i] for i in attack], scored, cfg)
    if ctx.relearn_records:
        out["benign"] = _variant(ctx, ctx.relearn_records, ctx.encoded, cfg)
    return MetricResult(out)
