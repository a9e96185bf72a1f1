"""Membership inference: can an attacker tell the records the model was trained on (and their sensitive
values) from similar records it never saw?

Scores, higher meaning "more likely a member":
- loss (Yeom et al. 2018): minus the mean token NLL;
- zlib (Carlini et al. 2021, "Extracting Training Data"): minus the ratio of the mean token NLL to the zlib
  entropy (bytes of the zlib-compressed text that was scored), as in their code and mimir; on the sensitive
  tokens, the mean NLL of those tokens over the same record's compressed size (sani's own: no reference);
- min_k (Shi et al. 2024, "Detecting Pretraining Data", Min-K% Prob): mean of the lowest k% token log-probs;
- min_k_pp (Zhang et al. 2024, Min-K%++): the same on log-probs standardised by the mean and standard
  deviation of the log-probs under the model's own next-token distribution at that position;
- ref (Carlini et al. 2021; Mireshghallah et al. 2022): NLL under a reference model minus NLL under this one.
Each gets a ROC AUC between members (training records holding sensitive spans) and non-members (the
holdout), on whole records and on the sensitive tokens only; privleak (Shi et al. 2024, MUSE) compares an
AUC to a reference AUC (0.5, a model that never saw the records, when none is measured).
"""

from __future__ import annotations

import dataclasses
import math
import random
import zlib
from collections.abc import Sequence
from typing import Any

from torch import nn

from ..candidates import Candidates
from ..data import Encoded, Record, Span, encode
from ..kinds import Kind
from .common import Context, MetricResult, candidates_for, register, token_stats, value_clusters
from .rule import auc as rule_auc
from .rule import judge

SCORES = ("loss", "zlib", "min_k", "min_k_pp")
MIN_JUDGED = 30  # distinct values a side before a label's membership is judged on its own


def _min_k(values: list[float], k: float) -> float:
    if not values:
        return float("nan")
    n = max(1, int(len(values) * k))
    return sum(sorted(values)[:n]) / n


def record_scores(
    stats: dict[str, list[float]], text: str, keep: list[bool] | None, k: float = 0.2
) -> dict[str, float]:
    """The membership scores of one record, over the positions in `keep` (all when None); `text` is what was
    scored (the record, or its part within the model's window)."""
    idx = [i for i in range(len(stats["logp"])) if (keep is None or keep[i]) and stats["logp"][i] == stats["logp"][i]]
    if not idx:
        return {}
    logp = [stats["logp"][i] for i in idx]
    std = [(stats["logp"][i] - stats["mu"][i]) / stats["sigma"][i] for i in idx]
    nll = -sum(logp) / len(logp)
    return {
        "loss": -nll,
        "zlib": -nll / max(1, len(zlib.compress(text.encode("utf-8")))),
        "min_k": _min_k(logp, k),
        "min_k_pp": _min_k(std, k),
    }


def scored_text(tokenizer: Any, enc: Encoded, predicted: int) -> str:
    """The text whose tokens were scored (`predicted` tokens after the first): the record, or, where only its
    first window was (a masked LM's record longer than the window), the decoded part (what zlib compresses)."""
    if predicted + 1 >= len(enc.input_ids):
        return enc.record.text
    return tokenizer.decode(enc.input_ids[: predicted + 1], skip_special_tokens=True)


def auc(members: Sequence[float], nonmembers: Sequence[float]) -> float | None:
    """ROC AUC = P(member score > non-member score) (ties count half) of the scores that are numbers
    (`rule.auc`); None when a side has none."""
    m = [x for x in members if not math.isnan(x)]
    n = [x for x in nonmembers if not math.isnan(x)]
    return rule_auc(m, n) if m and n else None


