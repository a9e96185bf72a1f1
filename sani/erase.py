"""Erase: reset chosen FFN neurons of the last layers (SANI's first phase).

A neuron's input rows (weight and bias of every input projection) and its output column are reset together.
Only the selected rows and columns are written: no second copy of the model is kept.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from .adapters import is_peft, revert_neurons
from .errors import SaniError
from .data import Encoded
from .models import FFN, _get, _is_conv1d, ffn_layers

log = logging.getLogger(__name__)

RESET_MODES = ("reinit", "zero", "base")
STRATEGIES = ("random", "activation", "gradient", "attribution")

Selection = dict[int, list[int]]  # layer index -> neuron indices


def select_neurons(
    model: nn.Module, *, layers: int = 1, fraction: float = 0.5, seed: int = 0, strategy: str = "random",
    scores: dict[int, torch.Tensor] | None = None, network: bool = False,
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
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], strategy: str, *, max_records: int = 64,
    batch_size: int = 8, steps: int = 20, seed: int = 0, progress: bool = True,
) -> dict[int, torch.Tensor]:
    """A score per FFN neuron of every layer: how much it serves the sensitive tokens.

    - `activation`: mean |activation| on sensitive tokens minus on the other tokens;
    - `gradient`: mean |activation x gradient| of the sensitive tokens' log-probability;
    - `attribution`: integrated gradients of that log-probability (activations scaled from 0 to their value
      in `steps` steps, one layer at a time), with DEPN's votes: each record votes for its top 1% neurons.
    Uses up to `max_records` records holding sensitive tokens, chosen with `seed`."""
    import random

    from tqdm.auto import tqdm

    from .metrics import max_positions, pad_batch
    from .mlm import sensitive_logprob
    from .models import pad_id, task_of

    if strategy not in STRATEGIES or strategy == "random":
        raise SaniError(f"strategy={strategy!r}: scores exist for activation, gradient and attribution")
    ffns = ffn_layers(model)
    masked_lm = task_of(model) == "masked-lm"
    pool = [e for e in encoded if any(e.sensitive)]
    if not pool:
        raise SaniError("no sensitive tokens to score neurons on")
    pool = random.Random(seed).sample(pool, min(max_records, len(pool)))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores = {f.index: torch.zeros(f.size) for f in ffns}
    limit = max_positions(model)
    for b in tqdm(range(0, len(pool), batch_size), desc=f"scoring neurons ({strategy})", disable=not progress, leave=False):
        batch = pool[b : b + batch_size]
        ids, mask = pad_batch([e.input_ids[:limit] for e in batch], pad_id(tokenizer))
        sens, _ = pad_batch([[int(x) for x in e.sensitive[:limit]] for e in batch], 0)
        ids, mask, sens = ids.to(device), mask.to(device), sens.to(device).bool() & mask.bool()
        target_pos = sens[:, 1:]

        def objective() -> torch.Tensor:
            """The sensitive tokens' log-probability: predicted from their prefix, or (masked LM) masked."""
            if masked_lm:
                return sensitive_logprob(model, tokenizer, ids, mask, sens)
            logits = model(input_ids=ids, attention_mask=mask).logits
            lp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            return (lp * target_pos).sum()

        store: dict[int, torch.Tensor] = {}
        if strategy == "activation":
            handles = _activation_hooks(ffns, store)
            with torch.no_grad():
                model(input_ids=ids, attention_mask=mask)
            for h in handles:
                h.remove()
            rest = mask.bool() & ~sens
            for i, a in store.items():
                a = a.abs().float()
                on = (a * sens.unsqueeze(-1)).sum((0, 1)) / sens.sum().clamp(min=1)
                off = (a * rest.unsqueeze(-1)).sum((0, 1)) / rest.sum().clamp(min=1)
                scores[i] += (on - off).cpu() * len(batch)
        elif strategy == "gradient":
            handles = _activation_hooks(ffns, store)
            with torch.enable_grad():
                out = objective()
                grads = torch.autograd.grad(out, [store[f.index] for f in ffns])
            for h in handles:
                h.remove()
            for f, g in zip(ffns, grads):
                scores[f.index] += (store[f.index] * g).abs().float().sum((0, 1)).detach().cpu()
        else:  # integrated gradients, layer by layer, with votes per record
            for f in ffns:
                total = torch.zeros(len(batch), f.size, device=device)
                for k in range(1, steps + 1):
                    handles = _activation_hooks([f], store, scale={f.index: k / steps})
                    with torch.enable_grad():
                        (g,) = torch.autograd.grad(objective(), [store[f.index]])
                    for h in handles:
                        h.remove()
                    act = store[f.index].detach() / (k / steps)  # the unscaled activation
                    total += (act * g).float().sum(1) / steps
                top = max(1, f.size // 100)
                votes = torch.zeros_like(total)
                votes.scatter_(1, total.topk(top, dim=1).indices, 1.0)
                scores[f.index] += (votes.sum(0) + 1e-3 * total.sum(0) / (total.abs().max() + 1e-12)).cpu()
    model.train(was_training)
    return scores


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
    base = _Checkpoint(base_model) if mode == "base" else None
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
        log.warning("the adapter does not adapt the FFN of layer(s) %s: those neurons are the base model's already", untouched)
    log.info("reverted %d neurons to the base weights in layers %s", sum(map(len, selection.values())), sorted(selection))


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
