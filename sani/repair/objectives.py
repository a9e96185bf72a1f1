"""The repair's objectives, each an object the rest of sani asks what the repair needs: which tokens are
learnt, which forget term acts on the sensitive tokens (the maths are `sani.repair.losses`), whether it compares
with a frozen copy of the model (NPO) and whether each value's target is scored first (`sani.repair.calibrate`).
The settings keep naming an objective by its string (`RepairConfig.objective`, whose choices are
`config.OBJECTIVES`); `objective(name)` turns that name into the object once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..config import OBJECTIVES as NAMES
from ..errors import SaniError
from . import losses

ForgetLoss = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class Objective:
    """What one objective asks of the repair; the defaults are the paper's `masked` (sensitive tokens never
    learnt, nothing pushes them out)."""

    name: str
    learn: bool = True  # the other tokens are learnt (False: only the forget term, gradient ascent alone)
    full: bool = False  # the sensitive tokens are learnt too (to build a memorizing model; the comparison)
    forget_loss: ForgetLoss | None = None  # the term on the sensitive tokens; None: there is none
    needs_reference: bool = False  # the forget term reads a frozen copy of the model before the repair
    calibrated: bool = False  # each value's target is scored before the repair and carried in its windows
    alone: bool = False  # a masked LM also masks a value's tokens one at a time, the rest of the value in view

    @property
    def forgets(self) -> bool:
        """Whether a forget term acts on the sensitive tokens (its weight counts, its collator masks them)."""
        return self.forget_loss is not None


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("full", full=True),
        Objective("masked"),
        Objective("masked+unlikelihood", forget_loss=losses.unlikelihood_loss),
        Objective("masked+maxent", forget_loss=losses.maxent_loss),
        Objective("masked+unlikelihood+maxent", forget_loss=losses.unlikelihood_maxent_loss),
        Objective("ascent", learn=False, forget_loss=losses.ascent_loss),
        Objective("masked+ascent", forget_loss=losses.ascent_loss),
        Objective("masked+npo", forget_loss=losses.npo_loss, needs_reference=True),
        Objective("masked+calibrated", forget_loss=losses.calibrated_loss, calibrated=True),
        Objective(
            "masked+calibrated+unlikelihood",
            forget_loss=losses.calibrated_unlikelihood_loss,
            calibrated=True,
            alone=True,
        ),
    )
}
if tuple(OBJECTIVES) != NAMES:  # the settings' choices name the same objectives, in the same order
    raise ImportError(f"sani.repair.objectives: {tuple(OBJECTIVES)} differ from config.OBJECTIVES {NAMES}")


def objective(name: str) -> Objective:
    """The objective called `name`: a setting's string made the object the repair asks (one line for any
    other name)."""
    if name not in OBJECTIVES:
        raise SaniError(f"objective={name!r}: choose one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]
