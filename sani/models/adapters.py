"""LoRA models (PEFT): a base model plus an adapter directory, sanitized in the same form.

A LoRA layer computes W0 x + s B A x. The base W0 is shared and never shipped with the adapter, so the
erase step cannot rewrite it: it resets the chosen neurons' *adapter* weights instead (rows of B for an
input projection, columns of A for the output projection), which returns those neurons to the base
model's weights, the state before fine-tuning (`reset=base`, exactly). The repair trains the adapter
only, with the same objectives. A LoRA model that was merged into its base is an ordinary model directory.

`new_lora` wraps a full model in fresh LoRA weights for a repair that must fit a small memory budget; the
trained weights are merged back before saving, so the output is again a full model.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SaniError

log = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"


def is_adapter_dir(path: str | Path) -> bool:
    """A PEFT adapter directory: an adapter config and no full model config of its own."""
    p = Path(path)
    return (p / ADAPTER_CONFIG).is_file() and not (p / "config.json").is_file()


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise SaniError("LoRA adapters need the peft package: pip install 'sani-llm[peft]'") from None
    return peft


def adapter_base(path: str | Path, base: str | Path | None = None) -> str:
    """The base model an adapter applies to: `base` if given, else the adapter config's
    `base_model_name_or_path`; a relative path there is read relative to the adapter directory."""
    cfg_file = Path(path) / ADAPTER_CONFIG
    try:
        cfg = json.loads(cfg_file.read_text())
    except (OSError, ValueError) as e:
        raise SaniError(f"{cfg_file}: cannot read the adapter config: {e}") from None
    if cfg.get("peft_type") != "LORA":
        raise SaniError(f"{cfg_file}: peft_type {cfg.get('peft_type')!r}: sani supports LoRA adapters only")
    # the erase returns a neuron to the base weights by zeroing its LoRA update; DoRA's magnitudes and
    # trained biases would still change it
    if cfg.get("use_dora"):
        raise SaniError(
            f"{cfg_file}: DoRA adapters (use_dora) are not supported; merge the adapter and sanitize the merged model"
        )
    if cfg.get("bias", "none") != "none":
        raise SaniError(
            f"{cfg_file}: bias={cfg.get('bias')!r}: adapters that train biases are not supported; merge the adapter "
            "and sanitize the merged model"
        )
    if cfg.get("modules_to_save"):
        log.warning(
            "%s: modules_to_save %s are trained in full; the erase does not reset them",
            cfg_file,
            cfg["modules_to_save"],
        )
    if base is not None:
        return str(base)
    named = cfg.get("base_model_name_or_path")
    if not named:
        raise SaniError(f"{cfg_file}: no base_model_name_or_path; pass the base model with --base-model")
    if not Path(named).is_absolute() and (Path(path) / named).is_dir():
        return str(Path(path) / named)
    return str(named)


def load_adapter(path: str | Path, base_model: nn.Module) -> nn.Module:
    """`base_model` with the LoRA adapter in `path` on top, its adapter weights trainable."""
    peft = _peft()
    try:
        return peft.PeftModel.from_pretrained(base_model, str(path), is_trainable=True)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise SaniError(f"{path}: cannot load the LoRA adapter: {str(e).strip().splitlines()[0]}") from None


def is_peft(model: nn.Module) -> bool:
    return hasattr(model, "peft_config") and hasattr(model, "get_base_model")


def unwrap(model: nn.Module) -> nn.Module:
    """The transformers model under a PEFT wrapper (the model itself otherwise)."""
    return model.get_base_model() if is_peft(model) else model


def lora_parts(module: nn.Module) -> tuple[nn.Linear, nn.Linear] | None:
    """The (A, B) weights of the active adapter of a LoRA-wrapped projection; None for a plain module."""
    a, b = getattr(module, "lora_A", None), getattr(module, "lora_B", None)
    if not isinstance(a, nn.ModuleDict) or not a:
        return None
    name = module.active_adapters[0] if getattr(module, "active_adapters", None) else next(iter(a))
    return a[name], b[name]


@torch.no_grad()
def revert_neurons(module: nn.Module, idx: torch.Tensor, is_output: bool) -> bool:
    """Zero the LoRA update of the neurons `idx` in one projection: B's rows (their outputs) for an input
    projection, A's columns (their inputs) for the output projection. False if the module has no LoRA."""
    parts = lora_parts(module)
    if parts is None:
        return False
    a, b = parts
    if is_output:
        a.weight.index_fill_(1, idx.to(a.weight.device), 0.0)
    else:
        b.weight.index_fill_(0, idx.to(b.weight.device), 0.0)
        if b.bias is not None:
            b.bias.index_fill_(0, idx.to(b.bias.device), 0.0)
    return True


def new_lora(model: nn.Module, rank: int, kind: Any, alpha: float | None = None) -> nn.Module:
    """Wrap a full model in fresh LoRA weights of `rank` on all its linear layers, for the repair; `kind`
    (`sani.models.kinds`) names the PEFT task type."""
    peft = _peft()
    if rank < 1:
        raise SaniError(f"lora_rank={rank}: must be at least 1")
    task_type = getattr(peft.TaskType, kind.peft_task_type) if kind.peft_task_type else None
    cfg = peft.LoraConfig(
        r=rank, lora_alpha=alpha or 2 * rank, target_modules="all-linear", lora_dropout=0.0, task_type=task_type
    )
    return peft.get_peft_model(model, cfg)


def merge(model: nn.Module) -> nn.Module:
    """The full model with the LoRA weights added into its base weights."""
    return model.merge_and_unload() if is_peft(model) else model
