"""Repair: fine-tune on the corpus while the sensitive tokens are excluded from what the model learns.

Built on the Hugging Face `Trainer`, so the same code runs on one CPU or under `accelerate launch`. The loss
maths are pure functions; the trainer subclass only changes `compute_loss`.

Objectives (`sani.repair.objectives` registers what each asks of the repair):
- `full`: plain causal LM loss on every token (used to build memorizing models and for comparison);
- `masked`: no loss on sensitive tokens (label -100), as in the paper;
- `masked+unlikelihood`: `masked` plus `forget_weight * -log(1 - p(token))` on the sensitive tokens, which
  pushes the memorized values down instead of only ceasing to reinforce them;
- `masked+maxent`: `masked` plus `forget_weight * KL(uniform || p)` at the sensitive tokens;
- `masked+calibrated` (the default for causal LMs): `masked` plus `forget_weight` x the gap of each value's
  log-likelihood to that of unseen values of its kind in the same place (`sani.repair.calibrate` scores the targets
  before training and adds anchor windows; the loss is `losses.calibrated_loss`);
- `masked+calibrated+unlikelihood`: the same, plus unlikelihood on the sensitive tokens outside the values
  it calibrates; on a masked LM, tokens masked one at a time with the rest of their value in view (the
  fill-in probe), which whole-value calibration leaves predictable.

Baselines (sani/bench/rows.py compares them), the same way:
- `ascent`: gradient ascent on the sensitive tokens only (Jang et al. 2023), nothing else learnt;
- `masked+ascent`: gradient difference: ascent on the sensitive tokens, descent on the rest;
- `masked+npo`: negative preference optimisation on the sensitive tokens against the model before the
  repair (Zhang et al. 2024), plus descent on the rest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ..config import RepairConfig
from ..errors import SaniError
from ..models.adapters import is_peft, merge, new_lora
from ..models.batching import max_positions
from ..models.collators import IGNORE
from ..models.kinds import Kind
from ..scale import sharded
from ..spans.data import Encoded, windows
from . import objectives

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- data


def build_examples(
    encoded: Iterable[Encoded],
    kind: Kind,
    objective: str,
    max_length: int,
    *,
    packing: bool = False,
    separator: int | None = None,
    targets: Sequence[Sequence[float]] | None = None,
    learn: bool = True,
    labels: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Training windows as the kind's collator takes them (`Kind.example`). With `packing`, records (each
    followed by `separator`, if given) are concatenated and cut into full windows of `max_length`; every
    token keeps its own sensitive flag, so the masks stay aligned across the cuts. With `targets` (per
    record, per span: `sani.repair.calibrate.Calibration.targets`), each window also numbers the values it
    holds whole (`value_ids`, -1 elsewhere) and carries their targets (`value_targets`). `learn=False`: windows that
    teach no token (the calibrated repair's anchors), only their values' targets. `labels` (with `targets`;
    per record, per span: the index of its label, -1 for none) adds each window's `value_labels`, which the
    level correction reads (`sani.repair.level`)."""
    goal = objectives.objective(objective)
    encoded = list(encoded) if targets is not None else encoded
    flat = [t for ts in targets for t in ts] if targets is not None else None
    flat_labels = list(labels) if labels is not None else None
    sizes = Counter(o for _, own in numbered(encoded) for o in own if o >= 0) if flat is not None else None
    out = []
    for ids, own in cut(encoded, max_length, packing, separator):
        ex: dict[str, Any] = kind.example(ids, [o >= 0 for o in own], goal, learn=learn)
        if flat is not None:
            ex.update(value_columns(own, flat, sizes, kind.shift, flat_labels))
            if not learn and "forget_labels" in ex:  # an anchor only holds its values' level: no other push
                ex["forget_labels"] = [t if v >= 0 else IGNORE for t, v in zip(ex["forget_labels"], ex["value_ids"])]
        out.append(ex)
    return out


