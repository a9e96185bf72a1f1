"""The relearning attack: fine-tune a copy of the model a little, then see which values come back.

Hu et al. 2024 ("Jogging the memory of unlearned LLMs through targeted relearning attacks", arXiv
2406.13356) and Lynch et al. 2024 ("Eight methods to evaluate robust unlearning in LLMs", arXiv 2402.16835)
show that a few steps of ordinary fine-tuning bring "unlearned" knowledge back when it was hidden rather
than removed; Deeb & Roger 2024 (arXiv 2410.08827) do it with other facts than the ones removed, and Qi et
al. 2024 (arXiv 2412.07097) show that durability claims break under small changes of the attack's settings.
So the attack is a grid of settings the defender does not choose (never read from the model directory:
its rates come from the model's size, `rates`), each run on the reference model too, and the worst is
judged. Three variants:

- attack: ordinary fine-tuning (every token learnt) on a seeded share of the records holding values; scored
  on the *other* records' values, leaving out any value that also occurs anywhere in the attack records'
  text (those are simply learnt, not recovered);
- benign (`relearn_corpus`): the same fine-tuning on records the model never saw; scored on every value;
- unrelated: fine-tuning on text that holds no value (the corpus's records without spans, else records
  with their values cut out); scored on every value.

A model that forgot the values gives back what the reference (the oracle) gives back under the same attack.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..config import RepairConfig
from ..repair import training as repair
from ..repair.calibrate import counterfactual
from ..spans.data import Encoded, Record, encode
from .attack import both, keep_spans, reaudit, release
from .common import Context, MetricResult, register

LARGE = 50_000_000  # parameters: above, the gentler rates (a fixed 2e-3 wrecks a pre-trained encoder)
RATES = {"small": (5e-4, 2e-3, 5e-3), "large": (5e-5, 2e-4, 5e-4)}  # quick: the first two; full: all three
EPOCHS = (3.0, 10.0)
FRACTIONS = {"quick": (0.2,), "full": (0.2, 0.5)}
DEFAULT_EPOCHS, DEFAULT_FRACTION = 3.0, 0.2  # a custom setting's, where not given


@dataclass(frozen=True)
class Setting:
    """One attack of the grid: which records it fine-tunes on (`variant`), at which rate, for how long."""

    variant: str  # attack | benign | unrelated
    lr: float
    epochs: float
    fraction: float = DEFAULT_FRACTION  # the share of the records holding values (attack; unrelated: as many)

    @property
    def name(self) -> str:
        return f"{self.variant} lr {self.lr:g}, {self.epochs:g} epochs, {self.fraction:.0%}"


def rates(model: nn.Module) -> tuple[float, ...]:
    """The attack's learning rates for this model: by its size (`LARGE`), never by how it was sanitized."""
    return RATES["small" if sum(p.numel() for p in model.parameters()) < LARGE else "large"]


def grid(cfg: Any, lrs: Sequence[float], benign: bool, unrelated: bool) -> list[Setting]:
    """The settings `cfg` asks for: any of `--relearn-lr/-epochs/-fraction` given defines one custom setting
    (the benign variant beside it, with a relearn corpus); else the `relearn_grid` ("quick": the first two
    rates x 3 and 10 epochs on 20%; "full": all three rates, and 50% too), plus the benign and unrelated
    variants at the grid's highest rate for 3 epochs."""
    if custom(cfg):
        given = (cfg.relearn_lr, cfg.relearn_epochs, cfg.relearn_fraction)
        lr, epochs, fraction = (
            x if x is not None else d for x, d in zip(given, (lrs[0], DEFAULT_EPOCHS, DEFAULT_FRACTION))
        )
        one = Setting("attack", lr, epochs, fraction)
        return [one] + ([Setting("benign", lr, epochs, fraction)] if benign else [])
    used = lrs[:2] if cfg.relearn_grid == "quick" else lrs
    out = [Setting("attack", lr, e, f) for f in FRACTIONS[cfg.relearn_grid] for lr in used for e in EPOCHS]
    out += [Setting(v, used[-1], DEFAULT_EPOCHS) for v, on in (("benign", benign), ("unrelated", unrelated)) if on]
    return out


def custom(cfg: Any) -> bool:
    """Whether `--relearn-lr/-epochs/-fraction` were given: one custom setting instead of the grid."""
    return any(x is not None for x in (cfg.relearn_lr, cfg.relearn_epochs, cfg.relearn_fraction))


