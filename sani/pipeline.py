"""The Python API: `sanitize` (erase, repair, audit before and after, write a model directory) and `audit`.

The CLI is a thin layer over these two functions.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from . import __version__, data, dist, erase, metrics, models, repair
from .adapters import adapter_base, is_adapter_dir
from .config import SanitizeConfig, make_config
from .errors import SaniError
from .probe import read_task
from .spans import SpanFinder

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- inputs


def load_records(
    corpus: str | Path | Sequence[data.Record], finder: SpanFinder | None = None
) -> list[data.Record]:
    """The corpus with its annotated spans, plus those the finder adds (terms, detectors, propagation...)."""
    records = data.read_corpus(corpus) if isinstance(corpus, (str, Path)) else [
        data.Record(r.text, list(r.spans), r.where) for r in corpus
    ]
    if not records:
        raise SaniError("the corpus is empty")
    return (finder or SpanFinder()).apply(records)


def _finders(terms: str | Path | Sequence[str] | None, spans: SpanFinder | None) -> tuple[SpanFinder, SpanFinder]:
    """The finder for the training corpus, and one for the holdout (the same, without the term list, which
    need not occur there)."""
    finder = spans or SpanFinder()
    if terms is not None:
        finder = dataclasses.replace(finder, terms=str(terms) if isinstance(terms, Path) else terms)
    return finder, dataclasses.replace(finder, terms=None)


def _task_and_probe(task: str | Path | None, probe: str | Path | None) -> tuple[str | None, str | Path | None]:
    """`task` is the model's kind (causal-lm, masked-lm); a file given as `task` is the probe task of
    earlier versions, still accepted."""
    if task is None or str(task) in models.TASKS:
        return (str(task) if task is not None else None), probe
    if Path(task).is_file() and probe is None:
        log.warning("--task FILE is now --probe FILE (labelled task for the linear probe); --task is causal-lm or masked-lm")
        return None, task
    raise SaniError(f"task={str(task)!r}: choose {' or '.join(models.TASKS)} (a labelled probe task goes in --probe)")


NO_SPANS = "no sensitive spans in the corpus: annotate 'spans', or give --terms, --detect, --pattern or --tags"


def _count_spans(records: Sequence[data.Record]) -> int:
    return sum(len(r.spans) for r in records)


def _check_out(out: Path, model_path: str | Path, overwrite: bool) -> None:
    out_r, model_r = out.resolve(), Path(model_path).resolve()
    if out_r == model_r or model_r in out_r.parents or out_r in model_r.parents:
        raise SaniError(f"{out}: the output would overwrite the input model {model_path}; choose another --out")
    if out.exists() and not overwrite:
        raise SaniError(f"{out}: already exists (pass --overwrite to replace it)")


@contextmanager
def atomic_dir(out: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside `out`; it becomes `out` only when the block completes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            if not overwrite:
                raise SaniError(f"{out}: already exists (pass --overwrite to replace it)")
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(obj: Any, path: str | Path) -> Path:
    """Write JSON atomically (temporary file, then rename)."""
    with data.atomic_open(path) as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    return Path(path)


def _environment() -> dict[str, str]:
    import torch
    import transformers

    return {"sani": __version__, "torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version()}


def _without_items(a: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if a is None else {k: v for k, v in a.items() if k != "items"}


def _digest(obj: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj).encode()).hexdigest()


def _corpus_digest(records: Sequence[data.Record]) -> str:
    return _digest([[r.text, [(s.start, s.end, s.label) for s in r.spans]] for r in records])


def _work_dir(out: Path, resume: bool, run_key: dict[str, Any]) -> Path:
    """The directory beside `out` that keeps an unfinished run; refuses to mix two different runs. Under
    several processes the main one makes it (the others find it made: a shared file system is assumed)."""
    work = out.parent / f".{out.name}.work"
    with dist.main_first() as main:
        if main:
            _make_work_dir(work, resume, run_key)
    return work


def _make_work_dir(work: Path, resume: bool, run_key: dict[str, Any]) -> None:
    if work.exists():
        if not resume:
            raise SaniError(f"{work}: an interrupted sanitization is there; pass --resume to continue it, or delete it to start over")
        try:
            saved = json.loads((work / "run.json").read_text())
        except (OSError, ValueError):
            saved = None
        if saved != run_key:
            raise SaniError(f"{work}: the interrupted run used another model, corpus or settings; delete it to start over")
        log.info("resuming the run in %s", work)
    else:
        if resume:
            log.warning("nothing to resume in %s: starting from the beginning", work)
        work.mkdir(parents=True)
        write_json(run_key, work / "run.json")


# --------------------------------------------------------------------------- sanitize


def choose_neurons(m: Any, tok: Any, enc: Sequence[data.Encoded], cfg: SanitizeConfig, *, progress: bool = True) -> erase.Selection:
    """The erase step's neurons for this config: at random, or scored on the sensitive tokens."""
    scores = None
    if cfg.strategy != "random" and cfg.fraction > 0:
        scores = erase.score_neurons(m, tok, enc, cfg.strategy, seed=cfg.seed, progress=progress)
    return erase.select_neurons(m, layers=cfg.layers, fraction=cfg.fraction, seed=cfg.seed, strategy=cfg.strategy,
                                scores=scores, network=cfg.scope == "network")