def numbered(encoded: Iterable[Encoded]) -> Iterator[tuple[Encoded, list[int]]]:
    """Each record with its tokens' values, numbered across the corpus (record by record, span by span);
    -1: not a value."""
    base = 0
    for enc in encoded:
        yield enc, [base + s if s >= 0 else -1 for s in enc.span_of_token]
        base += len(enc.record.spans)


def value_columns(
    own: Sequence[int], flat: Sequence[float], sizes: Counter, shift: bool = True, labels: Sequence[int] | None = None
) -> dict[str, list]:
    """The values a window holds whole and with a target, numbered in order of appearance. With `shift` (a
    causal LM), a value that starts the window is left out: nothing before it predicts its first token.
    `labels`: each value's label index, kept as `value_labels`."""
    here = Counter(o for o in own if o >= 0)
    first = own[0] if shift and own else -1
    local: dict[int, int] = {}
    for o in own:
        if o >= 0 and o != first and o not in local and here[o] == sizes[o] and not math.isnan(flat[o]):
            local[o] = len(local)
    out = {"value_ids": [local.get(o, -1) for o in own], "value_targets": [flat[o] for o in local]}
    if labels is not None:
        out["value_labels"] = [labels[o] for o in local]
    return out


def label_names(encoded: Iterable[Encoded]) -> list[str]:
    """The labels of a corpus's spans, sorted: what `value_labels` indexes."""
    return sorted({s.label for e in encoded for s in e.record.spans})


def examples_for(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    cfg: RepairConfig,
    kind: Kind,
    *,
    offset: int = 0,
    progress: bool = False,
    pool: Sequence[tuple[str, str]] = (),
) -> list[dict[str, Any]]:
    """The repair's windows of `encoded` for this config, no longer than the model reads; a calibrated
    objective scores its targets with `model` as it is now (`sani.repair.calibrate`; `offset`: the index of the
    first record in the corpus, when `encoded` is a streamed part; `pool`: held-out (label, value) pairs,
    the surrogates of source "holdout")."""
    width, sep = min(cfg.max_length, max_positions(model)), kind.separator(tokenizer)
    if not objectives.objective(cfg.objective).calibrated:
        return build_examples(encoded, kind, cfg.objective, width, packing=cfg.packing, separator=sep)
    from .calibrate import calibration

    cal = calibration(
        model,
        tokenizer,
        kind,
        encoded,
        k=cfg.surrogates,
        anchors=cfg.anchors,
        seed=cfg.seed,
        source=cfg.surrogate_source,
        locale=cfg.surrogate_locale,
        offset=offset,
        limit=width,
        progress=progress,
        pool=pool,
    )
    own_labels = held_labels = None
    if cfg.level == "holdout":  # each value's label, for the level correction; the anchors' levels stay
        index = {name: i for i, name in enumerate(label_names(encoded))}
        own_labels = [index[s.label] for e in encoded for s in e.record.spans]
        held_labels = [-1 for a in cal.anchors for _ in a.record.spans]
    own = build_examples(
        encoded, kind, cfg.objective, width, packing=cfg.packing, separator=sep, targets=cal.targets, labels=own_labels
    )
    held = build_examples(
        cal.anchors,
        kind,
        cfg.objective,
        width,
        packing=cfg.packing,
        separator=sep,
        targets=cal.anchor_targets,
        learn=False,
        labels=held_labels,
    )
    return own + held


def cut(
    encoded: Iterable[Encoded], max_length: int, packing: bool = False, separator: int | None = None
) -> Iterator[tuple[list[int], list[int]]]:
    """Training windows (ids, each token's value as `numbered` numbers it): each record on its own, or packed
    end to end."""
    if packing:
        return packed(encoded, max_length, separator)
    return (w for enc, own in numbered(encoded) for w in windows(enc, max_length, own))


