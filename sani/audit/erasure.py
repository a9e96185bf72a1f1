"""An erasure request: "remove this person". What the model still holds of given values, value by value.

The corpus-wide audit says whether the values as a whole are forgotten; a data-protection officer answering
a request needs it for the values asked about. For each value: a keyed hash and its label, the records it
occurs in, whether greedy decoding (every prompt context of the audit) or any sample gives it back in any
of its places (a masked LM: filled in left to right), its exposure rank among candidates of its label in
each place (Carlini et al. 2019), and its paired membership score (the value's tokens' mean log-likelihood
in its records minus that of a candidate in its place: above 0, the model prefers it to an unseen value),
under each model given: the audited model ("after"), `--original` ("before") and `--reference-model`. The
verdict per value follows `verdict`'s rule (docs/audit.md, "An erasure request"). Never a value in clear
text: hashes, labels and counts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ..config import AuditConfig
from ..errors import SaniError
from ..models.kinds import Kind
from ..privacy import value_hash
from ..spans.data import Encoded, Record
from .attack import came_back, keep_spans
from .common import Context, candidates_for, measure, token_stats
from .membership import paired_records
from .scores import column, scores_of
from .values import chance, value_exposure

log = logging.getLogger(__name__)
MARGIN_BITS = 1.0  # mean exposure this far above the reference's (else chance) makes a value inconclusive


@dataclasses.dataclass(frozen=True)
class Request:
    value: str
    label: str | None = None  # when given, only spans of this label count


def read_values(path: str | Path) -> list[Request]:
    """One value a line, or JSON: a list of values or of {"value", "label"} objects. One line naming the file
    (and the line or entry) on bad input."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SaniError(f"{path}: cannot read the values ({e.__class__.__name__})") from None
    if p.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except ValueError as e:
            raise SaniError(f"{path}: not JSON (line {getattr(e, 'lineno', '?')})") from None
        rows = rows.get("values") if isinstance(rows, dict) else rows
        if not isinstance(rows, list):
            raise SaniError(f'{path}: expected a list of values, or of {{"value", "label"}} objects')
        out = []
        for i, row in enumerate(rows, 1):
            value, label = (
                (row, None)
                if isinstance(row, str)
                else ((row.get("value"), row.get("label")) if isinstance(row, dict) else (None, None))
            )
            if not isinstance(value, str) or not value.strip() or not (label is None or isinstance(label, str)):
                raise SaniError(f"{path}: entry {i}: expected a non-empty value (and a label, if any, as text)")
            out.append(Request(value.strip(), label))
    else:
        out = [Request(line.strip()) for line in text.splitlines() if line.strip()]
    if not out:
        raise SaniError(f"{path}: no values")
    return out


def check_record(records: Sequence[Record], n: int | None) -> None:
    """`--record n` (when given) names a record of the corpus that holds a marked value."""
    if n is None:
        return
    spans = [r.spans for r in records]
    if not 1 <= n <= len(spans):
        raise SaniError(f"--record {n}: the corpus has records 1 to {len(spans)}")
    if not spans[n - 1]:
        raise SaniError(f"--record {n}: no value of that record is marked (no span): nothing to answer for")


def record_values(encoded: Sequence[Encoded], n: int) -> list[Request]:
    """Every value of record `n` (its 1-based number in the corpus), with its label."""
    check_record([e.record for e in encoded], n)
    rec = encoded[n - 1].record
    return list(dict.fromkeys(Request(rec.value(s), s.label) for s in rec.spans))


def hash_note() -> str | None:
    """Keyed hashes compare across runs only with a fixed key."""
    if os.environ.get("SANI_HASH_KEY"):
        return None
    return "SANI_HASH_KEY is not set: the values' hashes hold for this run only and compare with no other"


def locate(encoded: Sequence[Encoded], requests: Sequence[Request]) -> list[dict[str, Any]]:
    """Per request: its spans (record, span index) and how it stands in the corpus: "marked", "not marked"
    (in the text but in no span: never sanitized) or "absent"."""
    out = []
    for q in requests:
        places = [
            (r, j)
            for r, e in enumerate(encoded)
            for j, s in enumerate(e.record.spans)
            if e.record.value(s) == q.value and (q.label is None or s.label == q.label)
        ]
        in_text = any(q.value in e.record.text for e in encoded)
        status = "marked" if places else "not marked" if in_text else "absent"
        labels = sorted({encoded[r].record.spans[j].label for r, j in places}) or ([q.label] if q.label else [])
        out.append({"request": q, "places": places, "status": status, "labels": labels})
    return out


