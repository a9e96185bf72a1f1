"""Erase: reset chosen FFN neurons of the last layers (SANI's first phase).

A neuron's input rows (weight and bias of every input projection) and its output column are reset together.
Only the selected rows and columns are written: no second copy of the model is kept.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import RESET_MODES, STRATEGIES
from ..errors import SaniError
from ..models.adapters import is_peft, revert_neurons
from ..models.batching import device_of, max_positions, pad_batch, pad_id
from ..models.kinds import Kind
from ..models.loading import FFN, Checkpoint, _get, _is_conv1d, ffn_layers
from ..spans.data import Encoded

log = logging.getLogger(__name__)

Selection = dict[int, list[int]]  # layer index -> neuron indices


def select_neurons(
    model: nn.Module,
    *,
    layers: int = 1,
    fraction: float = 0.5,
    seed: int = 0,
    strategy: str = "random",
    scores: dict[int, torch.Tensor] | None = None,
    network: bool = False,
) -> Selection:
    """Choose `fraction` of the FFN neurons in each of the last `layers` layers: at random (the paper), or
    the highest `scores` (from `score_neurons`). With `network`, the same budget is taken from the best
    scored neurons of the whole network, wherever they are."""
    ffns = ffn_layers(model)
    if not 1 <= layers <= len(ffns):
        raise SaniError(f"layers={layers}: the model has {len(ffns)} layers (need 1..{len(ffns)})")
    if not 0.0 <= fraction <= 1.0:
        raise SaniError(f"fraction={fraction}: must be between 0 and 1")
    if strategy not in STRATEGIES:
        raise SaniError(f"strategy={strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if strategy != "random" and scores is None:
        raise SaniError(f"strategy={strategy!r} needs neuron scores (score_neurons)")
    g = torch.Generator().manual_seed(seed)
    selection: Selection = {}
    if strategy != "random" and network:
        budget = sum(round(fraction * f.size) for f in ffns[-layers:])
        # z-scores per layer, so one layer's scale does not decide alone
        pooled = [((s - s.mean()) / (s.std() + 1e-12), f.index) for f, s in ((f, scores[f.index]) for f in ffns)]
        flat = torch.cat([z for z, _ in pooled])
        owner = torch.cat([torch.full((len(z),), i) for z, i in pooled])
        offset = torch.cat([torch.arange(len(z)) for z, _ in pooled])
        for k in torch.topk(flat, budget).indices.tolist():
            selection.setdefault(int(owner[k]), []).append(int(offset[k]))
        return {layer: sorted(n) for layer, n in sorted(selection.items())}
    for ffn in ffns[-layers:]:
        k = round(fraction * ffn.size)
        if strategy == "random":
            chosen = torch.randperm(ffn.size, generator=g)[:k]
        else:
            chosen = torch.topk(scores[ffn.index], k).indices
        selection[ffn.index] = sorted(chosen.tolist())
    return selection


def _activation_hooks(ffns: list[FFN], store: dict[int, torch.Tensor], scale: dict[int, float] | None = None):
    """Capture (and optionally scale) the FFN hidden activations: the input of each output projection."""

    def hook(index: int):
        def fn(module, args):
            a = args[0]
            if scale is not None and index in scale:
                a = a * scale[index]
            if a.requires_grad:
                a.retain_grad()
            store[index] = a
            return (a, *args[1:])

        return fn

    return [f.output.register_forward_pre_hook(hook(f.index)) for f in ffns]


def score_neurons(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    strategy: str,
    *,
    kind: Kind,
    max_records: int = 64,
    batch_size: int = 8,
    steps: int = 20,
    seed: int = 0,
    progress: bool = True,
) -> dict[int, torch.Tensor]:
    """A score per FFN neuron of every layer: how much it serves the sensitive tokens (`SCORERS`). Uses up
    to `max_records` records holding sensitive tokens, chosen with `seed`; the sensitive tokens'
    log-probability is the model kind's (`Kind.sensitive_logprob`: predicted from their prefix, or masked)."""
    import random

    from tqdm.auto import tqdm

    if strategy not in SCORERS:
        raise SaniError(f"strategy={strategy!r}: scores exist for activation, gradient and attribution")
    ffns = ffn_layers(model)
    pool = [e for e in encoded if any(e.sensitive)]
    if not pool:
        raise SaniError("no sensitive tokens to score neurons on")
    pool = random.Random(seed).sample(pool, min(max_records, len(pool)))
    device, limit = device_of(model), max_positions(model)
    was_training = model.training
    model.eval()
    scores = {f.index: torch.zeros(f.size) for f in ffns}
    for b in tqdm(
        range(0, len(pool), batch_size), desc=f"scoring neurons ({strategy})", disable=not progress, leave=False
    ):
        batch = pool[b : b + batch_size]
        ids, mask = pad_batch([e.input_ids[:limit] for e in batch], pad_id(tokenizer))
        sens, _ = pad_batch([[int(x) for x in e.sensitive[:limit]] for e in batch], 0)
        ids, mask, sens = ids.to(device), mask.to(device), sens.to(device).bool() & mask.bool()

        def objective(ids: torch.Tensor = ids, mask: torch.Tensor = mask, sens: torch.Tensor = sens) -> torch.Tensor:
            return kind.sensitive_logprob(model, tokenizer, ids, mask, sens)

        SCORERS[strategy](model, ffns, _Batch(ids, mask, sens, objective), scores, steps)
    model.train(was_training)
    return scores


@dataclass
class _Batch:
    ids: torch.Tensor
    mask: torch.Tensor
    sens: torch.Tensor  # the sensitive tokens (within the mask)
    objective: Callable[[], torch.Tensor]  # their log-probability


