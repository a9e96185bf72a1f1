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

import logging
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..config import RepairConfig
from ..errors import SaniError
from ..files import CACHE_KEYS, check_cache_key, digest
from ..models.batching import max_positions
from ..models.kinds import Kind
from ..repair.training import examples_for
from ..spans import data
from ..spans.finder import SpanFinder
from . import dist
from .passes import marked, sample
from .windows import cache_key, spans_counted, training_examples

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

    def training_examples(
        self,
        model: Any,
        tokenizer: Any,
        kind: Kind,
        encoded: Sequence[data.Encoded],
        cfg: RepairConfig,
        work: Path,
        pool: Sequence[tuple[str, str]] = (),
    ) -> list[dict[str, list[int]]]:
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

    def training_examples(
        self,
        model: Any,
        tokenizer: Any,
        kind: Kind,
        encoded: Sequence[data.Encoded],
        cfg: RepairConfig,
        work: Path,
        pool: Sequence[tuple[str, str]] = (),
    ) -> Any:
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
