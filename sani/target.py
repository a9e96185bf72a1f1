"""An audit-driven stop for the repair: measure regurgitation during training and stop as soon as a target
holds on the whole corpus, so the repair runs as long as this model and corpus need, and no longer.

After each epoch (or every `eval_steps` steps), greedy regurgitation is measured on a sample of records;
when the sample meets the target, on every record; when that meets it too, utility (holdout perplexity)
is measured and the weights are kept if they are the best so far. Training stops once `patience` further
checks bring no better utility (0: at the first check that meets the target), and the best weights that
met the target are restored: a repair that goes on after forgetting may keep losing utility, or regain
some. The trajectory goes into `sanitization.json`. With a work directory, the trajectory is kept there
after each check, so a run resumed from a checkpoint (`--resume`) carries on with the points measured
before the interruption (those after the checkpoint are measured again).
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from . import dist
from .audit import AuditResult
from .audit.common import Context, measure
from .config import AuditConfig, parse_target
from .data import Encoded
from .errors import SaniError
from .files import atomic_open
from .kinds import Kind, of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    metric: str
    limit: float

    @classmethod
    def parse(cls, spec: str) -> Target:
        return cls(*parse_target(spec))


class AuditStop(TrainerCallback):
    """Stops the Trainer once greedy regurgitation meets the target on the whole corpus and utility stops
    improving; restores the best weights that met it. `work_dir` holds them (a temporary directory if
    None), so no second copy of the model stays in memory."""

    def __init__(
        self,
        tokenizer: Any,
        encoded: Sequence[Encoded],
        target: Target,
        *,
        holdout: Sequence[Encoded] | None = None,
        sample: int = 200,
        eval_steps: int | None = None,
        patience: int = 1,
        work_dir: str | Path | None = None,
        seed: int = 0,
        kind: Kind | None = None,
    ):
        if patience < 0:
            raise SaniError(f"target_patience={patience}: must be >= 0")
        self.tokenizer, self.encoded, self.target, self.holdout = tokenizer, list(encoded), target, holdout
        rng = random.Random(seed)
        # a sample as large as the corpus is the corpus: measured once per check, not twice
        self.sample = self.encoded if sample >= len(self.encoded) else rng.sample(self.encoded, sample)
        self.eval_steps, self.patience, self.kind = eval_steps, patience, kind
        self._tmp = None if work_dir else tempfile.TemporaryDirectory(prefix="sani-best-")
        self.best_file = Path(work_dir or self._tmp.name) / "best.safetensors"
        self.state_file = Path(work_dir or self._tmp.name) / "target.json"
        self.trajectory: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None  # the trajectory point whose weights are in best_file
        self.since_best = 0
        self._started = False

    @property
    def met(self) -> bool:
        return self.best is not None

    def _measure(self, name: str, model: Any, encoded: Sequence[Encoded]) -> dict[str, Any]:
        cfg = AuditConfig(contexts="full", samples=0, extraction=False)  # greedy from the full prefix, seed 0
        return measure(
            name, Context(model, self.tokenizer, self.kind or of(model), encoded, cfg, progress=False)
        ).summary

    def _rate(self, model: Any, encoded: Sequence[Encoded]) -> float:
        rate = AuditResult({"regurgitation": self._measure("regurgitation", model, encoded)}).greedy_rate
        return 0.0 if rate is None else rate

    def _check(self, state: Any, control: Any, model: Any) -> None:
        from safetensors.torch import save_file

        was_training = model.training
        model.eval()
        point: dict[str, Any] = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 3)}
        point["sample_regurgitation"] = self._rate(model, self.sample)
        improved = False
        if point["sample_regurgitation"] <= self.target.limit:
            whole = self.sample is self.encoded
            point["regurgitation"] = point["sample_regurgitation"] if whole else self._rate(model, self.encoded)
            if point["regurgitation"] <= self.target.limit:
                point["perplexity"] = self._measure("perplexity", model, self.holdout or self.encoded)["perplexity"]
                improved = self.best is None or point["perplexity"] < self.best["perplexity"]
        if improved:
            if dist.is_main():  # one writer; the others read the same file at the end
                # the trained weights only: a LoRA model's frozen base is not copied
                save_file(
                    {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad},
                    str(self.best_file),
                    metadata={"step": str(point["step"])},
                )
            dist.barrier()
            self.best, self.since_best = point, 0
        elif self.met:
            self.since_best += 1
        if self.met and self.since_best >= self.patience:
            control.should_training_stop = True
        self.trajectory.append(point)
        self._save_state()
        log.info("audit during repair: %s", point)
        if was_training:
            model.train()

    def _save_state(self) -> None:
        if dist.is_main():
            with atomic_open(self.state_file) as f:
                json.dump({"trajectory": self.trajectory}, f)

    def _resume(self, step: int) -> None:
        """Carry on from a checkpoint at `step`: the points measured up to it, as they were."""
        try:
            saved = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return
        self.trajectory = [p for p in saved["trajectory"] if p["step"] <= step]
        # the kept point is the first with the lowest perplexity among those that met the target, as in _check
        met = [p for p in self.trajectory if "perplexity" in p]
        self.best = min(met, key=lambda p: p["perplexity"]) if met else None
        self.since_best = sum(1 for p in self.trajectory if self.best is not None and p["step"] > self.best["step"])
        if self.trajectory:
            log.info("resumed the target's trajectory: %d points up to step %d", len(self.trajectory), step)

    def on_epoch_begin(self, args, state, control, **kwargs):
        if not self._started:  # the first call comes after the Trainer has loaded a checkpoint's state
            self._started = True
            if state.global_step > 0:
                self._resume(state.global_step)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.eval_steps and state.global_step % self.eval_steps == 0:
            self._check(state, control, model)

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        if not self.eval_steps:
            self._check(state, control, model)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        """Back to the best weights that met the target, when training went on past them."""
        from safetensors.torch import load_file

        if self.best is not None and state.global_step != self.best["step"]:  # trained on past the kept point
            from safetensors import safe_open

            with safe_open(str(self.best_file), "pt") as f:
                saved_step = (f.metadata() or {}).get("step")
            if saved_step != str(self.best["step"]):
                raise SaniError(
                    f"{self.best_file}: holds the weights of step {saved_step}, not of the kept step "
                    f"{self.best['step']}; delete the work directory and start over"
                )
            state_dict = load_file(str(self.best_file))
            missing = set(state_dict) - {n for n, _ in model.named_parameters()}
            if missing:
                raise SaniError(f"{self.best_file}: holds weights the model does not have ({len(missing)})")
            model.load_state_dict(state_dict, strict=False)
            log.info(
                "restored the weights of step %s (best perplexity among those meeting the target)", self.best["step"]
            )
        for p in self.trajectory:
            p["kept"] = p is self.best

    def summary(self) -> dict[str, Any]:
        """What goes into the report: whether the target was met, the kept point and the trajectory."""
        return {
            "target": str(self.target.metric) + "<=" + str(self.target.limit),
            "target_met": self.met,
            "kept": None if self.best is None else {k: self.best[k] for k in ("step", "epoch")},
            "trajectory": self.trajectory,
        }
