"""Settings as dataclasses, one per pipeline stage (erase, repair, target, audit), each field with its help:
the single source for the Python API, the YAML file and the command line (`sani.cli` generates its flags
from them with transformers' `HfArgumentParser`). `sani.presets` builds one from a preset, a YAML file and
explicit arguments."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from .errors import SaniError, pick
from .fields import accelerator, check_types, need, opt
from .spans.candidates import SOURCES as SURROGATE_SOURCES

# the names each stage accepts; the stages' modules implement them
STRATEGIES = ("random", "activation", "gradient", "attribution")
RESET_MODES = ("reinit", "zero", "base")
OBJECTIVES = ("full", "masked", "masked+unlikelihood", "masked+maxent", "masked+unlikelihood+maxent", "ascent",
              "masked+ascent", "masked+npo", "masked+calibrated", "masked+calibrated+unlikelihood")  # fmt: skip
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
PRECISIONS = ("fp32", "bf16", "fp16")
LEVELS = ("auto", "fixed", "holdout")


@dataclass
class EraseConfig:
    _argument_group_name = "erase"  # the command line's group of these flags (HfArgumentParser)

    layers: int = opt(1, "reset neurons in the last N layers")
    fraction: float = opt(0.5, "share of each layer's FFN neurons to reset")
    strategy: str = opt(
        "random",
        "how neurons are chosen: at random (the paper's) or scored on the sensitive tokens",
        choices=STRATEGIES,
    )
    scope: str = opt(
        "last",
        "last: the budget in each of the last --layers; network: the best scored neurons anywhere",
        choices=("last", "network"),
    )
    reset: str = opt(
        "reinit", "reinit (the model's own initialisation), zero, or base (needs --base-model)", choices=RESET_MODES
    )
    base_model: str | None = opt(
        None,
        "model directory with the weights before fine-tuning, for --reset base; for a "
        "LoRA adapter directory, its base model (default: the one its adapter_config.json "
        "names)",
    )

    def validate_erase(self, adapter: bool = False) -> None:
        need(self.layers >= 1, self, "layers", "must be at least 1")
        need(0.0 <= self.fraction <= 1.0, self, "fraction", "must be between 0 and 1")
        need(
            self.scope == "last" or self.strategy != "random",
            self,
            "scope",
            "'network' needs a scoring strategy, not random",
        )
        need(
            self.reset != "base" or bool(self.base_model) or adapter,
            self,
            "reset",
            "'base' needs base_model (--base-model)",
        )


@dataclass
class RepairConfig:
    _argument_group_name = "repair"

    objective: str = opt(
        "masked+calibrated",
        "masked (the paper's): no loss on sensitive tokens; +calibrated (the default; masked LMs: +unlikelihood) "
        "pulls each value to the likelihood of an unseen value of its kind there; +unlikelihood pushes them down; "
        "+maxent flattens the prediction there; ascent, masked+ascent, masked+npo are baselines; full learns all",
        choices=OBJECTIVES,
    )
    forget_weight: float = opt(3.0, "weight of the forget term (masked LMs: 2.0)")
    epochs: float = opt(4.0, "repair epochs (masked LMs: 5)")
    lr: float = opt(2e-3, "learning rate (masked LMs: 5e-4; a LoRA repair: 5e-3)")
    batch_size: int = opt(8, "training windows per batch")
    max_length: int = opt(512, "training window in tokens")
    packing: bool = opt(False, "fill each window with records end to end (each token keeps its own sensitive flag)")
    scheduler: str = opt("linear", "learning-rate schedule (masked LMs: constant)", choices=SCHEDULERS)
    warmup_ratio: float = opt(0.0, "share of steps for warm-up")
    weight_decay: float = opt(0.0, "AdamW weight decay")
    seed: int = opt(0, "seed for neuron choice, initialisation, data order and the audit's sampling")
    gradient_accumulation_steps: int = opt(1, "accumulate gradients over N batches")
    precision: str = opt("fp32", "training precision (bf16/fp16: mixed precision, on a GPU)", choices=PRECISIONS)
    gradient_checkpointing: bool = opt(False, "recompute activations to save memory")
    lora_rank: int = opt(
        0,
        "repair a full model through fresh LoRA weights of this rank, merged into the output "
        "(0: train all weights; a LoRA adapter input always trains its own adapter)",
    )
    mlm_probability: float = opt(0.15, "masked LMs: share of tokens chosen as targets")
    forget_probability: float = opt(
        0.15, "masked LMs: share of sensitive tokens masked for the forget term (default preset: 0.5)"
    )
    mask_sensitive_inputs: bool = opt(
        False, "masked LMs: also hide the sensitive tokens from the input (by default they stay visible as context)"
    )
    surrogates: int = opt(4, "masked+calibrated: surrogate records a value's target is averaged over")
    anchors: int = opt(1, "masked+calibrated: surrogate records per record held at their own likelihood")
    surrogate_source: str = opt(
        "faker",
        "masked+calibrated: holdout (a third of --holdout's values, else faker), corpus "
        "(learnt from the label's own), faker (else shape), shape",
        choices=SURROGATE_SOURCES,
    )
    surrogate_locale: str = opt("en_US", "masked+calibrated: Faker's locale for the surrogates Faker serves")
    level: str = opt(
        "auto",
        "masked+calibrated: fixed (the surrogates' level, scored before the repair), holdout "
        "(moved per label during the repair to the level of --holdout's values, which the model never "
        "saw; needs a holdout) or auto (holdout for a causal LM given --holdout without --stream, else "
        "fixed)",
        choices=LEVELS,
    )
    level_checks: int = opt(4, "with level holdout: corrections per epoch")
    level_warmup: float = opt(1.0, "with level holdout: epochs of the repair before the first correction")

    def validate_repair(self) -> None:
        need(self.forget_weight >= 0, self, "forget_weight", "must be >= 0")
        need(self.epochs >= 0, self, "epochs", "must be >= 0")
        need(self.lr > 0, self, "lr", "must be > 0")
        need(self.batch_size >= 1, self, "batch_size", "must be at least 1")
        need(self.max_length >= 2, self, "max_length", "must be at least 2")
        need(0 <= self.warmup_ratio < 1, self, "warmup_ratio", "must be in [0, 1)")
        need(self.gradient_accumulation_steps >= 1, self, "gradient_accumulation_steps", "must be at least 1")
        need(self.precision == "fp32" or accelerator(), self, "precision", "bf16/fp16 need a GPU (CUDA or Apple MPS)")
        need(0 < self.mlm_probability < 1, self, "mlm_probability", "must be between 0 and 1")
        need(0 <= self.forget_probability <= 1, self, "forget_probability", "must be between 0 and 1")
        need(self.lora_rank >= 0, self, "lora_rank", "must be >= 0 (0: train all the weights)")
        need(self.surrogates >= 1, self, "surrogates", "must be at least 1")
        need(0 <= self.anchors <= self.surrogates, self, "anchors", "must be between 0 and surrogates")
        need(self.level_checks >= 1, self, "level_checks", "must be at least 1")
        need(self.level_warmup >= 0, self, "level_warmup", "must be >= 0")


@dataclass
class TargetConfig:
    _argument_group_name = "repair until a target holds"

    target: str | None = opt(
        None,
        "repair until this holds, e.g. 'regurgitation<=0.01,membership<=0.05,"
        "value_exposure<=2' (then --epochs is ignored; membership and value exposure "
        "are checked on a held-out part of the records)",
    )
    max_epochs: float = opt(10.0, "with --target: at most this many epochs")
    eval_steps: int | None = opt(None, "with --target: audit every N steps instead of every epoch")
    target_patience: int = opt(
        1,
        "with --target: keep repairing for N checks without better holdout perplexity "
        "after the target is met, then restore the best (0 stops at once)",
    )

    def validate_target(self) -> None:
        need(self.max_epochs > 0, self, "max_epochs", "must be > 0")
        need(self.target_patience >= 0, self, "target_patience", "must be >= 0")
        need(
            self.eval_steps is None or (isinstance(self.eval_steps, int) and self.eval_steps >= 1),
            self,
            "eval_steps",
            "must be at least 1",
        )
        if self.target is not None:
            parse_target(self.target)


@dataclass
class SanitizeConfig(TargetConfig, RepairConfig, EraseConfig):
    """Every setting of a sanitization: erase, then repair, then the audit-driven stop (fields in that order)."""

    preset: str = opt(
        "default", "'default' (ours) or 'paper' (the paper's literal recipe)", choices=("default", "paper")
    )

    def validate(self, adapter: bool = False) -> SanitizeConfig:
        """Check every field; `adapter`: the model is a LoRA adapter, whose base is the reset=base source."""
        check_types(self)
        self.validate_erase(adapter)
        self.validate_repair()
        self.validate_target()
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


ATTACKS = ("relearn", "quantize", "extract", "lens")
QUANT_SCHEMES = ("int8", "nf4", "int4-g128", "fp4")
RELEARN_GRIDS = ("quick", "full")


@dataclass
class AuditConfig:
    _argument_group_name = "audit"

    contexts: str = opt("full,32,8", "prompt contexts: the full record prefix and/or the last N tokens")
    samples: int = opt(5, "sampled continuations per prompt, 0 for greedy only")
    top_k: int = opt(40, "top-k for sampling")
    temperature: float = opt(1.0, "sampling temperature")
    extraction: bool = opt(True, "MA/EM/ES/EL extraction metrics (--no-extraction skips them)")
    el_spans: int = opt(100, "spans sampled for extraction likelihood EL_n")
    seed: int = opt(0, "seed for sampling and the spans' sample")
    batch_size: int = opt(32, "prompts per generation batch")
    show_values: bool = opt(False, "write the values in clear text in the audit (data owner only)")
    exposure_spans: int = opt(200, "spans (a seeded sample) whose value exposure is measured; 0 skips it")
    exposure_candidates: int | None = opt(None, "candidates each value is ranked among (default 1000; masked LM 50)")
    exposure_source: str = opt(
        "faker",
        "candidates: faker (else the value's format), shape, or holdout (the holdout's "
        "values of the label, where it has 5+)",
        choices=["faker", "shape", "holdout"],
    )
    paired_membership: bool = opt(True, "membership of each record against itself with its values replaced")
    paired_records: int = opt(0, "records (a seeded sample) in the paired membership test; 0: every one")
    exposure_locale: str = opt("en_US", "Faker's locale for candidates: the corpus's (de_DE, fr_FR, ...)")
    membership_margin: float = opt(
        0.05,
        "membership rule: pass when AUC - reference AUC is within +-this; also the verdict's threshold "
        "(a thresholds file's membership_margin sets it too, and must agree)",
    )
    bootstrap: int = opt(1000, "bootstrap resamples of the membership AUC's interval")
    attacks: str = opt("", "attacks on copies of the model: relearn,quantize,extract,lens or all (none by default)")
    relearn_grid: str = opt(
        "quick",
        "relearn attack: quick (2 rates by the model's size x 3 and 10 epochs on a "
        "fifth of the records, plus the benign and unrelated-text variants) or full (3 rates, on "
        "a fifth and on half); each setting on the reference too, the worst judged",
        choices=RELEARN_GRIDS,
    )
    relearn_epochs: float | None = opt(
        None,
        "relearn attack: epochs (any of --relearn-lr/-epochs/-fraction given: one "
        "custom setting instead of the grid; default 3)",
    )
    relearn_lr: float | None = opt(
        None,
        "relearn attack: learning rate (custom setting; default: the grid's lowest "
        "for the model's size, never the model's own sanitization.json)",
    )
    relearn_fraction: float | None = opt(
        None, "relearn attack: share of the records holding values it fine-tunes on (custom setting; default 0.2)"
    )
    relearn_corpus: str | None = opt(
        None,
        "relearn attack, benign variant: fine-tune on these records the model "
        "never saw (default: the holdout, when given)",
    )
    attack_samples: int = opt(
        10,
        "after each attack: sampled continuations per value from the full prefix, a value "
        "back when any holds it (causal LMs; 0: greedy only)",
    )
    quantize_schemes: str = opt(
        "int8,nf4,int4-g128,fp4",
        "quantize attack: weights rounded to int8 (per channel), nf4, int4-g128 (GPTQ/AWQ's grid) and/or fp4 (4-bit)",
    )
    extract_samples: int = opt(1000, "extract attack: free generations sampled from short generic prompts (causal LMs)")
    extract_tokens: int = opt(48, "extract attack: new tokens per generation")
    lens_spans: int = opt(200, "lens attack: values (a seeded sample) decoded at every layer")

    def candidates_for(self, kind: Any) -> int:
        """How many candidates a value is ranked among: `exposure_candidates`, else the model kind's
        (`sani.models.kinds`: a masked LM pays a pass per token of each)."""
        return self.exposure_candidates or kind.exposure_candidates

    def context_list(self) -> list[int | None]:
        """`contexts` as the audit takes them: None for the full prefix, else the last N tokens."""
        out: list[int | None] = []
        for c in (c.strip() for c in self.contexts.split(",")):
            if c == "full":
                out.append(None)
            elif c:
                if not c.isdigit() or int(c) < 1:
                    raise SaniError(f"--contexts: {c!r} is not a positive whole number")
                out.append(int(c))
        return out

    def validate(self) -> AuditConfig:
        if min(self.samples, self.attack_samples) < 0 or self.top_k < 1 or self.temperature <= 0:
            raise SaniError("samples and attack_samples must be >= 0, top_k >= 1 and temperature > 0")
        if min(self.exposure_spans, self.paired_records) < 0 or (self.exposure_candidates or 1) < 1:
            raise SaniError("exposure_spans and paired_records must be >= 0, exposure_candidates >= 1")
        if not 0 < self.membership_margin < 0.5 or self.bootstrap < 100:
            raise SaniError("membership_margin must be between 0 and 0.5, bootstrap at least 100")
        self.context_list()
        self.attack_list()
        given = (self.relearn_lr, self.relearn_epochs, self.relearn_fraction)
        lr, epochs, fraction = (d if x is None else x for x, d in zip(given, (1.0, 1.0, 0.5)))  # any valid default
        if not 0 < fraction < 1 or epochs <= 0 or lr <= 0:
            raise SaniError("relearn_fraction must be between 0 and 1, relearn_epochs and relearn_lr above 0")
        if min(self.extract_samples, self.extract_tokens, self.lens_spans) < 1:
            raise SaniError("extract_samples, extract_tokens and lens_spans must be at least 1")
        if not self.schemes() or set(self.schemes()) - set(QUANT_SCHEMES):
            raise SaniError(f"quantize_schemes={self.quantize_schemes!r}: choose among {', '.join(QUANT_SCHEMES)}")
        return self

    def schemes(self) -> list[str]:
        return [s.strip() for s in self.quantize_schemes.split(",") if s.strip()]

    def attack_list(self) -> list[str]:
        """`attacks` as names, in the order they run ("all": every one)."""
        return pick(self.attacks, ATTACKS, "--attacks", "attack")


TARGET_METRICS = {"regurgitation": 1.0, "membership": 0.5, "value_exposure": 64.0}  # metric -> largest limit


def parse_target(spec: str) -> dict[str, float]:
    """'regurgitation<=0.01,membership<=0.05,value_exposure<=2' -> {metric: limit}."""
    parts = [re.fullmatch(r"\s*([a-z_]+)\s*<=\s*([0-9]*\.?[0-9]+)\s*", p) for p in (spec or "").split(",")]
    if not all(m and m[1] in TARGET_METRICS and float(m[2]) <= TARGET_METRICS[m[1]] for m in parts):
        raise SaniError(
            f"target={spec!r}: expected METRIC<=LIMIT[,...] with METRIC regurgitation (a rate, 0 to 1), "
            "membership (|AUC - AUC_ref|, 0 to 0.5) or value_exposure (bits), e.g. "
            "'regurgitation<=0.01,membership<=0.05'"
        )
    return {m[1]: float(m[2]) for m in parts}
