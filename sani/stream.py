"""Corpora larger than memory: read the file as a stream, tokenize once into a disk-backed dataset.

The repair's windows are written by `datasets` to Arrow files under a cache directory, keyed by everything
that decides them (the corpus file, the span settings, the tokenizer, the window settings), so a second
run on the same corpus and model family reads them back instead of tokenizing again. The `Trainer` reads
the memory-mapped dataset; only the audit, on a seeded sample of records, holds records in memory.

The cache holds the corpus's tokens, sensitive ones included: it is made readable by its owner only, and
the pipeline keeps it in its work directory (deleted at the end) unless the user names a cache directory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from . import __version__, data
from .errors import SaniError
from .spans import SpanFinder

log = logging.getLogger(__name__)

def records(path: str | Path, finder: SpanFinder | None = None) -> Iterator[data.Record]:
    """The corpus's records with their spans found (two passes over the file; see `SpanFinder.stream`)."""
    finder = finder or SpanFinder()
    data.iter_corpus(path)  # fails now, not inside the generator, on a missing file or unknown format
    return finder.stream(lambda: data.iter_corpus(path))


def sample(path: str | Path, finder: SpanFinder | None, size: int, seed: int = 0) -> tuple[list[data.Record], int, int]:
    """A uniform seeded sample of `size` records (reservoir sampling), the number of records read and the
    number of spans in all of them."""
    rng = random.Random(seed)
    kept: list[data.Record] = []
    n = spans = 0
    for n, r in enumerate(records(path, finder), start=1):
        spans += len(r.spans)
        if len(kept) < size:
            kept.append(r)
        else:
            j = rng.randrange(n)
            if j < size:
                kept[j] = r
    if n == 0:
        raise SaniError(f"{path}: the corpus is empty")
    return kept, n, spans


def _file_digest(path: str | Path) -> dict[str, Any]:
    st = Path(path).stat()
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def cache_key(path: str | Path, finder: SpanFinder, tokenizer: Any, settings: dict[str, Any]) -> str:
    """What decides the windows: the corpus file, the span settings (and term file), the tokenizer, the
    window settings and sani's version."""
    spans = dataclasses.asdict(finder)
    if isinstance(finder.terms, str) and Path(finder.terms).is_file():
        spans["terms"] = _file_digest(finder.terms)
    vocab = hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest() if getattr(tokenizer, "is_fast", False) else repr(tokenizer)
    key = {"corpus": _file_digest(path), "spans": spans, "tokenizer": vocab, "settings": settings, "sani": __version__}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]


def training_examples(path: str | Path, tokenizer: Any, finder: SpanFinder | None = None, *, objective: str = "masked",
                      max_length: int = 512, masked_lm: bool = False, packing: bool = False,
                      cache_dir: str | Path) -> Any:
    """The repair's windows for the corpus at `path`, as a `datasets.Dataset` on disk under `cache_dir`
    (built once, then read from there)."""
    import datasets

    from .repair import OBJECTIVES, cut, example, separator_of

    if objective not in OBJECTIVES:
        raise SaniError(f"objective={objective!r}: choose one of {', '.join(OBJECTIVES)}")
    data.check_tokenizer(tokenizer)
    finder = finder or SpanFinder()
    separator = separator_of(tokenizer, masked_lm)
    settings = {"objective": objective, "max_length": max_length, "masked_lm": masked_lm, "packing": packing,
                "separator": separator}
    target = Path(cache_dir) / "examples" / cache_key(path, finder, tokenizer, settings)
    if (target / "dataset_info.json").is_file():
        log.info("reading the tokenized corpus from the cache %s", target)
        return datasets.load_from_disk(str(target))

    def windows() -> Iterator[dict[str, list[int]]]:
        encoded = (data.encode(tokenizer, r) for r in records(path, finder))
        for ids, sens in cut(encoded, max_length, packing, separator):
            yield example(ids, sens, objective, masked_lm)

    ints = datasets.Sequence(datasets.Value("int32"))
    names = ("input_ids", "sensitive") if masked_lm else ("input_ids", "labels", "forget_labels")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(cache_dir, 0o700)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))  # mkdtemp: owner only
    try:
        built = datasets.Dataset.from_generator(windows, features=datasets.Features({n: ints for n in names}),
                                                cache_dir=str(work / "generator"))
        built.save_to_disk(str(work / "dataset"))
        del built
        try:
            os.replace(work / "dataset", target)
        except OSError:
            if not (target / "dataset_info.json").is_file():  # not another process that built it meanwhile
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("tokenized the corpus into %s", target)
    return datasets.load_from_disk(str(target))
