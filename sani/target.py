"""An audit-driven stop for the repair: measure regurgitation during training and stop as soon as a target
holds on the whole corpus, so the repair runs as long as this model and corpus need, and no longer.

After each epoch (or every `eval_steps` steps), greedy regurgitation is measured on a sample of records;
when the sample meets the target, on every record; when that meets it too, utility is measured, the
weights are kept, and training stops. The trajectory goes into `sanitization.json`.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from typing import Any, Sequence

from transformers import TrainerCallback

from .data import Encoded
from .errors import SaniError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    metric: str
    limit: float

    @classmethod
    def parse(cls, spec: str) -> "Target":
        m = re.fullmatch(r"\s*(regurgitation)\s*<=\s*([0-9]*\.?[0-9]+)\s*", spec or "")
        if not m or not 0 <= float(m.group(2)) <= 1:
            raise SaniError(f"target={spec!r}: expected regurgitation<=RATE with RATE between 0 and 1, e.g. regurgitation<=0.01")
        return cls(m.group(1), float(m.group(2)))


class AuditStop(TrainerCallback):
    """Stops the Trainer once greedy regurgitation meets the target on the whole corpus."""

    def __init__(self, tokenizer: Any, encoded: Sequence[Encoded], target: Target, *, holdout: Sequence[Encoded] | None = None,
                 sample: int = 200, eval_steps: int | None = None, seed: int = 0):
        self.tokenizer, self.encoded, self.target, self.holdout = tokenizer, list(encoded), target, holdout
        rng = random.Random(seed)
        self.sample = rng.sample(self.encoded, min(sample, len(self.encoded)))
        self.eval_steps = eval_steps
        self.trajectory: list[dict[str, Any]] = []
        self.met = False

    def _rate(self, model: Any, encoded: Sequence[Encoded]) -> float:
        from .metrics import regurgitation

        rate = regurgitation(model, self.tokenizer, encoded, progress=False)["greedy"]["rate"]
        return 0.0 if rate is None else rate

    def _check(self, state: Any, control: Any, model: Any) -> None:
        from .metrics import utility

        was_training = model.training
        model.eval()
        point: dict[str, Any] = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 3)}
        point["sample_regurgitation"] = self._rate(model, self.sample)
        if point["sample_regurgitation"] <= self.target.limit:
            point["regurgitation"] = self._rate(model, self.encoded)
            if point["regurgitation"] <= self.target.limit:
                u = utility(model, self.tokenizer, self.holdout or self.encoded, progress=False)
                point["perplexity"] = u["perplexity"]
                self.met = True
                control.should_training_stop = True
        self.trajectory.append(point)
        log.info("audit during repair: %s", point)
        if was_training:
            model.train()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.eval_steps and state.global_step % self.eval_steps == 0 and not self.met:
            self._check(state, control, model)

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        if not self.eval_steps and not self.met:
            self._check(state, control, model)
