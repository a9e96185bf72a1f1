"""The repair's `Trainer`: a subclass that changes only `compute_loss` (the loss maths are `sani.repair.losses`), the
training arguments a `RepairConfig` stands for, and a test-only failure hook. Imported when a repair runs,
so that `import sani` does not load the training stack."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from ..config import RepairConfig
from ..errors import SaniError
from ..models.kinds import Kind
from ..scale import dist, sharded
from .losses import repair_loss, unlikelihood_loss
from .objectives import objective


class QuietProgress(ProgressCallback):
    """The progress bar without the dict of metrics printed under it."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        pass


class SaniTrainer(Trainer):
    """`Trainer` whose loss ignores sensitive tokens and may push them down."""

    def __init__(
        self,
        *args: Any,
        forget_weight: float = 0.0,
        forget_loss=unlikelihood_loss,
        shift: bool = True,
        reference: nn.Module | None = None,
        level: torch.Tensor | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.reference = reference  # frozen model before the repair, for NPO
        self.level = level  # per label, a per-token shift of the calibrated targets (`sani.repair.level` moves it)
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
        kw = {k: inputs.pop(k) for k in ("value_ids", "value_targets") if k in inputs}  # calibrated only
        value_labels = inputs.pop("value_labels", None)
        if self.level is not None and value_labels is not None:
            shift = self.level.to(value_labels.device)[value_labels.clamp(min=0)]
            kw["value_offsets"] = shift.masked_fill(value_labels < 0, 0.0)
        outputs = model(**inputs)
        if self.reference is not None and self.forget_weight and forget_labels is not None:
            device = next(model.parameters()).device
            if next(self.reference.parameters()).device != device:  # the Trainer moved only the model
                self.reference.to(device)
            with torch.no_grad():
                kw["ref_logits"] = self.reference(**inputs).logits
        loss = repair_loss(
            outputs.logits,
            labels,
            forget_labels,
            self.shift,
            forget_loss=self.forget_loss,
            weight=self.forget_weight,
            **kw,
        )
        return (loss, outputs) if return_outputs else loss


FAIL_AT_ENV = "SANI_FAIL_AT"


def _injected_failure() -> list[Any]:
    """For the tests of the several-process error path: `SANI_FAIL_AT=RANK:STEP` makes process RANK raise a
    SaniError at repair step STEP; `RANK:STEP:hang` makes it stop answering there instead. Unset (always,
    outside those tests): nothing."""
    import os

    spec = os.environ.get(FAIL_AT_ENV)
    if not spec:
        return []
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

    if not on:
        return {}
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": True}


def training_arguments(
    cfg: RepairConfig, out_dir: Path, *, checkpoints: bool, save_steps: int, progress: bool
) -> TrainingArguments:
    """The config as the `Trainer` takes it; checkpoints every `save_steps` steps when `checkpoints`."""
    return TrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=cfg.epochs,
        learning_rate=cfg.lr,
        per_device_train_batch_size=cfg.batch_size,
        lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float below 1 is a share of the steps
        weight_decay=cfg.weight_decay,
        seed=cfg.seed,
        data_seed=cfg.seed,
        save_strategy="steps" if checkpoints else "no",
        save_steps=save_steps,
        save_total_limit=1,
        report_to=[],
        logging_strategy="no",
        disable_tqdm=not progress,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        bf16=cfg.precision == "bf16",
        fp16=cfg.precision == "fp16",
        **_checkpointing(cfg.gradient_checkpointing),
        use_cpu=not torch.cuda.is_available(),  # so that several CPU processes run data-parallel over gloo
        ddp_timeout=max(1, round(dist.timeout().total_seconds())),
    )


def make_trainer(
    model: nn.Module,
    tokenizer: Any,
    examples: Any,
    cfg: RepairConfig,
    kind: Kind,
    args: TrainingArguments,
    callbacks: Sequence[Any],
    level: torch.Tensor | None = None,
) -> SaniTrainer:
    goal = objective(cfg.objective)
    trainer = SaniTrainer(
        model=model,
        args=args,
        train_dataset=examples,
        data_collator=kind.collator(tokenizer, cfg, goal),
        forget_weight=cfg.forget_weight if goal.forgets else 0.0,
        forget_loss=goal.forget_loss or unlikelihood_loss,
        shift=kind.shift,
        reference=_frozen_copy(model) if goal.needs_reference else None,
        level=level,
        callbacks=[*callbacks, *_injected_failure()],
    )
    sharded.on_cpu_for_tests(trainer)
    return trainer
