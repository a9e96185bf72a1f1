"""Regurgitation by a causal LM (as in SANI, arXiv 2510.21322, and Carlini et al. 2021 "Extracting Training
Data"): prompt with the tokens that precede a sensitive value in the training tokenization (cut at the token
boundary training had: re-tokenizing a prefix that ends in a space shows the model a token it never saw),
decode greedily (and sample), and count a hit when the exact value appears in the continuation.

Nothing returned holds a value in clear text: per-span results carry a keyed hash, label and length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models.batching import device_of, max_positions, pad_batch, pad_id
from ..models.kinds import CausalLM
from ..privacy import value_hash
from ..scale import dist
from ..spans.data import Encoded
from .common import Context, MetricResult, aggregate, occurrences, register


@dataclass
class Probe:
    record: int
    span: int
    label: str
    value: str
    prompt: list[int]
    value_tokens: int


def make_probes(
    encoded: Sequence[Encoded],
    special_ids: set[int],
    *,
    limit: int = 10**9,
    margin: int = 4,
    context: int | None = None,
) -> list[Probe]:
    """One probe per span occurrence that has non-special tokens before its first token.

    The prompt is the training tokens before the value: all of them (`context=None`) or the last `context`,
    and never so many that prompt and continuation overflow the model's `limit` positions."""
    probes = []
    for r, enc in enumerate(encoded):
        first: dict[int, int] = {}
        count: Counter = Counter()
        for t, s in enumerate(enc.span_of_token):
            if s >= 0:
                first.setdefault(s, t)
                count[s] += 1
        for s, t in first.items():
            keep = max(1, min(context or t, limit - count[s] - margin))
            prompt = enc.input_ids[max(0, t - keep) : t]
            if not any(i not in special_ids for i in prompt):
                continue  # nothing precedes the value: no prompt can ask for it
            span = enc.record.spans[s]
            probes.append(Probe(r, s, span.label, enc.record.value(span), prompt, count[s]))
    return probes


def _cache_argument() -> str:
    import transformers

    return "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"


_CACHE_ARG = _cache_argument()


@torch.no_grad()
def continuations(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[list[int]],
    new_tokens: Sequence[int],
    *,
    samples: int = 0,
    top_k: int = 40,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 32,
    progress: bool = True,
    desc: str = "regurgitation",
) -> list[list[list[int]]]:
    """Continuations of each prompt: the greedy one (`samples=0`) or `samples` sampled ones (top-k,
    temperature, seeded). Batched with left padding, prompts of similar length together, and each decoding
    stops after the longest `new_tokens` of its batch.

    For sampling, the prompt is encoded once and its KV cache repeated for the samples, instead of encoding
    it once per sample. Under several processes, each decodes its share of the prompts (sani.scale.dist)."""

    def local(pairs: list[tuple[list[int], int]]) -> list[list[list[int]]]:
        return _continuations(
            model,
            tokenizer,
            [p for p, _ in pairs],
            [n for _, n in pairs],
            samples=samples,
            top_k=top_k,
            temperature=temperature,
            seed=seed,
            batch_size=batch_size,
            progress=progress and dist.is_main(),
            desc=desc,
        )

    return dist.map_shards(local, list(zip(prompts, new_tokens)))


def _continuations(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[list[int]],
    new_tokens: Sequence[int],
    *,
    samples: int,
    top_k: int,
    temperature: float,
    seed: int,
    batch_size: int,
    progress: bool,
    desc: str,
) -> list[list[list[int]]]:
    device = device_of(model)
    pid = pad_id(tokenizer)
    n = max(1, samples)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: list[list[list[int]]] = [[] for _ in prompts]
    per_batch = max(1, batch_size // n) if samples else batch_size
    batches = [order[i : i + per_batch] for i in range(0, len(order), per_batch)]
    for batch in tqdm(batches, desc=desc, unit="batch", disable=not progress, leave=False):
        ids, mask = pad_batch([prompts[i] for i in batch], pid, left=True)
        ids, mask = ids.to(device), mask.to(device)
        width = ids.shape[1]
        kw: dict[str, Any] = dict(
            max_new_tokens=max(new_tokens[i] for i in batch), pad_token_id=pid, eos_token_id=None, num_beams=1
        )
        if samples:
            if width > 1:  # encode all but the last prompt token once, then share it among the samples
                pos = (mask[:, :-1].cumsum(-1) - 1).clamp(min=0)
                enc_out = model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=pos, use_cache=True)
                past = getattr(enc_out, "cache", None) or enc_out.past_key_values
                past.batch_repeat_interleave(n)
                kw[_CACHE_ARG] = past
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(seed)
                gen = model.generate(
                    input_ids=ids.repeat_interleave(n, 0),
                    attention_mask=mask.repeat_interleave(n, 0),
                    do_sample=True,
                    top_k=top_k,
                    temperature=temperature,
                    **kw,
                )
        else:
            gen = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, **kw)
        for row, i in enumerate(batch):
            out[i] = [gen[row * n + j, width : width + new_tokens[i]].tolist() for j in range(n)]
    return out