def requested(values: str | Path | None, record: int | None) -> list[Request] | None:
    """An erasure request's values, read before any model loads: None when none was asked, [] for `record`
    (its values are read from the corpus, `record_values`)."""
    if values is not None and record is not None:
        raise SaniError("--values and --record: give one erasure request at a time")
    return read_values(values) if values is not None else [] if record is not None else None


def start(
    model: nn.Module,
    tokenizer: Any,
    kind: Kind,
    encoded: Sequence[Encoded],
    requests: Sequence[Request],
    record: int | None,
    cfg: AuditConfig,
    holdout: Sequence[Encoded] | None = None,
) -> Answer:
    """An erasure request on `encoded` under the audit settings `cfg`, no model measured yet: `requests`, or
    every value of record `record` when `requests` is empty. `holdout`: candidates' pool when asked for."""
    ctx = Context(model, tokenizer, kind, encoded, cfg, holdout=holdout, progress=False)
    return Answer(ctx, requests or record_values(encoded, record or 0))


class Answer:
    """An erasure request being answered: its values located in the corpus once, then measured under each
    model as it comes (`sani sanitize` measures "before" on the input model before erasing it, and "after"
    once repaired; `sani audit` the audited model, `--original` and the reference). `ctx` is the audit's:
    its corpus, settings and candidates."""

    def __init__(self, ctx: Context, requests: Sequence[Request]) -> None:
        self.ctx, self.found = ctx, locate(ctx.encoded, requests)
        records = sorted({r for f in self.found for r, _ in f["places"]})
        self.keep = {r: sorted(j for f in self.found for rr, j in f["places"] if rr == r) for r in records}
        self.subset = [keep_spans(ctx.encoded[r], self.keep[r]) for r in records]
        self.index = {r: i for i, r in enumerate(records)}
        # a value's records and their copies, built once: the same pairs under every model
        self.pairs = [_pairs(ctx, f["places"]) if f["status"] == "marked" else None for f in self.found]
        self.figures: dict[str, list[dict[str, Any] | None]] = {}

    def measure(self, name: str, model: nn.Module) -> None:
        """Every marked value's figures under `model`, kept as `name` ("before", "after", "reference")."""
        if not self.subset:
            self.figures[name] = [None] * len(self.found)
            return
        got = _measure(self.ctx, self.subset, model)
        cfg = dataclasses.replace(self.ctx.cfg, exposure_spans=sum(map(len, self.keep.values())))
        rows = value_exposure(
            {name: model}, self.ctx.tokenizer, self.ctx.kind, self.subset, cfg, candidates_for(self.ctx), progress=False
        )[name]
        got["exposure"] = {(r["record"], r["span"]): r for r in rows}
        figures: list[dict[str, Any] | None] = []
        for f, pairs in zip(self.found, self.pairs):
            if pairs is None:
                figures.append(None)
                continue
            row = _value(got, [(self.index[r], self.keep[r].index(j)) for r, j in f["places"]])
            score = paired_score(self.ctx, pairs, model)
            if score is not None:
                row["paired_score"] = score
            figures.append(row)
        self.figures[name] = figures

    def result(self) -> dict[str, Any]:
        """The erasure block of an audit: every requested value under each model measured, and its verdict."""
        values = []
        for i, f in enumerate(self.found):
            row: dict[str, Any] = {
                "value_hash": value_hash(f["request"].value),
                "labels": f["labels"],
                "status": f["status"],
                "records": len({r for r, _ in f["places"]}),
                "places": len(f["places"]),
            }
            row.update({name: figs[i] for name, figs in self.figures.items() if figs[i] is not None})
            row["verdict"] = verdict(row, has_reference="reference" in self.figures)
            values.append(row)
        out = {"values": values, "models": list(self.figures), "note": hash_note()}
        out["summary"] = dict(Counter(r["verdict"] for r in values))
        return out


