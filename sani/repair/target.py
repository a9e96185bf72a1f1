"""An audit-driven stop for the repair: measure during training and stop as soon as a target holds, so the
repair runs as long as this model and corpus need, and no longer.

After each epoch (or every `eval_steps` steps), each metric of the target is checked in turn, the cheap ones
first: greedy regurgitation on a sample of records, then on every record (a guarantee for the whole corpus);
membership (|AUC - AUC_ref| of the paired test, `sani.audit.rule`, AUC_ref 0.5) and value exposure (mean
bits) on the stop's own part of the records, which the audit after the repair does not report on (a stop
measured on the records it reports would grade itself). When every metric holds, utility (perplexity on the
stop's half of the holdout, else on its records) is measured and the weights are kept if they are the best so
far; the report's perplexity comes from the other half (`split`). Training stops once `patience` further
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

from ..audit.blocks import Membership, Regurgitation, Split, ValueExposure
from ..audit.common import Context, measure
from ..config import TARGET_METRICS, AuditConfig, parse_target
from ..errors import SaniError
from ..files import atomic_open
from ..models.kinds import Kind
from ..scale import dist
from ..spans.data import Encoded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    limits: dict[str, float]  # metric -> largest value that meets the target, in the order checked

    @classmethod
    def parse(cls, spec: str) -> Target:
        got = parse_target(spec)
        return cls({m: got[m] for m in TARGET_METRICS if m in got})

    def __str__(self) -> str:
        return ",".join(f"{m}<={v:g}" for m, v in self.limits.items())

    @property
    def on_records(self) -> bool:
        """Whether a metric is measured on records the audit then leaves out."""
        return any(m in self.limits for m in ("membership", "value_exposure"))


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
        kind: Kind,
        checked: Sequence[Encoded] = (),
        audit: AuditConfig | None = None,
    ):
        """`checked`: the stop's part of the records (`split`), where membership and value exposure are
        measured as `audit` says (sizes of the value exposure sample); `holdout`: the stop's half."""
        if patience < 0:
            raise SaniError(f"target_patience={patience}: must be >= 0")
        if target.on_records and len(checked) < 2:
            raise SaniError(
                f"target={target}: membership and value exposure need at least 4 records with values, "
                "2 on each side of a split by value"
            )
        self.tokenizer, self.encoded, self.target, self.holdout = tokenizer, list(encoded), target, holdout
        self.checked, self.audit = list(checked), audit or AuditConfig(paired_records=0)
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

    def _measure(self, name: str, model: Any, encoded: Sequence[Encoded], cfg: AuditConfig | None = None) -> Any:
        cfg = cfg or AuditConfig(contexts="full", samples=0, extraction=False)  # greedy from the full prefix, seed 0
        return measure(name, Context(model, self.tokenizer, self.kind, encoded, cfg, progress=False)).summary

    def _rate(self, model: Any, encoded: Sequence[Encoded]) -> float:
        rate = Regurgitation(self._measure("regurgitation", model, encoded)).greedy.rate
        return 0.0 if rate is None else rate

    def _regurgitation(self, point: dict[str, Any], model: Any) -> bool:
        """Greedy regurgitation on the sample, then (when it meets the limit) on every record."""
        limit = self.target.limits["regurgitation"]
        point["sample_regurgitation"] = self._rate(model, self.sample)
        if point["sample_regurgitation"] > limit:
            return False
        whole = self.sample is self.encoded
        point["regurgitation"] = point["sample_regurgitation"] if whole else self._rate(model, self.encoded)
        return point["regurgitation"] <= limit

    def _on_records(self, point: dict[str, Any], model: Any) -> bool:
        """Membership (|AUC - AUC_ref| of the paired test) and value exposure, on the stop's records."""
        for metric, name in (("membership", "paired_membership"), ("value_exposure", "value_exposure")):
            if metric not in self.target.limits:
                continue
            got = self._measure(name, model, self.checked, self.audit)
            if metric == "membership":
                rule = (Membership.of(got) or Membership({})).rule
                value = abs(rule.difference) if rule else None
            else:
                value = (ValueExposure.of(got) or ValueExposure({})).mean
            point[metric] = None if value is None else round(value, 4)
            if value is None or value > self.target.limits[metric]:
                return False
        return True

    def _check(self, state: Any, control: Any, model: Any) -> None:
        from safetensors.torch import save_file

        was_training = model.training
        model.eval()
        point: dict[str, Any] = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 3)}
        improved = False
        if ("regurgitation" not in self.target.limits or self._regurgitation(point, model)) and self._on_records(
            point, model
        ):
            where = self.holdout or self.checked or self.encoded
            point["perplexity"] = Split(self._measure("perplexity", model, where)).perplexity
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
            "target": str(self.target),
            "target_met": self.met,
            "kept": None if self.best is None else {k: self.best[k] for k in ("step", "epoch")},
            "trajectory": self.trajectory,
        }
