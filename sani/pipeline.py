"""The Python API's `sanitize`: erase, repair, audit before and after, write a model directory (the rest of
the API is in `sani.api`).

A sanitization is a sequence of named stages, each reading and adding to one `Run`:
prepare (read the inputs, load the model, choose the neurons) -> audit -> erase -> repair -> audit -> write.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .audit import erasure, gate
from .audit.probe import read_probe
from .audit.runner import run as audit_model
from .config import AuditConfig, SanitizeConfig
from .erase import neurons as erase
from .errors import SaniError
from .files import atomic_dir, check_out, digest, work_dir, write_json
from .inputs import finders, task_and_probe
from .models import loading as models
from .models.adapters import adapter_base, is_adapter_dir
from .models.kinds import Kind
from .options import API_ALIASES, ErasureRequest, ModelInputs, SanitizeRun, take
from .presets import make_config
from .repair import level, parts
from .repair import training as repair
from .repair.level import LevelCorrection
from .run import Run, sanitization_report
from .scale import corpus as corpora
from .scale import dist, sharded
from .spans import data
from .spans.finder import SpanFinder

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- sanitize


@dist.reports_failures
def sanitize(
    model: str | Path,
    corpus: str | Path | Sequence[data.Record],
    out: str | Path,
    *,
    terms: str | Path | Sequence[str] | None = None,
    spans: SpanFinder | None = None,
    holdout: str | Path | Sequence[data.Record] | None = None,
    config: SanitizeConfig | None = None,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Sanitize the causal or masked LM in directory `model`, fine-tuned on `corpus`, into a new directory `out`:
    erase (reset FFN neurons of the last layers), then repair (fine-tune with the sensitive tokens masked out
    of the loss), auditing before and after. Returns the report also written to `out/sanitization.json`; the
    input directory is never written to.

    `options` are the fields of `SanitizeConfig` (layers=2, epochs=3; or give `config`), and the run's
    settings, each the field of the command line's dataclass (`sani.options`) with its default and help:
    `ModelInputs` (task, probe, allow_pickle, trust_remote_code), `SanitizeRun` (config_file: a YAML file,
    preset, stream, audit_records, cache_dir, cache_key, run_audit, overwrite, resume, save_steps,
    thresholds) and `ErasureRequest` (values, record). Work in progress is kept in `.<out>.work` beside
    `out` until the output is complete (`resume=True` continues an interrupted run). `stream=True`: a corpus
    file larger than memory, tokenized once into a disk cache. An erasure request: answered before erasing
    and after, in `audit_after`."""
    inputs, job, request = take(
        options, ModelInputs(model, corpus, holdout), SanitizeRun(str(out)), ErasureRequest(), aliases=API_ALIASES
    )
    task, probe = task_and_probe(inputs.task, inputs.probe)
    requests = _requests(request, job)
    src, cfg = _settings(
        model,
        task,
        inputs.trust_remote_code,
        config,
        (job.preset, job.config),
        options,
        leveled=holdout is not None and not job.stream,
    )
    clock = time.perf_counter()
    th = gate.read_thresholds(job.thresholds) if isinstance(job.thresholds, (str, Path)) else job.thresholds
    pair = finders(terms, spans)
    source, hold, rows = _read(src, cfg, corpus, holdout, probe, pair, job)
    erasure.check_record(source.records, request.record)  # before any model loads: the records are read
    check_out(Path(out), src.given, job.overwrite)
    run = _prepare(src, Path(out), cfg, (source, hold, rows), job.resume, inputs, progress)
    run.timings["load"] = time.perf_counter() - clock
    run.split = parts.assign(run.encoded, run.holdout, cfg)  # the surrogates', the stop's and the audits' records
    run.audit = sanitize_audit(cfg.seed, run.loaded.kind, th)
    before = _audit(run, "audit_before", cache=run.work / "audit_before.json") if job.audit else None
    asked = _ask(run, requests, request.record)
    _erase(run)
    train_stats = _repair(run, resume=job.resume, save_steps=job.save_steps)
    after = _audit(run, "audit_after") if job.audit else None
    _judge(run, before, after, th, pair[0], asked)
    report = sanitization_report(run, train_stats, before, after)
    _write(run, report, job.overwrite)
    return report


def _settings(
    model: Any, task: str | None, trust_remote_code: bool, config: Any, preset: tuple, options: dict, leveled: bool
) -> tuple[models.Source, SanitizeConfig]:
    """What the model directory holds (its kind, an adapter's base) and the settings for it: `config`, else
    the preset's and the file's with `options` over them; the level rule resolved (`leveled`: a holdout in
    memory)."""
    adapter = is_adapter_dir(model)  # its base may be named in the settings (a flag or the YAML file)
    base = (config or make_config(*preset, lora=adapter, **options)).base_model if adapter else None
    src = models.inspect(model, task, trust_remote_code, base=base)
    cfg = config or make_config(*preset, task=src.kind.name, lora=src.adapter, **options)
    return src, level.resolve(cfg, leveled, src.kind)  # "auto": by the holdout and the kind