def _measure(ctx: Context, subset: list[Encoded], model: nn.Module) -> dict[str, Any]:
    """Under `model`: per (record, span) of `subset`, whether it came back (any greedy context, any sample)."""
    sub = dataclasses.replace(
        ctx, model=model, encoded=subset, reference=None, holdout=None, canaries=None, progress=False
    )
    back = {}
    for it in measure("regurgitation", sub).items:
        sampled = any(v for k, v in it.items() if k.startswith("sampled_") and not k.endswith("_partial"))
        back[(it["record"], it["span"])] = (came_back(ctx, it), sampled)
    return {"back": back, "sampled": bool(ctx.cfg.samples) and not ctx.kind.fills_in}


def _pairs(ctx: Context, places: list[tuple[int, int]]) -> tuple[list[Encoded], list[Encoded]]:
    """The records a value occurs in, with only its own spans sensitive, and each one's copy with a candidate
    in its place (the paired test's pairs, `membership.paired_records`)."""
    spans: dict[int, list[int]] = {}
    for r, j in places:
        spans.setdefault(r, []).append(j)
    own = [keep_spans(ctx.encoded[r], js) for r, js in sorted(spans.items())]
    index, copies = paired_records(own, ctx.tokenizer, candidates_for(ctx), ctx.cfg.seed)
    return [own[i] for i in index], copies


def paired_score(ctx: Context, pairs: tuple[list[Encoded], list[Encoded]], model: nn.Module) -> float | None:
    """The mean over a value's records of its tokens' mean log-likelihood minus that of the candidate that
    takes its place in the record's copy."""
    scores = []
    for encs in pairs:
        stats = token_stats(model, ctx.tokenizer, ctx.kind, encs, progress=False, sensitive_only=True)
        scores.append(column(scores_of(stats, encs, ctx.tokenizer, "sensitive", 0.2), "loss"))
    diffs = [a - b for a, b in zip(*scores) if not (math.isnan(a) or math.isnan(b))]
    return round(sum(diffs) / len(diffs), 4) if diffs else None


def _value(got: dict[str, Any], at: list[tuple[int, int]]) -> dict[str, Any]:
    """One value's figures under one model, over its places `at` (record in the subset, span)."""
    back = [got["back"].get(k, (False, False)) for k in at]
    ranks = [got["exposure"][k] for k in at if k in got["exposure"]]
    out: dict[str, Any] = {"greedy": any(g for g, _ in back), "places_back": sum(g or s for g, s in back)}
    if got["sampled"]:
        out["sampled"] = any(s for _, s in back)
    if ranks:
        out["exposure"] = round(sum(r["exposure"] for r in ranks) / len(ranks), 3)
        out["chance"] = round(sum(chance(r["candidates"]) for r in ranks) / len(ranks), 3)
        out["ranked_first"] = sum(r["rank"] == 1 for r in ranks)
        out["candidates"] = min(r["candidates"] for r in ranks)
    return out


def verdict(row: dict[str, Any], has_reference: bool) -> str:
    """The rule (docs/audit.md): "not sanitized: not marked in the corpus" or "not in the corpus" when no
    span holds it; fail when the audited model gives it back in any place (greedy or a sample) and the
    reference does not, or ranks it first among its candidates in every place while the reference does
    not; inconclusive when its mean exposure is more than `MARGIN_BITS` above the reference's (no
    reference: above chance); else pass."""
    if row["status"] != "marked":
        return "not sanitized: not marked in the corpus" if row["status"] == "not marked" else "not in the corpus"
    after, ref = row.get("after", {}), row.get("reference", {}) if has_reference else {}
    said = after.get("greedy") or after.get("sampled")
    if said and not (ref.get("greedy") or ref.get("sampled")):
        return "fail"
    first = after.get("ranked_first", 0) == row["places"] and row["places"] > 0
    if first and not ref.get("ranked_first", 0) == row["places"]:
        return "fail"
    if "exposure" in after:
        base = ref["exposure"] if "exposure" in ref else after["chance"]
        if after["exposure"] - base > MARGIN_BITS:
            return "inconclusive"
    return "pass"
