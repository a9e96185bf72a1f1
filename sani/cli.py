"""`sani` command line: a thin layer over the Python API. Each subcommand's flags are generated from its
settings dataclasses by transformers' `HfArgumentParser` (`sani.config`, `sani.spans.finder.SpanFinder` and
`sani.options`); a YAML file (`--config`) is layered under explicit flags and over the preset. Bad input
exits 2 with one line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser

from .config import AuditConfig, EraseConfig, RepairConfig, TargetConfig
from .errors import SaniError, whole_numbers
from .options import (
    NOT_GIVEN,
    VERDICT_EXIT,
    AuditRun,
    BenchRun,
    CanariesRun,
    DemoRun,
    ErasureRequest,
    Gate,
    ModelInputs,
    ReportRun,
    SanitizeRun,
    SpansRun,
    TaggerRun,
    fields_of,
)
from .spans.finder import SpanFinder


@dataclass
class Command:
    help: str
    settings: tuple[type, ...]
    handler: Callable[[argparse.Namespace, bool], int | None]  # an exit code (None: 0)


def _parts(ns: argparse.Namespace, dc: type) -> Any:
    """The dataclass `dc` built from the parsed flags (a SUPPRESSed flag that was not given: its default)."""
    return dc(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(dc) if hasattr(ns, f.name)})


def _given(ns: argparse.Namespace) -> dict[str, Any]:
    return {f.name: getattr(ns, f.name) for dc in NOT_GIVEN for f in dataclasses.fields(dc) if hasattr(ns, f.name)}


def _sanitize(ns: argparse.Namespace, progress: bool) -> int:
    from .audit import AuditResult
    from .pipeline import sanitize
    from .report.text import before_after_table, erasure_lines

    i, r, e = _parts(ns, ModelInputs), _parts(ns, SanitizeRun), _parts(ns, ErasureRequest)
    if _parts(ns, Gate).require_pass and not r.audit:
        raise SaniError("--require-pass needs the audit (drop --no-audit)")
    given = fields_of(i, r, e, leave=("model", "corpus", "out"))
    report = sanitize(i.model, i.corpus, r.out, spans=_parts(ns, SpanFinder), progress=progress, **given, **_given(ns))
    if report["audit_before"]:
        print(before_after_table(report["audit_before"], report["audit_after"]))
        for line in erasure_lines(AuditResult(report["audit_after"]).erasure):
            print(line)
    print(f"sanitized model written to {r.out}")
    return _gate(report["audit_after"], _parts(ns, Gate).require_pass)


def _gate(result: dict[str, Any] | None, require: bool) -> int:
    """The verdict line, the tokenizer's warning; with --require-pass, VERDICT_EXIT unless it is pass."""
    from .audit import AuditResult
    from .audit.tokscan import warning
    from .report.text import verdict_line

    if result is None:
        return 0
    a = AuditResult(result)
    line = warning(a.tokenizer_scan)
    if line and os.environ.get("RANK", "0") == "0":  # every process holds the result; the main one says it
        print(f"sani: {line}", file=sys.stderr)
    print(verdict_line(a.verdict))
    return VERDICT_EXIT if require and a.verdict.overall != "pass" else 0


def _audit(ns: argparse.Namespace, progress: bool) -> int:
    from .api import audit
    from .report.text import audit_summary

    i, r, cfg, e = _parts(ns, ModelInputs), _parts(ns, AuditRun), _parts(ns, AuditConfig), _parts(ns, ErasureRequest)
    cfg.context_list()  # a bad --contexts is the first error, as the flags are read
    given = fields_of(i, r, e, leave=("model", "corpus", "out"))
    result = audit(i.model, i.corpus, r.out, spans=_parts(ns, SpanFinder), config=cfg, progress=progress, **given)
    print(audit_summary(result))
    if r.out:
        print(f"audit written to {r.out}")
    return _gate(result, _parts(ns, Gate).require_pass)


def _spans(ns: argparse.Namespace, progress: bool) -> None:
    from .api import find_spans
    from .spans.finder import format_summary

    r = _parts(ns, SpansRun)
    summary = find_spans(r.corpus, r.out, spans=_parts(ns, SpanFinder), tokenizer=r.tokenizer)
    print(json.dumps(summary, indent=2) if r.json else format_summary(summary))
    if r.out:
        print(f"spans written to {r.out}")


def _tagger(ns: argparse.Namespace, progress: bool) -> None:
    from .spans.tagger import build, model_path

    r = _parts(ns, TaggerRun)
    print(f"sani: building the name and address tagger from {r.sentences} sentences ...", file=sys.stderr, flush=True)
    got = build(r.out, sentences=r.sentences, seed=r.seed, iterations=r.iterations)
    used = Path(got["path"]).resolve() == model_path().resolve()
    how = "--detect tagger (and all) now runs it" if used else f"set SANI_TAGGER={got['path']} to use it"
    print(f"tagger written to {got['path']} in {got['seconds']:.0f} s; {how}")


