"""The repair's loss maths, as pure functions of logits and labels (tested on hand-computed cases).

`lm_loss` is what the model learns (label -100: not learnt); the forget terms act on the sensitive tokens
(`forget_labels`): unlikelihood (Welleck et al. 2020), maximum entropy (Yuan et al. 2024), gradient ascent
(Jang et al. 2023), NPO (Zhang et al. 2024) and calibration: each value's log-likelihood brought to that of
surrogate values of its kind in a record the model never saw (KGA's knowledge-gap alignment, Wang et al.
2023, at the level of one value; the reference is fixed before the repair, so it cannot run away). `shift`: a causal LM predicts the next token, a masked LM
the token at the same position.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .kinds import IGNORE


def _align(logits: torch.Tensor, labels: torch.Tensor, shift: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Causal LMs predict the next token (shift by one); masked LMs the token at the same position."""
    return (logits[:, :-1].float(), labels[:, 1:]) if shift else (logits.float(), labels)


def lm_loss(logits: torch.Tensor, labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Mean cross-entropy over positions whose label is not -100 (0 when there are none)."""
    logits, labels = _align(logits, labels, shift)
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=IGNORE, reduction="sum")
    return nll / (labels != IGNORE).sum().clamp(min=1)


def unlikelihood_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Mean of -log(1 - p(token)) over the positions holding a sensitive token (Welleck et al. 2020)."""
    logits, targets = _align(logits, forget_labels, shift)
    keep = targets != IGNORE
    if not keep.any():
        return logits.sum() * 0.0
    logp = torch.log_softmax(logits[keep], dim=-1).gather(-1, targets[keep].unsqueeze(-1)).squeeze(-1)
    # log(1 - p) computed stably from log p
    log1m_p = torch.log1p(-logp.exp().clamp(max=1 - 1e-6))
    return -log1m_p.mean()


def maxent_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Mean KL(uniform || p) at the positions holding a sensitive token: the prediction there is pushed to
    know nothing, for member and unseen values alike (maximum-entropy unlearning, Yuan et al. 2024)."""
    logits, targets = _align(logits, forget_labels, shift)
    keep = targets != IGNORE
    if not keep.any():
        return logits.sum() * 0.0
    logp = torch.log_softmax(logits[keep], dim=-1)
    return (-logp.mean(-1) - math.log(logp.size(-1))).mean()


def unlikelihood_maxent_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Both: the seen token pushed down (unlikelihood) and the whole prediction flattened (maxent)."""
    return unlikelihood_loss(logits, forget_labels, shift) + maxent_loss(logits, forget_labels, shift)


def ascent_loss(logits: torch.Tensor, forget_labels: torch.Tensor, shift: bool = True) -> torch.Tensor:
    """Minus the cross-entropy of the sensitive tokens: minimising it raises their loss without bound."""
    return -lm_loss(logits, forget_labels, shift)


def npo_loss(
    logits: torch.Tensor,
    forget_labels: torch.Tensor,
    shift: bool = True,
    *,
    ref_logits: torch.Tensor,
    beta: float = 0.1,
) -> torch.Tensor:
    """NPO per sensitive token: -(2/beta) * log sigmoid(-beta * (log p - log p_ref)). Bounded, unlike ascent:
    it stops pushing once a token is well below the reference's probability."""
    logits, targets = _align(logits, forget_labels, shift)
    ref, _ = _align(ref_logits, forget_labels, shift)
    keep = targets != IGNORE
    if not keep.any():
        return logits.sum() * 0.0
    t = targets[keep].unsqueeze(-1)
    ratio = torch.log_softmax(logits[keep], -1).gather(-1, t) - torch.log_softmax(ref[keep].float(), -1).gather(-1, t)
    return -(2.0 / beta) * F.logsigmoid(-beta * ratio).mean()


def value_logliks(
    logits: torch.Tensor, forget_labels: torch.Tensor, value_ids: torch.Tensor, n_values: int, shift: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row and value: the sum of log p over the value's tokens, and how many of its tokens were scored.
    `value_ids` numbers the values of each row (0, 1, ...; -1 elsewhere); shapes [batch, n_values]."""
    logits, targets = _align(logits, forget_labels, shift)
    ids = value_ids[:, 1:] if shift else value_ids
    keep = (targets != IGNORE) & (ids >= 0)
    logp = torch.log_softmax(logits, -1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
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
    beta: float = 0.1,
) -> torch.Tensor:
    """Mean over values of smooth-L1(gap, beta), gap = (log p(value) - target) / its token count: the value
    pulled to the target from both sides (more likely than an unseen value leaks membership; less likely
    leaks it too). `value_targets` [batch, n_values]: the target log-likelihood of each value (NaN: none)."""
    total, count = value_logliks(logits, forget_labels, value_ids, value_targets.size(1), shift)
    valid = (count > 0) & ~torch.isnan(value_targets)
    if not valid.any():
        return logits.sum() * 0.0
    gap = (total[valid] - value_targets[valid].float()) / count[valid]
    return F.smooth_l1_loss(gap, torch.zeros_like(gap), beta=beta)


def calibrated_unlikelihood_loss(
    logits: torch.Tensor,
    forget_labels: torch.Tensor,
    shift: bool = True,
    *,
    value_ids: torch.Tensor,
    value_targets: torch.Tensor,
) -> torch.Tensor:
    """`calibrated_loss` on the whole values, plus unlikelihood on the sensitive tokens outside them: a masked
    LM's values masked a token at a time, the rest of the value in view (the fill-in probe's question), which
    the whole-value calibration never asks."""
    alone = forget_labels.masked_fill(value_ids >= 0, IGNORE)  # both aligned with the input ids
    calibrated = calibrated_loss(logits, forget_labels, shift, value_ids=value_ids, value_targets=value_targets)
    return calibrated + unlikelihood_loss(logits, alone, shift)


FORGET_LOSSES = {
    "masked+unlikelihood": unlikelihood_loss,
    "masked+maxent": maxent_loss,
    "masked+unlikelihood+maxent": unlikelihood_maxent_loss,
    "ascent": ascent_loss,
    "masked+ascent": ascent_loss,
    "masked+npo": npo_loss,
    "masked+calibrated": calibrated_loss,
    "masked+calibrated+unlikelihood": calibrated_unlikelihood_loss,
}
NEEDS_REFERENCE = ("masked+npo",)
# these need each value's target (sani.calibrate) in the training windows
CALIBRATED = ("masked+calibrated", "masked+calibrated+unlikelihood")
