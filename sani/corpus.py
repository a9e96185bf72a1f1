"""The corpus a sanitization reads: in memory, or streamed from a file larger than memory. Either source
gives the records the audit reads (all of them, or a seeded sample), the repair's training windows and a
digest that tells two runs' corpora apart, so the pipeline never asks which one it has.

Streamed: the repair's windows are written by `datasets` to Arrow files under a cache directory, keyed by
everything that decides them (the corpus file, the span settings, the tokenizer, the window settings), so a
second run on the same corpus and model family reads them back instead of tokenizing again. The `Trainer`
reads the memory-mapped dataset; only the audit, on a seeded sample of records, holds records in memory.
The cache holds the corpus's tokens, sensitive ones included: it is made readable by its owner only, and
the pipeline keeps it in its work directory (deleted at the end) unless the user names a cache directory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import data, dist, objectives
from .batching import max_positions
from .config import RepairConfig
from .errors import SaniError
from .files import CACHE_KEYS, check_cache_key, digest, file_digest
from .kinds import Kind
from .objectives import Objective
from .passes import marked, marked_records, sample
from .repair import cut, examples_for
from .spans import SpanFinder
from .version import __version__

CHUNK = 256  # records scored together for the calibrated repair's targets, when the corpus is streamed

log = logging.getLogger(__name__)

NO_SPANS = "no sensitive spans in the corpus: annotate 'spans', or give --terms, --detect, --pattern or --tags"


def load_records(corpus: str | Path | Sequence[data.Record], finder: SpanFinder | None = None) -> list[data.Record]:
    """The corpus with its annotated spans, plus those the finder adds (terms, detectors, propagation...)."""
    records = (
        data.read_corpus(corpus)
        if isinstance(corpus, (str, Path))
        else [data.Record(r.text, list(r.spans), r.where) for r in corpus]
    )
    if not records:
        raise SaniError("the corpus is empty")
    return (finder or SpanFinder()).apply(records)


def records_digest(records: Sequence[data.Record]) -> str:
    return digest([[r.text, [(s.start, s.end, s.label) for s in r.spans]] for r in records])


class InMemory:
    """A corpus read whole: the audit reads every record."""

    def __init__(self, corpus: str | Path | Sequence[data.Record], finder: SpanFinder):
        self.records = load_records(corpus, finder)
        self.total, self.total_spans = len(self.records), sum(len(r.spans) for r in self.records)
        self.has_spans = self.total_spans > 0

    def digest(self, tokenizer: Any) -> str:
        return records_digest(self.records)

    def training_examples(self, model: Any, tokenizer: Any, kind: Kind, encoded: Sequence[data.Encoded],
                          cfg: RepairConfig, work: Path, pool: Sequence[tuple[str, str]] = ()) -> list[dict[str, list[int]]]:  # fmt: skip
        return examples_for(model, tokenizer, encoded, cfg, kind, pool=pool)

    def summary(self, examples: Any) -> dict[str, Any]:
        return {}


class Streamed:
    """A corpus file read as a stream: the audit reads a seeded sample of `audit_records` records; the
    training windows are tokenized once into a disk cache (`cache_dir`, else the run's work directory)."""

    def __init__(
        self,
        path: str | Path,
        finder: SpanFinder,
        audit_records: int,
        seed: int = 0,
        cache_dir: str | Path | None = None,
        key: str = CACHE_KEYS[0],
    ):
        if audit_records < 1:
            raise SaniError(f"audit_records={audit_records}: must be at least 1")
        self.path, self.finder, self.cache_dir, self.key = path, finder, cache_dir, key
        check_cache_key(key)  # now, before any model loads (the digest is taken when the windows are built)
        self._marks = tempfile.TemporaryDirectory(prefix="sani-spans-")  # owner only; removed with this object
        self.spans = Path(self._marks.name) / "spans.jsonl"  # each record's own spans (offsets, labels: no text)
        self.records, self.total, self.marks = sample(path, finder, audit_records, seed=seed, spans_to=self.spans)
        self._total_spans: int | None = None
        self.has_spans = self.marks.found  # known after the first read, before the spans are counted

    @property
    def total_spans(self) -> int:
        """The spans in the whole corpus: counted while tokenizing (kept with the cache), else by one more read."""
        if self._total_spans is None:
            self._total_spans = sum(len(r.spans) for r in self.marked())
        return self._total_spans

    def marked(self) -> Iterator[data.Record]:
        """The records with their final spans, from one more read of the file: no span is found again."""
        for r in marked(self.path, self.spans, self.finder.tags):
            yield from self.marks.apply([r])

    def digest(self, tokenizer: Any) -> str:
        return cache_key(self.path, self.finder, tokenizer, {}, self.key)

    def training_examples(self, model: Any, tokenizer: Any, kind: Kind, encoded: Sequence[data.Encoded],
                          cfg: RepairConfig, work: Path, pool: Sequence[tuple[str, str]] = ()) -> Any:  # fmt: skip
        with dist.main_first():  # one process tokenizes; the others then read its cache
            examples = training_examples(
                self.path,
                tokenizer,
                kind,
                self.finder,
                objective=cfg.objective,
                max_length=min(cfg.max_length, max_positions(model)),
                packing=cfg.packing,
                cache_dir=self.cache_dir or work / "tokenized",
                calibrate=(model, cfg, pool),
                key=self.key,
                records=self.marked,
            )
        self._total_spans = spans_counted(examples)
        return examples

    def summary(self, examples: Any) -> dict[str, Any]:
        return {"streamed": True, "audited_records": len(self.records), "training_windows": len(examples)}


def source(
    corpus: str | Path | Sequence[data.Record],
    finder: SpanFinder,
    *,
    stream: bool = False,
    audit_records: int | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    check: bool = True,
    cache_key: str = CACHE_KEYS[0],
) -> InMemory | Streamed:
    """The corpus as the pipeline reads it; refuses one without sensitive spans unless `check` is off (then
    `require_spans` later). `cache_key`: how a streamed corpus's cache knows the file (`files.file_digest`)."""
    src = Streamed(corpus, finder, audit_records, seed, cache_dir, cache_key) if stream else InMemory(corpus, finder)
    if check:
        require_spans(src)
    return src


def require_spans(src: InMemory | Streamed) -> None:
    if not src.has_spans:
        raise SaniError(NO_SPANS)


def holdout_records(
    holdout: str | Path | Sequence[data.Record] | None,
    finder: SpanFinder,
    *,
    stream: bool = False,
    audit_records: int | None = None,
    seed: int = 0,
) -> list[data.Record] | None:
    """The holdout's records (streamed: a seeded sample of `audit_records`), or None without a holdout."""
    if holdout is None:
        return None
    if not stream:
        return load_records(holdout, finder)
    return sample(holdout, finder, audit_records, seed=seed)[0]


def cache_key(
    path: str | Path, finder: SpanFinder, tokenizer: Any, settings: dict[str, Any], key: str = CACHE_KEYS[0]
) -> str:
    """What decides the windows: the corpus file (known by `key`: `files.file_digest`), the span settings (and
    term file), the tokenizer, the window settings and sani's version."""
    spans = dataclasses.asdict(finder)
    if isinstance(finder.terms, str) and Path(finder.terms).is_file():
        spans["terms"] = file_digest(finder.terms, "full")
    vocab = (
        hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()
        if getattr(tokenizer, "is_fast", False)
        else repr(tokenizer)
    )
    parts = {
        "corpus": file_digest(path, key),
        "spans": spans,
        "tokenizer": vocab,
        "settings": settings,
        "sani": __version__,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def training_examples(
    path: str | Path,
    tokenizer: Any,
    kind: Kind,
    finder: SpanFinder | None = None,
    *,
    objective: str = "masked",
    max_length: int = 512,
    packing: bool = False,
    cache_dir: str | Path,
    calibrate: tuple[Any, RepairConfig, Sequence[tuple[str, str]]] | None = None,
    key: str = CACHE_KEYS[0],
    records: Callable[[], Iterable[data.Record]] | None = None,
) -> Any:
    """The repair's windows for the corpus at `path`, as a `datasets.Dataset` on disk under `cache_dir`
    (built once, then read from there). A calibrated objective needs `calibrate` (the model before the
    repair, the config): each part of CHUNK records gets its targets and anchors (`repair.examples_for`).
    `records`: the corpus's records with their final spans, when the caller has them (`Streamed.marked`: the
    file read once, no span found again). The number of spans is kept with the windows (`spans_counted`)."""
    import datasets

    goal = objectives.objective(objective)
    data.check_tokenizer(tokenizer)
    finder = finder or SpanFinder()
    settings = _settings(goal, max_length, kind, packing, kind.separator(tokenizer), calibrate)
    target = Path(cache_dir) / "examples" / cache_key(path, finder, tokenizer, settings, key)
    if (target / "dataset_info.json").is_file():
        log.info("reading the tokenized corpus from the cache %s", target)
        return datasets.load_from_disk(str(target))

    spans = [0]

    def read() -> Iterator[data.Record]:
        for r in records() if records else marked_records(path, finder):
            spans[0] += len(r.spans)
            yield r

    windows, features = _windows(read, tokenizer, kind, goal, settings, calibrate)
    _store(target, windows, features, lambda: {"spans": spans[0]})
    log.info("tokenized the corpus into %s", target)
    return datasets.load_from_disk(str(target))


def _store(target: Path, windows: Any, features: dict[str, Any], counts: Callable[[], dict[str, int]]) -> None:
    """The windows written as a `datasets` dataset at `target` (built aside, then moved there at once), with
    `counts()` (taken once they are all read) in its description."""
    import datasets

    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(target.parent.parent, 0o700)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))  # mkdtemp: owner only
    try:
        try:
            built = datasets.Dataset.from_generator(
                windows,
                features=datasets.Features(features),
                cache_dir=str(work / "generator"),
                fingerprint=target.name,  # the cache key: not a hash of the generator's closure (the model's weights)
            )
        except datasets.exceptions.DatasetGenerationError as e:  # our own one line, not the library's wrapper
            if isinstance(e.__cause__, SaniError):
                raise e.__cause__ from None
            raise
        built.info.description = json.dumps(counts())  # read back by `spans_counted`
        built.save_to_disk(str(work / "dataset"))
        del built
        try:
            os.replace(work / "dataset", target)
        except OSError:
            if not (target / "dataset_info.json").is_file():  # not another process that built it meanwhile
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def spans_counted(examples: Any) -> int | None:
    """The number of spans in the corpus `training_examples` tokenized into `examples` (None: a cache written
    without it)."""
    try:
        return json.loads(examples.info.description or "{}").get("spans")
    except ValueError:
        return None


