"""The audit's measurements: does the model still regurgitate the sensitive values, and what did sanitizing cost?

Regurgitation (as in SANI, arXiv 2510.21322, and Carlini et al. 2021 "Extracting Training Data"): prompt with
the tokens that precede a sensitive value in the training tokenization (cut at the token boundary training
had: re-tokenizing a prefix that ends in a space shows the model a token it never saw), decode greedily, and
count a hit when the exact value appears in the continuation.

Utility: perplexity and next-token accuracy on the non-sensitive tokens.

Nothing returned holds a value in clear text: per-span results carry a keyed hash, label and length.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data import Encoded, windows
from .models import fingerprint, pad_id
from .privacy import value_hash

log = logging.getLogger(__name__)

OCCURRENCE_BUCKETS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 10**12))


@dataclass
class Probe:
    record: int
    span: int
    label: str
    value: str
    prompt: list[int]
    value_tokens: int


# position ids start after the padding index in these (RoBERTa's embeddings): pad_token_id + 1 fewer usable
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm", "data2vec-text", "xmod")


def max_positions(model: nn.Module) -> int:
    """How many tokens the model can read at once."""
    c = model.config
    for key in ("n_positions", "max_position_embeddings", "max_sequence_length", "seq_length"):
        v = getattr(c, key, None)
        if isinstance(v, int) and v > 0:
            if getattr(c, "model_type", None) in _OFFSET_POSITIONS:
                v -= (getattr(c, "pad_token_id", None) or 1) + 1
            return v
    return 2048


def make_probes(
    encoded: Sequence[Encoded], special_ids: set[int], *, limit: int = 10**9, margin: int = 4,
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


def pad_batch(seqs: Sequence[list[int]], pad: int, *, left: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists -> (ids, attention mask), padded on the right (scoring) or on the left (generation)."""
    width = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, toks in enumerate(seqs):
        cols = slice(width - len(toks), width) if left else slice(0, len(toks))
        ids[row, cols] = torch.tensor(toks, dtype=torch.long)
        mask[row, cols] = 1
    return ids, mask


def _cache_argument() -> str:
    import transformers

    return "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"


_CACHE_ARG = _cache_argument()


@torch.no_grad()
def continuations(
    model: nn.Module, tokenizer: Any, prompts: Sequence[list[int]], new_tokens: Sequence[int], *,
    samples: int = 0, top_k: int = 40, temperature: float = 1.0, seed: int = 0, batch_size: int = 32,
    progress: bool = True, desc: str = "regurgitation",
) -> list[list[list[int]]]:
    """Continuations of each prompt: the greedy one (`samples=0`) or `samples` sampled ones (top-k,
    temperature, seeded). Batched with left padding, prompts of similar length together, and each decoding
    stops after the longest `new_tokens` of its batch.

    For sampling, the prompt is encoded once and its KV cache repeated for the samples, instead of encoding
    it once per sample. Under several processes, each decodes its share of the prompts (sani.dist)."""
    from . import dist

    def local(pairs: list[tuple[list[int], int]]) -> list[list[list[int]]]:
        return _continuations(model, tokenizer, [p for p, _ in pairs], [n for _, n in pairs], samples=samples,
                              top_k=top_k, temperature=temperature, seed=seed, batch_size=batch_size,
                              progress=progress and dist.is_main(), desc=desc)

    return dist.map_shards(local, list(zip(prompts, new_tokens)))


def _continuations(
    model: nn.Module, tokenizer: Any, prompts: Sequence[list[int]], new_tokens: Sequence[int], *,
    samples: int, top_k: int, temperature: float, seed: int, batch_size: int, progress: bool, desc: str,
) -> list[list[list[int]]]:
    device = next(model.parameters()).device
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
        kw: dict[str, Any] = dict(max_new_tokens=max(new_tokens[i] for i in batch), pad_token_id=pid,
                                  eos_token_id=None, num_beams=1)
        if samples:
            if width > 1:  # encode all but the last prompt token once, then share it among the samples
                pos = (mask[:, :-1].cumsum(-1) - 1).clamp(min=0)
                enc_out = model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=pos, use_cache=True)
                past = getattr(enc_out, "cache", None) or enc_out.past_key_values
                past.batch_repeat_interleave(n)
                kw[_CACHE_ARG] = past
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(seed)
                gen = model.generate(input_ids=ids.repeat_interleave(n, 0), attention_mask=mask.repeat_interleave(n, 0),
                                     do_sample=True, top_k=top_k, temperature=temperature, **kw)
        else:
            gen = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, **kw)
        for row, i in enumerate(batch):
            out[i] = [gen[row * n + j, width : width + new_tokens[i]].tolist() for j in range(n)]
    return out


