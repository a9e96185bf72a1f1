"""The audit: every registered metric that applies to the model's kind and to what was given, in one
result (the JSON an audit file holds; read it through `sani.audit.results.AuditResult`)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from torch import nn

from ..config import AuditConfig
from ..models.kinds import Kind, one_pass
from ..models.loading import fingerprint
from ..spans.data import Encoded
from .common import Context, measure

# the order the metrics run and appear in; each is skipped where it does not apply (a masked LM has no
# extraction, membership needs a holdout, exposure canaries, the probe a labelled task)
PLAN = ("regurgitation", "utility", "extraction", "value_exposure", "paired_membership", "membership", "exposure",
        "tokenizer")  # fmt: skip
log = logging.getLogger(__name__)


def run(
    model: nn.Module,
    tokenizer: Any,
    encoded: Sequence[Encoded],
    *,
    cfg: AuditConfig | None = None,
    kind: Kind,
    holdout: Sequence[Encoded] | None = None,
    canaries: dict[str, Any] | None = None,
    reference: nn.Module | None = None,
    probe: list[tuple[str, str]] | None = None,
    progress: bool = True,
    with_fingerprint: bool = True,
    reference_name: str | None = None,
    reference_tokenizer: Any = None,
    relearn_records: Sequence[Encoded] | None = None,
) -> dict[str, Any]:
    """Every measurement in one result: regurgitation (greedy, and sampled when `cfg.samples` > 0, for each
    prompt context), utility, and when asked extraction metrics, membership inference (needs `holdout`)
    and canary exposure. Per-span items carry hashes, not values, unless `cfg.show_values` (data owner
    only). `cfg` defaults to greedy decoding from the full prefix, without extraction."""
    cfg = cfg or AuditConfig(contexts="full", samples=0, extraction=False)
    model.eval()
    start = time.perf_counter()
    ctx = Context(
        model,
        tokenizer,
        kind,
        encoded,
        cfg,
        holdout,
        canaries,
        reference,
        probe,
        progress,
        reference_name,
        reference_tokenizer=reference_tokenizer,
        relearn_records=relearn_records,
    )
    result: dict[str, Any] = {"task": ctx.kind.name}
    summaries, settings, items = _metrics(ctx)
    result.update(summaries)
    after = None
    if cfg.attack_list():
        result["attacks"], after = attacks(ctx)
    if with_fingerprint:
        result["model_fingerprint"] = after or fingerprint(model)
    result["settings"] = settings
    result["seconds"] = round(time.perf_counter() - start, 2)
    if cfg.show_values:
        for (r, s), it in items.items():
            it["value"] = encoded[r].record.value(encoded[r].record.spans[s])
    result["items"] = list(items.values())
    return result


def _metrics(ctx: Context) -> tuple[dict[str, Any], dict[str, Any], dict[tuple[int, int], dict[str, Any]]]:
    """Each planned metric that applies to the context, in one pass: their summaries by name, their settings,
    and their per-span items merged by (record, span)."""
    summaries: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    items: dict[tuple[int, int], dict[str, Any]] = {}
    with one_pass():  # one teacher-forced pass (causal LM), each masked copy scored once (masked LM)
        for name in PLAN:
            got = measure(name, ctx)
            if got is None:
                continue
            summaries[name] = got.summary
            settings.update(got.settings)
            for it in got.items:
                items.setdefault((it["record"], it["span"]), {}).update(it)
    return summaries, settings, items


def attacks(ctx: Context) -> tuple[dict[str, Any], str]:
    """Each attack asked for (`cfg.attacks`) that applies to the model's kind, timed; every attack works on
    copies, which the audited model's fingerprint, unchanged after them, confirms (returned with them)."""
    before = fingerprint(ctx.model)
    out: dict[str, Any] = {}
    for name in ctx.cfg.attack_list():
        start = time.perf_counter()
        got = measure(name, ctx)
        seconds = round(time.perf_counter() - start, 2)
        if got is None:
            log.warning("attack %s does not apply to this %s or corpus: not run", name, ctx.kind.name)
            continue
        out[name] = {**got.summary, "seconds": seconds}
        print(f"sani: attack {name}: {seconds:.0f} s", file=sys.stderr, flush=True)
    if fingerprint(ctx.model) != before:
        raise RuntimeError("an attack changed the audited model's weights; attacks must work on copies")
    return out, before