def packed(
    encoded: Iterable[Encoded], max_length: int, separator: int | None = None
) -> Iterator[tuple[list[int], list[int]]]:
    """Records end to end, cut into windows of `max_length` tokens (the last may be shorter)."""
    ids: list[int] = []
    own: list[int] = []
    for enc, numbers in numbered(encoded):
        ids += enc.input_ids
        own += numbers
        if separator is not None and (not enc.input_ids or enc.input_ids[-1] != separator):
            ids.append(separator)
            own.append(-1)
        start = 0
        while len(ids) - start >= max_length:  # an offset, so a very long record is cut in linear time
            yield ids[start : start + max_length], own[start : start + max_length]
            start += max_length
        ids, own = ids[start:], own[start:]
    if len(ids) > 1:
        yield ids, own


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint that was completely written; a kill during a save leaves a partial one, which
    is removed. `trainer_state.json` is the last file the Trainer writes."""
    found = []
    for d in folder.glob("checkpoint-*") if folder.is_dir() else []:
        try:
            json.loads((d / "trainer_state.json").read_text())
            found.append((int(d.name.split("-")[1]), d))
        except (OSError, ValueError, IndexError):
            log.warning("removing the incomplete checkpoint %s", d.name)
            shutil.rmtree(d, ignore_errors=True)
    if not found:
        log.warning("no repair checkpoint in %s: the repair starts from the beginning", folder)
    return str(max(found)[1]) if found else None


def train(
    model: nn.Module,
    tokenizer: Any,
    examples: Any,
    cfg: RepairConfig | None = None,
    *,
    kind: Kind,
    checkpoint_dir: str | Path | None = None,
    save_steps: int = 200,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    progress: bool = True,
    gather_to: str | Path | None = None,
    level: Any = None,  # a tensor
) -> dict[str, Any]:
    """Fine-tune `model` in place on `examples` (the windows of `examples_for`, or a disk-backed `datasets`
    set of them from `sani.scale.corpus`) as `cfg` says (default: `RepairConfig()`). Returns the time, steps and
    the final training loss.

    The kind's collator chooses what is learnt (`sani.models.kinds`). With `lora_rank`, a full model is repaired
    through fresh LoRA weights, merged back at the end (a LoRA model trains its own adapter). With
    `checkpoint_dir`, a checkpoint (weights, optimizer, scheduler, RNG and data position) is kept there
    every `save_steps` steps; `resume` continues from the last one as if never interrupted. Under FSDP or
    ZeRO-3 the weights end sharded: they are gathered into `gather_to` (`sani.scale.sharded`); `sharded` says how.
    `level`: the per-label shifts of the calibrated targets, which a `sani.repair.level.LevelCorrection` moves.
    """
    from .trainer import make_trainer, training_arguments  # transformers' Trainer: imported when training

    cfg = cfg or RepairConfig()
    if not len(examples):
        raise SaniError("nothing to train on: the corpus has no tokens")
    if cfg.epochs <= 0:
        return {"seconds": 0.0, "steps": 0, "train_loss": float("nan")}
    if cfg.lora_rank and is_peft(model):
        raise SaniError("lora_rank: the model is already a LoRA model; its adapter is what the repair trains")
    target = model
    if cfg.lora_rank:
        model = new_lora(model, cfg.lora_rank, kind)
    with contextlib.ExitStack() as stack:
        scratch = None if checkpoint_dir else stack.enter_context(tempfile.TemporaryDirectory(prefix="sani-train-"))
        out_dir = Path(checkpoint_dir or scratch)
        last = last_complete_checkpoint(out_dir) if resume else None
        args = training_arguments(
            cfg, out_dir, checkpoints=bool(checkpoint_dir), save_steps=save_steps, progress=progress
        )
        trainer = make_trainer(model, tokenizer, examples, cfg, kind, args, callbacks, level)
        start = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=last)
        seconds = time.perf_counter() - start
        how = sharded.gather(trainer, gather_to)
        del trainer
    if cfg.lora_rank:
        merge(model)  # the LoRA weights go into `target`'s own modules, in place
        model = target
    model.eval()
    stats = {"seconds": round(seconds, 2), "steps": int(result.global_step), "train_loss": float(result.training_loss)}
    extra = {"lora_rank": cfg.lora_rank, "resumed_from": last and Path(last).name, "sharded": how}
    return {**stats, **{k: v for k, v in extra.items() if v}}
