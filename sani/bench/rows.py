"""`sani bench`: sanitization methods side by side, on the same models, corpus and machine.

Each method is a set of `SanitizeConfig` values run through the same erase and repair code; the baselines
differ only in their repair objective (sani/repair/training.py) or erase settings. The oracle is the same
architecture trained from scratch, on the same corpus and schedule as the original, with the sensitive
tokens never learnt. Every model is audited the same way (regurgitation, exposure, membership, attacks,
utility), and each method's wall time is compared with the oracle's training time."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import machine
from ..audit import AuditResult
from ..audit.runner import run as audit_model
from ..config import AuditConfig
from ..erase import neurons as erase
from ..errors import SaniError
from ..files import write_json
from ..models import loading as models
from ..models.adapters import is_peft
from ..models.kinds import KINDS, detect, of
from ..options import BenchRun
from ..repair import parts
from ..repair import training as repair
from ..repair.level import LevelCorrection, resolve, wanted
from ..scale.corpus import load_records
from ..scale.memory import PeakMemory
from ..spans import data
from . import tiny
from .methods import CURVE, METHODS, QUICK_METHODS, config_of
from .table import ORACLE, columns, markdown_table, plot

BENCH_EXPOSURE = {name: kind.bench_exposure for name, kind in KINDS.items()}  # value exposure (spans, candidates)
RELEARN_LR = 5e-4  # one custom setting, not the audit's grid: every row and seed gets the same attack
BENCH_SCHEMES = "int8,nf4"


def apply_method(
    model: Any,
    tokenizer: Any,
    encoded: Sequence[data.Encoded],
    values: dict[str, Any],
    *,
    seed: int = 0,
    split: parts.Parts | None = None,
) -> dict[str, Any]:
    """Run one method's erase and repair on `model` in place; returns its config, seconds and peak memory.
    `split`: its pool, the held-out values a calibrated repair with surrogate source "holdout" aims at; its
    stop's part, the records and holdout a level correction measures (`sani.repair.level`)."""
    kind = of(model)
    split = split or parts.Parts()
    cfg = resolve(config_of(values, kind.name, lora=is_peft(model), seed=seed), bool(split.stop_holdout), kind)
    level = LevelCorrection.for_run(cfg, tokenizer, kind, encoded, split)
    if torch.cuda.is_available():
        model.to("cuda")  # erase-only methods never reach the Trainer, which would move it
    with PeakMemory() as mem:
        start = time.perf_counter()
        if cfg.fraction > 0:
            selection = erase.choose_neurons(model, tokenizer, encoded, cfg, kind=kind, progress=False)
            erase.reset_neurons(model, selection, mode=cfg.reset, base_model=cfg.base_model, seed=cfg.seed)
        targets = 0.0  # where the time goes: a calibrated repair scores its targets before it trains
        if cfg.epochs > 0:
            clock = time.perf_counter()
            examples = repair.examples_for(model, tokenizer, encoded, cfg, kind, pool=split.pool)
            targets = time.perf_counter() - clock
            repair.train(
                model,
                tokenizer,
                examples,
                cfg,
                kind=kind,
                progress=False,
                callbacks=[level] if level else [],
                level=level and level.shifts,
            )
        seconds = time.perf_counter() - start
    model.eval()
    return {
        "config": cfg.to_dict(),
        "seconds": round(seconds, 2),
        "seconds_targets": round(targets, 2),
        "peak_memory_mib": round(mem.peak, 1),
    }


def measure(
    model: Any,
    tokenizer: Any,
    enc: Sequence[data.Encoded],
    holdout: Sequence[data.Encoded],
    canaries: dict[str, Any] | None,
    probe: list[tuple[str, str]] | None,
    seed: int,
    settings: BenchSettings | None = None,
) -> dict[str, Any]:
    """The benchmark's columns, from one audit: value exposure's spans and candidates by kind, and the attacks
    every row gets (relearn, quantize), from `settings`."""
    s = settings or BenchSettings()
    kind = of(model)
    spans, candidates = s.exposure[kind.name]
    cfg = AuditConfig(
        contexts="full",
        samples=5,
        extraction=False,
        seed=seed,
        exposure_spans=spans,
        exposure_candidates=candidates,
        attacks=s.attacks,
        relearn_lr=RELEARN_LR,
        quantize_schemes=BENCH_SCHEMES,
        exposure_source="holdout",
    )
    given = {"holdout": holdout, "canaries": canaries, "probe": probe}  # what each row is measured against
    result = audit_model(model, tokenizer, enc, cfg=cfg, kind=kind, progress=False, with_fingerprint=False, **given)
    return columns(AuditResult(result))


