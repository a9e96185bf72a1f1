"""`sani` command line: a thin layer over `sani.sanitize` and `sani.audit`. Bad input exits 2 with one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from typing import Sequence

from .errors import SaniError


def _corpus_args(p: argparse.ArgumentParser, model: bool = True) -> None:
    from .detect import ORDER

    if model:
        p.add_argument("--model", required=True, help="model directory (or hub id when online)")
    p.add_argument("--corpus", required=True, help="training corpus: .jsonl with text/spans, .txt, .csv or .parquet")
    if model:
        p.add_argument("--holdout", help="held-out corpus for utility (perplexity on non-sensitive tokens)")
        p.add_argument("--task", help="causal-lm or masked-lm: overrides the kind of model read from its config")
        p.add_argument("--probe", help="labelled task (JSON Lines: text, label) for a linear-probe utility check")
        p.add_argument("--allow-pickle", action="store_true", help="allow loading a pickle (.bin) checkpoint: it can run code")
        p.add_argument("--trust-remote-code", action="store_true", help="allow the model's own Python code to run (off by default)")
    g = p.add_argument_group("finding the sensitive spans (besides the corpus's own 'spans')")
    g.add_argument("--terms", help="confidential terms, one a line; every whole-word occurrence becomes a span")
    g.add_argument("--ignore-case", action="store_true", help="match --terms case-insensitively")
    g.add_argument("--term-variants", action="store_true", help="match --terms with other spacing/punctuation")
    g.add_argument("--tags", metavar="TAG", help='inline tags to read and remove, e.g. PHI for <PHI type="NAME">...</PHI>')
    g.add_argument("--detect", metavar="LIST", help="built-in detectors: all, or some of " + ", ".join(ORDER).lower())
    g.add_argument("--region", default="US", metavar="CC[,CC]", help="phone numbers in the national format of these "
                   "regions (ISO 3166 codes, e.g. GB,FR; default US); international (+...) numbers are found from any region")
    g.add_argument("--pattern", action="append", default=[], metavar="LABEL=REGEX",
                   help="a regex for an identifier (repeatable); a group named 'value' marks the part to mask")
    g.add_argument("--presidio", action="store_true", help="also use Microsoft Presidio (pip install 'sani-llm[presidio]')")
    g.add_argument("--labels", default="all", help="all (default), direct (drops quasi-identifiers), or LABEL,LABEL")
    g.add_argument("--rare", metavar="LABELS:K", help="for these labels only values seen in fewer than K records are sensitive")
    g.add_argument("--no-propagate", action="store_true", help="do not mark other occurrences of known values")


def _finder(args: argparse.Namespace):
    from .spans import SpanFinder, parse_rare

    return SpanFinder(terms=args.terms, ignore_case=args.ignore_case, term_variants=args.term_variants, tags=args.tags,
                      detect=args.detect, region=args.region, patterns=args.pattern, presidio=args.presidio, labels=args.labels,
                      rare=parse_rare(args.rare), propagate=not args.no_propagate)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="log each step")


def _positive_int(text: str, option: str, zero: bool = False) -> int:
    if not text.strip().isdigit() or int(text) < (0 if zero else 1):
        raise SaniError(f"{option}: {text.strip()!r} is not a {'' if zero else 'positive '}whole number")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .erase import RESET_MODES, STRATEGIES
    from .repair import OBJECTIVES
    from .config import PRESETS, SCHEDULERS

    parser = argparse.ArgumentParser(prog="sani", description="Sanitize a fine-tuned language model: erase, repair, audit.")
    parser.add_argument("--version", action="version", version=f"sani {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sanitize", help="erase and repair a model; write a new model directory")
    _corpus_args(s)
    s.add_argument("--out", required=True, help="new model directory (must not exist unless --overwrite)")
    s.add_argument("--config", help="YAML file with any of the options below")
    s.add_argument("--preset", choices=sorted(PRESETS), help="'default' (ours) or 'paper' (the paper's literal recipe)")
    g = s.add_argument_group("erase")
    g.add_argument("--layers", type=int, help="reset neurons in the last N layers (default 1)")
    g.add_argument("--fraction", type=float, help="share of each layer's FFN neurons to reset (default 0.5)")
    g.add_argument("--strategy", choices=STRATEGIES, help="how neurons are chosen: random (default, the paper's) or scored on the sensitive tokens")
    g.add_argument("--scope", choices=("last", "network"), help="last (default): the budget in each of the last --layers; network: the best scored neurons anywhere")
    g.add_argument("--reset", choices=RESET_MODES, help="reinit (default), zero, or base (needs --base-model)")
    g.add_argument("--base-model", help="model directory with the weights before fine-tuning, for --reset base; for a LoRA "
                   "adapter directory, its base model (default: the one its adapter_config.json names)")
    g = s.add_argument_group("repair")
    g.add_argument("--objective", choices=OBJECTIVES, help="default masked+unlikelihood; the paper's is masked; masked+maxent flattens the prediction at sensitive tokens; masked+unlikelihood+maxent does both; ascent, masked+ascent, masked+npo are the baselines")
    g.add_argument("--forget-weight", type=float, help="weight of the forget term (default 1.0; masked LMs 2.0)")
    g.add_argument("--epochs", type=float, help="repair epochs (default 2; masked LMs 5)")
    g.add_argument("--lr", type=float, help="learning rate (default 5e-4)")
    g.add_argument("--batch-size", type=int, help="default 8")
    g.add_argument("--max-length", type=int, help="training window in tokens (default 512)")
    g.add_argument("--packing", action="store_true", default=None, help="fill each window with records end to end "
                   "(each token keeps its own sensitive flag)")
    g.add_argument("--scheduler", choices=SCHEDULERS, help="learning-rate schedule (default linear)")
    g.add_argument("--warmup-ratio", type=float, help="share of steps for warm-up (default 0)")
    g.add_argument("--seed", type=int, help="seed for neuron choice, initialisation and data order (default 0)")
    g.add_argument("--gradient-accumulation-steps", type=int, help="accumulate gradients over N batches (default 1)")
    g.add_argument("--precision", choices=("fp32", "bf16", "fp16"), help="training precision (default fp32; bf16/fp16 on a GPU)")
    g.add_argument("--gradient-checkpointing", action="store_true", default=None, help="recompute activations to save memory")
    g.add_argument("--lora-rank", type=int, help="repair a full model through fresh LoRA weights of this rank, merged into "
                   "the output (default 0: train all weights; a LoRA adapter input always trains its own adapter)")
    g.add_argument("--mlm-probability", type=float, help="masked LMs: share of tokens chosen as targets (default 0.15)")
    g.add_argument("--forget-probability", type=float, help="masked LMs: share of sensitive tokens masked for the forget term (default 0.5)")
    g.add_argument("--mask-sensitive-inputs", action="store_true", default=None,
                   help="masked LMs: also hide the sensitive tokens from the input (by default they stay visible as context)")
    g.add_argument("--target", help="repair until this holds on the corpus, e.g. 'regurgitation<=0.01' (then --epochs is ignored)")
    g.add_argument("--max-epochs", type=float, help="with --target: at most this many epochs (default 10)")
    g.add_argument("--eval-steps", type=int, help="with --target: audit every N steps instead of every epoch")
    g.add_argument("--target-patience", type=int, help="with --target: keep repairing for N checks without better holdout "
                   "perplexity after the target is met, then restore the best (default 1; 0 stops at once)")
    s.add_argument("--stream", action="store_true", help="corpus larger than memory: read it as a stream, tokenize it "
                   "once into a disk cache, audit a sample of --audit-records records")
    s.add_argument("--audit-records", type=int, default=1000, help="with --stream: records in the audit sample (default 1000)")
    s.add_argument("--cache-dir", help="with --stream: keep the tokenized corpus here for later runs (it holds the corpus's tokens, sensitive ones "
                   "included; readable by you only). Default: in the work directory, deleted at the end")
    s.add_argument("--no-audit", action="store_true", help="skip the before/after audit")
    s.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    s.add_argument("--resume", action="store_true", help="continue an interrupted run from its last repair checkpoint")
    s.add_argument("--save-steps", type=int, default=200, help="keep a repair checkpoint every N steps (default 200)")
    _common(s)

    a = sub.add_parser("audit", help="measure regurgitation and utility; write JSON")
    _corpus_args(a)
    a.add_argument("--out", help="write the audit JSON here")
    a.add_argument("--contexts", default="full,32,8", help="prompt contexts: full record prefix and/or last N tokens (default full,32,8)")
    a.add_argument("--samples", type=int, default=5, help="sampled continuations per prompt, 0 for greedy only (default 5)")
    a.add_argument("--top-k", type=int, default=40, help="top-k for sampling (default 40)")
    a.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    a.add_argument("--no-extraction", action="store_true", help="skip MA/EM/ES/EL extraction metrics")
    a.add_argument("--el-spans", type=int, default=100, help="spans sampled for extraction likelihood EL_n (default 100)")
    a.add_argument("--canaries", help="canary definition from 'sani canaries' (<corpus>.canaries.json): measures exposure")
    a.add_argument("--reference-model", help="a model that never saw the corpus, for the reference-difference membership attack")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--batch-size", type=int, default=32, help="prompts per generation batch (default 32)")
    a.add_argument("--show-values", action="store_true", help="write the values in clear text in the audit (data owner only)")
    _common(a)

    c = sub.add_parser("canaries", help="insert canaries into a corpus, for measuring exposure after training on it")
    c.add_argument("--corpus", required=True)
    c.add_argument("--out", required=True, help="corpus with canaries (.jsonl); the definition goes to <out>.canaries.json")
    c.add_argument("--format", default="The access code of my account is {secret}.", help="canary text with {secret}")
    c.add_argument("--space", default="digits:6", help="secret space: digits:N, hex:N or letters:N (default digits:6)")
    c.add_argument("--repeats", default="1,2,5,10", help="how many times each canary is inserted (default 1,2,5,10)")
    c.add_argument("--per-repeat", type=int, default=2, help="canaries per repeat count (default 2)")
    c.add_argument("--seed", type=int, default=0)
    _common(c)

    r = sub.add_parser("report", help="one self-contained HTML page comparing audits side by side")
    r.add_argument("audits", nargs="+", help="audit JSON files (from 'sani audit' or a sanitization.json)")
    r.add_argument("--out", required=True, help="HTML file to write")
    r.add_argument("--names", help="comma-separated names for the audits (default: file names)")
    r.add_argument("--thresholds", help="YAML/JSON file overriding the verdict thresholds")
    _common(r)

    p = sub.add_parser("spans", help="find the sensitive spans, write them as JSON Lines, print a summary")
    _corpus_args(p, model=False)
    p.add_argument("--out", help="write the corpus with its merged spans here (.jsonl): sanitize and audit accept it")
    p.add_argument("--tokenizer", help="a model or tokenizer directory, to report the share of tokens marked")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    _common(p)

    d = sub.add_parser("demo", help="the whole job on synthetic notes and a tiny model, offline, on CPU")
    d.add_argument("--workdir", default="sani-demo", help="where to write corpus and models (default ./sani-demo)")
    d.add_argument("--arch", default="gpt2", help="tiny architecture: gpt2, gpt_neox, opt, llama, mistral, qwen2 (causal), bert, roberta, distilbert, deberta-v2 (masked)")
    d.add_argument("--preset", choices=sorted(PRESETS))
    d.add_argument("--seed", type=int, default=0)
    _common(d)

    b = sub.add_parser("bench", help="sani against the baselines and the oracle, side by side (benchmarks/results)")
    b.add_argument("--quick", action="store_true", help="fewer methods and a smaller corpus (minutes, for CI)")
    b.add_argument("--archs", default="gpt2,bert", help="tiny architectures to build and memorize (default gpt2,bert)")
    b.add_argument("--methods", help="comma-separated, from: " + ", ".join(_bench_methods()) + " (the oracle always runs)")
    b.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    b.add_argument("--patients", type=int, help="patients in the synthetic corpus (default 60; --quick 30)")
    b.add_argument("--model", action="append", default=[], help="also your model directory (needs --corpus and --holdout)")
    b.add_argument("--corpus", help="the corpus --model was fine-tuned on")
    b.add_argument("--holdout", help="held-out text for --model")
    b.add_argument("--out-dir", default="benchmarks/results", help="where results go (default benchmarks/results)")
    _common(b)
    return parser


def _bench_methods() -> list[str]:
    from .bench import METHODS

    return list(METHODS)


def _setup_logging(verbose: bool, quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("sani").setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        import transformers

        transformers.logging.set_verbosity_error()
    if quiet:
        import transformers

        transformers.logging.disable_progress_bar()
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code (0, 2 for bad input, 130 when interrupted). Under a launcher
    (torchrun, accelerate launch) a failure in any process ends every process with that process's error line,
    and each process ends through `dist.leave` / `dist.fail` (see `sani.dist`)."""
    from . import dist

    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    progress = not args.quiet
    if os.environ.get("RANK", "0") != "0":  # launched on several processes: the main one prints and shows progress
        sys.stdout = open(os.devnull, "w")
        progress = False
    try:
        _run(args, progress)
    except SaniError as e:
        print(f"sani: error: {e}", file=sys.stderr, flush=True)
        return dist.fail(*dist.describe(e))  # the other processes print the same text (it names no value, by rule)
    except KeyboardInterrupt as e:
        print("sani: interrupted", file=sys.stderr, flush=True)
        return dist.fail(*dist.describe(e))
    except Exception as e:
        if not dist.launched():
            raise
        traceback.print_exc()
        return dist.fail(*dist.describe(e))  # the others get its type only
    return dist.leave(0)


