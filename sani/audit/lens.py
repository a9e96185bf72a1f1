"""The logit lens: read the values from intermediate layers, through the model's own final norm and head.

nostalgebraist 2020 ("interpreting GPT: the logit lens"); REVS (Ashuach et al. 2024, arXiv 2406.09325)
measures unlearning by model editing this way: a repair that only touches the last layers can leave the
values readable below them. For each layer, the hidden state after that block is handed to what follows
the last block (the final norm and the head, or a masked LM's prediction head), by replacing the last
block's output; so the lens needs no table of norm and head names, only the blocks (`sani.models.loading`). A
value counts as read at a layer when each of its tokens is the most likely one there, given the true text
around it (teacher-forced; a masked LM: each token masked alone). Reported per layer, on a seeded sample
of values, the last layer being the model itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from torch import nn

from ..errors import SaniError
from ..models.loading import ffn_layers
from ..spans.data import Encoded
from .attack import keep_spans
from .common import Context, MetricResult, register
from .values import sample_spans


def _hidden(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


@contextlib.contextmanager
def lens_at(model: nn.Module, layer: int) -> Iterator[None]:
    """While active, the model's output is read from block `layer`'s hidden state instead of the last's."""
    blocks = [f.block for f in ffn_layers(model)]
    if layer in (-1, len(blocks) - 1):
        yield
        return
    seen: dict[str, Any] = {}

    def keep(module: nn.Module, args: Any, out: Any) -> None:
        seen["h"] = _hidden(out)

    def swap(module: nn.Module, args: Any, out: Any) -> Any:
        return (seen["h"], *out[1:]) if isinstance(out, tuple) else seen["h"]

    handles = [blocks[layer].register_forward_hook(keep), blocks[-1].register_forward_hook(swap)]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _read(stats: list[dict[str, list[float]]], encoded: Sequence[Encoded]) -> dict[str, Any]:
    """Share of values whose every token is the most likely, and the mean log-prob of value tokens."""
    hits, logps = [], []
    for st, enc in zip(stats, encoded):
        by_span: dict[int, list[bool]] = {}
        for p in range(1, min(len(enc.input_ids), len(st["hit"]) + 1)):
            s = enc.span_of_token[p]
            if s >= 0:
                by_span.setdefault(s, []).append(st["hit"][p - 1] == 1.0)
                logps.append(st["logp"][p - 1])
        hits += [all(v) for v in by_span.values()]
    return {
        "rate": round(sum(hits) / len(hits), 4) if hits else None,
        "values": len(hits),
        "mean_logp": round(sum(logps) / len(logps), 4) if logps else None,
    }


def per_layer(ctx: Context, model: nn.Module, encoded: Sequence[Encoded]) -> list[dict[str, Any]]:
    """The lens at every layer of `model` on `encoded`'s values."""
    out = []
    for layer in range(len(ffn_layers(model))):
        with lens_at(model, layer):
            stats = ctx.kind.token_stats(model, ctx.tokenizer, encoded, progress=False, sensitive_only=True)
        out.append({"layer": layer, **_read(stats, encoded)})
    return out


@register("lens")
def lens_metric(ctx: Context) -> MetricResult | None:
    chosen = sample_spans(ctx.encoded, ctx.cfg.lens_spans, ctx.cfg.seed)
    try:
        ffn_layers(ctx.model)  # the blocks: from the FFN table, or a known layout the modules match
    except SaniError:
        return None  # an architecture without a known layout: the lens does not apply
    if not chosen:
        return None
    by_record: dict[int, list[int]] = {}
    for r, s in chosen:
        by_record.setdefault(r, []).append(s)
    encoded = [keep_spans(ctx.encoded[r], sorted(spans)) for r, spans in sorted(by_record.items())]
    out: dict[str, Any] = {"values": len(chosen), "layers": per_layer(ctx, ctx.model, encoded)}
    if ctx.reference is not None:
        out["reference"] = {"layers": per_layer(ctx, ctx.reference, encoded)}
    return MetricResult(out)
