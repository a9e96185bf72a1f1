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
import math
import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .data import Encoded, windows
from .errors import SaniError
from .models import pad_id

log = logging.getLogger(__name__)

OBJECTIVES = ("full", "masked", "masked+unlikelihood", "masked+maxent", "masked+unlikelihood+maxent", "ascent", "masked+ascent",
              "masked+npo")
IGNORE = -100


# --------------------------------------------------------------------------- loss maths


def _align(logits: torch.Tensor, labels: torch.Tensor, shift: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Causal LMs predict the next token (shift by one); masked LMs the token at the same position."""
    return (logits[:, :-1].float(), labels[:, 1:]) if shift else (logits.float(), labels)


def lm_loss(logits: torch.Tensor, labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Mean cross-entropy over positions whose label is not -100 (0 when there are none)."""
    logits, labels = _align(logits, labels, shift)
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=IGNORE, reduction="sum")
    return nll / (labels != IGNORE).sum().clamp(min=1)


def unlikelihood_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Mean of -log(1 - p(token)) over the positions holding a sensitive token (Welleck et al. 2020)."""
    logits, targets = _align(logits, forget_labels, shift)
    keep = targets != IGNORE
    if not keep.any():
        return logits.sum() * 0.0
    logp = torch.log_softmax(logits[keep], dim=-1).gather(-1, targets[keep].unsqueeze(-1)).squeeze(-1)
    # log(1 - p) computed stably from log p
    log1m_p = torch.log1p(-logp.exp().clamp(max=1 - 1e-6))
    return -log1m_p.mean()


def maxent_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Mean KL(uniform || p) at the positions holding a sensitive token: the prediction there is pushed to
    know nothing, for member and unseen values alike (maximum-entropy unlearning, Yuan et al. 2024)."""
    logits, targets = _align(logits, forget_labels, shift)
    keep = targets != IGNORE
    if not keep.any():
        return logits.sum() * 0.0
    logp = torch.log_softmax(logits[keep], dim=-1)
    return (-logp.mean(-1) - math.log(logp.size(-1))).mean()


def unlikelihood_maxent_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Both: the seen token pushed down (unlikelihood) and the whole prediction flattened (maxent)."""
    return unlikelihood_loss(logits, forget_labels, shift) + maxent_loss(logits, forget_labels, shift)


def ascent_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Minus the cross-entropy of the sensitive tokens: minimising it raises their loss without bound."""
    return -lm_loss(logits, forget_labels, shift)


def npo_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True, *,
             ref_logits: torch.Tensor, beta: float = 0.1) -> torch.Tensor:
    """NPO per sensitive token: -(2/beta) * log sigmoid(-beta * (log p - log p_ref)). Bounded, unlike ascent:
    it stops pushing once a token is well below the reference's probability."""
    logits, targets = _align(logits, forget_labels, shift)
    ref, _ = _align(ref_logits, forget_labels, shift)
    keep = targets != IGNORE
    if not keep.any():
        return logits.sum() * 0.0
    t = targets[keep].unsqueeze(-1)
    ratio = torch.log_softmax(logits[keep], -1).gather(-1, t) - torch.log_softmax(ref[keep].float(), -1).gather(-1, t)
    return -(2.0 / beta) * F.logsigmoid(-beta * ratio).mean()


FORGET_LOSSES = {"masked+unlikelihood": unlikelihood_loss, "masked+maxent": maxent_loss,
                 "masked+unlikelihood+maxent": unlikelihood_maxent_loss, "ascent": ascent_loss,
                 "masked+ascent": ascent_loss, "masked+npo": npo_loss}
NEEDS_REFERENCE = ("masked+npo",)


# --------------------------------------------------------------------------- data


