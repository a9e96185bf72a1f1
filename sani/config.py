"""Sanitization settings: one dataclass, two presets, optional YAML file. Later sources override earlier ones:
preset < YAML file < explicit arguments."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import SaniError

SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")


@dataclass
class SanitizeConfig:
    # erase
    layers: int = 1  # the last N layers
    fraction: float = 0.5  # share of each layer's FFN neurons to reset
    strategy: str = "random"  # random | activation | gradient | attribution
    scope: str = "last"  # last: the budget in each of the last `layers`; network: best scored anywhere
    reset: str = "reinit"  # reinit | zero | base
    base_model: str | None = None  # weights before fine-tuning, for reset=base
    # repair
    objective: str = "masked+unlikelihood"
    forget_weight: float = 1.0
    epochs: float = 2.0
    lr: float = 5e-4
    batch_size: int = 8
    max_length: int = 512
    packing: bool = False  # fill each training window with records end to end
    scheduler: str = "linear"
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    seed: int = 0
    gradient_accumulation_steps: int = 1
    precision: str = "fp32"  # fp32 | bf16 | fp16 (mixed precision, on a GPU)
    gradient_checkpointing: bool = False
    lora_rank: int = 0  # >0: repair a full model through fresh LoRA weights of this rank, merged at the end
    # masked LMs only: share of tokens chosen as targets, and whether sensitive tokens are hidden from the input
    mlm_probability: float = 0.15
    forget_probability: float = 0.15  # share of sensitive tokens masked for the forget term
    mask_sensitive_inputs: bool = False
    # audit-driven stop: repair until greedy regurgitation meets the target, for at most max_epochs
    target: str | None = None  # e.g. "regurgitation<=0.01"
    max_epochs: float = 10.0
    eval_steps: int | None = None  # audit every N steps instead of every epoch
    target_patience: int = 1  # checks without better utility after meeting the target before stopping
    preset: str = "default"

    def validate(self, adapter: bool = False) -> "SanitizeConfig":
        """Check every field; `adapter`: the model is a LoRA adapter, whose base is the reset=base source."""
        from .erase import RESET_MODES, STRATEGIES
        from .repair import OBJECTIVES

        def need(ok: bool, field: str, rule: str) -> None:
            if not ok:
                raise SaniError(f"{field}={getattr(self, field)!r}: {rule}")

        for f in fields(self):
            v = getattr(self, f.name)
            kind = str(f.type).replace(" | None", "")
            want = {"int": int, "float": (int, float), "bool": bool, "str": str}.get(kind)
            if v is None and str(f.type).endswith("| None"):
                continue
            if want and (not isinstance(v, want) or (want is not bool and isinstance(v, bool))):
                raise SaniError(f"{f.name}={v!r}: must be {str(f.type)}")
        need(self.layers >= 1, "layers", "must be at least 1")
        need(0.0 <= self.fraction <= 1.0, "fraction", "must be between 0 and 1")
        need(self.strategy in STRATEGIES, "strategy", f"choose one of {', '.join(STRATEGIES)}")
        need(self.scope in ("last", "network"), "scope", "choose last or network")
        need(self.scope == "last" or self.strategy != "random", "scope", "'network' needs a scoring strategy, not random")
        need(self.reset in RESET_MODES, "reset", f"choose one of {', '.join(RESET_MODES)}")
        need(self.reset != "base" or bool(self.base_model) or adapter, "reset", "'base' needs base_model (--base-model)")
        need(self.objective in OBJECTIVES, "objective", f"choose one of {', '.join(OBJECTIVES)}")
        need(self.forget_weight >= 0, "forget_weight", "must be >= 0")
        need(self.epochs >= 0, "epochs", "must be >= 0")
        need(self.lr > 0, "lr", "must be > 0")
        need(self.batch_size >= 1, "batch_size", "must be at least 1")
        need(self.max_length >= 2, "max_length", "must be at least 2")
        need(self.scheduler in SCHEDULERS, "scheduler", f"choose one of {', '.join(SCHEDULERS)}")
        need(0 <= self.warmup_ratio < 1, "warmup_ratio", "must be in [0, 1)")
        need(self.preset in PRESETS, "preset", f"choose one of {', '.join(PRESETS)}")
        need(self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps", "must be at least 1")
        need(self.precision in ("fp32", "bf16", "fp16"), "precision", "choose fp32, bf16 or fp16")
        need(self.precision == "fp32" or _accelerator(), "precision", "bf16/fp16 need a GPU (or a CPU with bf16 support)")
        need(0 < self.mlm_probability < 1, "mlm_probability", "must be between 0 and 1")
        need(0 <= self.forget_probability <= 1, "forget_probability", "must be between 0 and 1")
        need(self.max_epochs > 0, "max_epochs", "must be > 0")
        need(self.lora_rank >= 0, "lora_rank", "must be >= 0 (0: train all the weights)")
        need(self.target_patience >= 0, "target_patience", "must be >= 0")
        need(self.eval_steps is None or (isinstance(self.eval_steps, int) and self.eval_steps >= 1), "eval_steps", "must be at least 1")
        if self.target is not None:
            from .target import Target

            Target.parse(self.target)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The paper's literal recipe (random half of the last layer's FFN, masked repair for 2 epochs) and ours, which
# adds an unlikelihood term on the sensitive tokens: see docs/method.md for the measurements behind it.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {"layers": 1, "fraction": 0.5, "strategy": "random", "reset": "reinit", "objective": "masked", "epochs": 2.0},
}

# What the default preset changes for masked LMs: each epoch pushes down only the sensitive tokens it masks,
# so more epochs at a constant rate, a larger share and a heavier forget term (docs/method.md, "Masked LMs").
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "masked-lm": {"epochs": 5.0, "forget_weight": 2.0, "forget_probability": 0.5, "scheduler": "constant"},
}

# LoRA weights learn slower than full weights at the same rate (the usual advice: about 10x the full
# fine-tuning rate); measured on a tiny GPT-2 adapter: 5e-4 left 29% regurgitation, 5e-3 reached 0%.
LORA_LR = 5e-3


def _accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


def make_config(preset: str | None = None, file: str | Path | None = None, *, task: str | None = None,
                lora: bool = False, **overrides: Any) -> SanitizeConfig:
    """Build a validated config from a preset, an optional YAML file and explicit values (None = not given).

    The preset is the explicit one, else the file's, else `default`; the default preset takes the model
    task's values (`TASK_DEFAULTS`) under the file's and the explicit ones. A repair that trains LoRA
    weights (`lora`: the model is an adapter, or `lora_rank` is set) defaults to `LORA_LR`."""
    from_file = _read_yaml(Path(file)) if file is not None else {}
    from_file = {k.replace("-", "_"): v for k, v in from_file.items()}
    preset = preset or from_file.get("preset") or "default"
    if preset not in PRESETS:
        raise SaniError(f"preset={preset!r}: choose one of {', '.join(PRESETS)}")
    known = {f.name for f in fields(SanitizeConfig)}
    for k in from_file:
        if k not in known:
            raise SaniError(f"{file}: unknown option '{k}' (known: {', '.join(sorted(known))})")
    for k in overrides:
        if k not in known:
            raise SaniError(f"unknown option '{k}'")
    by_task = TASK_DEFAULTS.get(task or "", {}) if preset == "default" else {}
    given = {**from_file, **{k: v for k, v in overrides.items() if v is not None}}
    values = {**PRESETS[preset], **by_task, **given, "preset": preset}
    if (lora or values.get("lora_rank")) and "lr" not in given:
        values["lr"] = LORA_LR
    return SanitizeConfig(**values).validate(adapter=lora)


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise SaniError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SaniError(f"{path}{where}: not valid YAML") from None
    except UnicodeDecodeError:
        raise SaniError(f"{path}: not valid UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SaniError(f"{path}: expected a mapping of option: value")
    return data
