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

from ..data import Encoded
from ..errors import SaniError
from ..privacy import value_hash
from .attack import came_back, keep_spans
from .common import Context, candidates_for, measure, token_stats
from .membership import _column, _scores, paired_records
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
            value, label = (row, None) if isinstance(row, str) else (
                (row.get("value"), row.get("label")) if isinstance(row, dict) else (None, None))  # fmt: skip
            if not isinstance(value, str) or not value.strip() or not (label is None or isinstance(label, str)):
                raise SaniError(f"{path}: entry {i}: expected a non-empty value (and a label, if any, as text)")
            out.append(Request(value.strip(), label))
    else:
        out = [Request(line.strip()) for line in text.splitlines() if line.strip()]
    if not out:
        raise SaniError(f"{path}: no values")
    return out


def record_values(encoded: Sequence[Encoded], n: int) -> list[Request]:
    """Every value of record `n` (its 1-based number in the corpus), with its label."""
    if not 1 <= n <= len(encoded):
        raise SaniError(f"--record {n}: the corpus has records 1 to {len(encoded)}")
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
        places = [(r, j) for r, e in enumerate(encoded) for j, s in enumerate(e.record.spans)
                  if e.record.value(s) == q.value and (q.label is None or s.label == q.label)]  # fmt: skip
        in_text = any(q.value in e.record.text for e in encoded)
        status = "marked" if places else "not marked" if in_text else "absent"
        labels = sorted({encoded[r].record.spans[j].label for r, j in places}) or ([q.label] if q.label else [])
        out.append({"request": q, "places": places, "status": status, "labels": labels})
    return out


def answer(ctx: Context, requests: Sequence[Request], models: dict[str, nn.Module]) -> dict[str, Any]:
    """The erasure block of an audit: every requested value under each of `models` ("after", "before",
    "reference"), and its verdict. `ctx` is the audit's (its corpus, settings and candidates)."""
    found = locate(ctx.encoded, requests)
    records = sorted({r for f in found for r, _ in f["places"]})
    keep = {r: sorted(j for f in found for rr, j in f["places"] if rr == r) for r in records}
    subset = [keep_spans(ctx.encoded[r], keep[r]) for r in records]
    per_model = {name: _measure(ctx, subset, m) for name, m in models.items()} if subset else {}
    if subset:
        cfg = dataclasses.replace(ctx.cfg, exposure_spans=sum(map(len, keep.values())))
        rows = value_exposure(models, ctx.tokenizer, ctx.kind, subset, cfg, candidates_for(ctx), progress=False)
        for name, rs in rows.items():
            per_model[name]["exposure"] = {(r["record"], r["span"]): r for r in rs}
    index = {r: i for i, r in enumerate(records)}
    values = []
    for f in found:
        q = f["request"]
        row: dict[str, Any] = {"value_hash": value_hash(q.value), "labels": f["labels"], "status": f["status"],
                               "records": len({r for r, _ in f["places"]}), "places": len(f["places"])}  # fmt: skip
        if f["status"] == "marked":
            at = [(index[r], keep[r].index(j)) for r, j in f["places"]]
            pairs = _pairs(ctx, f["places"])  # the same records and copies under every model
            for name, got in per_model.items():
                row[name] = _value(got, at)
                score = paired_score(ctx, pairs, models[name])
                if score is not None:
                    row[name]["paired_score"] = score
        row["verdict"] = verdict(row, has_reference="reference" in models)
        values.append(row)
    out = {"values": values, "models": list(models), "note": hash_note()}
    out["summary"] = dict(Counter(r["verdict"] for r in values))
    return out


def _measure(ctx: Context, subset: list[Encoded], model: nn.Module) -> dict[str, Any]:
    """Under `model`: per (record, span) of `subset`, whether it came back (any greedy context, any sample)."""
    sub = dataclasses.replace(ctx, model=model, encoded=subset, reference=None, holdout=None, canaries=None,
                              progress=False)  # fmt: skip
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
        scores.append(_column(_scores(stats, encs, ctx.tokenizer, "sensitive", 0.2), "loss"))
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
