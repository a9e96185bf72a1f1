"""The calibrated repair's targets: how likely a value the model never saw would be, in the same place.

"Forgotten" means: the value is as likely as a value of the same kind the model never saw, not less (that
leaks membership too) and not more. For every span of the corpus, `targets` builds `k` counterfactual copies
of its record with every span replaced by a surrogate of the same kind (`sani.spans.candidates`: Faker's by
default, or values that look like the label's own, learnt from the corpus, `sani.spans.lookalike`; on the repair's
own seed stream "repair", so that the audit, which draws Faker's values on "audit", never grades the repair
with the candidates it was trained against), and scores the surrogate at that span with the model as it is before
the repair. The target is the mean over the copies. Every sensitive value before it in the record is a
surrogate too, so the model cannot recognise the record from them and find the surrogate unlikely because it
expects the memorized value (the counterfactual teacher of PerMU, arXiv 2502.19982, and the generic
predictions of "Who's Harry Potter", arXiv 2310.02238, at the level of a value's log-likelihood). Fixed before
the repair, the target cannot run away with the model (matching the current model's own surrogate drags both
down together: ../shared/research/forgetting-vs-hiding.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..models.kinds import Kind
from ..spans.candidates import Candidates
from ..spans.data import Encoded, Record, Span, encode
from .objectives import objective

log = logging.getLogger(__name__)

STREAM = "repair"


def counterfactual(record: Record, surrogates: Sequence[str]) -> Record:
    """The record with span i's text replaced by `surrogates[i]`; the spans moved to the new text."""
    parts, spans, pos, shift = [], [], 0, 0
    for span, s in zip(record.spans, surrogates):
        parts += [record.text[pos : span.start], s]
        start = span.start + shift
        spans.append(Span(start, start + len(s), span.label, span.source))
        shift += len(s) - (span.end - span.start)
        pos = span.end
    parts.append(record.text[pos:])
    return Record("".join(parts), spans, record.where)


def copies(
    records: Sequence[Record],
    k: int,
    seed: int,
    locale: str = "en_US",
    offset: int = 0,
    source: str = "faker",
    tokenizer: Any = None,
    pool: Sequence[tuple[str, str]] = (),
) -> list[list[Record]]:
    """`k` counterfactual copies of each record (none for a record without spans); the same for the same
    seed and the record's index in the corpus (`offset` + its place here). A value that occurs twice in a
    record gets the same surrogate both times (the model may copy it from the first); a value without `k`
    distinct surrogates keeps reusing those it has. `pool`: (label, value) pairs of held-out records, the
    surrogates of source "holdout"."""
    cands = Candidates(
        ((s.label, r.value(s)) for r in records for s in r.spans),
        source=source,
        locale=locale,
        stream=STREAM,
        tokenizer=tokenizer,
        pool=pool,
    )
    out = []
    for i, rec in enumerate(records, start=offset):
        drawn: dict[tuple[str, str], list[str]] = {}
        for s in rec.spans:
            key = (s.label, rec.value(s))
            if key not in drawn:
                drawn[key] = cands.for_value(*key, k, seed=f"{seed}:{i}:{len(drawn)}")[0]
        per_span = [drawn[(s.label, rec.value(s))] for s in rec.spans]
        if not rec.spans or not all(per_span):
            out.append([])
            continue
        out.append([counterfactual(rec, [c[n % len(c)] for c in per_span]) for n in range(k)])
    return out


def sources(records: Sequence[Record], source: str = "faker", pool: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """Per label, what serves its surrogates: "holdout", "corpus" (learnt from its values), "faker:<kind>" or
    "shape"."""
    cands = Candidates(
        ((s.label, r.value(s)) for r in records for s in r.spans), source=source, stream=STREAM, pool=pool
    )
    return {label: cands.served(label) for label in sorted({s.label for r in records for s in r.spans})}


def surrogate_report(
    cfg: Any, records: Sequence[Record], pool: Sequence[tuple[str, str]] = (), held_records: int = 0
) -> dict[str, Any]:
    """What sanitization.json's "repair" says of a calibrated repair's surrogates: their source, what served
    each label (a streamed corpus: the labels of the audited sample) and, for source "holdout", how many
    held-out records and distinct values served (those records are left out of the audits)."""
    if not objective(cfg.objective).calibrated:
        return {}
    out = {"source": cfg.surrogate_source, "by_label": sources(records, cfg.surrogate_source, pool)}
    if cfg.surrogate_source == "holdout":
        out.update(held_out_records=held_records, held_out_values=len(set(pool)))
    return {"surrogates": out}


@dataclass
class Calibration:
    """What the calibrated repair trains towards: `targets`, per record and span, the mean surrogate
    log-likelihood; `anchors`, counterfactual records whose surrogates are held at their own log-likelihood
    (`anchor_targets`), so that the unseen level does not sink while the values are pulled down to it (it
    does without them: pulling a value down generalises to every value of its kind)."""

    targets: list[list[float]]
    anchors: list[Encoded]
    anchor_targets: list[list[float]]


def calibration(
    model: nn.Module,
    tokenizer: Any,
    kind: Kind,
    encoded: Sequence[Encoded],
    *,
    k: int = 4,
    anchors: int = 1,
    seed: int = 0,
    source: str = "faker",
    locale: str = "en_US",
    offset: int = 0,
    limit: int | None = None,
    progress: bool = True,
    pool: Sequence[tuple[str, str]] = (),
) -> Calibration:
    """Score `k` counterfactual copies of every record with spans under `model` as it is now (sum of log p
    over a surrogate's tokens, as `Kind.span_logliks` scores it, and never below a uniform guess over the
    vocabulary: a surrogate the model finds that unlikely, a label whose surrogates do not look like its
    values, would push the value below anything it could predict there). A value's target is the mean over its
    copies (NaN where none could be scored: no surrogate of its kind, or past `limit` tokens, the training
    window, so that a target never had more context than its value gets); the first `anchors` copies of each
    record are the anchors. `offset`: the index of the first record in the corpus (a streamed part); `pool`:
    held-out (label, value) pairs for source "holdout"."""
    made = copies([e.record for e in encoded], k, seed, locale, offset, source, tokenizer, pool)
    flat = [encode(tokenizer, c) for cs in made for c in cs]
    scores = kind.span_logliks(model, tokenizer, flat, limit=limit, progress=progress) if flat else []
    floor = -math.log(getattr(model.config, "vocab_size", None) or len(tokenizer))  # a uniform guess
    scores = [[max(x, floor * c.span_of_token.count(j)) for j, x in enumerate(row)] for c, row in zip(flat, scores)]
    out, kept, kept_scores, at = [], [], [], 0
    for enc, cs in zip(encoded, made):
        rows = scores[at : at + len(cs)]
        kept += flat[at : at + min(anchors, len(cs))]
        kept_scores += rows[: min(anchors, len(cs))]
        at += len(cs)
        means = []
        for j in range(len(enc.record.spans)):
            got = [r[j] for r in rows if j < len(r) and not math.isnan(r[j])]
            means.append(sum(got) / len(got) if got else math.nan)
        out.append(means)
    log.info("calibration: %d values, %d counterfactual records, %d anchors", sum(map(len, out)), len(flat), len(kept))
    return Calibration(out, kept, kept_scores)
