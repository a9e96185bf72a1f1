"""The Python API besides `sanitize` (`sani.pipeline`): `audit` a model directory, `find_spans` in a corpus,
`add_canaries` to a corpus. The CLI is a thin layer over these functions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import machine
from .audit import erasure, gate
from .audit.probe import read_probe
from .audit.results import AuditResult
from .audit.runner import run as audit_model
from .config import AuditConfig
from .errors import SaniError
from .files import write_json
from .inputs import finders, task_and_probe
from .models import loading as models
from .options import AuditRun, ErasureRequest, ModelInputs, take
from .scale import corpus as corpora
from .scale import dist
from .spans import canaries, data
from .spans.finder import SpanFinder
from .version import __version__

log = logging.getLogger(__name__)


@dist.reports_failures
def audit(
    model: str | Path,
    corpus: str | Path | Sequence[data.Record],
    out: str | Path | None = None,
    *,
    terms: str | Path | Sequence[str] | None = None,
    spans: SpanFinder | None = None,
    holdout: str | Path | Sequence[data.Record] | None = None,
    config: AuditConfig | None = None,
    progress: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """Audit the model in directory `model` against the sensitive spans of `corpus`; write JSON to `out`:
    regurgitation, extraction, utility, membership inference against `holdout`, canary exposure, the attacks.

    `settings`: `AuditConfig` fields (samples=0; `contexts` also as a list, None for the full prefix; or give
    `config`) and the run's, each a field of a command line dataclass (`sani.options`): `ModelInputs` (task,
    probe, allow_pickle, trust_remote_code), `AuditRun` (canaries, reference_model, thresholds, original) and
    `ErasureRequest` (values or record: answered under the model, `original` and the reference)."""
    inputs, job, request = take(settings, ModelInputs(model, corpus, holdout), AuditRun(), ErasureRequest())
    task, probe = task_and_probe(inputs.task, inputs.probe)
    cfg = _audit_config(config, settings)
    finder, hold_finder = finders(terms, spans)
    source = corpora.source(corpus, finder)
    hold_records = corpora.holdout_records(holdout, hold_finder)
    definition = canaries.read_definition(job.canaries) if job.canaries is not None else None
    probe_rows = read_probe(probe) if probe is not None else None
    cfg.validate()
    th = gate.read_thresholds(job.thresholds) if isinstance(job.thresholds, (str, Path)) else job.thresholds
    cfg = gate.one_margin(cfg, th)  # the rule's margin and the gate's are one setting
    relearn = _relearn_records(cfg, hold_finder, hold_records)
    requests = _requests(request, job.original, source.records)
    loaded, ref = _load(model, job.reference_model, task, inputs.allow_pickle, inputs.trust_remote_code)
    tok, enc, hold_enc = _encoded(loaded.tokenizer, source.records, hold_records)
    result = audit_model(
        loaded.model,
        tok,
        enc,
        cfg=cfg,
        kind=loaded.kind,
        holdout=hold_enc,
        canaries=definition,
        reference=ref.model if ref else None,
        probe=probe_rows,
        progress=progress,
        reference_name=str(job.reference_model) if ref else None,
        reference_tokenizer=ref.tokenizer if ref else None,
        relearn_records=data.encode_corpus(tok, relearn) if relearn else None,
    )
    if requests is not None:
        result["erasure"] = _erasure(loaded, ref, enc, cfg, requests, request.record, job.original, hold_enc)
    result = _framed(result, model, source)
    result["scope"] = gate.scope(
        cfg, loaded.kind, finder.describe(), len(enc), source.total, ran=AuditResult(result).attacks
    )
    result["verdict"] = gate.judge(result, th)
    if out is not None and dist.is_main():
        write_json(result, out)
    return result


def _framed(result: dict[str, Any], model: Any, source: Any) -> dict[str, Any]:
    """The measures with what they are of: sani's version, the model, the environment, the corpus's size."""
    return {
        "sani_version": __version__,
        "model": str(model),
        **result,
        "environment": machine.versions(),
        "corpus": {"records": source.total, "spans": source.total_spans},
    }


def _encoded(tok: Any, records: list[data.Record], holdout: list[data.Record] | None) -> tuple[Any, list, Any]:
    return tok, data.encode_corpus(tok, records), data.encode_corpus(tok, holdout) if holdout else None


def _requests(request: ErasureRequest, original: Any, records: list[data.Record]) -> list | None:
    """An erasure request's values, read and checked before any model loads ([] for a record: its values are
    read from the corpus, `records`)."""
    if original is not None and request.values is None and request.record is None:
        raise SaniError("--original: the model before sanitizing answers an erasure request (--values or --record)")
    erasure.check_record(records, request.record)
    return erasure.requested(request.values, request.record)


def _erasure(
    loaded: Any, ref: Any, enc: list, cfg: AuditConfig, requests: list, record: Any, original: Any, holdout: Any
) -> dict[str, Any]:
    """The erasure request's answer: each value under the model, `original` (loaded here) and the reference."""
    asked = erasure.start(loaded.model, loaded.tokenizer, loaded.kind, enc, requests, record, cfg, holdout)
    asked.measure("after", loaded.model)
    if original is not None:
        asked.measure("before", models.load(original, task=loaded.kind.name).model.to(dist.device()).eval())
    if ref is not None:
        asked.measure("reference", ref.model)
    got = asked.result()
    if got["note"]:
        log.warning(got["note"])
    return got