def attack_size(encoded: Sequence[Encoded], fraction: float) -> int:
    """How many records a setting fine-tunes on: `fraction` of those holding values, at least one."""
    return max(1, round(fraction * sum(bool(e.record.spans) for e in encoded)))


def split(encoded: Sequence[Encoded], fraction: float, seed: int) -> tuple[list[int], list[Encoded]]:
    """The attack records (a seeded `fraction` of those holding values) and the scored records: the others,
    each with only its spans whose values occur nowhere in the attack records' text."""
    holding = [i for i, e in enumerate(encoded) if e.record.spans]
    attack = sorted(random.Random(seed).sample(holding, attack_size(encoded, fraction)))
    seen = "\n".join(encoded[i].record.text for i in attack)  # a value anywhere in them is learnt, not recovered
    chosen = set(attack)
    scored = []
    for i, e in enumerate(encoded):
        keep = [j for j, s in enumerate(e.record.spans) if e.record.value(s) not in seen]
        if i not in chosen and keep:
            scored.append(keep_spans(e, keep))
    return attack, scored


def unrelated_records(tokenizer: Any, encoded: Sequence[Encoded], count: int, seed: int) -> tuple[list, str]:
    """`count` seeded records of text holding no value: the corpus's records without spans when it has that
    many, else records with their values cut out (and which of the two)."""
    plain = [e for e in encoded if not e.record.spans and e.record.text.strip()]
    rng = random.Random(f"sani:relearn:unrelated:{seed}")
    if len(plain) >= count:
        return rng.sample(plain, count), "records without values"
    holding = [e.record for e in encoded if e.record.spans]
    picked = rng.sample(holding, min(count, len(holding)))
    cut = [counterfactual(r, [""] * len(r.spans)).text for r in picked]
    return [encode(tokenizer, Record(t, [])) for t in cut], "records with their values cut out"


def _fine_tune(ctx: Context, records: Sequence[Encoded], cfg: RepairConfig):
    def attack(model: nn.Module) -> nn.Module:
        examples = repair.examples_for(model, ctx.tokenizer, records, cfg, ctx.kind)
        repair.train(model, ctx.tokenizer, examples, cfg, kind=ctx.kind, progress=False)
        return model

    return attack


def _run(ctx: Context, s: Setting, train_on: Sequence[Encoded], scored: Sequence[Encoded]) -> dict[str, Any]:
    clock = time.perf_counter()
    cfg = RepairConfig(objective="full", epochs=s.epochs, lr=s.lr, seed=ctx.cfg.seed, max_length=512)
    model, ref = both(ctx, _fine_tune(ctx, train_on, cfg))
    out = {
        "name": s.name,
        "variant": s.variant,
        "lr": s.lr,
        "epochs": s.epochs,
        "fraction": s.fraction,
        "records": len(train_on),
        **reaudit(ctx, model, scored, ref),
    }
    del model, ref
    release()
    out["seconds"] = round(time.perf_counter() - clock, 1)
    return out


@register("relearn")
def relearn_metric(ctx: Context) -> MetricResult | None:
    c = ctx.cfg
    if sum(bool(e.record.spans) for e in ctx.encoded) < 2:
        return None
    settings = grid(c, rates(ctx.model), bool(ctx.relearn_records), unrelated=True)
    out: dict[str, Any] = {"grid": "custom" if custom(c) else c.relearn_grid, "settings": []}
    for n, s in enumerate(settings, 1):
        if s.variant == "attack":
            attack, scored = split(ctx.encoded, s.fraction, c.seed)
            if scored:
                out["settings"].append(_run(ctx, s, [ctx.encoded[i] for i in attack], scored))
        elif s.variant == "benign":
            out["settings"].append(_run(ctx, s, ctx.relearn_records, ctx.encoded))
        else:
            records, source = unrelated_records(
                ctx.tokenizer, ctx.encoded, attack_size(ctx.encoded, s.fraction), c.seed
            )
            out["settings"].append({**_run(ctx, s, records, ctx.encoded), "source": source})
        if ctx.progress and out["settings"] and out["settings"][-1]["name"] == s.name:  # a grid runs for minutes
            print(
                f"sani: relearn {n}/{len(settings)} ({s.name}): {out['settings'][-1]['seconds']:.0f} s", file=sys.stderr
            )
    return MetricResult(out) if out["settings"] else None
