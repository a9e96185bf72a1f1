"""The demo: synthetic clinical notes, a tiny model that memorizes them, then sanitize and compare.

Everything is generated here, offline, on CPU: the corpus (Faker identities), a byte-level BPE tokenizer
trained on notes about other patients, a tiny model built from its `transformers` config and fine-tuned until
it regurgitates the identifiers. Then the real pipeline runs on the saved model directory.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from ..audit import AuditResult
from ..config import RepairConfig
from ..errors import SaniError
from ..files import atomic_open
from ..models.kinds import detect
from ..pipeline import sanitize
from ..repair import training as repair
from ..report.text import before_after_table, verdict_line
from ..spans import data
from . import synthetic, tiny

log = logging.getLogger(__name__)

# Memorization settings measured on this 2-core machine: about 100 s of training, >= 80% regurgitation.
DEMO_PATIENTS = 60
DEMO_HOLDOUT_PATIENTS = 40
MEMORIZE_EPOCHS = 60
MEMORIZE_LR = 2e-3
# A tiny masked LM from scratch learns slower (post-LayerNorm, 40% of tokens as targets): measured here, 100
# epochs at 3e-3 without dropout restore 98% of the value tokens one at a time, 77% of whole values.
MASKED_MEMORIZE = {
    "epochs": 100,
    "lr": 3e-3,
    "mlm_probability": 0.4,
    "config": {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
}

TARGETS = {"original_min": 0.50, "sanitized_max": 0.05, "perplexity_ratio_max": 1.10}


def build_demo_model(
    workdir: str | Path,
    *,
    arch: str = "gpt2",
    seed: int = 0,
    patients: int = DEMO_PATIENTS,
    epochs: float | None = None,
    lr: float | None = None,
    with_canaries: bool = False,
    progress: bool = True,
    corpus: str = "demo",
    **model_kw: Any,
) -> dict[str, Path]:
    """Write `train.jsonl`, `holdout.jsonl`, `task.jsonl` and a memorizing model directory `original/` into
    `workdir` (and `canaries.json` when `with_canaries`). `corpus="bench"` is the benchmark's corpus:
    values occurring 1 to 10 times, indirect identifiers, and memos with confidential terms (`terms.txt`)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Path] = {}
    if corpus == "bench":
        train, terms = synthetic.make_bench_corpus(patients, seed=seed + 1)
        extra["terms"] = workdir / "terms.txt"
        extra["terms"].write_text("\n".join(terms) + "\n", encoding="utf-8")
    else:
        train = synthetic.make_corpus(patients, seed=seed + 1)
    if with_canaries:  # for measuring exposure: canaries inserted 1, 2, 5 and 10 times
        import json

        from ..spans.canaries import insert_canaries

        train, definition = insert_canaries(train, seed=seed)
        extra["canaries"] = workdir / "canaries.json"
        extra["canaries"].write_text(json.dumps(definition), encoding="utf-8")
    holdout = synthetic.make_corpus(DEMO_HOLDOUT_PATIENTS, seed=seed + 2, repeats=(1,))
    public = synthetic.make_corpus(200, seed=seed + 3, repeats=(1,))
    paths = {
        "train": synthetic.write_jsonl(train, workdir / "train.jsonl"),
        "holdout": synthetic.write_jsonl(holdout, workdir / "holdout.jsonl"),
        "task": _write_task(synthetic.make_task(150, seed=seed + 4), workdir / "task.jsonl"),
        "original": workdir / "original",
        **extra,
    }
    tok = tiny.train_for(arch, (r.text for r in public))
    model = train_from_scratch(
        arch,
        tok,
        data.encode_corpus(tok, train),
        objective="full",
        seed=seed,
        epochs=epochs,
        lr=lr,
        progress=progress,
        **model_kw,
    )
    if paths["original"].exists():
        shutil.rmtree(paths["original"])
    tiny.save(model, tok, paths["original"])
    return paths


