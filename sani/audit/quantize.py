"""The quantization attack: round a copy's weights as an 8-bit or 4-bit deployment would, then re-audit.

Zhang et al. 2024 ("Catastrophic failure of LLM unlearning via quantization", arXiv 2410.16454): unlearning
moves the weights by less than a quantization step, so rounding them brings back up to 83% of the
"unlearned" knowledge at 4 bits. What matters is the rounding of the weights, so the copy's weight
matrices (every linear and GPT-2 `Conv1D` layer but the output head and the embeddings, as bitsandbytes
and GPTQ leave them) are rounded and evaluated in float:

- int8: symmetric, one scale per output channel (LLM.int8's vector-wise scheme, without its outlier path);
- nf4: 4-bit NormalFloat in blocks of 64 weights with one absmax each (QLoRA, bitsandbytes' default 4-bit),
  the blocks along the rows of the [out, in] matrix (a `Conv1D` weight is transposed first, as transformers'
  bitsandbytes integration does); computed by bitsandbytes itself when it and a GPU are present, else by the
  same codebook here;
- fp4: the 4-bit float E2M1 grid (0, 0.5, 1, 1.5, 2, 3, 4, 6, signed; OCP microscaling) in the same blocks
  of 64 scaled by their absmax (bitsandbytes' own fp4 codebook differs in its smallest step: not used);
- int4-g128: asymmetric round-to-nearest to 16 levels in groups of 128 inputs, one scale and zero point
  each: the grid GPTQ and AWQ checkpoints store. GPTQ's error-compensating rounding (each column's error
  spread over the columns not yet rounded, from second-order statistics of calibration data) and AWQ's
  activation-aware scaling are not reproduced: plain rounding onto their grid.

Why not `torch.ao.quantization`: torch 2.13 marks it deprecated, and its dynamic quantization covers
`nn.Linear` only (GPT-2's `Conv1D` layers would stay in float); torchao's configs have the same filter.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import torch
from torch import nn
from transformers.pytorch_utils import Conv1D

from .attack import both, reaudit, release
from .common import Context, MetricResult, register

log = logging.getLogger(__name__)

NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0])  # fmt: skip
NF4_BLOCK = 64
FP4 = torch.tensor([-6.0, -4.0, -3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]) / 6  # E2M1
INT4_GROUP = 128


def int8_roundtrip(w: torch.Tensor, out_dim: int = 0) -> torch.Tensor:
    """`w` rounded to int8 with one symmetric scale per slice along `out_dim`, back in its dtype."""
    x = w.float()
    scale = x.abs().amax(dim=1 - out_dim, keepdim=True).clamp(min=1e-12) / 127
    return (torch.round(x / scale).clamp(-127, 127) * scale).to(w.dtype)


def nf4_roundtrip(w: torch.Tensor, block: int = NF4_BLOCK, codebook: torch.Tensor = NF4) -> torch.Tensor:
    """`w` rounded to the nearest code of `codebook` (sorted, within [-1, 1]; NF4 by default) in blocks of
    `block` values (row-major), each scaled by its absmax."""
    flat = w.float().reshape(-1)
    pad = (-flat.numel()) % block
    blocks = torch.nn.functional.pad(flat, (0, pad)).reshape(-1, block)
    absmax = blocks.abs().amax(dim=1, keepdim=True).clamp(min=1e-12)
    code = codebook.to(w.device)
    nearest = torch.bucketize(blocks / absmax, (code[1:] + code[:-1]) / 2)
    out = (code[nearest] * absmax).reshape(-1)[: flat.numel()]
    return out.reshape(w.shape).to(w.dtype)


def int4_roundtrip(w: torch.Tensor, group: int = INT4_GROUP) -> torch.Tensor:
    """`w` ([out, in]) rounded to 16 levels per group of `group` consecutive inputs of a row, asymmetric:
    scale (max - min) / 15 and an integer zero point (the last group of a row may be shorter)."""
    import torch.nn.functional as F

    rows, cols = w.shape
    pad = (-cols) % group
    x = w.float()
    lo = F.pad(x, (0, pad), value=float("inf")).reshape(rows, -1, group).amin(-1, keepdim=True)
    hi = F.pad(x, (0, pad), value=float("-inf")).reshape(rows, -1, group).amax(-1, keepdim=True)
    scale = ((hi - lo) / 15).clamp(min=1e-12)
    zero = torch.round(-lo / scale)
    q = (torch.round(F.pad(x, (0, pad)).reshape(rows, -1, group) / scale) + zero).clamp(0, 15)
    return ((q - zero) * scale).reshape(rows, -1)[:, :cols].to(w.dtype)


def _bnb() -> Any:
    """bitsandbytes' functional module where it and a GPU are present (its own NF4), else None."""
    if not torch.cuda.is_available():
        return None
    try:
        import bitsandbytes.functional as bf
    except ImportError:
        return None
    return bf


def backend(scheme: str) -> str:
    return "bitsandbytes" if scheme == "nf4" and _bnb() is not None else "torch"


def matrices(model: nn.Module) -> list[tuple[nn.Module, int]]:
    """The weight matrices a quantized deployment rounds, each with its output dimension (0; Conv1D: 1)."""
    head = model.get_output_embeddings()
    skip = {id(head.weight)} if head is not None else set()
    return [
        (m, 1 if isinstance(m, Conv1D) else 0)
        for m in model.modules()
        if isinstance(m, (nn.Linear, Conv1D)) and id(m.weight) not in skip
    ]


@torch.no_grad()
def quantize(model: nn.Module, scheme: str) -> nn.Module:
    """Round `model`'s weight matrices in place as `scheme` (int8, nf4, fp4, int4-g128) says."""
    bf = _bnb() if scheme == "nf4" else None
    for m, out_dim in matrices(model):
        if scheme == "int8":
            m.weight.copy_(int8_roundtrip(m.weight, out_dim))
            continue
        w = m.weight.T if out_dim else m.weight  # blocks and groups run along [out, in] rows, as for nn.Linear
        if bf is not None:
            q, state = bf.quantize_4bit(w.detach().cuda().contiguous(), blocksize=NF4_BLOCK, quant_type="nf4")
            w = bf.dequantize_4bit(q, state).to(m.weight.device, m.weight.dtype)
        elif scheme == "int4-g128":
            w = int4_roundtrip(w.contiguous())
        else:
            w = nf4_roundtrip(w.contiguous(), codebook=FP4 if scheme == "fp4" else NF4)
        m.weight.copy_(w.T if out_dim else w)
    return model


@register("quantize")
def quantize_metric(ctx: Context) -> MetricResult | None:
    out: dict[str, Any] = {"matrices": len(matrices(ctx.model))}
    for scheme in ctx.cfg.schemes():
        model, ref = both(ctx, functools.partial(quantize, scheme=scheme))
        out[scheme] = {**reaudit(ctx, model, ctx.encoded, ref), "backend": backend(scheme)}
        del model, ref
        release()
    return MetricResult(out)