def build_examples(encoded: Iterable[Encoded], objective: str, max_length: int, masked_lm: bool = False, *,
                   packing: bool = False, separator: int | None = None) -> list[dict[str, list[int]]]:
    """Training windows with `labels` (what the model learns) and `forget_labels` (sensitive tokens only);
    for a masked LM the ids and which tokens are sensitive (the collator chooses the targets). With
    `packing`, records (each followed by `separator`, if given) are concatenated and cut into full windows
    of `max_length`; every token keeps its own sensitive flag, so the masks stay aligned across the cuts."""
    if objective not in OBJECTIVES:
        raise SaniError(f"objective={objective!r}: choose one of {', '.join(OBJECTIVES)}")
    return [example(ids, sens, objective, masked_lm) for ids, sens in cut(encoded, max_length, packing, separator)]


def separator_of(tokenizer: Any, masked_lm: bool) -> int | None:
    """What ends a record in a packed window: [SEP] for a masked LM (its records already end so), else EOS."""
    return tokenizer.sep_token_id if masked_lm else tokenizer.eos_token_id


def cut(encoded: Iterable[Encoded], max_length: int, packing: bool = False,
        separator: int | None = None) -> Iterator[tuple[list[int], list[bool]]]:
    """Training windows (ids, sensitive flags): each record on its own, or packed end to end."""
    if packing:
        return packed(encoded, max_length, separator)
    return (w for enc in encoded for w in windows(enc, max_length))


def packed(encoded: Iterable[Encoded], max_length: int, separator: int | None = None) -> Iterator[tuple[list[int], list[bool]]]:
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


def example(ids: list[int], sens: Sequence[bool], objective: str, masked_lm: bool) -> dict[str, list[int]]:
    """One window as the collator takes it."""
    if masked_lm:
        return {"input_ids": ids, "sensitive": [0] * len(ids) if objective == "full" else [int(x) for x in sens]}
    if objective == "ascent":  # only the forget term
        labels = [IGNORE] * len(ids)
    else:
        labels = list(ids) if objective == "full" else [IGNORE if s else t for t, s in zip(ids, sens)]
    forget = [t if s else IGNORE for t, s in zip(ids, sens)]
    return {"input_ids": ids, "labels": labels, "forget_labels": forget}


@dataclass
class SpanCollator:
    """Right-pads a batch; padding gets label -100 like the sensitive tokens (TRL's completion-only idea)."""

    pad_token_id: int

    def __call__(self, batch: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(b["input_ids"]) for b in batch)

        def pad(key: str, value: int) -> torch.Tensor:
            return torch.tensor([b[key] + [value] * (width - len(b[key])) for b in batch], dtype=torch.long)

        out = {
            "input_ids": pad("input_ids", self.pad_token_id),
            "attention_mask": torch.tensor(
                [[1] * len(b["input_ids"]) + [0] * (width - len(b["input_ids"])) for b in batch], dtype=torch.long
            ),
            "labels": pad("labels", IGNORE),
        }
        if "forget_labels" in batch[0]:
            out["forget_labels"] = pad("forget_labels", IGNORE)
        return out


# --------------------------------------------------------------------------- trainer