def _requests(request: ErasureRequest, job: SanitizeRun) -> list | None:
    """An erasure request's values, read first; it is answered on the corpus in memory, beside the audits."""
    if (request.values is not None or request.record is not None) and (job.stream or not job.audit):
        raise SaniError("--values/--record: not with --stream or --no-audit (sani audit --values answers after)")
    return erasure.requested(request.values, request.record)


def _ask(run: Run, requests: list | None, record: int | None) -> erasure.Answer | None:
    """An erasure request's values located in the corpus and measured under the input model, before it is
    erased, with `sani audit`'s defaults; None when none was asked."""
    if requests is None:
        return None
    loaded = run.loaded
    asked = erasure.start(
        loaded.model,
        loaded.tokenizer,
        loaded.kind,
        run.encoded,
        requests,
        record,
        AuditConfig(seed=run.cfg.seed),
        run.holdout,
    )
    asked.measure("before", loaded.model)
    return asked


def _judge(run: Run, before: Any, after: Any, th: Any, finder: SpanFinder, asked: erasure.Answer | None) -> None:
    """Each audit's scope and verdict; the erasure request's "after", in the second audit (none without
    the audits)."""
    if after is None:
        return
    if asked:
        asked.measure("after", run.loaded.model)
        answer = asked.result()
        if answer["note"]:
            log.warning(answer["note"])
        after["erasure"] = answer
    kind = run.loaded.kind
    for result, base in ((before, None), (after, before)):
        result["scope"] = gate.scope(run.audit, kind, finder.describe(), len(_audited(run)[0]), run.source.total)
        result["verdict"] = gate.judge(result, th, base)


def _read(
    src: models.Source,
    cfg: SanitizeConfig,
    corpus: Any,
    holdout: Any,
    probe: Any,
    finder_pair: tuple[SpanFinder, SpanFinder],
    job: SanitizeRun,
) -> tuple[Any, list[data.Record] | None, Any]:
    """The corpus source, the holdout's records and the probe task, each checked before any model loads."""
    sharded.check(target=cfg.target, lora=bool(cfg.lora_rank) or src.adapter, kind=src.kind, precision=cfg.precision)
    finder, hold_finder = finder_pair
    stream, audit_records = job.stream, job.audit_records
    source = corpora.source(
        corpus,
        finder,
        stream=stream,
        audit_records=audit_records,
        seed=cfg.seed,
        cache_dir=job.cache_dir,
        cache_key=job.cache_key,
        check=False,
    )
    hold = corpora.holdout_records(holdout, hold_finder, stream=stream, audit_records=audit_records, seed=cfg.seed)
    corpora.require_spans(source)
    if level.wanted(cfg) and (stream or holdout is None):
        raise SaniError("level='holdout': needs --holdout, and not --stream (its parts would number labels apart)")
    rows = read_probe(probe) if probe is not None else None
    base = Path(cfg.base_model) if cfg.base_model else None
    if cfg.reset == "base" and not src.adapter and not (base and base.is_dir() and any(base.glob("*.safetensors"))):
        raise SaniError(f"{cfg.base_model}: base model directory with .safetensors weights not found (--base-model)")
    return source, hold, rows


def _prepare(
    src: models.Source,
    out: Path,
    cfg: SanitizeConfig,
    read: tuple[Any, list[data.Record] | None, Any],
    resume: bool,
    inputs: ModelInputs,
    progress: bool,
) -> Run:
    """Load the model, encode the corpus (`read`: its source, the holdout's records, the probe task), choose
    the neurons (which checks the FFN layout and the layer count before any long work) and make the work
    directory."""
    source, hold_records, probe_rows = read
    dist.init()
    loaded = models.load(src, allow_pickle=inputs.allow_pickle, trust_remote_code=inputs.trust_remote_code)
    loaded.model.to(dist.device())
    tok = loaded.tokenizer
    enc = data.encode_corpus(tok, source.records)
    hold_enc = data.encode_corpus(tok, hold_records) if hold_records else None
    fingerprint = models.fingerprint(loaded.model)
    selection = erase.choose_neurons(loaded.model, tok, enc, cfg, kind=loaded.kind, progress=progress)
    key = {
        "config": cfg.to_dict(),
        "input_fingerprint": fingerprint,
        "corpus": source.digest(tok),
        "holdout": corpora.records_digest(hold_records or []),
        "task": digest(probe_rows or []),
    }
    work = work_dir(out, resume, key)
    return Run(src.given, out, cfg, loaded, source, enc, hold_enc, probe_rows, work, selection, fingerprint, progress)


def _audit(run: Run, name: str, cache: Path | None = None) -> dict[str, Any]:
    """The audit of the model as it is now, without per-span items; `cache` keeps the first audit for a
    resumed run."""
    clock = time.perf_counter()
    if cache is not None and cache.is_file():
        import json

        result = json.loads(cache.read_text())
    else:
        log.info("auditing the %s model", "input" if name == "audit_before" else "sanitized")
        records, holdout = _audited(run)
        result = audit_model(
            run.loaded.model,
            run.loaded.tokenizer,
            records,
            kind=run.loaded.kind,
            cfg=run.audit,
            holdout=holdout,
            probe=run.probe,
            progress=run.progress,
            with_fingerprint=False,
        )
        result.pop("items")
        if cache is not None and dist.is_main():
            write_json(result, cache)
    run.timings[name] = time.perf_counter() - clock
    return result


