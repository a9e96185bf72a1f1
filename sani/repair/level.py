"""The calibrated repair's level, corrected per label while it trains: each label's values brought to where
the model being repaired puts values of that label it never saw.

The targets `sani.repair.calibrate` scores before the repair are the levels of surrogates under the memorizing
model. How far that lands from an unseen value of the corpus's own kind depends on where the surrogates
come from and on the tokenizer: above the oracle on some labels, below it on others
(docs/benchmarks.md, "Per label, on corpora sani did not write"). With a holdout the gap can be measured
instead of assumed, in the same place: each record of the level part (trained on) beside `COPIES` copies
of it whose values are those of one held-out record (never seen; `paired`), the paired membership test's
comparison. At each check, per label, `gaps` takes the median over records of the label's values'
log-likelihood per token minus that of the copies' values, under the model as it is now, and the
label's targets move by a share of that gap, per token (`losses.calibrated_loss`'s `value_offsets`): an
integral controller per label, closed through the model itself. What was tried before and measured worse
(other records' mean instead of the record's copies, copies drawn label by label, no warm-up) is in
docs/method.md, "Level correction". The records and held-out values it reads are the stop's part
(`sani.repair.parts.split`), which the audits leave out: a correction measured on the records the audit
reports would grade itself.
"""

from __future__ import annotations

import json
import logging
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from ..errors import SaniError
from ..files import write_json
from ..models.kinds import Kind
from ..spans.data import Encoded, Record, encode
from .objectives import objective

log = logging.getLogger(__name__)

COPIES = 2  # copies of each record with held-out values, the level a record's values are brought to
GAIN = 0.5  # the share of a measured gap a check corrects: the model needs steps to follow its targets
MAX_SHIFT = 3.0  # nats a token: no label's target moves further than this from its surrogates' level
MIN_RECORDS = 5  # records a label needs before its gap is measured
STATE = "sani_level.json"  # in each repair checkpoint: the shifts and checks so far, for a resumed run


def per_token(kind: Kind, model: Any, tokenizer: Any, encoded: Sequence[Encoded]) -> list[dict[str, float]]:
    """Per record, per label: the mean log-likelihood per token of that label's values in it (the spans
    `Kind.span_logliks` can score; a label with none: absent)."""
    sums = kind.span_logliks(model, tokenizer, list(encoded), progress=False) if encoded else []
    out = []
    for enc, row in zip(encoded, sums):
        total: dict[str, list[float]] = {}
        for j, (span, x) in enumerate(zip(enc.record.spans, row)):
            n = enc.span_of_token.count(j)
            if n and not math.isnan(x):
                got = total.setdefault(span.label, [0.0, 0])
                got[0], got[1] = got[0] + x, got[1] + n
        out.append({label: x / n for label, (x, n) in total.items()})
    return out


def gaps(
    kind: Kind, model: Any, tokenizer: Any, members: Sequence[Encoded], copies: Sequence[Sequence[Encoded]]
) -> dict[str, float]:
    """Per label scored in at least `MIN_RECORDS` records: the median over records of its values'
    log-likelihood per token minus the mean of that in the record's `copies` (above 0: the values the
    model was trained on are more likely than unseen ones in the same place). Paired, so a record's own
    context cancels; a median, so a few odd records do not steer the level."""
    seen = per_token(kind, model, tokenizer, members)
    unseen = per_token(kind, model, tokenizer, [c for cs in copies for c in cs])
    diffs: dict[str, list[float]] = {}
    at = 0
    for own, cs in zip(seen, copies):
        theirs, at = unseen[at : at + len(cs)], at + len(cs)
        for label, x in own.items():
            ys = [t[label] for t in theirs if label in t]
            if ys:
                diffs.setdefault(label, []).append(x - sum(ys) / len(ys))
    return {label: statistics.median(d) for label, d in sorted(diffs.items()) if len(d) >= MIN_RECORDS}


def paired(tokenizer: Any, members: Sequence[Encoded], holdout: Sequence[Encoded], seed: int) -> list[list[Encoded]]:
    """Up to `COPIES` copies of each record of `members`, its values replaced by those of one held-out record
    (`transplant`), drawn among the held-out records that hold the most of the labels it holds (every one,
    where some do); none for a record without values or whose labels no held-out record holds. Values taken
    from one record keep what ties them to each other (an e-mail built from the name beside it), as the
    record's own do: values drawn label by label would break the tie in the copies only, and a model that
    learnt the tie, the oracle too, would find the record's own values likelier than the copies' without
    having seen them. A label no donor holds keeps the record's own values in its copies, the same on both
    sides of the gap (the bench's holdout lacks some of its corpus's labels)."""
    from .calibrate import counterfactual

    rng = random.Random(f"sani:level:{seed}")
    donors = [(h.record, {s.label for s in h.record.spans}) for h in holdout if h.record.spans]
    out = []
    for e in members:
        labels = {s.label for s in e.record.spans}
        most = max((len(labels & held) for _, held in donors), default=0)
        fits = [(d, held) for d, held in donors if most and len(labels & held) == most]
        copies = []
        for d, held in rng.sample(fits, min(COPIES, len(fits))):
            c = counterfactual(e.record, transplant(e.record, d))  # a label kept as it is is not scored in it
            copies.append(encode(tokenizer, Record(c.text, [s for s in c.spans if s.label in held], c.where)))
        out.append(copies)
    return out


