"""What every metric of the audit shares: the registry of metrics by name (and model kind), the context a
metric reads, its typed result, and the aggregation of hits overall, per label and per number of
occurrences. No metric imports another; each imports this."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..config import AuditConfig
from ..models.kinds import TASKS, Kind
from ..scale import dist
from ..spans.candidates import Candidates
from ..spans.data import Encoded, Record

OCCURRENCE_BUCKETS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 10**12))


@dataclass
class Context:
    """What a metric may read: the model under audit and the data it is audited on."""

    model: nn.Module
    tokenizer: Any
    kind: Kind
    encoded: Sequence[Encoded]
    cfg: AuditConfig = field(default_factory=AuditConfig)
    holdout: Sequence[Encoded] | None = None
    canaries: dict[str, Any] | None = None  # a definition from `sani canaries`
    reference: nn.Module | None = None  # a model that never saw the values (the oracle, or the base model)
    probe: list[tuple[str, str]] | None = None  # labelled examples for the linear probe
    progress: bool = True
    reference_name: str | None = None  # how the verdicts name the reference (its directory)
    candidates: Candidates | None = None  # made by the first metric that needs them (`candidates_for`)
    reference_tokenizer: Any = None  # the reference model's tokenizer: entries it shares are not the corpus's
    relearn_records: Sequence[Encoded] | None = None  # the relearn attack's benign variant: records never seen


@dataclass
class MetricResult:
    """One metric's result: `summary` is its block of the audit JSON (the aggregate, per label and per
    occurrence count, as that metric defines them), `items` its per-span rows (keyed by record and span,
    holding hashes, never values), `settings` what it was run with."""

    summary: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


Metric = Callable[[Context], MetricResult | None]
METRICS: dict[str, dict[str, Metric]] = {}  # name -> model kind -> metric


def register(name: str, kinds: Sequence[str] = TASKS) -> Callable[[Metric], Metric]:
    """Register a metric under `name` for these model kinds (one function may serve both)."""

    def add(fn: Metric) -> Metric:
        for k in kinds:
            METRICS.setdefault(name, {})[k] = fn
        return fn

    return add


def measure(name: str, ctx: Context) -> MetricResult | None:
    """The metric `name` for the context's model kind; None when it does not apply to that kind."""
    fn = METRICS.get(name, {}).get(ctx.kind.name)
    return None if fn is None else fn(ctx)


def token_stats(
    model: nn.Module,
    tokenizer: Any,
    kind: Kind,
    encoded: Sequence[Encoded],
    *,
    progress: bool = True,
    sensitive_only: bool = False,
) -> list[dict[str, list[float]]]:
    """Per record, for each predicted token: its log-prob (a masked LM: pseudo-log-likelihood), the mean and
    std of log-probs under the model's distribution there and whether it is the top token (`Kind.token_stats`;
    a causal LM's audit reads it once, `kinds.one_pass`). Under several processes each scores its share."""
    return dist.map_shards(
        lambda part: kind.token_stats(
            model, tokenizer, part, progress=progress and dist.is_main(), sensitive_only=sensitive_only
        ),
        list(encoded),
    )


def candidates_for(ctx: Context) -> Candidates:
    """The audit's candidate values for this corpus (`sani.spans.candidates`, the "audit" seed stream), made once
    an audit: value exposure and the paired test share its pools."""
    if ctx.candidates is None:
        cfg = ctx.cfg
        pairs = [(s.label, e.record.value(s)) for e in ctx.encoded for s in e.record.spans]
        # "holdout": unseen values of the corpus's own kind, nearest in the tokenizer's length (a source the
        # repair did not draw from when its own surrogates came from another part of the holdout)
        pool = [(s.label, h.record.value(s)) for h in ctx.holdout or () for s in h.record.spans]
        ctx.candidates = Candidates(
            pairs,
            source=cfg.exposure_source,
            locale=cfg.exposure_locale,
            stream="audit",
            tokenizer=ctx.tokenizer,
            pool=pool,
        )
    return ctx.candidates


def value_clusters(encoded: Sequence[Encoded | Record]) -> list[int]:
    """A group id per record (encoded or not): records that share a value (a patient's several notes) are one
    group, since they are not independent evidence of membership."""
    parent = list(range(len(encoded)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, item in enumerate(encoded):
        rec = item.record if isinstance(item, Encoded) else item
        for s in rec.spans:
            j = first.setdefault(rec.value(s), i)
            parent[root(i)] = root(j)
    return [root(i) for i in range(len(encoded))]


def split_by_value(items: list, share: float, seed: str) -> tuple[list, list]:
    """(the rest, about `share` of the records): whole value groups (`value_clusters`; a record without values
    is a group of its own), drawn in an order seeded by `seed`."""
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(value_clusters(items)):
        groups.setdefault(g, []).append(i)
    order = sorted(groups.values())
    random.Random(seed).shuffle(order)
    want, taken = share * sum(map(len, order)), set()
    for g in order:
        if len(taken) >= want:
            break
        taken.update(g)
    return [x for i, x in enumerate(items) if i not in taken], [x for i, x in enumerate(items) if i in taken]


def occurrences(encoded: Sequence[Encoded]) -> Counter:
    """How often each value occurs in the corpus (the key of the per-occurrence breakdowns)."""
    return Counter(enc.record.value(s) for enc in encoded for s in enc.record.spans)


def occurrence_bucket(n: int) -> str:
    """ "1", "2", "3-5", "6-10" or ">10": how often a value occurs in the corpus."""
    lo, hi = next(b for b in OCCURRENCE_BUCKETS if b[0] <= n <= b[1])
    return str(lo) if lo == hi else (f"{lo}-{hi}" if hi < 10**12 else f">{lo - 1}")


def rate(hits: int, total: int) -> dict[str, Any]:
    return {"hits": hits, "total": total, "rate": round(hits / total, 4) if total else None}


def aggregate(items: list[dict]) -> dict[str, Any]:
    """Hits overall, per label and per occurrence bucket, and the share of partial hits."""
    by_label: dict[str, list[bool]] = defaultdict(list)
    by_occ: dict[str, list[bool]] = defaultdict(list)
    for it in items:
        by_label[it["label"]].append(it["hit"])
        by_occ[occurrence_bucket(it["occurrences"])].append(it["hit"])
    partial = sum(it.get("partial", False) for it in items)
    return {
        **rate(sum(it["hit"] for it in items), len(items)),
        "partial_rate": round(partial / len(items), 4) if items else None,
        "by_label": {k: rate(sum(v), len(v)) for k, v in sorted(by_label.items())},
        "by_occurrences": {k: rate(sum(v), len(v)) for k, v in by_occ.items()},
    }