def train_from_scratch(
    arch: str,
    tokenizer: Any,
    encoded: list[data.Encoded],
    *,
    objective: str = "full",
    seed: int = 0,
    epochs: float | None = None,
    lr: float | None = None,
    progress: bool = True,
    **model_kw: Any,
) -> Any:
    """A tiny `arch` model trained from scratch on `encoded` with the demo's memorization settings: the
    original (objective "full") or, with "masked" (sensitive tokens never learnt), the benchmarks' oracle."""
    kind = detect(model_type=arch)  # a tiny architecture is named by its model type
    if kind is None:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose from {tiny.ARCHS}")
    if kind.masked:
        model_kw = {**MASKED_MEMORIZE["config"], **model_kw}
    model = tiny.tiny_model(arch, tokenizer, seed=seed, **model_kw)
    cfg = RepairConfig(
        objective=objective,
        epochs=epochs or (MASKED_MEMORIZE["epochs"] if kind.masked else MEMORIZE_EPOCHS),
        lr=lr or (MASKED_MEMORIZE["lr"] if kind.masked else MEMORIZE_LR),
        batch_size=16,
        max_length=256,
        seed=seed,
        warmup_ratio=0.05,
        mlm_probability=MASKED_MEMORIZE["mlm_probability"],
    )
    examples = repair.examples_for(model, tokenizer, encoded, cfg, kind)
    repair.train(model, tokenizer, examples, cfg, kind=kind, progress=progress)
    return model.eval()


def _write_task(rows: list[dict[str, str]], path: Path) -> Path:
    import json

    with atomic_open(path) as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return path


def run_demo(
    workdir: str | Path = "sani-demo",
    *,
    arch: str = "gpt2",
    seed: int = 0,
    preset: str | None = None,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Build the memorizing model, sanitize it, print the before/after table; returns the sanitization report."""
    if arch not in tiny.ARCHS:  # before anything is written
        raise SaniError(f"--arch {arch!r}: choose one of {', '.join(tiny.ARCHS)}")
    start = time.perf_counter()
    print(f"[1/2] generating synthetic notes and fine-tuning a tiny {arch} until it memorizes them ...", flush=True)
    paths = build_demo_model(workdir, arch=arch, seed=seed, progress=progress)
    built = time.perf_counter() - start
    print(f"[2/2] sanitizing {paths['original']} ...", flush=True)
    shutil.rmtree(Path(workdir) / ".sanitized.work", ignore_errors=True)  # a previous demo's interrupted run
    report = sanitize(
        paths["original"],
        paths["train"],
        Path(workdir) / "sanitized",
        holdout=paths["holdout"],
        probe=paths["task"],
        overwrite=True,
        preset=preset,
        seed=seed,
        progress=progress,
        **options,
    )
    total = time.perf_counter() - start
    before, after = AuditResult(report["audit_before"]), AuditResult(report["audit_after"])
    print()
    print(before_after_table(report["audit_before"], report["audit_after"]))
    ratio = after.perplexity_ratio(before)
    checks = [
        ("original regurgitates >= 50%", before.greedy_rate >= TARGETS["original_min"]),
        ("sanitized regurgitates <= 5%", after.greedy_rate <= TARGETS["sanitized_max"]),
        ("holdout perplexity <= 1.10x original", ratio <= TARGETS["perplexity_ratio_max"]),
        ("whole demo under 5 minutes", total < 300),
    ]
    print()
    for name, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    verdict = after.verdict
    advice = "" if verdict.overall == "pass" else ": what did not pass is in docs/attacks.md and docs/audit.md"
    print(f"\nsanitized model's {verdict_line(verdict)}{advice}")
    print(
        f"\nmodel built in {built:.0f} s; sanitized in {report['timings'].get('erase', 0) + report['timings']['repair']:.0f} s "
        f"(+ audits); total {total:.0f} s. Output: {Path(workdir) / 'sanitized'} (see sanitization.json)"
    )
    report["demo"] = {
        "seconds": round(total, 1),
        "checks": {n: ok for n, ok in checks},
        "holdout_perplexity_ratio": round(ratio, 4),
    }
    return report
