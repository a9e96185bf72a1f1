"""The repair's collators, one per model kind (`sani.models.kinds` chooses): what each training window teaches.

Causal LMs: right-padding with the sensitive tokens' labels set to -100, the library's convention for a
position the loss skips (TRL's completion-only masking). Masked LMs: the library's MLM collator with the
sensitive tokens never chosen as targets. Both carry the forget term's tokens (`forget_labels`) and, for the
calibrated repair, each window's values and their targets (`value_ids`, `value_targets`: `sani.repair.calibrate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .batching import mask_id

IGNORE = -100  # the label of a position the loss skips (the library's convention)


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
        if "value_ids" in batch[0]:
            out["value_ids"] = pad("value_ids", -1)
            out.update(value_targets(batch))
        return out


def value_targets(batch: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """The calibrated repair's targets [batch, most values in a window], NaN-padded (`sani.repair.calibrate`), and,
    when the windows carry them, their labels' indices, -1-padded (`sani.repair.level`)."""
    width = max(1, max(len(b["value_targets"]) for b in batch))
    nan = float("nan")
    out = {
        "value_targets": torch.tensor(
            [list(b["value_targets"]) + [nan] * (width - len(b["value_targets"])) for b in batch]
        )
    }
    if "value_labels" in batch[0]:
        out["value_labels"] = torch.tensor(
            [list(b["value_labels"]) + [-1] * (width - len(b["value_labels"])) for b in batch], dtype=torch.long
        )
    return out


@dataclass
class MLMCollator:
    """The library's MLM collator (15% of tokens, 80/10/10) with the sensitive tokens never chosen as targets:
    they are passed to it as special tokens. Sensitive tokens stay visible as context unless
    `mask_sensitive_inputs`. With `forget_probability` > 0, that share of the sensitive tokens is masked in
    the input and returned as `forget_labels`, for a forget term that pushes their prediction down."""

    tokenizer: Any
    mlm_probability: float = 0.15
    mask_sensitive_inputs: bool = False
    forget_probability: float = 0.0
    learn: bool = True  # False: no MLM targets at all, only the forget term (gradient ascent)
    alone: bool = False  # calibrated: the other values' tokens also masked one at a time (their forget labels)

    def __post_init__(self) -> None:
        from transformers import DataCollatorForLanguageModeling

        self.base = DataCollatorForLanguageModeling(self.tokenizer, mlm=True, mlm_probability=self.mlm_probability)

    def __call__(self, batch: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        special = set(self.tokenizer.all_special_ids)
        feats = [
            {
                "input_ids": b["input_ids"],
                "special_tokens_mask": [int(t in special or bool(s)) for t, s in zip(b["input_ids"], b["sensitive"])],
            }
            for b in batch
        ]
        out = self.base(feats)
        width = out["input_ids"].shape[1]
        sens = torch.tensor(
            [list(b["sensitive"]) + [0] * (width - len(b["sensitive"])) for b in batch], dtype=torch.bool
        )
        truth = torch.tensor(
            [list(b["input_ids"]) + [0] * (width - len(b["input_ids"])) for b in batch], dtype=torch.long
        )
        learns = torch.tensor([bool(b.get("learn", 1)) for b in batch]).unsqueeze(1)  # False: an anchor
        if "value_ids" in batch[0]:  # calibrated: whole values masked, as their targets were scored
            vid = torch.tensor([list(b["value_ids"]) + [-1] * (width - len(b["value_ids"])) for b in batch])
            chosen = torch.rand(len(batch), int(vid.max()) + 2) < self.forget_probability
            forget = (vid >= 0) & chosen.gather(1, vid.clamp(min=0))
            out["value_ids"] = vid.masked_fill(~forget, -1)
            if self.alone:  # a token masked with the rest of its value in view (the fill-in probe's question)
                forget = forget | (learns & sens & ~forget & (torch.rand(sens.shape) < self.forget_probability))
            out.update(value_targets(batch))
        elif self.forget_probability:
            forget = sens & (torch.rand(sens.shape) < self.forget_probability)
        else:
            forget = torch.zeros_like(sens)
        out["forget_labels"] = torch.where(forget, truth, torch.full_like(truth, IGNORE))
        if not self.learn:
            out["labels"] = torch.full_like(out["labels"], IGNORE)
        out["labels"] = out["labels"].masked_fill(~learns, IGNORE)
        hide = sens if self.mask_sensitive_inputs else forget
        out["input_ids"] = out["input_ids"].masked_fill(hide, mask_id(self.tokenizer))
        return out