@dataclass
class BenchSettings(BenchRun):
    """The command line's settings (`BenchRun`: archs, methods, seeds, patients, your `model` directories, a
    `corpus` and `holdout`, ...), and the API's own."""

    holdout_share: float = 0.25  # without --holdout: this share of the corpus's records, never trained on
    memorize: dict[str, Any] = field(default_factory=dict)  # overrides of the demo's memorization settings
    exposure: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(BENCH_EXPOSURE))  # spans, candidates

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.methods is None:  # not given: the bench's own list
            self.methods = list(QUICK_METHODS if self.quick else METHODS)

    def record(self) -> dict[str, Any]:
        """The settings as the result file keeps them (its keys and their order as before the command line's
        fields joined these: no `quick` or `out_dir`)."""
        keys = ("archs", "methods", "seeds", "patients", "models", "corpus", "holdout", "holdout_share", "tokenizer")
        out = {k: getattr(self, k) for k in keys}
        return {**out, "memorize": self.memorize, "exposure": self.exposure, "attacks": self.attacks}


def _run_tiny(arch: str, seed: int, s: BenchSettings, workdir: Path) -> dict[str, dict[str, Any]]:
    """Build the memorizing tiny model and its oracle, then run every method on a fresh copy."""
    from ..audit.probe import read_probe
    from .demo import build_demo_model

    if s.corpus:
        return _run_tiny_on_corpus(arch, seed, s, workdir)
    paths = build_demo_model(
        workdir / f"{arch}-{seed}",
        arch=arch,
        seed=seed,
        patients=s.patients,
        with_canaries=True,
        corpus="bench",
        progress=False,
        **s.memorize,
    )
    canaries = json.loads(Path(paths["canaries"]).read_text())
    original, tok = models.load(paths["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(paths["train"]))
    p = _parts(enc, data.encode_corpus(tok, data.read_corpus(paths["holdout"])), seed, s, of(original))
    probe = read_probe(paths["task"])
    rows = {
        "original": {**measure(original, tok, p.audited, p.audited_holdout, canaries, probe, seed, s), "seconds": 0.0}
    }
    rows[ORACLE] = _oracle_row(arch, tok, enc, p, (canaries, probe), seed, s)
    _run_methods(paths["original"], tok, enc, p, canaries, probe, seed, s, rows)
    return rows


def _parts(enc: list[data.Encoded], hold: list[data.Encoded], seed: int, s: BenchSettings, kind: Any) -> parts.Parts:
    """Which records serve what, the same for every row: a third of the holdout's values, by value, serve a
    calibrated repair as surrogates; when a method corrects its level on the holdout (the default does on
    a causal LM: `level.resolve`), a quarter of the records and half the rest of the holdout are what it
    measures (`parts.split`); every row is measured on the rest."""
    pool, hold, n = parts.held_pool(hold, seed)
    if not any(wanted(resolve(config_of({**METHODS, **CURVE}[m], kind.name), True, kind)) for m in s.methods):
        return parts.Parts(pool, [], None, list(enc), hold, n)
    stop, audited, stop_hold, audited_hold = parts.split(enc, hold, True, seed)
    return parts.Parts(pool, stop, stop_hold, audited, audited_hold, n)


def split_holdout(records: list[data.Record], share: float, seed: int) -> tuple[list, list]:
    """(training, held-out) records: about `share` of the records held out, by value: records that share a
    value go to the same side, so that no held-out value was trained on."""
    from ..audit.common import split_by_value

    return split_by_value(records, share, f"sani:bench:holdout:{seed}")


def _oracle_row(arch: str, tok: Any, enc: list, p: parts.Parts, given: tuple, seed: int, s: BenchSettings) -> dict:
    """The oracle's row: the same architecture trained from scratch with the values masked, measured like the
    methods (`given`: the canaries and the probe, or None), with its training time and peak memory."""
    from .demo import train_from_scratch

    with PeakMemory() as mem:
        start = time.perf_counter()
        oracle = train_from_scratch(arch, tok, enc, objective="masked", seed=seed, progress=False, **s.memorize)
        oracle_seconds = time.perf_counter() - start
    return {
        **measure(oracle, tok, p.audited, p.audited_holdout, *given, seed, s),
        "seconds": round(oracle_seconds, 2),
        "peak_memory_mib": round(mem.peak, 1),
    }


def _run_tiny_on_corpus(arch: str, seed: int, s: BenchSettings, workdir: Path) -> dict[str, dict[str, Any]]:
    """`sani bench --corpus`: a tiny `arch` memorizes the given corpus (its spans as sanitize reads them), its
    oracle learns it with the values masked, then every method runs on a copy of the memorizing model."""
    from .demo import train_from_scratch
    from .synthetic import make_corpus

    records = load_records(s.corpus)
    train, hold = (records, load_records(s.holdout)) if s.holdout else split_holdout(records, s.holdout_share, seed)
    if not any(r.spans for r in train) or not hold:
        raise SaniError(f"{s.corpus}: need records with spans to train on and records to hold out")
    texts = [r.text for r in train] if s.tokenizer == "corpus" else [r.text for r in make_corpus(200, seed=seed + 3)]
    tok = tiny.train_for(arch, texts)
    enc = data.encode_corpus(tok, train)
    original = train_from_scratch(arch, tok, enc, objective="full", seed=seed, progress=False, **s.memorize)
    p = _parts(enc, data.encode_corpus(tok, hold), seed, s, of(original))
    path = workdir / f"{arch}-{seed}" / "original"
    tiny.save(original, tok, path)
    rows = {"original": {**measure(original, tok, p.audited, p.audited_holdout, None, None, seed, s), "seconds": 0.0}}
    del original
    rows[ORACLE] = _oracle_row(arch, tok, enc, p, (None, None), seed, s)
    _run_methods(path, tok, enc, p, None, None, seed, s, rows)
    return rows


def _masked(target: str, s: BenchSettings) -> bool:
    """Whether a target is a masked LM: a tiny architecture by its model type, a user's model by its config."""
    kind = detect(model_type=target) if target in s.archs else models.inspect(target).kind
    return kind is not None and kind.masked


def _run_user(path: str, seed: int, s: BenchSettings) -> dict[str, dict[str, Any]]:
    """A user's model on the user's corpus: the methods only (no oracle: that needs the training recipe)."""
    if not s.corpus or not s.holdout:
        raise SaniError("--model needs --corpus and --holdout: the corpus it was fine-tuned on and held-out text")
    original, tok = models.load(path).pair
    enc = data.encode_corpus(tok, load_records(s.corpus))
    p = _parts(enc, data.encode_corpus(tok, load_records(s.holdout)), seed, s, of(original))
    rows = {"original": {**measure(original, tok, p.audited, p.audited_holdout, None, None, seed, s), "seconds": 0.0}}
    _run_methods(path, tok, enc, p, None, None, seed, s, rows)
    return rows


def _run_methods(
    path: str | Path,
    tok: Any,
    enc: Sequence[data.Encoded],
    p: parts.Parts,
    canaries: dict[str, Any] | None,
    probe: list[tuple[str, str]] | None,
    seed: int,
    s: BenchSettings,
    rows: dict[str, dict[str, Any]],
) -> None:
    """Each method on a fresh copy of the model at `path`, repaired on every record of `enc`, measured on
    `p`'s audited part; then the ratios of every row."""
    for name in s.methods:
        model = models.load(path).model
        run = apply_method(model, tok, enc, {**METHODS, **CURVE}[name], seed=seed, split=p)
        rows[name] = {
            **measure(model, tok, p.audited, p.audited_holdout, canaries, probe, seed, s),
            "seconds": run["seconds"],
            "seconds_targets": run["seconds_targets"],
            "peak_memory_mib": run["peak_memory_mib"],
        }
    _ratios(rows)


def _ratios(rows: dict[str, dict[str, Any]]) -> None:
    base = rows["original"]["holdout_ppl"]
    oracle = rows.get(ORACLE, {}).get("seconds")
    for r in rows.values():
        r["ppl_ratio"] = round(r["holdout_ppl"] / base, 4) if base and r["holdout_ppl"] else None
        r["time_vs_oracle"] = (
            round(r["seconds"] / oracle, 4) if oracle and r is not rows.get(ORACLE) and r["seconds"] else None
        )


def run(
    settings: BenchSettings,
    out_dir: str | Path | None = None,
    *,
    workdir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Methods x models x seeds; writes `<out_dir>/bench-<time>.json`, `.md` and `.html` (charts); `out_dir`
    defaults to the settings'."""
    import tempfile

    unknown = [m for m in settings.methods if m not in METHODS and m not in CURVE]
    if unknown:
        raise SaniError(f"unknown method(s) {', '.join(unknown)}: choose from {', '.join([*METHODS, *CURVE])}")
    bad = [a for a in settings.archs if a not in tiny.ARCHS]
    if bad:
        raise SaniError(f"unknown tiny architecture(s) {', '.join(bad)}: choose from {', '.join(tiny.ARCHS)}")
    AuditConfig(attacks=settings.attacks).attack_list()  # an unknown attack: the first error, before any work
    results: dict[str, Any] = {"machine": machine.record(), "settings": settings.record(), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="sani-bench-", dir=workdir) as tmp:
        for target in [*settings.archs, *settings.models]:
            for seed in settings.seeds:
                if progress:
                    print(f"[bench] {target}, seed {seed} ...", flush=True)
                rows = (
                    _run_tiny(target, seed, settings, Path(tmp))
                    if target in settings.archs
                    else _run_user(target, seed, settings)
                )
                results["runs"].setdefault(target, {})[str(seed)] = rows
    results["table"] = markdown_table(results, [t for t in results["runs"] if _masked(t, settings)])
    out = Path(out_dir or settings.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / time.strftime("bench-%Y%m%d-%H%M%S")
    write_json(results, stem.with_suffix(".json"))
    stem.with_suffix(".md").write_text(results["table"] + "\n", encoding="utf-8")
    stem.with_suffix(".html").write_text(plot(results), encoding="utf-8")
    results["files"] = [str(stem.with_suffix(x)) for x in (".json", ".md", ".html")]
    return results