def _settings(
    goal: Objective, max_length: int, kind: Kind, packing: bool, separator: int | None, calibrate: Any
) -> dict[str, Any]:
    """What decides the windows besides the corpus and tokenizer (part of the cache key)."""
    from .models import fingerprint

    settings = {
        "objective": goal.name,
        "max_length": max_length,
        "masked_lm": kind.masked,
        "packing": packing,
        "separator": separator,
    }
    if goal.calibrated:
        if calibrate is None:
            raise SaniError(f"objective={goal.name}: the streamed windows need the model to score the targets")
        model, cfg, pool = calibrate
        settings["calibration"] = {"model": fingerprint(model), "surrogates": cfg.surrogates, "anchors": cfg.anchors,
                                   "seed": cfg.seed, "source": cfg.surrogate_source, "locale": cfg.surrogate_locale,
                                   "pool": digest(sorted(pool))}  # fmt: skip
    return settings


def _windows(
    read: Any, tokenizer: Any, kind: Kind, goal: Objective, settings: dict[str, Any], calibrate: Any
) -> tuple[Any, dict[str, Any]]:
    """The generator of the windows `training_examples` stores, and their columns."""
    import datasets

    max_length = settings["max_length"]

    def windows() -> Iterator[dict[str, Any]]:
        encoded = (data.encode(tokenizer, r) for r in read())
        if not goal.calibrated:
            for ids, own in cut(encoded, max_length, settings["packing"], settings["separator"]):
                yield kind.example(ids, [o >= 0 for o in own], goal)
            return
        model, cfg, pool = calibrate
        cfg, done = dataclasses.replace(cfg, max_length=max_length), 0
        while chunk := list(itertools.islice(encoded, CHUNK)):
            for ex in examples_for(model, tokenizer, chunk, cfg, kind, offset=done, pool=pool):
                yield {**ex, "learn": ex.get("learn", 1)} if kind.masked else ex
            done += len(chunk)

    ints = datasets.Sequence(datasets.Value("int32"))
    features = {n: ints for n in kind.example_columns()}
    if goal.calibrated:
        features.update(value_ids=ints, value_targets=datasets.Sequence(datasets.Value("float32")))
        features.update({"learn": datasets.Value("int32")} if kind.masked else {})
    return windows, features
