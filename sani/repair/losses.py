"""The repair's loss maths, as pure functions of logits and labels (tested on hand-computed cases).

`lm_loss` is what the model learns (label -100: not learnt); the forget terms act on the sensitive tokens
(`forget_labels`): unlikelihood (Welleck et al. 2020), maximum entropy (Yuan et al. 2024), gradient ascent
(Jang et al. 2023), NPO (Zhang et al. 2024) and calibration: each value's log-likelihood brought to that of
surrogate values of its kind in a record the model never saw (KGA's knowledge-gap alignment, Wang et al.
2023, at the level of one value; the reference is fixed before the repair, so it cannot run away). `shift`: a
causal LM predicts the next token, a masked LM the token at the same position.

`repair_loss` is what the trainer minimises: the two terms from one log-softmax of the batch's logits, so a
forget term costs about nothing beside the plain loss (`benchmarks/gpu_check.py`). The forget terms take that
shared `logp` (each position's log-prob of its aligned target) instead of computing their own. Which term
an objective uses is `sani.repair.objectives`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..models.collators import IGNORE


def _next(t: torch.Tensor, fill: int) -> torch.Tensor:
    """Each position's label moved to the position that predicts it (a causal LM's next token; `fill` at the
    end). The labels move, not the logits: slicing the logits would copy a [batch, length, vocab] tensor."""
    return F.pad(t[:, 1:], (0, 1), value=fill)


def _align(labels: torch.Tensor, shift: bool) -> torch.Tensor:
    """Labels aligned with the logits: causal LMs predict the next token, masked LMs the token in place."""
    return _next(labels, IGNORE) if shift else labels


def _picked(
    logits: torch.Tensor, targets: torch.Tensor, logp: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(target) at the positions with a target, and those positions' mask: read from `logp` when the
    caller has it (`repair_loss`), else a log-softmax there only, in float32 (a forget term's tokens are a
    few of the batch's)."""
    keep = targets != IGNORE
    if logp is not None:
        return logp[keep], keep
    logp = torch.log_softmax(logits[keep].float(), dim=-1)
    return logp.gather(-1, targets[keep].unsqueeze(-1)).squeeze(-1), keep