def _score_activation(
    model: nn.Module, ffns: list[FFN], b: _Batch, scores: dict[int, torch.Tensor], steps: int
) -> None:
    """Mean |activation| on sensitive tokens minus on the other tokens."""
    store: dict[int, torch.Tensor] = {}
    handles = _activation_hooks(ffns, store)
    with torch.no_grad():
        model(input_ids=b.ids, attention_mask=b.mask)
    for h in handles:
        h.remove()
    rest = b.mask.bool() & ~b.sens
    for i, a in store.items():
        a = a.abs().float()
        on = (a * b.sens.unsqueeze(-1)).sum((0, 1)) / b.sens.sum().clamp(min=1)
        off = (a * rest.unsqueeze(-1)).sum((0, 1)) / rest.sum().clamp(min=1)
        scores[i] += (on - off).cpu() * len(b.ids)


def _score_gradient(model: nn.Module, ffns: list[FFN], b: _Batch, scores: dict[int, torch.Tensor], steps: int) -> None:
    """Mean |activation x gradient| of the sensitive tokens' log-probability."""
    store: dict[int, torch.Tensor] = {}
    handles = _activation_hooks(ffns, store)
    with torch.enable_grad():
        grads = torch.autograd.grad(b.objective(), [store[f.index] for f in ffns])
    for h in handles:
        h.remove()
    for f, g in zip(ffns, grads):
        scores[f.index] += (store[f.index] * g).abs().float().sum((0, 1)).detach().cpu()


def _score_attribution(
    model: nn.Module, ffns: list[FFN], b: _Batch, scores: dict[int, torch.Tensor], steps: int
) -> None:
    """Integrated gradients of that log-probability (activations scaled from 0 to their value in `steps`
    steps, one layer at a time), with DEPN's votes: each record votes for its top 1% neurons."""
    store: dict[int, torch.Tensor] = {}
    for f in ffns:
        total = torch.zeros(len(b.ids), f.size, device=b.ids.device)
        for k in range(1, steps + 1):
            handles = _activation_hooks([f], store, scale={f.index: k / steps})
            with torch.enable_grad():
                (g,) = torch.autograd.grad(b.objective(), [store[f.index]])
            for h in handles:
                h.remove()
            act = store[f.index].detach() / (k / steps)  # the unscaled activation
            total += (act * g).float().sum(1) / steps
        top = max(1, f.size // 100)
        votes = torch.zeros_like(total)
        votes.scatter_(1, total.topk(top, dim=1).indices, 1.0)
        scores[f.index] += (votes.sum(0) + 1e-3 * total.sum(0) / (total.abs().max() + 1e-12)).cpu()


SCORERS = {"activation": _score_activation, "gradient": _score_gradient, "attribution": _score_attribution}


def choose_neurons(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    cfg: Any,
    *,
    kind: Kind,
    progress: bool = True,
) -> Selection:
    """The erase step's neurons for this config (`EraseConfig` fields and `seed`): at random, or scored on
    the sensitive tokens."""
    scores = None
    if cfg.strategy != "random" and cfg.fraction > 0:
        scores = score_neurons(model, tokenizer, encoded, cfg.strategy, kind=kind, seed=cfg.seed, progress=progress)
    return select_neurons(
        model,
        layers=cfg.layers,
        fraction=cfg.fraction,
        seed=cfg.seed,
        strategy=cfg.strategy,
        scores=scores,
        network=cfg.scope == "network",
    )


@torch.no_grad()
def reset_neurons(
    model: nn.Module, selection: Selection, *, mode: str = "reinit", base_model: str | Path | None = None, seed: int = 0
) -> None:
    """Reset the selected neurons in place: `reinit` (the model's own initialisation), `zero`, or `base`
    (the weights of `base_model`, the checkpoint before fine-tuning)."""
    if mode not in RESET_MODES:
        raise SaniError(f"reset={mode!r}: choose one of {', '.join(RESET_MODES)}")
    ffns = {f.index: f for f in ffn_layers(model)}
    if is_peft(model):
        _revert_adapter(ffns, selection, mode)
        return
    if mode == "base" and base_model is None:
        raise SaniError("reset=base needs a base model directory (--base-model)")
    base = Checkpoint(base_model) if mode == "base" else None
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


def _revert_adapter(ffns: dict[int, FFN], selection: Selection, mode: str) -> None:
    """A LoRA model: the chosen neurons go back to the base model's weights (their adapter update is zeroed);
    the base weights themselves are shared and not part of the output, so `mode` cannot apply to them."""
    if mode != "base":
        log.info("LoRA adapter: reset=%s acts as 'base' (the neurons' adapter update is zeroed)", mode)
    untouched = []
    for layer, neurons in selection.items():
        if not neurons:
            continue
        idx = torch.tensor(neurons, dtype=torch.long)
        hits = [revert_neurons(module, idx, is_output) for _, module, is_output in _projections(ffns[layer])]
        if not any(hits):
            untouched.append(layer)
    if untouched:
        log.warning(
            "the adapter does not adapt the FFN of layer(s) %s: those neurons are the base model's already", untouched
        )
    log.info(
        "reverted %d neurons to the base weights in layers %s", sum(map(len, selection.values())), sorted(selection)
    )


def _projections(ffn: FFN):
    for name in ffn.layout.inputs:
        yield name, _get(ffn.block, name), False
    yield ffn.layout.output, ffn.output, True


def _copy_neurons(
    module: nn.Module, idx: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, is_output: bool
) -> None:
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


def selection_summary(selection: Selection, model: nn.Module) -> list[dict]:
    sizes = {f.index: f.size for f in ffn_layers(model)}
    return [{"layer": i, "count": len(n), "of": sizes[i], "neurons": n} for i, n in sorted(selection.items())]
