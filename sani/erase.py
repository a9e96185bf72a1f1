"""Erase: reset chosen FFN neurons of the last layers (SANI's first phase).

A neuron's input rows (weight and bias of every input projection) and its output column are reset together.
Only the selected rows and columns are written: no second copy of the model is kept.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import torch
from torch import nn

from .errors import SaniError
from .models import FFN, _get, _is_conv1d, ffn_layers

log = logging.getLogger(__name__)

RESET_MODES = ("reinit", "zero", "base")
STRATEGIES = ("random",)

Selection = dict[int, list[int]]  # layer index -> neuron indices


def select_neurons(
    model: nn.Module, *, layers: int = 1, fraction: float = 0.5, seed: int = 0, strategy: str = "random"
) -> Selection:
    """Choose `fraction` of the FFN neurons in each of the last `layers` layers."""
    ffns = ffn_layers(model)
    if not 1 <= layers <= len(ffns):
        raise SaniError(f"layers={layers}: the model has {len(ffns)} layers (need 1..{len(ffns)})")
    if not 0.0 <= fraction <= 1.0:
        raise SaniError(f"fraction={fraction}: must be between 0 and 1")
    if strategy not in STRATEGIES:
        raise SaniError(f"strategy={strategy!r}: choose one of {', '.join(STRATEGIES)}")
    g = torch.Generator().manual_seed(seed)
    selection: Selection = {}
    for ffn in ffns[-layers:]:
        k = round(fraction * ffn.size)
        selection[ffn.index] = sorted(torch.randperm(ffn.size, generator=g)[:k].tolist())
    return selection


@torch.no_grad()
def reset_neurons(
    model: nn.Module, selection: Selection, *, mode: str = "reinit", base_model: str | Path | None = None, seed: int = 0
) -> None:
    """Reset the selected neurons in place: `reinit` (the model's own initialisation), `zero`, or `base`
    (the weights of `base_model`, the checkpoint before fine-tuning)."""
    if mode not in RESET_MODES:
        raise SaniError(f"reset={mode!r}: choose one of {', '.join(RESET_MODES)}")
    if mode == "base" and base_model is None:
        raise SaniError("reset=base needs a base model directory (--base-model)")
    base = _Checkpoint(base_model) if mode == "base" else None
    ffns = {f.index: f for f in ffn_layers(model)}
    for layer, neurons in selection.items():
        if not neurons:
            continue
        ffn = ffns[layer]
        idx = torch.tensor(neurons, dtype=torch.long)
        fresh = _fresh_init(model, ffn, seed + layer) if mode == "reinit" else None
        for name, module, is_output in _projections(ffn):
            if mode == "zero":
                fresh_w, fresh_b = torch.zeros_like(module.weight), None
            elif mode == "base":
                fresh_w = base.get(ffn.prefix + name + ".weight", module.weight)
                fresh_b = base.get(ffn.prefix + name + ".bias", module.bias) if module.bias is not None else None
            else:
                fresh_w, fresh_b = fresh[name]
            _copy_neurons(module, idx, fresh_w, fresh_b, is_output)
    log.info("reset %d neurons in layers %s (%s)", sum(map(len, selection.values())), sorted(selection), mode)


def _projections(ffn: FFN):
    for name in ffn.layout.inputs:
        yield name, _get(ffn.block, name), False
    yield ffn.layout.output, ffn.output, True


def _copy_neurons(module: nn.Module, idx: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, is_output: bool) -> None:
    # nn.Linear weight is [out, in]; Conv1D is [in, out]. Input projections own a neuron's row of outputs,
    # the output projection its column of inputs.
    out_dim = 1 if _is_conv1d(module) else 0
    dim = 1 - out_dim if is_output else out_dim
    w = w.to(module.weight.device, module.weight.dtype)
    module.weight.index_copy_(dim, idx, w.index_select(dim, idx))
    if not is_output and module.bias is not None:
        bias = torch.zeros_like(module.bias) if b is None else b.to(module.bias.device, module.bias.dtype)
        module.bias.index_copy_(0, idx, bias.index_select(0, idx))


def _fresh_init(model: nn.Module, ffn: FFN, seed: int) -> dict[str, tuple[torch.Tensor, torch.Tensor | None]]:
    """Freshly initialised weights for one layer's FFN, made by the model's own `_init_weights` on a copy of
    the smallest module that holds the FFN (so model-specific rules, like GPT-2's scaled c_proj, apply)."""
    names = [*ffn.layout.inputs, ffn.layout.output]
    parts = [n.split(".") for n in names]
    common = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    parent_path = ".".join(common)
    parent = _get(ffn.block, parent_path) if parent_path else ffn.block
    clone = copy.deepcopy(parent)
    for t in [*clone.parameters(), *clone.buffers()]:
        if hasattr(t, "_is_hf_initialized"):
            del t._is_hf_initialized
    for m in clone.modules():
        m._is_hf_initialized = False
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        clone.apply(model._init_weights)
    out = {}
    for name in names:
        rel = name[len(parent_path) + 1 :] if parent_path else name
        m = _get(clone, rel)
        out[name] = (m.weight.detach(), None if m.bias is None else m.bias.detach())
    return out


class _Checkpoint:
    """Reads single tensors from a model directory's safetensors files without loading the model."""

    def __init__(self, path: str | Path):
        from safetensors import safe_open

        self.path = Path(path)
        files = sorted(self.path.glob("*.safetensors")) if self.path.is_dir() else []
        if not files:
            raise SaniError(f"{path}: base model directory has no .safetensors weights")
        self._where: dict[str, Path] = {}
        for f in files:
            with safe_open(str(f), framework="pt") as st:
                for k in st.keys():
                    self._where[k] = f

    def get(self, name: str, like: torch.Tensor) -> torch.Tensor:
        from safetensors import safe_open

        # checkpoints saved from the base class lack the head prefix ("transformer.h.0" vs "h.0")
        for key in (name, name.split(".", 1)[1]):
            if key in self._where:
                with safe_open(str(self._where[key]), framework="pt") as st:
                    t = st.get_tensor(key)
                if t.shape != like.shape:
                    raise SaniError(
                        f"{self.path}: tensor {key} has shape {tuple(t.shape)}, the model has {tuple(like.shape)}"
                    )
                return t
        raise SaniError(f"{self.path}: base model has no tensor {name}")


def selection_summary(selection: Selection, model: nn.Module) -> list[dict]:
    sizes = {f.index: f.size for f in ffn_layers(model)}
    return [{"layer": l, "count": len(n), "of": sizes[l], "neurons": n} for l, n in sorted(selection.items())]
