"""What the attacks share (relearn, quantize, extract, lens): each works on a copy, so the audited model never
changes (the runner checks its fingerprint after them), and a copy of the reference model gets the same
attack when there is one, so that each figure has the model that never saw the values beside it. The
attacked copies are re-audited on the values they are scored on: greedy regurgitation from the full prefix
and value exposure, the audit's own metrics on a narrower context."""

from __future__ import annotations

import copy
import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from ..models.adapters import is_peft
from ..spans.data import Encoded, Record
from .common import Context, candidates_for, measure
from .rule import rate_difference

EXPOSURE = (100, 100)  # after an attack: value exposure of at most 100 values among at most 100 candidates
ASKED = 200  # after an attack: value occurrences asked for (a seeded sample of whole records), each every way


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
    """What came back under `model` of `encoded`'s values, with `reference`'s beside ("reference"): greedy
    regurgitation from the full prefix (`rate`) and from the audit's shorter contexts (`--contexts`: the
    last 32 and 8 tokens), a value back when any of them says it (a masked LM: filled in left to right);
    for a causal LM, any of `--attack-samples` sampled continuations from the full prefix; value exposure
    (a smaller sample, `EXPOSURE`) with the share ranked first among candidates, per label too.
    `difference` and `interval`: the share back above the reference's, with a bootstrap interval over
    values (`rule.rate_difference`), which the gate judges. Candidates are the whole corpus's pools: never
    a corpus value. At most `ASKED` value occurrences are asked for (the interval counts the sample)."""
    candidates_for(ctx)
    encoded = sample_records(encoded, ASKED, ctx.cfg.seed)
    spans, cands = EXPOSURE
    cfg = dataclasses.replace(
        ctx.cfg,
        samples=0,
        exposure_spans=min(ctx.cfg.exposure_spans, spans),
        exposure_candidates=min(ctx.cfg.candidates_for(ctx.kind), cands),
    )
    sub = dataclasses.replace(
        ctx, model=model, encoded=encoded, cfg=cfg, reference=reference, holdout=None, canaries=None, progress=False
    )
    block, hits = _back(sub)
    ve = measure("value_exposure", sub)
    if ve is not None:
        block.update(_exposure(ve.summary))
    ref_hits = None
    if reference is not None:
        block["reference"], ref_hits = _back(dataclasses.replace(sub, model=reference, reference=None))
        if ve is not None and ve.summary.get("reference"):
            block["reference"].update(_exposure(ve.summary["reference"]))
    keys = [k for k in hits if ref_hits is None or k in ref_hits]
    block["difference"], block["interval"] = rate_difference(
        [hits[k][0] for k in keys],
        None if ref_hits is None else [ref_hits[k][0] for k in keys],
        [hits[k][1] for k in keys],  # a value's occurrences resampled together
        seed=ctx.cfg.seed,
    )
    return block


def came_back(ctx: Context, item: dict[str, Any]) -> bool:
    """Whether a regurgitation item (one value occurrence) came back by any of the audit's greedy prompt
    contexts; a masked LM's: filled in left to right."""
    if ctx.kind.fills_in:
        return bool(item.get("left_to_right"))
    return any(item.get("greedy_full" if c is None else f"greedy_last{c}") for c in ctx.cfg.context_list())


def sample_records(encoded: Sequence[Encoded], n: int, seed: int) -> list[Encoded]:
    """A seeded sample of the records holding values, whole, in their order, until `n` value occurrences."""
    order = [i for i, e in enumerate(encoded) if e.record.spans]
    random.Random(f"sani:attack:asked:{seed}").shuffle(order)
    keep, total = [], 0
    for i in order:
        if total >= n:
            break
        keep.append(i)
        total += len(encoded[i].record.spans)
    return [encoded[i] for i in sorted(keep)]


def _back(ctx: Context) -> tuple[dict[str, Any], dict[tuple, tuple[bool, str]]]:
    """The figures of what came back under `ctx.model`, and per value occurrence (record, span): whether it
    came back by any greedy context (a masked LM: left to right), with its value's hash."""
    got = measure("regurgitation", ctx)
    masked = ctx.kind.fills_in
    hits = {(it["record"], it["span"]): (came_back(ctx, it), it["value_hash"]) for it in got.items}
    greedy = got.summary["greedy"]
    block: dict[str, Any] = {
        "rate": greedy["rate"],
        "hits": greedy["hits"],
        "total": greedy["total"],
        "by_label": {k: v["rate"] for k, v in greedy["by_label"].items()},
        "back": {
            "way": "filled in left to right" if masked else f"greedy, any of the contexts {ctx.cfg.contexts}",
            "rate": round(sum(h for h, _ in hits.values()) / max(1, len(hits)), 4),
            "values": len(hits),
        },
    }
    n = ctx.cfg.attack_samples
    if not masked and n:
        sampled = measure(
            "regurgitation", dataclasses.replace(ctx, cfg=dataclasses.replace(ctx.cfg, contexts="full", samples=n))
        ).summary["sampled"]
        block["sampled"] = {"samples": n, "rate": sampled["rate"], "hits": sampled["hits"]}
    return block, hits


def _exposure(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "value_exposure": summary["mean"],
        "chance": summary["chance"],
        "ranked_first": summary["at_cap"],
        "exposure_by_label": {
            k: {"mean": v["mean"], "ranked_first": v["at_cap"], "values": v["values"]}
            for k, v in summary.get("by_label", {}).items()
        },
    }