def greedy_continuations(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[list[int]],
    new_tokens: Sequence[int],
    *,
    batch_size: int = 32,
    progress: bool = True,
) -> list[str]:
    """The decoded greedy continuation of each prompt."""
    outs = continuations(model, tokenizer, prompts, new_tokens, batch_size=batch_size, progress=progress)
    return [tokenizer.decode(o[0], skip_special_tokens=True) for o in outs]


def partial_hit(value: str, text: str, min_chars: int = 4) -> bool:
    """A long enough piece of the value appears: a third of it and at least `min_chars` characters (the last
    four digits of an SSN, a surname). An upper-bound measure: short pieces like a year can match by chance."""
    from difflib import SequenceMatcher

    need = max(min_chars, -(-len(value) // 3))
    if len(value) <= need:
        return value in text
    m = SequenceMatcher(None, value, text, autojunk=False).find_longest_match(0, len(value), 0, len(text))
    return m.size >= need


def regurgitation(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    *,
    batch_size: int = 32,
    margin: int = 4,
    contexts: Sequence[int | None] = (None,),
    samples: int = 0,
    top_k: int = 40,
    temperature: float = 1.0,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Regurgitation of every span occurrence that has text before it (SANI; Carlini et al. 2021).

    For each prompt context (`None` = the whole record prefix, or the last N tokens): greedy decoding, and
    with `samples` > 0 also that many sampled continuations (top-k, temperature, seeded). A hit is the exact
    value in the continuation (any sample, for sampled decoding); a partial hit a long enough piece of it.
    Aggregated overall, per label and per number of occurrences in the corpus. A masked LM is asked to fill
    the values in instead (`sani.audit.fillin`)."""
    limit = max_positions(model)
    special = set(tokenizer.all_special_ids)
    seen = occurrences(encoded)
    result: dict[str, Any] = {}
    items_by_key: dict[tuple[int, int], dict[str, Any]] = {}
    for ctx in contexts:
        name = "full" if ctx is None else f"last{ctx}"
        probes = make_probes(encoded, special, limit=limit, margin=margin, context=ctx)
        prompts, lengths = [p.prompt for p in probes], [p.value_tokens + margin for p in probes]
        modes = {"greedy": continuations(model, tokenizer, prompts, lengths, batch_size=batch_size, progress=progress)}
        if samples:
            modes["sampled"] = continuations(
                model,
                tokenizer,
                prompts,
                lengths,
                samples=samples,
                top_k=top_k,
                temperature=temperature,
                seed=seed,
                batch_size=batch_size,
                progress=progress,
                desc="sampling",
            )
        for mode, outs in modes.items():
            items = _score(tokenizer, probes, outs, f"{mode}_{name}", items_by_key, seen)
            result[mode if ctx is None else f"{mode}_{name}"] = aggregate(items)
    result["items"] = list(items_by_key.values())
    for it in result["items"]:
        it["hit"] = it.get("greedy_full", False)
    return result


def _score(
    tokenizer: Any,
    probes: list[Probe],
    outs: list[list[list[int]]],
    column: str,
    items_by_key: dict[tuple[int, int], dict[str, Any]],
    seen: Counter,
) -> list[dict[str, Any]]:
    """Hits (the exact value in any continuation) and partial hits of one decoding mode and context; each
    span's item (hashed) records them under `column`."""
    items = []
    for p, conts in zip(probes, outs):
        texts = [tokenizer.decode(c, skip_special_tokens=True) for c in conts]
        item = items_by_key.setdefault(
            (p.record, p.span),
            {
                "record": p.record,
                "span": p.span,
                "label": p.label,
                "length": len(p.value),
                "value_hash": value_hash(p.value),
                "occurrences": seen[p.value],
            },
        )
        hit = any(p.value in t for t in texts)
        part = any(partial_hit(p.value, t) for t in texts)
        item[column] = hit
        item[f"{column}_partial"] = part
        items.append({**item, "hit": hit, "partial": part})
    return items


@register("regurgitation", kinds=(CausalLM.name,))
def regurgitation_metric(ctx: Context) -> MetricResult:
    c = ctx.cfg
    contexts = c.context_list()
    reg = regurgitation(
        ctx.model,
        ctx.tokenizer,
        ctx.encoded,
        batch_size=c.batch_size,
        contexts=contexts,
        samples=c.samples,
        top_k=c.top_k,
        temperature=c.temperature,
        seed=c.seed,
        progress=ctx.progress,
    )
    items = reg.pop("items")
    return MetricResult(
        reg,
        items,
        {
            "contexts": ["full" if x is None else x for x in contexts],
            "samples": c.samples,
            "top_k": c.top_k,
            "temperature": c.temperature,
            "seed": c.seed,
            "extraction": c.extraction,
            "el_spans": c.el_spans,
        },
    )