def repair_options(cfg: SanitizeConfig) -> dict[str, Any]:
    """The config's repair settings, as `repair.train` keywords."""
    keys = ("objective", "epochs", "lr", "batch_size", "max_length", "seed", "scheduler", "warmup_ratio", "weight_decay",
            "forget_weight", "mlm_probability", "mask_sensitive_inputs", "forget_probability", "gradient_accumulation_steps",
            "precision", "gradient_checkpointing", "lora_rank", "packing")
    return {k: getattr(cfg, k) for k in keys}


@dist.reports_failures
def sanitize(
    model: str | Path,
    corpus: str | Path | Sequence[data.Record],
    out: str | Path,
    *,
    terms: str | Path | Sequence[str] | None = None,
    spans: SpanFinder | None = None,
    holdout: str | Path | Sequence[data.Record] | None = None,
    task: str | None = None,
    probe: str | Path | None = None,
    config: SanitizeConfig | None = None,
    config_file: str | Path | None = None,
    preset: str | None = None,
    overwrite: bool = False,
    run_audit: bool = True,
    resume: bool = False,
    save_steps: int = 200,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    stream: bool = False,
    audit_records: int = 1000,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Sanitize the causal or masked LM in directory `model`, fine-tuned on `corpus`, into a new directory `out`.

    Erase (reset FFN neurons of the last layers), then repair (fine-tune with the sensitive tokens masked out
    of the loss), auditing before and after. `options` are `SanitizeConfig` fields. Returns the report that
    is also written to `out/sanitization.json`. The input directory is never written to.

    Work in progress (repair checkpoints every `save_steps` steps, the first audit) is kept in
    `.<out>.work` beside `out` until the output is complete; `resume=True` continues an interrupted run.

    `stream=True` is for a corpus file larger than memory: it is read as a stream, its repair windows are
    tokenized once into a disk-backed dataset (in the work directory, deleted at the end; under `cache_dir`,
    kept and reused by later runs: it holds the corpus's tokens), and the audits and neuron scoring use a seeded sample of `audit_records` records
    (and of the holdout).
    """
    task, probe = _task_and_probe(task, probe)
    adapter = is_adapter_dir(model)  # base + LoRA adapter in, the same form out
    task = models.detect_task(model, task, trust_remote_code, base=options.get("base_model") if adapter else None)
    cfg = config or make_config(preset, config_file, task=task, lora=adapter, **options)
    out = Path(out)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    finder, hold_finder = _finders(terms, spans)
    if stream:
        from . import stream as streaming

        if not isinstance(corpus, (str, Path)) or (holdout is not None and not isinstance(holdout, (str, Path))):
            raise SaniError("stream=True reads the corpus (and holdout) from files: give their paths")
        if audit_records < 1:
            raise SaniError(f"audit_records={audit_records}: must be at least 1")
        records, total, total_spans = streaming.sample(corpus, finder, audit_records, seed=cfg.seed)
        hold_records = streaming.sample(holdout, hold_finder, audit_records, seed=cfg.seed)[0] if holdout is not None else None
    else:
        records = load_records(corpus, finder)
        hold_records = load_records(holdout, hold_finder) if holdout is not None else None
        total, total_spans = len(records), _count_spans(records)
    if total_spans == 0:
        raise SaniError(NO_SPANS)
    task_rows = read_task(probe) if probe is not None else None
    _check_out(out, model, overwrite)
    if cfg.reset == "base" and not adapter and not (Path(cfg.base_model).is_dir() and any(Path(cfg.base_model).glob("*.safetensors"))):
        raise SaniError(f"{cfg.base_model}: base model directory with .safetensors weights not found (--base-model)")

    dist.init()
    m, tok = models.load(model, task=task, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code,
                         base=cfg.base_model if adapter else None)
    m.to(dist.device())
    enc = data.encode_corpus(tok, records)
    hold_enc = data.encode_corpus(tok, hold_records) if hold_records else None
    input_fingerprint = models.fingerprint(m)
    # choosing the neurons first checks the FFN layout and the layer count before any long work
    selection = choose_neurons(m, tok, enc, cfg, progress=progress)
    work = _work_dir(out, resume, {"config": cfg.to_dict(), "input_fingerprint": input_fingerprint,
                                   "corpus": streaming.cache_key(corpus, finder, tok, {}) if stream else _corpus_digest(records), "holdout": _corpus_digest(hold_records or []),
                                   "task": _digest(task_rows or [])})
    timings["load"] = time.perf_counter() - clock

    before = after = None
    if run_audit:
        clock = time.perf_counter()
        cached = work / "audit_before.json"
        if cached.is_file():
            before = json.loads(cached.read_text())
        else:
            log.info("auditing the input model")
            before = _without_items(metrics.audit(m, tok, enc, holdout=hold_enc, task=task_rows, seed=cfg.seed,
                                                  progress=progress, with_fingerprint=False))
            if dist.is_main():
                write_json(before, cached)
        timings["audit_before"] = time.perf_counter() - clock

    clock = time.perf_counter()
    erase.reset_neurons(m, selection, mode=cfg.reset, base_model=cfg.base_model, seed=cfg.seed)
    timings["erase"] = time.perf_counter() - clock

    clock = time.perf_counter()
    stop = None
    if cfg.target:
        from .target import AuditStop, Target

        stop = AuditStop(tok, enc, Target.parse(cfg.target), holdout=hold_enc, eval_steps=cfg.eval_steps,
                         patience=cfg.target_patience, work_dir=work, seed=cfg.seed)
    epochs = cfg.max_epochs if stop else cfg.epochs
    examples = None
    if stream:
        with dist.main_first():  # one process tokenizes; the others then read its cache
            examples = streaming.training_examples(
                corpus, tok, finder, objective=cfg.objective, max_length=min(cfg.max_length, metrics.max_positions(m)),
                masked_lm=models.task_of(m) == "masked-lm", packing=cfg.packing, cache_dir=cache_dir or work / "tokenized")
    log.info("repairing: %s, %s epochs at lr %s", cfg.objective, epochs, cfg.lr)
    train_stats = repair.train(m, tok, enc, **{**repair_options(cfg), "epochs": epochs}, checkpoint_dir=work / "checkpoints",
                               save_steps=save_steps, resume=resume, callbacks=[stop] if stop else [], examples=examples,
                               progress=progress)
    if stop:
        train_stats.update(stop.summary(), target=cfg.target)
        if not stop.met:
            log.warning("the repair reached max_epochs=%s without meeting %s", cfg.max_epochs, cfg.target)
    timings["repair"] = time.perf_counter() - clock
    output_fingerprint = models.fingerprint(m)
    if not dist.agree(output_fingerprint):  # several processes: each audits and one writes, so all must hold the same weights
        raise SaniError("the processes hold different weights after the repair; nothing was written")

    if run_audit:
        clock = time.perf_counter()
        log.info("auditing the sanitized model")
        after = _without_items(metrics.audit(m, tok, enc, holdout=hold_enc, task=task_rows, seed=cfg.seed,
                                             progress=progress, with_fingerprint=False))
        timings["audit_after"] = time.perf_counter() - clock

    report = {
        "sani_version": __version__,
        "config": cfg.to_dict(),
        "input_model": str(model),
        "task": models.task_of(m),
        "input_fingerprint": input_fingerprint,
        "output_fingerprint": output_fingerprint,
        "processes": dist.world(),
        "corpus": {"records": total, "spans": total_spans,
                   # streamed: token counts are the audited sample's
                   "tokens": sum(len(e.input_ids) for e in enc), "sensitive_tokens": sum(sum(e.sensitive) for e in enc),
                   **({"streamed": True, "audited_records": len(records), "training_windows": len(examples)} if stream else {})},
        "form": "lora-adapter" if adapter else "full",
        "erase": {"strategy": cfg.strategy, "scope": cfg.scope, "reset": "base (adapter update zeroed)" if adapter else cfg.reset,
                  "layers": erase.selection_summary(selection, m)},
        "repair": train_stats,
        "audit_before": before,
        "audit_after": after,
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "environment": _environment(),
    }
    clock = time.perf_counter()
    if adapter:
        _pin_base(m, adapter_base(model, cfg.base_model))
    with dist.main_first() as main:  # one process writes; the others wait for it, then return the same report
        if main:
            with atomic_dir(out, overwrite=overwrite) as tmp:
                m.save_pretrained(tmp, safe_serialization=True)
                tok.save_pretrained(tmp)
                report["timings"]["save"] = round(time.perf_counter() - clock, 2)
                write_json(report, tmp / "sanitization.json")
            shutil.rmtree(work, ignore_errors=True)
            log.info("wrote %s", out)
    return report


def _pin_base(m: Any, base: str) -> None:
    """An adapter written elsewhere must still find its base: a local base is recorded by absolute path."""
    if Path(base).is_dir():
        for c in m.peft_config.values():
            c.base_model_name_or_path = str(Path(base).resolve())


# --------------------------------------------------------------------------- audit


@dist.reports_failures
def audit(
    model: str | Path,
    corpus: str | Path | Sequence[data.Record],
    out: str | Path | None = None,
    *,
    terms: str | Path | Sequence[str] | None = None,
    spans: SpanFinder | None = None,
    holdout: str | Path | Sequence[data.Record] | None = None,
    canaries: str | Path | None = None,
    reference_model: str | Path | None = None,
    task: str | None = None,
    probe: str | Path | None = None,
    contexts: Sequence[int | None] = metrics.CONTEXTS,
    samples: int = 5,
    top_k: int = 40,
    temperature: float = 1.0,
    extraction: bool = True,
    el_spans: int = 100,
    seed: int = 0,
    batch_size: int = 32,
    show_values: bool = False,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Audit the model in directory `model` against the sensitive spans of `corpus`; write JSON to `out`.

    Regurgitation (greedy and sampled, for each prompt context), extraction metrics, utility, membership
    inference against `holdout` (with `reference_model` for the reference-difference attack) and canary
    exposure (`canaries`: the definition written by `sani canaries`); `probe` (JSON Lines with text and
    label) adds a linear-probe accuracy to the utility. `task` (causal-lm, masked-lm) overrides the kind of
    model read from its config."""
    task, probe = _task_and_probe(task, probe)
    finder, hold_finder = _finders(terms, spans)
    records = load_records(corpus, finder)
    if _count_spans(records) == 0:
        raise SaniError(NO_SPANS)
    hold_records = load_records(holdout, hold_finder) if holdout is not None else None
    definition = None
    if canaries is not None:
        from .canaries import read_definition

        definition = read_definition(canaries)
    task_rows = read_task(probe) if probe is not None else None
    if samples < 0 or top_k < 1 or temperature <= 0:
        raise SaniError("samples must be >= 0, top_k >= 1 and temperature > 0")
    dist.init()
    m, tok = models.load(model, task=task, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
    m.to(dist.device())
    ref = models.load(reference_model, task=models.task_of(m), allow_pickle=allow_pickle)[0] if reference_model is not None else None
    if ref is not None:
        ref.to(dist.device())
    enc = data.encode_corpus(tok, records)
    hold_enc = data.encode_corpus(tok, hold_records) if hold_records else None
    result = metrics.audit(m, tok, enc, holdout=hold_enc, contexts=contexts, samples=samples, top_k=top_k,
                           temperature=temperature, extraction=extraction, el_spans=el_spans, canaries=definition,
                           reference=ref, task=task_rows, seed=seed, batch_size=batch_size, show_values=show_values,
                           progress=progress)
    result = {"sani_version": __version__, "model": str(model), "corpus": {"records": len(records), "spans": _count_spans(records)},
              **result, "environment": _environment()}
    if out is not None and dist.is_main():
        write_json(result, out)
    return result


def add_canaries(
    corpus: str | Path | Sequence[data.Record], out: str | Path, *, fmt: str = "The access code of my account is {secret}.",
    space: str = "digits:6", repeats: Sequence[int] = (1, 2, 5, 10), per_repeat: int = 2, seed: int = 0,
) -> Path:
    """Write `corpus` with canary records inserted to `out` (.jsonl), and their definition beside it
    (`<out>.canaries.json`), for measuring exposure after training on it."""
    from .canaries import insert_canaries

    records = load_records(corpus, SpanFinder(propagate=False))
    with_canaries, definition = insert_canaries(records, fmt=fmt, space=space, repeats=repeats, per_repeat=per_repeat, seed=seed)
    out = Path(out)
    data.write_records(with_canaries, out)
    return write_json(definition, out.with_suffix(".canaries.json"))


# --------------------------------------------------------------------------- spans


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
    from .spans import summarize

    finder, _ = _finders(terms, spans)
    records = load_records(corpus, finder)
    tok = models.load_tokenizer(tokenizer) if tokenizer is not None else None
    summary = summarize(records, tok)
    if out is not None:
        data.write_records(records, out)
    return summary
