"""Repair: fine-tune on the corpus while the sensitive tokens are excluded from what the model learns.

Built on the Hugging Face `Trainer`, so the same code runs on one CPU or under `accelerate launch`. The loss
maths are pure functions; the trainer subclass only changes `compute_loss`.

Objectives:
- `full`: plain causal LM loss on every token (used to build memorizing models and for comparison);
- `masked`: no loss on sensitive tokens (label -100), as in the paper;
- `masked+unlikelihood`: `masked` plus `forget_weight * -log(1 - p(token))` on the sensitive tokens, which
  pushes the memorized values down instead of only ceasing to reinforce them;
- `masked+maxent`: `masked` plus `forget_weight * KL(uniform || p)` at the sensitive tokens.

Baselines (sani/bench.py compares them), the same way:
- `ascent`: gradient ascent on the sensitive tokens only (Jang et al. 2023), nothing else learnt;
- `masked+ascent`: gradient difference: ascent on the sensitive tokens, descent on the rest;
- `masked+npo`: negative preference optimisation on the sensitive tokens against the model before the
  repair (Zhang et al. 2024), plus descent on the rest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from .adapters import is_peft, merge, new_lora
from .batching import max_positions
from .config import OBJECTIVES, RepairConfig
from .data import Encoded, windows
from .errors import SaniError
from .kinds import Kind, of

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
) -> list[dict[str, list[int]]]:
    """Training windows as the kind's collator takes them (`Kind.example`). With `packing`, records (each
    followed by `separator`, if given) are concatenated and cut into full windows of `max_length`; every
    token keeps its own sensitive flag, so the masks stay aligned across the cuts."""
    if objective not in OBJECTIVES:
        raise SaniError(f"objective={objective!r}: choose one of {', '.join(OBJECTIVES)}")
    return [kind.example(ids, sens, objective) for ids, sens in cut(encoded, max_length, packing, separator)]


def examples_for(
    model: nn.Module, tokenizer: Any, encoded: Iterable[Encoded], cfg: RepairConfig, kind: Kind | None = None
) -> list[dict[str, list[int]]]:
    """The repair's windows of `encoded` for this config, no longer than the model reads."""
    kind = kind or of(model)
    return build_examples(
        encoded,
        kind,
        cfg.objective,
        min(cfg.max_length, max_positions(model)),
        packing=cfg.packing,
        separator=kind.separator(tokenizer),
    )


def cut(
    encoded: Iterable[Encoded], max_length: int, packing: bool = False, separator: int | None = None
) -> Iterator[tuple[list[int], list[bool]]]:
    """Training windows (ids, sensitive flags): each record on its own, or packed end to end."""
    if packing:
        return packed(encoded, max_length, separator)
    return (w for enc in encoded for w in windows(enc, max_length))


def packed(
    encoded: Iterable[Encoded], max_length: int, separator: int | None = None
) -> Iterator[tuple[list[int], list[bool]]]:
    """Records end to end, cut into windows of `max_length` tokens (the last may be shorter)."""
    ids: list[int] = []
    sens: list[bool] = []
    for enc in encoded:
        ids += enc.input_ids
        sens += enc.sensitive
        if separator is not None and (not enc.input_ids or enc.input_ids[-1] != separator):
            ids.append(separator)
            sens.append(False)
        start = 0
        while len(ids) - start >= max_length:  # an offset, so a very long record is cut in linear time
            yield ids[start : start + max_length], sens[start : start + max_length]
            start += max_length
        ids, sens = ids[start:], sens[start:]
    if len(ids) > 1:
        yield ids, sens


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
    return str(max(found)[1]) if found else None


def train(
    model: nn.Module,
    tokenizer: Any,
    examples: Any,
    cfg: RepairConfig | None = None,
    *,
    kind: Kind | None = None,
    checkpoint_dir: str | Path | None = None,
    save_steps: int = 200,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    progress: bool = True,
) -> dict[str, float]:
    """Fine-tune `model` in place on `examples` (the windows of `examples_for`, or a disk-backed `datasets`
    set of them from `sani.corpus`) as `cfg` says (default: `RepairConfig()`). Returns the time, steps and
    the final training loss.

    The kind's collator chooses what is learnt (`sani.kinds`). With `lora_rank`, a full model is repaired
    through fresh LoRA weights, merged back at the end (a LoRA model trains its own adapter). With
    `checkpoint_dir`, a checkpoint (weights, optimizer, scheduler, RNG and data position) is kept there
    every `save_steps` steps; `resume` continues from the last one as if never interrupted.
    """
    from .trainer import make_trainer, training_arguments  # transformers' Trainer: imported when training

    cfg = cfg or RepairConfig()
    kind = kind or of(model)
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
        if resume and last is None:
            log.warning("no repair checkpoint in %s: the repair starts from the beginning", out_dir)
        args = training_arguments(
            cfg, out_dir, checkpoints=bool(checkpoint_dir), save_steps=save_steps, progress=progress
        )
        trainer = make_trainer(model, tokenizer, examples, cfg, kind, args, callbacks)
        start = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=last)
        seconds = time.perf_counter() - start
    if cfg.lora_rank:
        merge(model)  # the LoRA weights go into `target`'s own modules, in place
        model = target
    model.eval()
    stats = {"seconds": round(seconds, 2), "steps": int(result.global_step), "train_loss": float(result.training_loss)}
    if cfg.lora_rank:
        stats["lora_rank"] = cfg.lora_rank
    if last:
        stats["resumed_from"] = Path(last).name
    return stats
