"""The command line's settings beyond the pipeline stages' own (`sani.config`): each subcommand's inputs, and
the span finder's flags. Dataclasses with their help, from which `sani.cli` generates the flags."""

from __future__ import annotations

from dataclasses import dataclass

from . import detect
from .config import EraseConfig, RepairConfig, TargetConfig, opt
from .presets import PRESETS
from .spans import SpanFinder, parse_rare


@dataclass
class SpanOptions:
    """The command line's way to build a `SpanFinder` (flat flags, a file for the terms)."""

    _argument_group_name = "finding the sensitive spans (besides the corpus's own 'spans')"

    terms: str | None = opt(None, "confidential terms, one a line; every whole-word occurrence becomes a span")
    ignore_case: bool = opt(False, "match --terms case-insensitively")
    term_variants: bool = opt(False, "match --terms with other spacing/punctuation")
    tags: str | None = opt(
        None, 'inline tags to read and remove, e.g. PHI for <PHI type="NAME">...</PHI>', metavar="TAG"
    )
    detect: str | None = opt(
        None, "built-in detectors: all, or some of " + ", ".join(detect.ORDER).lower(), metavar="LIST"
    )
    region: str = opt("US", "phone numbers in the national format of these regions (ISO 3166 codes, e.g. GB,FR); "
                      "international (+...) numbers are found from any region", metavar="CC[,CC]")  # fmt: skip
    pattern: str | None = opt(None, "a regex for an identifier (repeatable); a group named 'value' marks the part to mask",
                              action="append", metavar="LABEL=REGEX")  # fmt: skip
    presidio: bool = opt(False, "also use Microsoft Presidio (pip install 'sani-llm[presidio]')")
    labels: str = opt("all", "all, direct (drops quasi-identifiers), or LABEL,LABEL")
    rare: str | None = opt(None, "for these labels only values seen in fewer than K records are sensitive",
                           metavar="LABELS:K")  # fmt: skip
    propagate: bool = opt(True, "mark other occurrences of known values (--no-propagate: do not)")

    def finder(self) -> SpanFinder:
        return SpanFinder(
            terms=self.terms,
            ignore_case=self.ignore_case,
            term_variants=self.term_variants,
            tags=self.tags,
            detect=self.detect,
            region=self.region,
            patterns=list(self.pattern or []),
            presidio=self.presidio,
            labels=self.labels,
            rare=parse_rare(self.rare),
            propagate=self.propagate,
        )


@dataclass
class ModelInputs:
    model: str = opt(help="model directory (or hub id when online)")
    corpus: str = opt(help="training corpus: .jsonl with text/spans, .txt, .csv or .parquet")
    holdout: str | None = opt(None, "held-out corpus for utility (perplexity on non-sensitive tokens)")
    task: str | None = opt(None, "causal-lm or masked-lm: overrides the kind of model read from its config")
    probe: str | None = opt(None, "labelled task (JSON Lines: text, label) for a linear-probe utility check")
    allow_pickle: bool = opt(False, "allow loading a pickle (.bin) checkpoint: it can run code")
    trust_remote_code: bool = opt(False, "allow the model's own Python code to run (off by default)")


VERDICT_EXIT = 3  # --require-pass: the overall verdict is not "pass" (2 is bad input)


@dataclass
class SanitizeRun:
    out: str = opt(help="new model directory (must not exist unless --overwrite)")
    config: str | None = opt(None, "YAML file with any of the erase, repair and target options")
    preset: str | None = opt(None, "'default' (ours) or 'paper' (the paper's literal recipe)", choices=sorted(PRESETS))
    stream: bool = opt(
        False,
        "corpus larger than memory: read it as a stream, tokenize it once into a disk cache, "
        "audit a sample of --audit-records records",
    )
    audit_records: int = opt(1000, "with --stream: records in the audit sample")
    cache_dir: str | None = opt(
        None,
        "with --stream: keep the tokenized corpus here for later runs (it holds the "
        "corpus's tokens, sensitive ones included; readable by you only). Default: in "
        "the work directory, deleted at the end",
    )
    cache_key: str = opt(
        "edges",
        "with --stream: how the cache knows the corpus file: 'edges' (size, time and a hash of its first and "
        "last MiB: an edit of the same size and time in the middle goes unseen) or 'full' (a hash of every byte)",
        choices=["edges", "full"],
    )
    audit: bool = opt(True, "audit before and after (--no-audit skips it)")
    overwrite: bool = opt(False, "replace --out if it exists")
    resume: bool = opt(False, "continue an interrupted run from its last repair checkpoint")
    save_steps: int = opt(200, "keep a repair checkpoint every N steps")
    thresholds: str | None = opt(None, "YAML/JSON file overriding the verdict's thresholds (sani.audit.gate)")
    require_pass: bool = opt(
        False, f"exit {VERDICT_EXIT} (after writing everything) unless the overall verdict is pass: a release gate"
    )