def transplant(record: Record, donor: Record) -> list[str]:
    """For each span of `record`, the `donor`'s value of its label: the k-th distinct value of a label gets
    the donor's k-th (its last, when it holds fewer), and a value repeated in the record the same one; a
    label the donor lacks keeps the record's own value."""
    held: dict[str, list[str]] = {}
    for s in donor.spans:
        if donor.value(s) not in held.setdefault(s.label, []):
            held[s.label].append(donor.value(s))
    given: dict[tuple[str, str], str] = {}
    count: dict[str, int] = {}
    for s in record.spans:
        key = (s.label, record.value(s))
        if key not in given:
            k, theirs = count.get(s.label, 0), held.get(s.label)
            given[key] = theirs[min(k, len(theirs) - 1)] if theirs else key[1]
            count[s.label] = k + 1
    return [given[(s.label, record.value(s))] for s in record.spans]


def wanted(cfg: Any) -> bool:
    """Whether settings `cfg` ask for the correction: a calibrated repair with `level="holdout"`."""
    return objective(cfg.objective).calibrated and cfg.level == "holdout"


def resolve(cfg: Any, holdout: bool, kind: Kind) -> Any:
    """`cfg` with `level="auto"` made definite: "holdout" for a causal LM's calibrated repair given a holdout
    it reads whole (`holdout`: not streamed), else "fixed". Measured nearer the oracle per label on four
    corpora and tokenizers of five (docs/benchmarks.md, "The level correction"); masked LMs keep the fixed
    level until it is measured on them (issue 35)."""
    if cfg.level != "auto":
        return cfg
    on = objective(cfg.objective).calibrated and holdout and kind.corrects_level
    return replace(cfg, level="holdout" if on else "fixed")


def corrected(shift: float, gap: float) -> float:
    """A label's next per-token shift: a share (`GAIN`) of its measured gap taken off, within `MAX_SHIFT`."""
    return max(-MAX_SHIFT, min(MAX_SHIFT, shift - GAIN * gap))


class LevelCorrection(TrainerCallback):
    """Moves each label's calibrated targets, `checks` times an epoch, by the gap `gaps` measures between
    the level part's records and their copies with held-out values (`copies`); `shifts` is the tensor the
    trainer reads (`labels` indexes it as the windows' `value_labels` do: `repair.label_names`)."""

    def __init__(
        self,
        tokenizer: Any,
        kind: Kind,
        members: Sequence[Encoded],
        copies: Sequence[Sequence[Encoded]],
        labels: Sequence[str],
        checks: int = 4,
        warmup: float = 1.0,
    ):
        """`warmup`: epochs before the first correction. Until the fixed targets have pulled the values
        down, the gap measures memorization not yet removed, and correcting it would wind the shifts up
        past the level (measured: every label below its level mid-repair, not all back by the end)."""
        self.tokenizer, self.kind, self.members, self.copies = tokenizer, kind, list(members), list(copies)
        self.labels, self.checks, self.warmup = list(labels), checks, warmup
        self.shifts = torch.zeros(len(self.labels))
        self.every, self.start = 1, 0
        self.trajectory: list[dict[str, Any]] = []

    @classmethod
    def for_run(
        cls, cfg: Any, tokenizer: Any, kind: Kind, encoded: Sequence[Encoded], split: Any
    ) -> LevelCorrection | None:
        """The correction a sanitization with settings `cfg` runs (None unless a calibrated repair with
        `level="holdout"`), measured on the stop's part of `split` (`sani.repair.parts.Parts`)."""
        from .training import label_names

        if not wanted(cfg):
            return None
        if not split.stop or not split.stop_holdout:
            raise SaniError(
                "level='holdout': the corpus and --holdout need records with values on each side of a split by "
                f"value (got {len(split.stop)} records and {len(split.stop_holdout or [])} held out to measure on)"
            )
        return cls(
            tokenizer,
            kind,
            split.stop,
            paired(tokenizer, split.stop, split.stop_holdout, cfg.seed),
            label_names(encoded),
            cfg.level_checks,
            cfg.level_warmup,
        )

    def on_train_begin(self, args, state, control, **kwargs):
        per_epoch = state.max_steps / max(args.num_train_epochs, 1e-9)
        self.every = max(1, round(per_epoch / self.checks))
        self.start = min(round(self.warmup * per_epoch), state.max_steps - 1)
        if state.global_step:  # resumed: the shifts the checkpoint's weights were trained towards
            saved = Path(args.output_dir) / f"checkpoint-{state.global_step}" / STATE
            if saved.is_file():
                got = json.loads(saved.read_text())
                self.shifts[:] = torch.tensor([got["shift"].get(label, 0.0) for label in self.labels])
                self.trajectory = got["checks"]
            else:
                log.warning("%s: no level correction saved; the resumed repair starts its shifts at 0", saved.parent)

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir() and state.is_world_process_zero:
            state_now = {"shift": dict(zip(self.labels, map(float, self.shifts))), "checks": self.trajectory}
            write_json(state_now, folder / STATE)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every or not self.start <= state.global_step < state.max_steps:
            return  # during the warm-up, or at the last step, where a correction would train nothing
        was_training = model.training
        model.eval()
        with torch.no_grad():
            measured = gaps(self.kind, model, self.tokenizer, self.members, self.copies)
        for label, gap in measured.items():
            i = self.labels.index(label)
            self.shifts[i] = corrected(float(self.shifts[i]), gap)
        point = {
            "step": state.global_step,
            "gap": {k: round(v, 4) for k, v in measured.items()},
            "shift": {k: round(float(v), 4) for k, v in zip(self.labels, self.shifts)},
        }
        self.trajectory.append(point)
        log.info("level correction: %s", point)
        if was_training:
            model.train()

    def summary(self) -> dict[str, Any]:
        """What sanitization.json's "repair" says of it: the records it measured, each check's per-label gaps
        and the shifts they set (labels and nats a token, never a value)."""
        copies = sum(map(len, self.copies))
        return {"level": {"records": len(self.members), "copies": copies, "checks": self.trajectory}}
