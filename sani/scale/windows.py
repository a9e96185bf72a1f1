"""The repair's training windows of a corpus file, built once into a disk cache (a `datasets.Dataset`) that
knows the file, the span settings, the tokenizer and the window settings (`cache_key`): what a streamed
corpus (`sani.scale.corpus.Streamed`) trains on, with the calibrated targets scored a part at a time."""

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

from ..config import RepairConfig
from ..errors import SaniError
from ..files import CACHE_KEYS, digest, file_digest
from ..models.kinds import Kind
from ..repair import objectives
from ..repair.objectives import Objective
from ..repair.training import cut, examples_for
from ..spans import data
from ..spans.finder import SpanFinder
from ..version import __version__
from .passes import marked_records

log = logging.getLogger(__name__)

CHUNK = 256  # records scored together for the calibrated repair's targets, when the corpus is streamed


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
    from ..models.loading import fingerprint

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
        settings["calibration"] = {
            "model": fingerprint(model),
            "surrogates": cfg.surrogates,
            "anchors": cfg.anchors,
            "seed": cfg.seed,
            "source": cfg.surrogate_source,
            "locale": cfg.surrogate_locale,
            "pool": digest(sorted(pool)),
        }
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