@dataclass
class AuditRun:
    out: str | None = opt(None, "write the audit JSON here")
    canaries: str | None = opt(
        None, "canary definition from 'sani canaries' (<corpus>.canaries.json): measures exposure"
    )
    reference_model: str | None = opt(
        None, "a model that never saw the corpus, for the reference-difference membership attack"
    )
    thresholds: str | None = opt(None, "YAML/JSON file overriding the verdict's thresholds (sani.audit.gate)")
    require_pass: bool = opt(
        False, f"exit {VERDICT_EXIT} (after writing everything) unless the overall verdict is pass: a release gate"
    )
    original: str | None = opt(None, "the model before sanitizing, the 'before' side of an erasure request")


@dataclass
class ErasureRequest:
    """An erasure request, on `sani audit` and `sani sanitize` (`sani.audit.erasure`)."""

    _argument_group_name = "an erasure request: values answered one by one (set SANI_HASH_KEY)"

    values: str | None = opt(None, "values, one a line (or JSON with labels), each answered before and after "
                                   "(sani audit: also against --reference-model), with a verdict")  # fmt: skip
    record: int | None = opt(None, "every value of this record (1-based)")


@dataclass
class SpansRun:
    corpus: str = opt(help="corpus: .jsonl with text/spans, .txt, .csv or .parquet")
    out: str | None = opt(None, "write the corpus with its merged spans here (.jsonl): sanitize and audit accept it")
    tokenizer: str | None = opt(None, "a model or tokenizer directory, to report the share of tokens marked")
    json: bool = opt(False, "print the summary as JSON")


@dataclass
class TaggerRun:
    out: str | None = opt(None, "where to write it (default: SANI_TAGGER, else the user's cache directory)")
    sentences: int = opt(20000, "synthetic sentences it learns from (sani.tagger_data)")
    iterations: int = opt(200, "training iterations (L-BFGS)")
    seed: int = opt(0, "seed for the sentences")


@dataclass
class CanariesRun:
    corpus: str = opt(help="corpus to insert canaries into")
    out: str = opt(help="corpus with canaries (.jsonl); the definition goes to <out>.canaries.json")
    format: str = opt("The access code of my account is {secret}.", "canary text with {secret}")
    space: str = opt("digits:6", "secret space: digits:N, hex:N or letters:N")
    repeats: str = opt("1,2,5,10", "how many times each canary is inserted")
    per_repeat: int = opt(2, "canaries per repeat count")
    seed: int = opt(0, "seed for the secrets and where they go")


@dataclass
class ReportRun:
    out: str = opt(help="HTML file to write")
    names: str | None = opt(None, "comma-separated names for the audits (default: file names)")
    thresholds: str | None = opt(None, "YAML/JSON file overriding the verdict thresholds")


@dataclass
class DemoRun:
    workdir: str = opt("sani-demo", "where to write corpus and models")
    arch: str = opt(
        "gpt2",
        "tiny architecture: gpt2, gpt_neox, opt, llama, mistral, qwen2 (causal), bert, roberta, "
        "distilbert, deberta-v2 (masked)",
    )
    preset: str | None = opt(None, "the sanitization preset", choices=sorted(PRESETS))
    seed: int = opt(0, "seed for the corpus, the model and the sanitization")


@dataclass
class BenchRun:
    quick: bool = opt(False, "fewer methods and a smaller corpus (minutes, for CI)")
    archs: str = opt("gpt2,bert", "tiny architectures to build and memorize")
    methods: str | None = opt(None, "comma-separated methods (the oracle always runs); see sani.bench.METHODS, CURVE")
    seeds: str = opt("0", "comma-separated seeds")
    patients: int | None = opt(None, "patients in the synthetic corpus (default 60; --quick 30)")
    model: str | None = opt(
        None, "also your model directory (repeatable; needs --corpus and --holdout)", action="append"
    )
    corpus: str | None = opt(None, "a corpus with spans (as sanitize reads it): the tiny models memorize it, and "
                                   "their oracle learns it with the values masked, instead of the bench's own; "
                                   "with --model, the corpus that model was fine-tuned on")  # fmt: skip
    holdout: str | None = opt(None, "held-out records (default with --corpus: a quarter of its records, never "
                                    "trained on; needed with --model)")  # fmt: skip
    tokenizer: str = opt("corpus", "with --corpus: the tiny models' tokenizer is learnt on the training records "
                                   "('corpus') or on public notes that never saw them ('public')",
                         choices=["corpus", "public"])  # fmt: skip
    out_dir: str = opt("benchmarks/results", "where results go")
    attacks: str = opt("relearn,quantize", "attacks every row (the oracle's too) is audited under; '' for none")


# flags whose absence must stay visible (presets, the YAML file, the masked-LM task defaults and the LoRA
# learning rate fill them in): their default is argparse's SUPPRESS, and their help states the default
NOT_GIVEN = (EraseConfig, RepairConfig, TargetConfig)
