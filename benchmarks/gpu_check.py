"""GPU check, sized for a 10-minute window: repair throughput against a plain HF Trainer fine-tune of the same
model on the same data (target: at least 0.9x: masking must cost nothing), audit prompts/s, peak memory.

    python benchmarks/gpu_check.py                 # GPT-2 size (124M) and ~1B Llama, random weights, on the GPU
    python benchmarks/gpu_check.py --small --steps 200   # tiny sizes on CPU (the test suite: 3 steps, 1 round)
    python benchmarks/gpu_check.py --only gpt2-124M --steps 10 --batch-size 4   # the GPT-2 size on CPU

Models are built from their config (random weights are enough for throughput); the corpus is the synthetic
notes. Prints one table; put it, with the GPU's name, in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time

import torch

from sani import machine
from sani.audit import regurgitation as audit_regurgitation
from sani.bench import synthetic, tiny
from sani.config import RepairConfig
from sani.models.batching import max_positions
from sani.models.collators import SpanCollator
from sani.models.kinds import CausalLM
from sani.repair import training as repair
from sani.spans import data

SIZES = {  # name -> (arch, config overrides)
    "gpt2-124M": ("gpt2", dict(layers=12, hidden=768, heads=12, positions=1024)),
    "llama-1B": ("llama", dict(layers=16, hidden=2048, heads=16, positions=2048)),
}
SMALL = {
    "gpt2-tiny": ("gpt2", dict(layers=2, hidden=64, heads=2)),
    "llama-tiny": ("llama", dict(layers=2, hidden=64, heads=2)),
}


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None


def plain_trainer_seconds(model, tok, encoded, *, steps: int, batch_size: int, precision: str) -> float:
    """The same examples through the stock `Trainer` (its own loss, nothing masked): the baseline. Same seed
    as sani's repair, so the two see the same batches (the same padding) in the same order."""
    from transformers import Trainer, TrainingArguments

    examples = repair.build_examples(encoded, CausalLM(), "full", 512)
    args = TrainingArguments(
        output_dir="/tmp/sani-gpu-check",
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        report_to=[],
        logging_strategy="no",
        save_strategy="no",
        disable_tqdm=True,
        remove_unused_columns=False,
        seed=RepairConfig.seed,
        data_seed=RepairConfig.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    collate = SpanCollator(tok.eos_token_id)

    def plain(batch):
        out = collate(batch)
        out.pop("forget_labels", None)
        return out

    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=plain)
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def sani_seconds(
    model, tok, encoded, *, steps: int, batch_size: int, precision: str, objective: str = "masked+unlikelihood"
) -> float:
    """sani's repair on the same windows for the same number of steps (the training loop only: a calibrated
    objective's targets are scored before it, timed apart in `calibration_seconds`)."""
    n = len(repair.build_examples(encoded, CausalLM(), "masked", 512))
    cfg = RepairConfig(objective=objective, epochs=epochs_for(steps, n, batch_size), lr=1e-5, batch_size=batch_size,
                       max_length=512, precision=precision)  # fmt: skip
    key = (objective, sum(p.numel() for p in model.parameters()))
    if key not in EXAMPLES:  # the windows (and a calibrated objective's targets) once per size: throughput only
        start = time.perf_counter()
        EXAMPLES[key] = repair.examples_for(model, tok, encoded, cfg, CausalLM())
        CALIBRATION[objective] = time.perf_counter() - start
    examples = EXAMPLES[key]
    cfg = dataclasses.replace(cfg, epochs=epochs_for(steps, len(examples), batch_size))  # anchors add windows
    return repair.train(model, tok, examples, cfg, kind=CausalLM(), progress=False)[
        "seconds"
    ]  # trainer.train() alone, as above


def epochs_for(steps: int, n: int, batch_size: int) -> float:
    """The epochs for which the Trainer takes exactly `steps` steps (it rounds epochs x batches up)."""
    return (steps - 1e-6) / math.ceil(n / batch_size)


