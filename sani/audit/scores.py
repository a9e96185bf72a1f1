"""Membership scores of a record, higher meaning "more likely a member":
- loss (Yeom et al. 2018): minus the mean token NLL;
- zlib (Carlini et al. 2021, "Extracting Training Data"): minus the ratio of the mean token NLL to the zlib
  entropy (bytes of the zlib-compressed text that was scored), as in their code and mimir; on the sensitive
  tokens, the mean NLL of those tokens over the same record's compressed size (sani's own: no reference);
- min_k (Shi et al. 2024, "Detecting Pretraining Data", Min-K% Prob): mean of the lowest k% token log-probs;
- min_k_pp (Zhang et al. 2024, Min-K%++): the same on log-probs standardised by the mean and standard
  deviation of the log-probs under the model's own next-token distribution at that position;
- ref (Carlini et al. 2021; Mireshghallah et al. 2022): NLL under a reference model minus NLL under this one.
And what compares members with non-members: ROC AUC and its points, privleak (Shi et al. 2024, MUSE).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import Any

from ..spans.data import Encoded
from .rule import auc as rule_auc

SCORES = ("loss", "zlib", "min_k", "min_k_pp")


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


def scores_of(
    stats: list[dict[str, list[float]]], encs: Sequence[Encoded], tokenizer: Any, scope: str, k: float
) -> list[dict[str, float]]:
    """Each record's scores over its whole text ("record") or its sensitive tokens ("sensitive")."""
    out = []
    for st, enc in zip(stats, encs):
        keep = None if scope == "record" else enc.sensitive[1 : len(st["logp"]) + 1]
        out.append(record_scores(st, scored_text(tokenizer, enc, len(st["logp"])), keep, k))
    return out


def column(rows: list[dict[str, float]], name: str) -> list[float]:
    return [r.get(name, float("nan")) for r in rows]
