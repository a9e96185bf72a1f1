"""Membership inference: can an attacker tell the records the model was trained on (and their sensitive
values) from similar records it never saw? Each score (`sani.audit.scores`: loss, zlib, Min-K%, Min-K%++,
reference) gets a ROC AUC between members (training records holding sensitive spans) and non-members (the
holdout), on whole records and on the sensitive tokens only, with privleak (Shi et al. 2024, MUSE) and the
membership rule (`sani.audit.rule`); by label, and paired (each record against itself, values replaced).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from typing import Any

from torch import nn

from ..models.kinds import Kind
from ..spans.candidates import Candidates
from ..spans.data import Encoded, Record, Span, encode
from .common import Context, MetricResult, candidates_for, register, token_stats, value_clusters
from .rule import judge
from .scores import SCORES, auc, column, privleak, roc_points, scores_of

MIN_JUDGED = 30  # distinct values a side before a label's membership is judged on its own


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
    ref_stats = (
        None
        if reference is None
        else {g: token_stats(reference, tokenizer, kind, encs, progress=progress) for g, encs in groups.items()}
    )
    result: dict[str, Any] = {"members": len(members), "nonmembers": len(nonmembers), "k": k, "auc_ref": auc_ref}
    per_record: list[dict[str, Any]] = [{"index": i} for i in member_index]  # i: the record's index in the corpus
    for scope in ("record", "sensitive"):
        scores, ref = _scored(stats, ref_stats, groups, tokenizer, scope, k)
        for row, s in zip(per_record, scores["members"]):
            row[scope] = {name: round(v, 4) for name, v in s.items()}
        result[scope] = _aucs(scores, auc_ref)
    loss = {g: column(rows, "loss") for g, rows in scores.items()}  # the sensitive scope's, the last above
    ref_loss = {g: column(rows, "loss") for g, rows in ref.items()} if ref else None
    rule = {
        "reference_name": reference_name or "no reference model",
        "margin": margin,
        "resamples": resamples,
        "seed": seed,
    }
    result["rule"] = judge(
        loss["members"],
        loss["nonmembers"],
        paired=False,
        reference=(ref_loss["members"], ref_loss["nonmembers"]) if ref_loss else None,
        clusters=(value_clusters(members), value_clusters(groups["nonmembers"])),
        **rule,
    )
    result["by_label"] = by_label(
        (stats["members"], members),
        (stats["nonmembers"], groups["nonmembers"]),
        (ref_stats["members"], ref_stats["nonmembers"]) if ref_stats else None,
        **rule,
    )
    result["member_scores"] = per_record  # per training record (index in the corpus), for drill-down
    return result


def _scored(stats: dict, ref_stats: dict | None, groups: dict, tokenizer: Any, scope: str, k: float) -> tuple:
    """Each group's records' scores in `scope` ("record" or "sensitive"), with the reference's difference
    ("ref") when there is a reference, and the reference's own scores (None without one)."""
    scores = {g: scores_of(stats[g], encs, tokenizer, scope, k) for g, encs in groups.items()}
    ref = {g: scores_of(ref_stats[g], encs, tokenizer, scope, k) for g, encs in groups.items()} if ref_stats else None
    for g in groups if ref else ():
        for s, r in zip(scores[g], ref[g]):
            if s:
                s["ref"] = s["loss"] - r["loss"]
    return scores, ref


def _aucs(scores: dict[str, list[dict[str, float]]], auc_ref: float) -> dict[str, Any]:
    """Each score's AUC between members and non-members and its privleak; the loss's ROC points too."""
    names = sorted({n for s in scores["members"] for n in s}, key=lambda n: (n not in SCORES, n))
    block = {}
    for name in names:
        mem, non = column(scores["members"], name), column(scores["nonmembers"], name)
        a = auc(mem, non)
        block[name] = {"auc": _round(a), "privleak": privleak(a, auc_ref)}
        if name == "loss":
            block[name]["roc"] = roc_points([x for x in mem if x == x], [x for x in non if x == x])
    return block


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
        values = [
            len({e.record.value(s) for e in encs for s in e.record.spans if s.label == label}) for encs in (mem, non)
        ]
        row: dict[str, Any] = {
            "auc": _round(auc(m, n)),
            "members": len(m),
            "nonmembers": len(n),
            "member_values": values[0],
            "nonmember_values": values[1],
        }
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
        encoded = [
            e if i in keep else dataclasses.replace(e, record=Record(e.record.text, [], e.record.where))
            for i, e in enumerate(encoded)
        ]
    index, copies = paired_records(encoded, ctx.tokenizer, candidates_for(ctx), cfg.seed)
    if len(index) < 2:
        return None
    groups = {"members": [ctx.encoded[i] for i in index], "nonmembers": copies}
    models = {"model": ctx.model, **({"reference": ctx.reference} if ctx.reference is not None else {})}
    loss: dict[str, dict[str, list[float]]] = {}
    stats: dict[str, dict[str, list]] = {}
    result: dict[str, Any] = {"pairs": len(index), "k": 0.2}
    for name, m in models.items():
        stats[name] = {
            g: token_stats(m, ctx.tokenizer, ctx.kind, encs, progress=ctx.progress, sensitive_only=True)
            for g, encs in groups.items()
        }
        scores = {g: scores_of(stats[name][g], encs, ctx.tokenizer, "sensitive", 0.2) for g, encs in groups.items()}
        loss[name] = {g: column(rows, "loss") for g, rows in scores.items()}
        block = {s: {"auc": _round(auc(column(scores["members"], s), column(scores["nonmembers"], s)))} for s in SCORES}
        result["sensitive" if name == "model" else "reference_sensitive"] = block
    ref = loss.get("reference")
    clusters = value_clusters(groups["members"])
    result["rule"] = judge(
        loss["model"]["members"],
        loss["model"]["nonmembers"],
        paired=True,
        reference=(ref["members"], ref["nonmembers"]) if ref else None,
        clusters=(clusters, clusters),
        reference_name=ctx.reference_name or "no reference model",
        margin=cfg.membership_margin,
        resamples=cfg.bootstrap,
        seed=cfg.seed,
    )
    # per label, each on its own tokens: labels whose errors have opposite signs are never averaged together
    ref_stats = (stats["reference"]["members"], stats["reference"]["nonmembers"]) if ref else None
    result["by_label"] = by_label(
        (stats["model"]["members"], groups["members"]),
        (stats["model"]["nonmembers"], copies),
        ref_stats,
        paired=True,
        margin=cfg.membership_margin,
        resamples=cfg.bootstrap,
        seed=cfg.seed,
    )
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
        )
    )
