"""What the Python API reads from its caller before any model is loaded: the span finders for the corpus and
the holdout, and the model kind and probe task asked for."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from .errors import SaniError
from .models.kinds import TASKS
from .spans.finder import SpanFinder

log = logging.getLogger(__name__)


def finders(terms: str | Path | Sequence[str] | None, spans: SpanFinder | None) -> tuple[SpanFinder, SpanFinder]:
    """The finder for the training corpus, and one for the holdout (the same, without the term list, which
    need not occur there)."""
    finder = spans or SpanFinder()
    if terms is not None:
        finder = dataclasses.replace(finder, terms=str(terms) if isinstance(terms, Path) else terms)
    return finder, dataclasses.replace(finder, terms=None)


def task_and_probe(task: str | Path | None, probe: str | Path | None) -> tuple[str | None, str | Path | None]:
    """`task` is the model's kind (causal-lm, masked-lm); a file given as `task` is the probe task of
    earlier versions, still accepted."""
    if task is None or str(task) in TASKS:
        return (str(task) if task is not None else None), probe
    if Path(task).is_file() and probe is None:
        log.warning(
            "--task FILE is now --probe FILE (labelled task for the linear probe); --task is causal-lm or masked-lm"
        )
        return None, task
    raise SaniError(f"task={str(task)!r}: choose {' or '.join(TASKS)} (a labelled probe task goes in --probe)")