def _make_trainer_class():
    from transformers import Trainer
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    class QuietProgress(ProgressCallback):
        """The progress bar without the dict of metrics printed under it."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            pass

    class SaniTrainer(Trainer):
        """`Trainer` whose loss ignores sensitive tokens and may push them down."""

        def __init__(self, *args: Any, forget_weight: float = 0.0, forget_loss=unlikelihood_loss, shift: bool = True,
                     reference: nn.Module | None = None, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.reference = reference  # frozen model before the repair, for NPO
            self.shift = shift  # False for masked LMs
            self.remove_callback(PrinterCallback)
            if self.pop_callback(ProgressCallback):
                self.add_callback(QuietProgress)
            self.forget_weight = forget_weight
            self.forget_loss = forget_loss
            self.model_accepts_loss_kwargs = False  # our loss is a per-batch mean; let Trainer scale for accumulation

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            forget_labels = inputs.pop("forget_labels", None)
            outputs = model(**inputs)
            loss = lm_loss(outputs.logits, labels, self.shift)
            if self.forget_weight and forget_labels is not None:
                kw = {}
                if self.reference is not None:
                    device = next(model.parameters()).device
                    if next(self.reference.parameters()).device != device:  # the Trainer moved only the model
                        self.reference.to(device)
                    with torch.no_grad():
                        kw["ref_logits"] = self.reference(**inputs).logits
                loss = loss + self.forget_weight * self.forget_loss(outputs.logits, forget_labels, self.shift, **kw)
            return (loss, outputs) if return_outputs else loss

    return SaniTrainer


def _collator(tokenizer: Any, objective: str, masked_lm: bool, mlm_probability: float, mask_sensitive_inputs: bool,
              forget_probability: float):
    if not masked_lm:
        return SpanCollator(pad_id(tokenizer))
    from .mlm import MLMCollator

    return MLMCollator(tokenizer, mlm_probability, mask_sensitive_inputs,
                       forget_probability if objective in FORGET_LOSSES else 0.0, learn=objective != "ascent")


FAIL_AT_ENV = "SANI_FAIL_AT"


def _injected_failure() -> list[Any]:
    """For the tests of the several-process error path: `SANI_FAIL_AT=RANK:STEP` makes process RANK raise a
    SaniError at repair step STEP; `RANK:STEP:hang` makes it stop answering there instead. Unset (always,
    outside those tests): nothing."""
    import os

    spec = os.environ.get(FAIL_AT_ENV)
    if not spec:
        return []
    from transformers import TrainerCallback

    from . import dist

    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(x.isdigit() for x in parts[:2]) or parts[2:] not in ([], ["hang"]):
        raise SaniError(f"{FAIL_AT_ENV}={spec!r}: expected RANK:STEP or RANK:STEP:hang")
    who, step, hang = int(parts[0]), int(parts[1]), parts[2:] == ["hang"]

    class FailAt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if dist.rank() == who and state.global_step == step:
                if hang:
                    time.sleep(3600)
                raise SaniError(f"injected failure at repair step {step} ({FAIL_AT_ENV})")

    return [FailAt()]


def _frozen_copy(model: nn.Module) -> nn.Module:
    import copy

    ref = copy.deepcopy(model).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def _checkpointing(on: bool) -> dict[str, bool]:
    """The TrainingArguments flag for recomputing activations: `activation_checkpointing` in newer
    transformers (`gradient_checkpointing` is deprecated there), set only when asked for."""
    import dataclasses

    from transformers import TrainingArguments

    if not on:
        return {}
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": True}


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
    encoded: Sequence[Encoded],
    *,
    objective: str = "masked",
    epochs: float = 2.0,
    lr: float = 5e-5,
    batch_size: int = 8,
    max_length: int = 512,
    seed: int = 0,
    scheduler: str = "linear",
    warmup_ratio: float = 0.0,
    weight_decay: float = 0.0,
    forget_weight: float = 1.0,
    checkpoint_dir: str | Path | None = None,
    save_steps: int = 200,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    mlm_probability: float = 0.15,
    mask_sensitive_inputs: bool = False,
    forget_probability: float | None = None,
    gradient_accumulation_steps: int = 1,
    precision: str = "fp32",
    gradient_checkpointing: bool = False,
    lora_rank: int = 0,
    packing: bool = False,
    examples: Any = None,
    progress: bool = True,
) -> dict[str, float]:
    """Fine-tune `model` in place with the given objective. Returns the time and the final training loss.

    A masked LM (see `models.task_of`) is trained with the library's MLM masking (`mlm_probability`), the
    sensitive tokens never chosen as targets (and hidden from the input too with `mask_sensitive_inputs`);
    its forget term applies to a share `forget_probability` (default: `mlm_probability`) of the sensitive
    tokens, masked in the input. `precision` (fp32, bf16, fp16), `gradient_accumulation_steps` and
    `gradient_checkpointing` go to the `Trainer` as they are. With `lora_rank`, a full model is repaired
    through fresh LoRA weights of that rank, merged back into it at the end (a LoRA model trains its own
    adapter). `packing` fills every window with records end to end (`build_examples`). `examples`, when
    given, are the training windows already built (a list, or a disk-backed `datasets.Dataset` from
    `sani.stream`); `encoded` is then not read.

    With `checkpoint_dir`, a checkpoint (weights, optimizer, scheduler, RNG and data position) is kept there
    every `save_steps` steps, and `resume` continues from the last one with the same result as a run that
    was never interrupted.
    """
    from transformers import TrainingArguments

    from . import dist
    from .metrics import max_positions
    from .models import task_of

    masked_lm = task_of(model) == "masked-lm"
    max_length = min(max_length, max_positions(model))
    if examples is None:
        examples = build_examples(encoded, objective, max_length, masked_lm=masked_lm, packing=packing,
                                  separator=separator_of(tokenizer, masked_lm))
    if not len(examples):
        raise SaniError("nothing to train on: the corpus has no tokens")
    if epochs <= 0:
        return {"seconds": 0.0, "steps": 0, "train_loss": float("nan")}
    from .adapters import is_peft, merge, new_lora

    if lora_rank and is_peft(model):
        raise SaniError("lora_rank: the model is already a LoRA model; its adapter is what the repair trains")
    target = model
    if lora_rank:
        model = new_lora(model, lora_rank)
    with contextlib.ExitStack() as stack:
        out_dir = Path(checkpoint_dir) if checkpoint_dir else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sani-train-")))
        last = last_complete_checkpoint(out_dir) if resume else None
        if resume and last is None:
            log.warning("no repair checkpoint in %s: the repair starts from the beginning", out_dir)
        args = TrainingArguments(
            output_dir=str(out_dir),
            num_train_epochs=epochs,
            learning_rate=lr,
            per_device_train_batch_size=batch_size,
            lr_scheduler_type=scheduler,
            warmup_steps=warmup_ratio,  # a float below 1 is a share of the steps
            weight_decay=weight_decay,
            seed=seed,
            data_seed=seed,
            save_strategy="steps" if checkpoint_dir else "no",
            save_steps=save_steps,
            save_total_limit=1,
            report_to=[],
            logging_strategy="no",
            disable_tqdm=not progress,
            remove_unused_columns=False,
            dataloader_num_workers=0,
            dataloader_pin_memory=torch.cuda.is_available(),
            gradient_accumulation_steps=gradient_accumulation_steps,
            bf16=precision == "bf16",
            fp16=precision == "fp16",
            **_checkpointing(gradient_checkpointing),
            use_cpu=not torch.cuda.is_available(),  # so that several CPU processes run data-parallel over gloo
            ddp_timeout=max(1, round(dist.timeout().total_seconds())),
        )
        trainer = _make_trainer_class()(
            model=model,
            args=args,
            train_dataset=examples,
            data_collator=_collator(tokenizer, objective, masked_lm, mlm_probability, mask_sensitive_inputs,
                                    mlm_probability if forget_probability is None else forget_probability),
            forget_weight=forget_weight if objective in FORGET_LOSSES else 0.0,
            forget_loss=FORGET_LOSSES.get(objective, unlikelihood_loss),
            shift=not masked_lm,
            reference=_frozen_copy(model) if objective in NEEDS_REFERENCE else None,
            callbacks=[*callbacks, *_injected_failure()],
        )
        start = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=last)
        seconds = time.perf_counter() - start
    if lora_rank:
        merge(model)  # the LoRA weights go into `target`'s own modules, in place
        model = target
    model.eval()
    stats = {"seconds": round(seconds, 2), "steps": int(result.global_step), "train_loss": float(result.training_loss)}
    if lora_rank:
        stats["lora_rank"] = lora_rank
    if last:
        stats["resumed_from"] = Path(last).name
    return stats