def _canaries(ns: argparse.Namespace, progress: bool) -> None:
    from .api import add_canaries

    r = _parts(ns, CanariesRun)
    definition = add_canaries(
        r.corpus,
        r.out,
        fmt=r.format,
        space=r.space,
        repeats=whole_numbers(r.repeats, "--repeats"),
        per_repeat=r.per_repeat,
        seed=r.seed,
    )
    print(f"corpus with canaries written to {r.out}; definition (holds the secrets) in {definition}")


def _report(ns: argparse.Namespace, progress: bool) -> None:
    from .report.html import write_html

    r = _parts(ns, ReportRun)
    write_html(ns.audits, r.out, names=r.names.split(",") if r.names else None, thresholds=r.thresholds)
    print(f"report written to {r.out}")


def _demo(ns: argparse.Namespace, progress: bool) -> None:
    from .bench.demo import run_demo

    r = _parts(ns, DemoRun)
    run_demo(r.workdir, arch=r.arch, seed=r.seed, preset=r.preset, progress=progress)


def _bench(ns: argparse.Namespace, progress: bool) -> None:
    from .bench.rows import BenchSettings, run

    r = _parts(ns, BenchRun)
    results = run(BenchSettings(**fields_of(r)), progress=progress)
    print(results["table"])
    print("written: " + ", ".join(results["files"]))


COMMANDS: dict[str, Command] = {
    "sanitize": Command(
        "erase and repair a model; write a new model directory",
        (ModelInputs, SanitizeRun, Gate, SpanFinder, EraseConfig, RepairConfig, TargetConfig, ErasureRequest),
        _sanitize,
    ),
    "audit": Command(
        "measure regurgitation and utility; write JSON",
        (ModelInputs, AuditRun, Gate, SpanFinder, AuditConfig, ErasureRequest),
        _audit,
    ),
    "canaries": Command(
        "insert canaries into a corpus, for measuring exposure after training on it", (CanariesRun,), _canaries
    ),
    "report": Command("one self-contained HTML page comparing audits side by side", (ReportRun,), _report),
    "spans": Command(
        "find the sensitive spans, write them as JSON Lines, print a summary", (SpansRun, SpanFinder), _spans
    ),
    "tagger": Command(
        "build sani's own name and address tagger (--detect tagger), offline, once", (TaggerRun,), _tagger
    ),
    "demo": Command("the whole job on synthetic notes and a tiny model, offline, on CPU", (DemoRun,), _demo),
    "bench": Command(
        "sani against the baselines and the oracle, side by side (benchmarks/results)", (BenchRun,), _bench
    ),
}


def build_parser() -> argparse.ArgumentParser:
    from .version import __version__

    parser = argparse.ArgumentParser(
        prog="sani", description="Sanitize a fine-tuned language model: erase, repair, audit."
    )
    parser.add_argument("--version", action="version", version=f"sani {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=HfArgumentParser)
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help, dataclass_types=list(cmd.settings))
        if name == "report":
            p.add_argument("audits", nargs="+", help="audit JSON files (from 'sani audit' or a sanitization.json)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
        p.add_argument("-v", "--verbose", action="store_true", help="log each step")
        _suppress_defaults(p, [f.name for dc in cmd.settings if dc in NOT_GIVEN for f in dataclasses.fields(dc)])
        _hyphens_only(p)
    return parser


def _hyphens_only(parser: argparse.ArgumentParser) -> None:
    """One spelling a flag, with hyphens (HfArgumentParser adds --under_score twins): the flags of earlier
    versions, and their unambiguous abbreviations (--top for --top-k), keep working. A field whose flag is
    spelled otherwise (its `aliases`: `SpanFinder.patterns` is `--pattern`) has that spelling only."""
    for action in parser._actions:
        named = [o for o in action.option_strings if o.startswith("--") and not o.startswith("--no")]
        other = [o for o in named if o[2:].replace("-", "_") != action.dest]
        keep = other or [o for o in action.option_strings if "_" not in o]
        if keep and len(keep) < len(action.option_strings):
            for o in set(action.option_strings) - set(keep):
                parser._option_string_actions.pop(o, None)
            action.option_strings = keep


def _suppress_defaults(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    """Flags absent from the namespace unless given; their help says the default they fall back to."""
    for action in parser._actions:
        if action.dest in names and action.default is not argparse.SUPPRESS:
            if action.default is not None and action.option_strings[0].startswith("--no"):
                continue
            if action.default is not None:
                action.help = f"{action.help} (default: {action.default})"
            action.default = argparse.SUPPRESS


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
    """Run one subcommand; return its exit code (0, 2 for bad input, 3 when --require-pass
    finds a verdict other than pass, 130 when interrupted). Under a launcher
    (torchrun, accelerate launch) a failure in any process ends every process with that process's error line,
    and each process ends through `dist.leave` / `dist.fail` (see `sani.scale.dist`)."""
    from .scale import dist

    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    progress = not args.quiet
    if os.environ.get("RANK", "0") != "0":  # launched on several processes: the main one prints and shows progress
        sys.stdout = open(os.devnull, "w")
        progress = False
    try:
        code = COMMANDS[args.command].handler(args, progress) or 0
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
    return dist.leave(code)


if __name__ == "__main__":
    sys.exit(main())
