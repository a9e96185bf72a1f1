"""Which records serve which purpose in one sanitization: the held-out values the calibrated repair aims at,
the records and holdout the stop measures, and the rest, which the audits report on.

Every split is by value (`audit.common.value_clusters`): records that share a value go to one side, so that
no value the repair trained towards is a non-member or a candidate of the audit, and no value the stop
measured is one the audit reports on (a yardstick the repair saw grades it by its own objective:
../shared/research/forgetting-vs-hiding.md). sanitization.json records the sizes (`summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..audit.common import split_by_value
from ..spans.data import Encoded
from . import level
from .objectives import objective

STOP_SHARE = 0.25  # of the records with values: the stop's part when the target measures membership
HELD_SHARE = 1 / 3  # of a holdout's records: the part whose values serve as the repair's surrogates
MIN_HELD_RECORDS = 6  # records with values a holdout needs before any of them serve as surrogates


@dataclass
class Parts:
    pool: list[tuple[str, str]] = field(default_factory=list)  # held-out (label, value): the repair's surrogates
    stop: list[Encoded] = field(default_factory=list)  # the stop's records
    stop_holdout: list[Encoded] | None = None  # the stop's holdout (its perplexity)
    audited: list[Encoded] = field(default_factory=list)  # what the audits report on
    audited_holdout: list[Encoded] | None = None
    held_records: int = 0  # holdout records whose values are in `pool`

    def summary(self) -> dict[str, int]:
        return {
            "checked_records": len(self.stop),
            "checked_holdout": len(self.stop_holdout or []),
            "reported_records": len(self.audited),
            "reported_holdout": len(self.audited_holdout or []),
            "surrogate_holdout": self.held_records,
        }


def held_pool(holdout: Sequence[Encoded] | None, seed: int) -> tuple[list[tuple[str, str]], list[Encoded] | None, int]:
    """(the surrogates' (label, value) pairs, the rest of the holdout, how many records gave them):
    `HELD_SHARE` of the holdout's records, by value, seeded; nothing from a holdout with fewer than
    `MIN_HELD_RECORDS` records with values."""
    if holdout is None or sum(1 for h in holdout if h.record.spans) < MIN_HELD_RECORDS:
        return [], None if holdout is None else list(holdout), 0
    rest, held = split_by_value(list(holdout), HELD_SHARE, f"sani:held:{seed}")
    return [(s.label, h.record.value(s)) for h in held for s in h.record.spans], rest, len(held)


def split(
    encoded: Sequence[Encoded], holdout: Sequence[Encoded] | None, on_records: bool, seed: int
) -> tuple[list[Encoded], list[Encoded], list[Encoded] | None, list[Encoded] | None]:
    """(stop's records, reported records, stop's holdout, reported holdout), by value, seeded: when the target
    measures on records (`on_records`: membership, value exposure), about STOP_SHARE of the records go to the
    stop (none when whole value groups cannot leave 2 on each side); half of a holdout of 2 or more records
    goes to the stop's perplexity."""
    enc, stop = list(encoded), []
    if on_records and sum(1 for e in enc if e.record.spans) >= 4:
        rest, picked = split_by_value(enc, STOP_SHARE, f"sani:target:{seed}")
        if sum(1 for e in picked if e.record.spans) >= 2 and sum(1 for e in rest if e.record.spans) >= 2:
            stop, enc = picked, rest
    if not holdout or len(holdout) < 2:
        return stop, enc, None, list(holdout) if holdout else None
    reported, half = split_by_value(list(holdout), 0.5, f"sani:target:holdout:{seed}")
    return stop, enc, half or None, reported


def assign(encoded: Sequence[Encoded], holdout: Sequence[Encoded] | None, cfg: Any) -> Parts:
    """The parts of one sanitization with settings `cfg`: the holdout's surrogate values first (a calibrated
    repair with `surrogate_source="holdout"`), then the stop's records and holdout (with a `target`, or a
    calibrated repair with `level="holdout"`, whose correction measures the same part: `sani.repair.level`)."""
    pool, held = [], 0
    if objective(cfg.objective).calibrated and cfg.surrogate_source == "holdout":
        pool, holdout, held = held_pool(holdout, cfg.seed)
    leveled = level.wanted(cfg)
    if not cfg.target and not leveled:
        return Parts(pool, [], None, list(encoded), holdout, held)
    from .target import Target

    on_records = leveled or Target.parse(cfg.target).on_records
    stop, audited, stop_hold, audited_hold = split(encoded, holdout, on_records, cfg.seed)
    return Parts(pool, stop, stop_hold, audited, audited_hold, held)