def roc_points(members: Sequence[float], nonmembers: Sequence[float], points: int = 51) -> list[tuple[float, float]]:
    """(false positive rate, true positive rate) at evenly spaced thresholds: enough to draw the curve."""
    allv = sorted(set(members) | set(nonmembers), reverse=True)
    if not allv:
        return []
    step = max(1, len(allv) // points)
    pts = [(0.0, 0.0)]
    for thr in allv[::step] + [allv[-1]]:
        pts.append(
            (
                round(sum(x >= thr for x in nonmembers) / len(nonmembers), 4),
                round(sum(x >= thr for x in members) / len(members), 4),
            )
        )
    pts.append((1.0, 1.0))
    return sorted(set(pts))


def privleak(auc_value: float | None, auc_ref: float = 0.5) -> float | None:
    """((1 - AUC) - (1 - AUC_ref)) / (1 - AUC_ref) * 100: 0 = as private as the reference, negative = leaks."""
    if auc_value is None or auc_ref >= 1:
        return None
    return round(((1 - auc_value) - (1 - auc_ref)) / (1 - auc_ref) * 100, 2)


def _scores(
    stats: list[dict[str, list[float]]], encs: Sequence[Encoded], tokenizer: Any, scope: str, k: float
) -> list[dict[str, float]]:
    """Each record's scores over its whole text ("record") or its sensitive tokens ("sensitive")."""
    out = []
    for st, enc in zip(stats, encs):
        keep = None if scope == "record" else enc.sensitive[1 : len(st["logp"]) + 1]
        out.append(record_scores(st, scored_text(tokenizer, enc, len(st["logp"])), keep, k))
    return out


def _column(rows: list[dict[str, float]], name: str) -> list[float]:
    return [r.get(name, float("nan")) for r in rows]


def membership(
    model: nn.Module,
    tokenizer: Any,
    kind: Kind,
    members: Sequence[Encoded],
    nonmembers: Sequence[Encoded],
    *,
    reference: nn.Module | None = None,
    reference_name: str | None = None,
    k: float = 0.2,
    auc_ref: float = 0.5,
    margin: float = 0.05,
    resamples: int = 1000,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """AUC and privleak of each score, on whole records and on sensitive tokens only, against a holdout; the
    membership rule (`rule.judge`) on the sensitive tokens' loss, and on each label's own (`by_label`)."""
    member_index = [i for i, e in enumerate(members) if any(e.sensitive)]
    members = [members[i] for i in member_index]
    groups = {"members": members, "nonmembers": list(nonmembers)}
    stats = {g: token_stats(model, tokenizer, kind, encs, progress=progress) for g, encs in groups.items()}
    ref_stats = None if reference is None else {
        g: token_stats(reference, tokenizer, kind, encs, progress=progress) for g, encs in groups.items()}  # fmt: skip
    result: dict[str, Any] = {"members": len(members), "nonmembers": len(nonmembers), "k": k, "auc_ref": auc_ref}
    per_record: list[dict[str, Any]] = [{"index": i} for i in member_index]  # i: the record's index in the corpus
    for scope in ("record", "sensitive"):
        scores = {g: _scores(stats[g], encs, tokenizer, scope, k) for g, encs in groups.items()}
        ref = {g: _scores(ref_stats[g], encs, tokenizer, scope, k) for g, encs in groups.items()} if ref_stats else None
        for g in groups if ref else ():
            for s, r in zip(scores[g], ref[g]):
                if s:
                    s["ref"] = s["loss"] - r["loss"]
        for row, s in zip(per_record, scores["members"]):
            row[scope] = {name: round(v, 4) for name, v in s.items()}
        names = sorted({n for s in scores["members"] for n in s}, key=lambda n: (n not in SCORES, n))
        block = {}
        for name in names:
            mem, non = _column(scores["members"], name), _column(scores["nonmembers"], name)
            a = auc(mem, non)
            block[name] = {"auc": _round(a), "privleak": privleak(a, auc_ref)}
            if name == "loss":
                block[name]["roc"] = roc_points([x for x in mem if x == x], [x for x in non if x == x])
        result[scope] = block
    loss = {g: _column(rows, "loss") for g, rows in scores.items()}  # the sensitive scope's, the last above
    ref_loss = {g: _column(rows, "loss") for g, rows in ref.items()} if ref else None
    rule = {"reference_name": reference_name or "no reference model", "margin": margin, "resamples": resamples,
            "seed": seed}  # fmt: skip
    result["rule"] = judge(
        loss["members"], loss["nonmembers"], paired=False,
        reference=(ref_loss["members"], ref_loss["nonmembers"]) if ref_loss else None,
        clusters=(value_clusters(members), value_clusters(groups["nonmembers"])), **rule,
    )  # fmt: skip
    result["by_label"] = by_label((stats["members"], members), (stats["nonmembers"], groups["nonmembers"]),
                                  (ref_stats["members"], ref_stats["nonmembers"]) if ref_stats else None, **rule)  # fmt: skip
    result["member_scores"] = per_record  # per training record (index in the corpus), for drill-down
    return result


def label_losses(stats: list[dict[str, list[float]]], encs: Sequence[Encoded]) -> list[dict[str, float]]:
    """Per record, per label it holds: minus the mean NLL of that label's tokens (the loss score of one label,
    so that labels whose errors have opposite signs are never averaged together)."""
    out = []
    for st, enc in zip(stats, encs):
        by: dict[str, list[float]] = {}
        for i, lp in enumerate(st["logp"]):
            s = enc.span_of_token[i + 1] if i + 1 < len(enc.span_of_token) else -1
            if s >= 0 and lp == lp:
                by.setdefault(enc.record.spans[s].label, []).append(lp)
        out.append({label: sum(v) / len(v) for label, v in by.items()})
    return out


def by_label(
    members: tuple[list[dict[str, list[float]]], Sequence[Encoded]],
    nonmembers: tuple[list[dict[str, list[float]]], Sequence[Encoded]],
    reference: tuple[list[dict[str, list[float]]], list[dict[str, list[float]]]] | None = None,
    paired: bool = False,
    **rule: Any,
) -> dict[str, dict[str, Any]]:
    """Per label: the loss score's AUC on that label's tokens, training records against held-out ones (or,
    `paired`, against each record's own copy with its values replaced), how many records and distinct values
    each side has, and, with at least `MIN_JUDGED` distinct values a side, the membership rule on that label
    (`rule.judge`: against the reference model's AUC on the same records, else 0.5; both sides count).
    Labels with fewer values are "not judged": their AUC is too noisy."""
    (mem_stats, mem), (non_stats, non) = members, nonmembers
    scores = [label_losses(mem_stats, mem), label_losses(non_stats, non)]
    refs = [label_losses(reference[0], mem), label_losses(reference[1], non)] if reference else None
    out = {}
    for label in sorted({k for r in scores[0] for k in r} & {k for r in scores[1] for k in r}):
        keep = [[i for i, r in enumerate(side) if label in r] for side in scores]
        m, n = ([scores[s][i][label] for i in keep[s]] for s in (0, 1))
        values = [len({e.record.value(s) for e in encs for s in e.record.spans if s.label == label})
                  for encs in (mem, non)]  # fmt: skip
        row: dict[str, Any] = {"auc": _round(auc(m, n)), "members": len(m), "nonmembers": len(n),
                               "member_values": values[0], "nonmember_values": values[1]}  # fmt: skip
        if min(values) >= MIN_JUDGED:
            ref = tuple([refs[s][i].get(label, math.nan) for i in keep[s]] for s in (0, 1)) if refs else None
            clusters = (value_clusters([mem[i] for i in keep[0]]), value_clusters([non[i] for i in keep[1]]))
            clusters = (clusters[0], clusters[0]) if paired else clusters  # a pair is resampled whole
            row["rule"] = judge(m, n, paired=paired, reference=ref, clusters=clusters, **rule)
        out[label] = row
    return out


def paired_records(
    encoded: Sequence[Encoded], tokenizer: Any, cands: Candidates, seed: int
) -> tuple[list[int], list[Encoded]]:
    """The indices of the records holding values, and each one's copy with every value replaced by
    a candidate of its label (the same value by the same candidate within a record): the paired test's
    non-members, which differ from the members only in whether the model saw the value."""
    index, copies = [], []
    for r, enc in enumerate(encoded):
        rec = enc.record
        if not rec.spans:
            continue
        swap: dict[str, str] = {}
        parts, spans, pos, length = [], [], 0, 0
        for sp in rec.spans:
            value = rec.value(sp)
            if value not in swap:
                got, _ = cands.for_value(sp.label, value, 1, seed=f"paired:{seed}:{rec.text}:{sp.start}")
                swap[value] = got[0] if got else value
            parts.append(rec.text[pos : sp.start])
            length += sp.start - pos
            spans.append(Span(length, length + len(swap[value]), sp.label, sp.source))
            parts.append(swap[value])
            length += len(swap[value])
            pos = sp.end
        parts.append(rec.text[pos:])
        index.append(r)
        copies.append(encode(tokenizer, Record("".join(parts), spans, rec.where)))
    return index, copies


def paired_membership(ctx: Context) -> dict[str, Any] | None:
    """Membership of the values without a holdout: each record holding values against its own copy with the
    values replaced by candidates; AUC of each score on the value tokens, and the membership rule."""
    cfg = ctx.cfg
    encoded = ctx.encoded
    if 0 < cfg.paired_records < len(encoded):  # a seeded sample; the indices stay the corpus's
        keep = set(random.Random(f"sani:audit:paired:{cfg.seed}").sample(range(len(encoded)), cfg.paired_records))
        encoded = [e if i in keep else dataclasses.replace(e, record=Record(e.record.text, [], e.record.where))
                   for i, e in enumerate(encoded)]  # fmt: skip
    index, copies = paired_records(encoded, ctx.tokenizer, candidates_for(ctx), cfg.seed)
    if len(index) < 2:
        return None
    groups = {"members": [ctx.encoded[i] for i in index], "nonmembers": copies}
    models = {"model": ctx.model, **({"reference": ctx.reference} if ctx.reference is not None else {})}
    loss: dict[str, dict[str, list[float]]] = {}
    stats: dict[str, dict[str, list]] = {}
    result: dict[str, Any] = {"pairs": len(index), "k": 0.2}
    for name, m in models.items():
        stats[name] = {g: token_stats(m, ctx.tokenizer, ctx.kind, encs, progress=ctx.progress, sensitive_only=True)
                       for g, encs in groups.items()}  # fmt: skip
        scores = {g: _scores(stats[name][g], encs, ctx.tokenizer, "sensitive", 0.2) for g, encs in groups.items()}
        loss[name] = {g: _column(rows, "loss") for g, rows in scores.items()}
        block = {
            s: {"auc": _round(auc(_column(scores["members"], s), _column(scores["nonmembers"], s)))} for s in SCORES
        }
        result["sensitive" if name == "model" else "reference_sensitive"] = block
    ref = loss.get("reference")
    clusters = value_clusters(groups["members"])
    result["rule"] = judge(
        loss["model"]["members"], loss["model"]["nonmembers"], paired=True,
        reference=(ref["members"], ref["nonmembers"]) if ref else None, clusters=(clusters, clusters),
        reference_name=ctx.reference_name or "no reference model", margin=cfg.membership_margin,
        resamples=cfg.bootstrap, seed=cfg.seed,
    )  # fmt: skip
    # per label, each on its own tokens: labels whose errors have opposite signs are never averaged together
    ref_stats = (stats["reference"]["members"], stats["reference"]["nonmembers"]) if ref else None
    result["by_label"] = by_label(
        (stats["model"]["members"], groups["members"]), (stats["model"]["nonmembers"], copies), ref_stats,
        paired=True, margin=cfg.membership_margin, resamples=cfg.bootstrap, seed=cfg.seed,
    )  # fmt: skip
    return result


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


@register("paired_membership")
def paired_membership_metric(ctx: Context) -> MetricResult | None:
    got = paired_membership(ctx) if ctx.cfg.paired_membership else None
    return None if got is None else MetricResult(got)


@register("membership")
def membership_metric(ctx: Context) -> MetricResult | None:
    if not ctx.holdout:
        return None
    cfg = ctx.cfg
    return MetricResult(
        membership(
            ctx.model,
            ctx.tokenizer,
            ctx.kind,
            ctx.encoded,
            ctx.holdout,
            reference=ctx.reference,
            reference_name=ctx.reference_name,
            margin=cfg.membership_margin,
            resamples=cfg.bootstrap,
            seed=cfg.seed,
            progress=ctx.progress,
        )  # fmt: skip
    )
