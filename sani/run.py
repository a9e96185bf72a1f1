"""One sanitization's state, which the pipeline's stages (`sani.pipeline`) read and add to, and what its
`sanitization.json` holds: settings, fingerprints, the corpus's counts, timings and both audits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import machine
from .config import AuditConfig, SanitizeConfig
from .erase import neurons as erase
from .models import loading as models
from .repair import calibrate, parts
from .scale import corpus as corpora
from .scale import dist
from .spans import data
from .version import __version__


@dataclass
class Run:
    """What the stages of one sanitization read and add to."""

    model_path: str
    out: Path
    cfg: SanitizeConfig
    loaded: models.Loaded
    source: corpora.InMemory | corpora.Streamed
    encoded: list[data.Encoded]
    holdout: list[data.Encoded] | None
    probe: list[tuple[str, str]] | None
    work: Path
    selection: erase.Selection
    input_fingerprint: str
    progress: bool
    timings: dict[str, float] = field(default_factory=dict)
    examples: Any = None  # the repair's training windows
    output_fingerprint: str | None = None
    split: parts.Parts | None = None  # which records serve what: the stop's, the audits', the surrogates'
    audit: AuditConfig | None = None  # what sanitize's own audits measure (`pipeline.sanitize_audit`)


def sanitization_report(
    run: Run, train_stats: dict[str, Any], before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, Any]:
    """What `sanitization.json` holds: settings, fingerprints, the corpus's counts, timings and both audits."""
    cfg, m, enc = run.cfg, run.loaded.model, run.encoded
    adapter = run.loaded.adapter
    return {
        "sani_version": __version__,
        "config": cfg.to_dict(),
        "input_model": run.model_path,
        "task": run.loaded.kind.name,
        "input_fingerprint": run.input_fingerprint,
        "output_fingerprint": run.output_fingerprint,
        "processes": dist.world(),
        "corpus": {
            "records": run.source.total,
            "spans": run.source.total_spans,
            # streamed: token counts are the audited sample's
            "tokens": sum(len(e.input_ids) for e in enc),
            "sensitive_tokens": sum(sum(e.sensitive) for e in enc),
            **run.source.summary(run.examples),
        },
        "form": run.loaded.form,
        "erase": {
            "strategy": cfg.strategy,
            "scope": cfg.scope,
            "reset": "base (adapter update zeroed)" if adapter else cfg.reset,
            "layers": erase.selection_summary(run.selection, m),
        },
        "repair": {**train_stats, **_surrogates(run)},
        "audit_before": before,
        "audit_after": after,
        "timings": {k: round(v, 2) for k, v in run.timings.items()},
        "environment": machine.versions(),
    }


def _surrogates(run: Run) -> dict[str, Any]:
    pool, held = (run.split.pool, run.split.held_records) if run.split else ([], 0)
    return calibrate.surrogate_report(run.cfg, [e.record for e in run.encoded], pool, held)