def _run(args: argparse.Namespace, progress: bool) -> None:
    if args.command == "sanitize":
        from .pipeline import sanitize
        from .report import before_after_table

        options = {k: getattr(args, k) for k in (
            "layers", "fraction", "strategy", "scope", "reset", "base_model", "objective", "forget_weight", "epochs", "lr",
            "batch_size", "max_length", "packing", "scheduler", "warmup_ratio", "seed", "mlm_probability", "forget_probability", "mask_sensitive_inputs",
            "gradient_accumulation_steps", "precision", "gradient_checkpointing", "lora_rank",
            "target", "max_epochs", "eval_steps", "target_patience")}
        report = sanitize(args.model, args.corpus, args.out, spans=_finder(args), holdout=args.holdout, task=args.task, probe=args.probe,
                          config_file=args.config, preset=args.preset, overwrite=args.overwrite,
                          run_audit=not args.no_audit, resume=args.resume, save_steps=args.save_steps,
                          stream=args.stream, audit_records=args.audit_records, cache_dir=args.cache_dir,
                          allow_pickle=args.allow_pickle, trust_remote_code=args.trust_remote_code,
                          progress=progress, **options)
        if report["audit_before"]:
            print(before_after_table(report["audit_before"], report["audit_after"]))
        print(f"sanitized model written to {args.out}")
    elif args.command == "audit":
        from .pipeline import audit
        from .report import audit_summary

        contexts = [None if c.strip() == "full" else _positive_int(c, "--contexts") for c in args.contexts.split(",") if c.strip()]
        result = audit(args.model, args.corpus, args.out, spans=_finder(args), holdout=args.holdout,
                       canaries=args.canaries, reference_model=args.reference_model, task=args.task, probe=args.probe, contexts=contexts,
                       samples=args.samples, top_k=args.top_k, temperature=args.temperature,
                       extraction=not args.no_extraction, el_spans=args.el_spans, seed=args.seed,
                       show_values=args.show_values, batch_size=args.batch_size,
                       allow_pickle=args.allow_pickle, trust_remote_code=args.trust_remote_code, progress=progress)
        print(audit_summary(result))
        if args.out:
            print(f"audit written to {args.out}")
    elif args.command == "spans":
        import json

        from .pipeline import find_spans
        from .spans import format_summary

        summary = find_spans(args.corpus, args.out, spans=_finder(args), tokenizer=args.tokenizer)
        print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
        if args.out:
            print(f"spans written to {args.out}")
    elif args.command == "canaries":
        from .pipeline import add_canaries

        repeats = [_positive_int(x, "--repeats") for x in args.repeats.split(",") if x.strip()]
        definition = add_canaries(args.corpus, args.out, fmt=args.format, space=args.space, repeats=repeats,
                                  per_repeat=args.per_repeat, seed=args.seed)
        print(f"corpus with canaries written to {args.out}; definition (holds the secrets) in {definition}")
    elif args.command == "report":
        from .report import write_html

        names = args.names.split(",") if args.names else None
        write_html(args.audits, args.out, names=names, thresholds=args.thresholds)
        print(f"report written to {args.out}")
    elif args.command == "demo":
        from .demo import run_demo

        run_demo(args.workdir, arch=args.arch, seed=args.seed, preset=args.preset, progress=progress)
    elif args.command == "bench":
        from .bench import METHODS, QUICK_METHODS, BenchSettings, run

        methods = args.methods.split(",") if args.methods else list(QUICK_METHODS if args.quick else METHODS)
        settings = BenchSettings(archs=[a for a in args.archs.split(",") if a], methods=methods,
                                 seeds=[_positive_int(x, "--seeds", zero=True) for x in args.seeds.split(",") if x.strip()],
                                 patients=args.patients or (30 if args.quick else 60), models=args.model,
                                 corpus=args.corpus, holdout=args.holdout)
        results = run(settings, args.out_dir, progress=progress)
        print(results["table"])
        print("written: " + ", ".join(results["files"]))


if __name__ == "__main__":
    sys.exit(main())