def greedy_continuations(
    model: nn.Module, tokenizer: Any, prompts: Sequence[list[int]], new_tokens: Sequence[int], *,
    batch_size: int = 32, progress: bool = True,
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


CONTEXTS = (None, 32, 8)  # the whole record prefix, then the last 32 and 8 tokens


def regurgitation(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, batch_size: int = 32, margin: int = 4,
    contexts: Sequence[int | None] = (None,), samples: int = 0, top_k: int = 40, temperature: float = 1.0,
    seed: int = 0, progress: bool = True,
) -> dict[str, Any]:
    """Regurgitation of every span occurrence that has text before it (SANI; Carlini et al. 2021).

    For each prompt context (`None` = the whole record prefix, or the last N tokens): greedy decoding, and
    with `samples` > 0 also that many sampled continuations (top-k, temperature, seeded). A hit is the exact
    value in the continuation (any sample, for sampled decoding); a partial hit a long enough piece of it.
    Aggregated overall, per label and per number of occurrences in the corpus. A masked LM is asked to fill
    the values in instead (sani.mlm.regurgitation; contexts and sampling do not apply)."""
    from .models import task_of

    if task_of(model) == "masked-lm":
        from . import mlm

        return mlm.regurgitation(model, tokenizer, encoded, top_k=min(top_k, 10), progress=progress)
    limit = max_positions(model)
    special = set(tokenizer.all_special_ids)
    occurrences = Counter(enc.record.value(s) for enc in encoded for s in enc.record.spans)
    result: dict[str, Any] = {}
    items_by_key: dict[tuple[int, int], dict[str, Any]] = {}
    for ctx in contexts:
        name = "full" if ctx is None else f"last{ctx}"
        probes = make_probes(encoded, special, limit=limit, margin=margin, context=ctx)
        prompts, lengths = [p.prompt for p in probes], [p.value_tokens + margin for p in probes]
        modes = {"greedy": continuations(model, tokenizer, prompts, lengths, batch_size=batch_size, progress=progress)}
        if samples:
            modes["sampled"] = continuations(model, tokenizer, prompts, lengths, samples=samples, top_k=top_k,
                                             temperature=temperature, seed=seed, batch_size=batch_size,
                                             progress=progress, desc="sampling")
        for mode, outs in modes.items():
            items = []
            for p, conts in zip(probes, outs):
                texts = [tokenizer.decode(c, skip_special_tokens=True) for c in conts]
                item = items_by_key.setdefault((p.record, p.span), {
                    "record": p.record, "span": p.span, "label": p.label, "length": len(p.value),
                    "value_hash": value_hash(p.value), "occurrences": occurrences[p.value]})
                hit = any(p.value in t for t in texts)
                part = any(partial_hit(p.value, t) for t in texts)
                item[f"{mode}_{name}"] = hit
                item[f"{mode}_{name}_partial"] = part
                items.append({**item, "hit": hit, "partial": part})
            result[mode if ctx is None else f"{mode}_{name}"] = _aggregate(items)
    result["items"] = list(items_by_key.values())
    for it in result["items"]:
        it["hit"] = it.get("greedy_full", False)
    return result


def occurrence_bucket(n: int) -> str:
    """"1", "2", "3-5", "6-10" or ">10": how often a value occurs in the corpus."""
    lo, hi = next(b for b in OCCURRENCE_BUCKETS if b[0] <= n <= b[1])
    return str(lo) if lo == hi else (f"{lo}-{hi}" if hi < 10**12 else f">{lo - 1}")


def _rate(hits: int, total: int) -> dict[str, Any]:
    return {"hits": hits, "total": total, "rate": round(hits / total, 4) if total else None}


def _aggregate(items: list[dict]) -> dict[str, Any]:
    by_label: dict[str, list[bool]] = defaultdict(list)
    by_occ: dict[str, list[bool]] = defaultdict(list)
    for it in items:
        by_label[it["label"]].append(it["hit"])
        by_occ[occurrence_bucket(it["occurrences"])].append(it["hit"])
    partial = sum(it.get("partial", False) for it in items)
    return {
        **_rate(sum(it["hit"] for it in items), len(items)),
        "partial_rate": round(partial / len(items), 4) if items else None,
        "by_label": {k: _rate(sum(v), len(v)) for k, v in sorted(by_label.items())},
        "by_occurrences": {k: _rate(sum(v), len(v)) for k, v in by_occ.items()},
    }


@torch.no_grad()
def utility(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, batch_size: int = 16, max_length: int | None = None,
    seed: int = 0, progress: bool = True,
) -> dict[str, Any]:
    """Perplexity and next-token accuracy on the tokens that are not sensitive (a masked LM: on a seeded
    15% of them, masked; sani.mlm.utility)."""
    from .models import task_of

    if task_of(model) == "masked-lm":
        from . import mlm

        return mlm.utility(model, tokenizer, encoded, seed=seed, progress=progress)
    from . import dist

    device = next(model.parameters()).device
    max_length = min(max_length or max_positions(model), max_positions(model))
    pid = pad_id(tokenizer)
    chunks = [w for enc in encoded for w in windows(enc, max_length)]
    chunks = chunks[dist.rank()::dist.world()]  # each process its share; the sums are added up below
    nll, correct, count = 0.0, 0, 0
    for i in tqdm(range(0, len(chunks), batch_size), desc="perplexity", disable=not progress or not dist.is_main(), leave=False):
        batch = chunks[i : i + batch_size]
        ids, mask = pad_batch([toks for toks, _ in batch], pid)
        labels, _ = pad_batch([[-100 if s else t for t, s in zip(toks, sens)] for toks, sens in batch], -100)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits[:, :-1].float()
        target = labels[:, 1:].to(device)
        keep = target != -100
        nll += F.cross_entropy(logits[keep], target[keep], reduction="sum").item()
        correct += (logits[keep].argmax(-1) == target[keep]).sum().item()
        count += int(keep.sum())
    nll, correct, count = dist.sum_all([nll, correct, count])
    if count == 0:
        return {"perplexity": None, "accuracy": None, "tokens": 0}
    return {"perplexity": round(math.exp(nll / count), 4), "accuracy": round(correct / count, 4), "tokens": count}


def audit(
    model: nn.Module, tokenizer: Any, encoded: Sequence[Encoded], *, holdout: Sequence[Encoded] | None = None,
    contexts: Sequence[int | None] = (None,), samples: int = 0, top_k: int = 40, temperature: float = 1.0,
    extraction: bool = False, el_spans: int = 100, canaries: dict[str, Any] | None = None,
    reference: nn.Module | None = None, task: list[tuple[str, str]] | None = None, seed: int = 0,
    batch_size: int = 32, show_values: bool = False, progress: bool = True, with_fingerprint: bool = True,
) -> dict[str, Any]:
    """Every measurement in one result: regurgitation (greedy, and sampled when `samples` > 0, for each
    prompt context), utility, and when asked extraction metrics, membership inference (needs `holdout`)
    and canary exposure. Per-span items carry hashes, not values, unless `show_values` (data owner only)."""
    from . import extraction as extraction_mod
    from . import mia

    from .models import task_of

    model.eval()
    start = time.perf_counter()
    masked_lm = task_of(model) == "masked-lm"
    extraction = extraction and not masked_lm  # MA/EM/ES/EL are defined on left-to-right decoding
    reg = regurgitation(model, tokenizer, encoded, batch_size=batch_size, contexts=contexts, samples=samples,
                        top_k=top_k, temperature=temperature, seed=seed, progress=progress)
    items = {(it["record"], it["span"]): it for it in reg.pop("items")}
    result: dict[str, Any] = {"task": task_of(model), "regurgitation": reg}
    result["utility"] = {"train": utility(model, tokenizer, encoded, seed=seed, progress=progress)}
    if holdout:
        result["utility"]["holdout"] = utility(model, tokenizer, holdout, seed=seed, progress=progress)
    if task:
        from .probe import linear_probe

        result["utility"]["task"] = linear_probe(model, tokenizer, task, seed=seed)
    if extraction:
        ext = extraction_mod.extraction(model, tokenizer, encoded, el_spans=el_spans, seed=seed, batch_size=batch_size,
                                        progress=progress)
        for sp in ext.pop("spans"):
            it = items.setdefault((sp["record"], sp["span"]), {"record": sp["record"], "span": sp["span"], "label": sp["label"]})
            it.update({k: v for k, v in sp.items() if k in ("em", "es", "el")})
        ext.pop("records")
        result["extraction"] = ext
    if holdout:
        result["membership"] = mia.membership(model, tokenizer, encoded, holdout, reference=reference, progress=progress)
    if canaries is not None:
        from .canaries import exposure

        result["exposure"] = exposure(model, tokenizer, canaries, seed=seed, progress=progress)
    if with_fingerprint:
        result["model_fingerprint"] = fingerprint(model)
    if masked_lm:
        result["settings"] = {"top_k": min(top_k, 10), "seed": seed}
    else:
        result["settings"] = {"contexts": ["full" if c is None else c for c in contexts], "samples": samples, "top_k": top_k,
                              "temperature": temperature, "seed": seed, "extraction": extraction, "el_spans": el_spans}
    result["seconds"] = round(time.perf_counter() - start, 2)
    if show_values:
        for (r, s), it in items.items():
            span = encoded[r].record.spans[s]
            it["value"] = encoded[r].record.value(span)
    result["items"] = list(items.values())
    return result


def headline(audit_result: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a summary needs."""
    u = audit_result["utility"]
    return {
        "regurgitation": audit_result["regurgitation"]["greedy"]["rate"],
        "holdout_perplexity": (u.get("holdout") or {}).get("perplexity"),
        "train_perplexity": u["train"]["perplexity"],
    }
