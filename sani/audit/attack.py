"""What the attacks share (relearn, quantize, extract, lens): each works on a copy, so the audited model never
changes (the runner checks its fingerprint after them), and a copy of the reference model gets the same
attack when there is one, so that each figure has the model that never saw the values beside it. The
attacked copies are re-audited on the values they are scored on: greedy regurgitation from the full prefix
and value exposure, the audit's own metrics on a narrower context."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from ..adapters import is_peft
from ..data import Encoded, Record
from .common import Context, candidates_for, measure

EXPOSURE = (100, 100)  # after an attack: value exposure of at most 100 values among at most 100 candidates


def keep_spans(enc: Encoded, keep: Sequence[int]) -> Encoded:
    """`enc` with only the spans `keep` (indices) sensitive: the others' tokens become ordinary tokens."""
    new_index = {old: new for new, old in enumerate(keep)}
    record = Record(enc.record.text, [enc.record.spans[i] for i in keep], enc.record.where)
    return Encoded(list(enc.input_ids), [new_index.get(s, -1) for s in enc.span_of_token], record)


def both(ctx: Context, attack: Callable[[nn.Module], nn.Module]) -> tuple[nn.Module, nn.Module | None]:
    """`attack` applied to a copy of the model and to a copy of the reference (None without one); a LoRA
    model's copy is merged first, as it would ship and as an attacker would fine-tune it."""
    attacked = attack(_merged(copy.deepcopy(ctx.model)))
    ref = attack(_merged(copy.deepcopy(ctx.reference))) if ctx.reference is not None else None
    return attacked.eval(), (ref.eval() if ref is not None else None)


def release() -> None:
    """Collect the attacked copies the caller dropped before the next ones are made (on a GPU, its cache)."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _merged(model: nn.Module) -> nn.Module:
    return model.merge_and_unload() if is_peft(model) else model


def reaudit(
    ctx: Context, model: nn.Module, encoded: Sequence[Encoded], reference: nn.Module | None = None
) -> dict[str, Any]:
    """Greedy regurgitation (full prefix) and value exposure (a smaller sample, `EXPOSURE`) of `encoded`'s
    values under `model`, with `reference`'s beside ("reference"). Candidates are the whole corpus's pools:
    never a corpus value."""
    candidates_for(ctx)
    spans, cands = EXPOSURE
    cfg = dataclasses.replace(ctx.cfg, contexts="full", samples=0, exposure_spans=min(ctx.cfg.exposure_spans, spans),
                              exposure_candidates=min(ctx.cfg.candidates_for(ctx.kind.name), cands))  # fmt: skip
    sub = dataclasses.replace(ctx, model=model, encoded=encoded, cfg=cfg, reference=reference, holdout=None,
                              canaries=None, progress=False)  # fmt: skip
    greedy = measure("regurgitation", sub).summary["greedy"]
    block: dict[str, Any] = {
        "rate": greedy["rate"],
        "hits": greedy["hits"],
        "total": greedy["total"],
        "by_label": {k: v["rate"] for k, v in greedy["by_label"].items()},
    }
    ve = measure("value_exposure", sub)
    if ve is not None:
        block["value_exposure"] = ve.summary["mean"]
        block["chance"] = ve.summary["chance"]
    if reference is not None:
        ref = measure("regurgitation", dataclasses.replace(sub, model=reference, reference=None)).summary["greedy"]
        block["reference"] = {"rate": ref["rate"], "hits": ref["hits"]}
        if ve is not None and ve.summary.get("reference"):
            block["reference"]["value_exposure"] = ve.summary["reference"]["mean"]
    return block