def lm_loss(logits: torch.Tensor, labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Mean cross-entropy over positions whose label is not -100 (0 when there are none)."""
    labels = _align(labels, shift)
    nll = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE, reduction="sum")
    return nll / (labels != IGNORE).sum().clamp(min=1)


def unlikelihood_loss(
    logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True, *, logp: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of -log(1 - p(token)) over the positions holding a sensitive token (Welleck et al. 2020)."""
    logp, keep = _picked(logits, _align(forget_labels, shift), logp)
    if not keep.any():
        return logits.sum() * 0.0
    # log(1 - p) computed stably from log p
    log1m_p = torch.log1p(-logp.exp().clamp(max=1 - 1e-6))
    return -log1m_p.mean()


def maxent_loss(
    logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True, *, logp: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean KL(uniform || p) at the positions holding a sensitive token: the prediction there is pushed to
    know nothing, for member and unseen values alike (maximum-entropy unlearning, Yuan et al. 2024). It
    reads whole distributions, so a shared `logp` is no use to it."""
    keep = _align(forget_labels, shift) != IGNORE
    if not keep.any():
        return logits.sum() * 0.0
    logp = torch.log_softmax(logits[keep].float(), dim=-1)
    return (-logp.mean(-1) - math.log(logp.size(-1))).mean()


def unlikelihood_maxent_loss(
    logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True, *, logp: torch.Tensor | None = None
) -> torch.Tensor:
    """Both: the seen token pushed down (unlikelihood) and the whole prediction flattened (maxent)."""
    return unlikelihood_loss(logits, forget_labels, shift, logp=logp) + maxent_loss(logits, forget_labels, shift)


def ascent_loss(
    logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True, *, logp: torch.Tensor | None = None
) -> torch.Tensor:
    """Minus the cross-entropy of the sensitive tokens: minimising it raises their loss without bound."""
    picked, keep = _picked(logits, _align(forget_labels, shift), logp)
    return picked.sum() / keep.sum().clamp(min=1)


def npo_loss(
    logits: torch.Tensor,
    forget_labels: torch.Tensor,
    shift: bool = True,
    *,
    ref_logits: torch.Tensor,
    beta: float = 0.1,
    logp: torch.Tensor | None = None,
) -> torch.Tensor:
    """NPO per sensitive token: -(2/beta) * log sigmoid(-beta * (log p - log p_ref)). Bounded, unlike ascent:
    it stops pushing once a token is well below the reference's probability."""
    targets = _align(forget_labels, shift)
    picked, keep = _picked(logits, targets, logp)
    if not keep.any():
        return logits.sum() * 0.0
    ratio = picked - _picked(ref_logits, targets)[0]
    return -(2.0 / beta) * F.logsigmoid(-beta * ratio).mean()


def value_logliks(
    logits: torch.Tensor,
    forget_labels: torch.Tensor,
    value_ids: torch.Tensor,
    n_values: int,
    shift: bool = True,
    logp: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row and value: the sum of log p over the value's tokens, and how many of its tokens were scored.
    `value_ids` numbers the values of each row (0, 1, ...; -1 elsewhere); shapes [batch, n_values]."""
    ids = _next(value_ids, -1) if shift else value_ids
    targets = _align(forget_labels, shift).masked_fill(ids < 0, IGNORE)
    picked, keep = _picked(logits, targets, logp)
    logp = picked.new_zeros(keep.shape).masked_scatter(keep, picked)
    slot = torch.where(keep, ids, torch.full_like(ids, n_values))  # an extra slot collects what is not a value
    total = logp.new_zeros(logp.size(0), n_values + 1).scatter_add(1, slot, logp * keep)
    count = logp.new_zeros(logp.size(0), n_values + 1).scatter_add(1, slot, keep.float())
    return total[:, :n_values], count[:, :n_values]


def calibrated_loss(
    logits: torch.Tensor,
    forget_labels: torch.Tensor,
    shift: bool = True,
    *,
    value_ids: torch.Tensor,
    value_targets: torch.Tensor,
    value_offsets: torch.Tensor | None = None,
    beta: float = 0.1,
    logp: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over values of smooth-L1(gap, beta), gap = (log p(value) - target) / its token count - offset:
    the value pulled to the target from both sides (more likely than an unseen value leaks membership; less
    likely leaks it too). `value_targets` [batch, n_values]: the target log-likelihood of each value (NaN:
    none); `value_offsets` (same shape, optional): a per-token shift of each target, the level correction
    measured during the repair (`sani.repair.level`)."""
    total, count = value_logliks(logits, forget_labels, value_ids, value_targets.size(1), shift, logp)
    valid = (count > 0) & ~torch.isnan(value_targets)
    if not valid.any():
        return logits.sum() * 0.0
    gap = (total[valid] - value_targets[valid].float()) / count[valid]
    if value_offsets is not None:
        gap = gap - value_offsets[valid].float()
    return F.smooth_l1_loss(gap, torch.zeros_like(gap), beta=beta)


def calibrated_unlikelihood_loss(
    logits: torch.Tensor,
    forget_labels: torch.Tensor,
    shift: bool = True,
    *,
    value_ids: torch.Tensor,
    value_targets: torch.Tensor,
    value_offsets: torch.Tensor | None = None,
    logp: torch.Tensor | None = None,
) -> torch.Tensor:
    """`calibrated_loss` on the whole values, plus unlikelihood on the sensitive tokens outside them: a masked
    LM's values masked a token at a time, the rest of the value in view (the fill-in probe's question), which
    the whole-value calibration never asks."""
    alone = forget_labels.masked_fill(value_ids >= 0, IGNORE)  # both aligned with the input ids
    calibrated = calibrated_loss(
        logits,
        forget_labels,
        shift,
        value_ids=value_ids,
        value_targets=value_targets,
        value_offsets=value_offsets,
        logp=logp,
    )
    return calibrated + unlikelihood_loss(logits, alone, shift, logp=logp)


def repair_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    forget_labels: torch.Tensor | None = None,
    shift: bool = True,
    *,
    forget_loss=unlikelihood_loss,
    weight: float = 0.0,
    **kw: torch.Tensor,
) -> torch.Tensor:
    """`lm_loss(labels) + weight * forget_loss(forget_labels)`, the same number (tested), with the log-prob
    of every position's target (its label, else its forget label) from one log-softmax of the logits: the
    forget term's own would cost another pass over a [batch, length, vocab] tensor, forward and backward."""
    if not weight or forget_labels is None:
        return lm_loss(logits, labels, shift)
    learnt, forgot = _align(labels, shift), _align(forget_labels, shift)
    if ((learnt != IGNORE) & (forgot != IGNORE) & (learnt != forgot)).any():  # two targets at one place: apart
        return lm_loss(logits, labels, shift) + weight * forget_loss(logits, forget_labels, shift, **kw)
    target = torch.where(learnt != IGNORE, learnt, forgot)
    flat = F.cross_entropy(logits.flatten(0, 1).float(), target.flatten(), ignore_index=IGNORE, reduction="none")
    logp = -flat.view(target.shape)  # 0 where there is no target
    mask = learnt != IGNORE
    lm = -(logp * mask).sum() / mask.sum().clamp(min=1)
    return lm + weight * forget_loss(logits, forget_labels, shift, logp=logp, **kw)
