"""The run settings beyond the pipeline stages' own (`sani.config`) and the span finder's (`sani.spans.finder`):
each subcommand's inputs. Dataclasses with their help, from which `sani.cli` generates the flags; the
Python API takes the same fields as keyword arguments."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .config import EraseConfig, RepairConfig, TargetConfig
from .errors import whole_numbers
from .fields import opt
from .files import CACHE_KEYS
from .presets import PRESETS
from .spans import canaries


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
        CACHE_KEYS[0],
        "with --stream: how the cache knows the corpus file: 'edges' (size, time and a hash of its first and "
        "last MiB: an edit of the same size and time in the middle goes unseen) or 'full' (a hash of every byte)",
        choices=list(CACHE_KEYS),
    )
    audit: bool = opt(True, "audit before and after (--no-audit skips it)")
    overwrite: bool = opt(False, "replace --out if it exists")
    resume: bool = opt(False, "continue an interrupted run from its last repair checkpoint")
    save_steps: int = opt(200, "keep a repair checkpoint every N steps")
    thresholds: str | None = opt(None, "YAML/JSON file overriding the verdict's thresholds (sani.audit.gate)")


@dataclass
class Gate:
    """The command line's release gate, on sanitize and audit."""

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
    original: str | None = opt(None, "the model before sanitizing, the 'before' side of an erasure request")


@dataclass
class ErasureRequest:
    """An erasure request, on `sani audit` and `sani sanitize` (`sani.audit.erasure`)."""

    _argument_group_name = "an erasure request: values answered one by one (set SANI_HASH_KEY)"

    values: str | None = opt(
        None,
        "values, one a line (or JSON with labels), each answered before and after "
        "(sani audit: also against --reference-model), with a verdict",
    )
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
    sentences: int = opt(20000, "synthetic sentences it learns from (sani.spans.tagger_data)")
    iterations: int = opt(200, "training iterations (L-BFGS)")
    seed: int = opt(0, "seed for the sentences")


@dataclass
class CanariesRun:
    corpus: str = opt(help="corpus to insert canaries into")
    out: str = opt(help="corpus with canaries (.jsonl); the definition goes to <out>.canaries.json")
    format: str = opt(canaries.FORMAT, "canary text with {secret}")
    space: str = opt(canaries.SPACE, "secret space: digits:N, hex:N or letters:N")
    repeats: str = opt(",".join(map(str, canaries.REPEATS)), "how many times each canary is inserted")
    per_repeat: int = opt(canaries.PER_REPEAT, "canaries per repeat count")
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
    """`sani bench`'s settings (`sani.bench.rows.BenchSettings` adds the API's own): lists as comma-separated text
    on the command line, as text or lists in the API."""

    quick: bool = opt(False, "fewer methods and a smaller corpus (minutes, for CI)")
    archs: Sequence[str] | str | None = opt("gpt2,bert", "tiny architectures to build and memorize")
    methods: Sequence[str] | str | None = opt(
        None, "comma-separated methods (the oracle always runs); see sani.bench.methods"
    )
    seeds: Sequence[int] | str | None = opt("0", "comma-separated seeds")
    patients: int | None = opt(None, "patients in the synthetic corpus (default 60; --quick 30)")
    models: Sequence[str] | str | None = opt(
        None,
        "also your model directory (repeatable; needs --corpus and --holdout)",
        action="append",
        aliases="--model",  # the flag: one directory each time it is given
    )
    corpus: str | None = opt(
        None,
        "a corpus with spans (as sanitize reads it): the tiny models memorize it, and their oracle learns it "
        "with the values masked, instead of the bench's own; with --model, the corpus that model was "
        "fine-tuned on",
    )
    holdout: str | None = opt(
        None,
        "held-out records (default with --corpus: a quarter of its records, never trained on; needed with --model)",
    )
    tokenizer: str = opt(
        "corpus",
        "with --corpus: the tiny models' tokenizer is learnt on the training records ('corpus') or on public "
        "notes that never saw them ('public')",
        choices=["corpus", "public"],
    )
    out_dir: str = opt("benchmarks/results", "where results go")
    # the same attacks on every row: 3 epochs on 20% of the records at `sani.bench.rows.RELEARN_LR`, two roundings
    attacks: str = opt("relearn,quantize", "attacks every row (the oracle's too) is audited under; '' for none")

    def __post_init__(self) -> None:
        self.archs = _items(self.archs)
        if isinstance(self.methods, str):  # the flag's text ("": not given); None: the bench's own list
            self.methods = _items(self.methods) or None
        self.seeds = whole_numbers(self.seeds, "--seeds", zero=True)
        self.patients = self.patients or (30 if self.quick else 60)
        self.models = [self.models] if isinstance(self.models, str) else list(self.models or [])


def _items(text: str | Sequence[str] | None) -> list[str]:
    return [x for x in (text.split(",") if isinstance(text, str) else text or []) if x]


# flags whose absence must stay visible (presets, the YAML file, the masked-LM task defaults and the LoRA
# learning rate fill them in): their default is argparse's SUPPRESS, and their help states the default
NOT_GIVEN = (EraseConfig, RepairConfig, TargetConfig)


# run settings the Python API names otherwise than the command line (its `config` is a `SanitizeConfig`)
API_ALIASES = {"config_file": "config", "run_audit": "audit"}


def take(options: dict[str, Any], *settings: Any, aliases: dict[str, str] | None = None) -> list[Any]:
    """Each of `settings` (dataclass instances) with the fields that `options` names replaced; those names are
    taken out of `options` (`aliases`: the API's name of a field -> the field). The Python API's keyword
    arguments reach the dataclass that has the field, so each default is set once, on its field."""
    for old, new in (aliases or {}).items():
        if old in options:
            options[new] = options.pop(old)
    out = []
    for s in settings:
        names = {f.name for f in dataclasses.fields(s)}
        out.append(dataclasses.replace(s, **{k: options.pop(k) for k in list(options) if k in names}))
    return out


def fields_of(*settings: Any, leave: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of dataclass instances as the Python API's keyword arguments (the command line's way to call
    it; a field the API spells otherwise under the API's name), less `leave`."""
    api_name = {new: old for old, new in API_ALIASES.items()}
    return {
        api_name.get(f.name, f.name): getattr(s, f.name)
        for s in settings
        for f in dataclasses.fields(s)
        if f.name not in leave
    }
