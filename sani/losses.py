"""The repair's loss maths, as pure functions of logits and labels (tested on hand-computed cases).

`lm_loss` is what the model learns (label -100: not learnt); the forget terms act on the sensitive tokens
(`forget_labels`): unlikelihood (Welleck et al. 2020), maximum entropy (Yuan et al. 2024), gradient ascent
(Jang et al. 2023) and NPO (Zhang et al. 2024). `shift`: a causal LM predicts the next token, a masked LM
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


FORGET_LOSSES = {
    "masked+unlikelihood": unlikelihood_loss,
    "masked+maxent": maxent_loss,
    "masked+unlikelihood+maxent": unlikelihood_maxent_loss,
    "ascent": ascent_loss,
    "masked+ascent": ascent_loss,
    "masked+npo": npo_loss,
}
NEEDS_REFERENCE = ("masked+npo",)