EXAMPLES: dict[tuple[str, int], list] = {}
CALIBRATION: dict[str, float] = {}  # objective -> seconds its targets took to score (the last model's)
RUNS = {  # column -> how it trains
    "plain Trainer": plain_trainer_seconds,
    "sani repair": sani_seconds,
    "sani calibrated": lambda *a, **k: sani_seconds(*a, **k, objective="masked+calibrated"),
}


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="tiny sizes (CPU, the test suite)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--patients", type=int, default=40)
    ap.add_argument("--only", help="one size by name (e.g. gpt2-124M on a CPU)")
    ap.add_argument("--repeats", type=int, default=3, help="rounds of the three runs; the median ratio is printed")
    args = ap.parse_args(argv)
    import transformers

    transformers.logging.set_verbosity_error()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    records = synthetic.make_corpus(args.patients, seed=1)
    tok = tiny.train_tokenizer(
        (r.text for r in synthetic.make_corpus(100, seed=3, repeats=(1,))), vocab_size=1024 if args.small else 4096
    )
    encoded = data.encode_corpus(tok, records)
    tokens_per_step = args.batch_size * sum(len(e.input_ids) for e in encoded) / len(encoded)
    rows = []
    sizes = {**SMALL, **SIZES} if args.only else (SMALL if args.small else SIZES)
    for name, (arch, kw) in sizes.items():
        if args.only and name != args.only:
            continue
        row: dict = {"model": name}
        seconds: dict[str, list[float]] = {what: [] for what in RUNS}
        for _ in range(args.repeats):  # the three runs side by side, again and again: ratios per round
            for what, fn in RUNS.items():
                model = tiny.tiny_model(arch, tok, **kw).to(device)
                row["params_M"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 1)
                _peak_reset(device)
                seconds[what].append(
                    fn(model, tok, encoded, steps=args.steps, batch_size=args.batch_size, precision=precision)
                )
                row[f"{what} peak GiB"] = _peak(device)
        for what, ts in seconds.items():
            row[f"{what} tokens/s"] = round(args.steps * tokens_per_step / statistics.median(ts))
        for col, what in (("ratio", "sani repair"), ("calibrated ratio", "sani calibrated")):
            ratios = sorted(p / s for p, s in zip(seconds["plain Trainer"], seconds[what]))
            row[col] = round(statistics.median(ratios), 3)
            row[f"{col} range"] = f"{ratios[0]:.3f}-{ratios[-1]:.3f}"
        row["calibration s"] = round(CALIBRATION["masked+calibrated"], 2)
        model.eval()
        probes = encoded[: max(8, len(encoded) // 2)]
        n_prompts = len(audit_regurgitation.make_probes(probes, set(tok.all_special_ids), limit=max_positions(model)))
        start = time.perf_counter()
        audit_regurgitation.regurgitation(model, tok, probes, progress=False)
        row["audit prompts/s"] = round(n_prompts / (time.perf_counter() - start), 1)
        rows.append(row)
        del model
    gpu = torch.cuda.get_device_name(0) if device.type == "cuda" else "CPU"
    print(f"device: {gpu}, precision {precision}, {args.steps} steps of batch {args.batch_size}")
    print(f"machine: {machine.describe()}\n")
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("| --- " * len(keys) + "|")
    for r in rows:
        print("| " + " | ".join("-" if r[k] is None else str(r[k]) for k in keys) + " |")
    print(f"\nnf4, sani's rounding against bitsandbytes' own: {nf4_against_bitsandbytes()}")
    return rows


def nf4_against_bitsandbytes() -> str:
    """The quantize attack's nf4 without bitsandbytes is sani's own codebook: the largest difference from
    bitsandbytes' round trip on the same weights (needs a GPU and bitsandbytes)."""
    from sani.audit.quantize import NF4_BLOCK, _bnb, nf4_roundtrip

    bf = _bnb()
    if bf is None:
        return "not measured (needs a GPU and bitsandbytes)"
    w = torch.randn(512, 256, device="cuda")
    q, state = bf.quantize_4bit(w, blocksize=NF4_BLOCK, quant_type="nf4")
    diff = (bf.dequantize_4bit(q, state) - nf4_roundtrip(w)).abs().max().item()
    return f"max |difference| {diff:.2e} on a 512x256 normal matrix (absmax {w.abs().max().item():.2f})"


if __name__ == "__main__":
    main()