def _relearn_records(cfg: AuditConfig, finder: SpanFinder, holdout: list[data.Record] | None) -> list | None:
    """The benign relearning corpus (`--relearn-corpus`, else the holdout: records the model never saw), read
    before any model loads; attacks need one process."""
    if cfg.attack_list() and dist.launched():
        raise SaniError("--attacks: run the audit in one process (the attacks fine-tune and quantize copies)")
    if "relearn" not in cfg.attack_list():
        return None
    return corpora.load_records(cfg.relearn_corpus, finder) if cfg.relearn_corpus else holdout


def _load(model: Any, reference: Any, task: str | None, allow_pickle: bool, trust_remote_code: bool) -> tuple:
    """The model under audit, and the reference model (None without one), on this process's device."""
    dist.init()
    loaded = models.load(model, task=task, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
    loaded.model.to(dist.device())
    ref = None
    if reference is not None:
        ref = models.load(reference, task=loaded.kind.name, allow_pickle=allow_pickle)
        ref.model.to(dist.device())
    return loaded, ref


def _audit_config(config: AuditConfig | None, settings: dict) -> AuditConfig:
    """`config`, else `AuditConfig` from the keyword arguments (`contexts` also as a list: None for the full
    prefix, else the last N tokens)."""
    if config is not None:
        return config
    contexts = settings.get("contexts")
    if contexts is not None and not isinstance(contexts, str):
        settings["contexts"] = ",".join("full" if c is None else str(c) for c in contexts)
    try:
        return AuditConfig(**settings)
    except TypeError as e:
        raise SaniError(f"audit: {e}") from None


def add_canaries(
    corpus: str | Path | Sequence[data.Record],
    out: str | Path,
    *,
    fmt: str = canaries.FORMAT,
    space: str = canaries.SPACE,
    repeats: Sequence[int] = canaries.REPEATS,
    per_repeat: int = canaries.PER_REPEAT,
    seed: int = 0,
) -> Path:
    """Write `corpus` with canary records inserted to `out` (.jsonl), and their definition beside it
    (`<out>.canaries.json`), for measuring exposure after training on it."""
    records = corpora.load_records(corpus, SpanFinder(propagate=False))
    with_canaries, definition = canaries.insert_canaries(
        records, fmt=fmt, space=space, repeats=repeats, per_repeat=per_repeat, seed=seed
    )
    out = Path(out)
    data.write_records(with_canaries, out)
    return write_json(definition, out.with_suffix(".canaries.json"))


def find_spans(
    corpus: str | Path | Sequence[data.Record],
    out: str | Path | None = None,
    *,
    terms: str | Path | Sequence[str] | None = None,
    spans: SpanFinder | None = None,
    tokenizer: str | Path | None = None,
) -> dict[str, Any]:
    """Find the sensitive spans (annotations, tags, terms, detectors, propagation), write them as JSON Lines
    to `out` (an input `sanitize` and `audit` accept), and return a summary with no value in clear text."""
    from .spans.finder import summarize

    finder, _ = finders(terms, spans)
    records = corpora.load_records(corpus, finder)
    tok = models.load_tokenizer(tokenizer) if tokenizer is not None else None
    summary = summarize(records, tok)
    if out is not None:
        data.write_records(records, out)
    return summary