def _audited(run: Run) -> tuple[list[data.Encoded], list[data.Encoded] | None]:
    """The records and holdout the audits report on."""
    return (run.split.audited, run.split.audited_holdout) if run.split else (run.encoded, run.holdout)


def sanitize_audit(seed: int, kind: Kind, thresholds: dict[str, float] | None = None) -> AuditConfig:
    """What sanitize's own audits measure: greedy regurgitation from the full prefix, and value exposure and
    the paired membership test on a sample small enough for the demo's time (the kind's `quick_audit`;
    `sani audit` measures more); the membership rule's margin is the thresholds' (one setting)."""
    cfg = AuditConfig(contexts="full", samples=0, extraction=False, seed=seed, **kind.quick_audit)
    return gate.one_margin(cfg, thresholds)


def _erase(run: Run) -> None:
    clock = time.perf_counter()
    erase.reset_neurons(
        run.loaded.model, run.selection, mode=run.cfg.reset, base_model=run.cfg.base_model, seed=run.cfg.seed
    )
    run.timings["erase"] = time.perf_counter() - clock


def _repair(run: Run, *, resume: bool, save_steps: int) -> dict[str, Any]:
    """Fine-tune with the sensitive tokens excluded; with a target, until the audit says it holds."""
    clock = time.perf_counter()
    cfg, m, tok, kind = run.cfg, run.loaded.model, run.loaded.tokenizer, run.loaded.kind
    stop = None
    if cfg.target:
        from .repair.target import AuditStop, Target

        stop = AuditStop(
            tok,
            run.encoded,
            Target.parse(cfg.target),
            holdout=run.split.stop_holdout,
            eval_steps=cfg.eval_steps,
            patience=cfg.target_patience,
            work_dir=run.work,
            seed=cfg.seed,
            kind=kind,
            checked=run.split.stop,
            audit=dataclasses.replace(run.audit, paired_records=0),
        )
    correction = LevelCorrection.for_run(cfg, tok, kind, run.encoded, run.split)  # None unless level="holdout"
    repair_cfg = dataclasses.replace(cfg, epochs=cfg.max_epochs) if stop else cfg
    run.examples = run.source.training_examples(m, tok, kind, run.encoded, repair_cfg, run.work, run.split.pool)
    log.info("repairing: %s, %s epochs at lr %s", cfg.objective, repair_cfg.epochs, cfg.lr)
    whole = (type(m), m.dtype)  # what the gathered weights load as, if the Trainer shards them (FSDP, ZeRO-3)
    stats = repair.train(
        m,
        tok,
        run.examples,
        repair_cfg,
        kind=kind,
        checkpoint_dir=run.work / "checkpoints",
        save_steps=save_steps,
        resume=resume,
        callbacks=[c for c in (stop, correction) if c],
        progress=run.progress,
        gather_to=run.work / "gathered",
        level=correction and correction.shifts,
    )
    if stats.get("sharded"):  # the weights were trained sharded: every process loads them whole
        run.loaded.model = m = None
        run.loaded.model = m = sharded.load_whole(run.work / "gathered", *whole)
    if correction:
        stats.update(correction.summary(), stop_split=run.split.summary())
    if stop:
        stats.update(stop.summary(), target=cfg.target, stop_split=run.split.summary())
        if not stop.met:
            log.warning("the repair reached max_epochs=%s without meeting %s", cfg.max_epochs, cfg.target)
    run.timings["repair"] = time.perf_counter() - clock
    run.output_fingerprint = models.fingerprint(m)
    agreed = dist.agree(run.output_fingerprint)  # several processes: each audits and one writes, so all
    if not agreed:  # must hold the same weights
        raise SaniError("the processes hold different weights after the repair; nothing was written")
    return stats


def _write(run: Run, report: dict[str, Any], overwrite: bool) -> None:
    """One process writes the model directory atomically; the others wait for it."""
    clock = time.perf_counter()
    m, tok = run.loaded.model, run.loaded.tokenizer
    if run.loaded.adapter:
        _pin_base(m, adapter_base(run.model_path, run.cfg.base_model))
    with dist.main_first() as main:
        if main:
            with atomic_dir(run.out, overwrite=overwrite) as tmp:
                m.save_pretrained(tmp, safe_serialization=True)
                tok.save_pretrained(tmp)
                report["timings"]["save"] = round(time.perf_counter() - clock, 2)
                write_json(report, tmp / "sanitization.json")
            shutil.rmtree(run.work, ignore_errors=True)
            log.info("wrote %s", run.out)


def _pin_base(m: Any, base: str) -> None:
    """An adapter written elsewhere must still find its base: a local base is recorded by absolute path."""
    if Path(base).is_dir():
        for c in m.peft_config.values():
            c.base_model_name_or_path = str(Path(base).resolve())
