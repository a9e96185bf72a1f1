"""A corpus file read in passes, never held whole in memory (`--stream`).

The first pass (`survey`) finds each record's own spans (tags, terms, detectors, patterns), counts the
values for the rarity rule and collects those to propagate; `Marks` then gives any record of that corpus
its final spans, as `SpanFinder.apply` gives them to a corpus in memory. `sample` is that pass with a
seeded sample of records kept for the audit and every record's own spans written to a private file
(its length and keyed hash, offsets and labels: no text); `marked` reads the file again with them and finds nothing again. A streamed
sanitization so reads its corpus twice (the sample's pass, then the tokenizing pass) and runs the
detectors once per record.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SaniError
from ..privacy import value_hash
from ..spans import data
from ..spans.data import Record
from ..spans.finder import (
    MIN_PROPAGATE_CHARS,
    SpanFinder,
    count_rare,
    is_rare_enough,
    label_filter,
    mark_values,
    strip_inline_tags,
    value_regex,
)


@dataclass
class Marks:
    """What one pass over a corpus learnt (`survey`): which spans stay sensitive (label set, rarity) and
    which values to mark wherever they occur (propagation)."""

    kept: Callable[[str, str], bool]  # (label, value) -> stays sensitive
    label_of: dict[str, str]  # value -> label, marked in every record
    rx: re.Pattern | None
    found: bool  # whether any span of the corpus stays sensitive

    def apply(self, part: list[Record]) -> list[Record]:
        """Records holding their own spans (as `survey` found them) given the corpus's final spans."""
        for r in part:
            r.spans = [sp for sp in r.spans if self.kept(sp.label, r.value(sp))]
        if self.label_of:
            mark_values(part, self.label_of, self.rx)
        return part


def survey(
    finder: SpanFinder,
    records: Iterable[Record],
    chunk: int = 1000,
    each: Callable[[Record], None] | None = None,
    prepared: tuple[list[str] | None, list[Any]] | None = None,
) -> Marks:
    """One pass over a corpus: each record's own spans found (`each` sees every record so, its text as the
    spans index it), the values counted. Returns what marks any record of that corpus as `finder.apply`
    would mark it in the whole corpus."""
    seen: dict[tuple[str, str], int] = defaultdict(int)  # (label, value) -> records holding it
    labels_of: dict[str, list[str]] = {}  # value -> its labels, in the order met
    term_hits: dict[int, int] = {}
    prepared = prepared or finder.prepare()
    empty = True
    for part in _chunks(records, chunk):
        empty = False
        count_rare(finder.apply_local(part, term_hits, prepared), finder.rare, seen)
        for r in part:
            for sp in r.spans:
                labels = labels_of.setdefault(r.value(sp), [])
                if sp.label not in labels:
                    labels.append(sp.label)
            if each:
                each(r)
    if finder.terms is not None and not empty:  # an empty corpus: the caller says so
        data.check_term_hits(term_hits, finder.terms if isinstance(finder.terms, str) else "terms")
    keep, rare = label_filter(finder.labels), dict(finder.rare)

    def kept(label: str, value: str) -> bool:
        return keep(label) and is_rare_enough(label, value, rare, seen)

    label_of = {}
    if finder.propagate:
        for v, labels in labels_of.items():
            first = next((lab for lab in labels if kept(lab, v)), None)
            if first is not None and len(v.strip()) >= MIN_PROPAGATE_CHARS:
                label_of[v] = first
    found = any(kept(lab, v) for v, labels in labels_of.items() for lab in labels)
    return Marks(kept, label_of, value_regex(label_of), found)


def stream(finder: SpanFinder, read: Callable[[], Iterable[Record]], chunk: int = 1000) -> Iterator[Record]:
    """The same spans as `finder.apply`, for a corpus read twice from `read()`: the survey, then each record
    found again and marked."""
    prepared = finder.prepare()
    marks = survey(finder, read(), chunk, prepared=prepared)
    for part in _chunks(read(), chunk):
        yield from marks.apply(finder.apply_local(part, {}, prepared))


def marked_records(path: str | Path, finder: SpanFinder | None = None) -> Iterator[Record]:
    """The records of the file at `path` with their spans found (two reads: `stream`)."""
    data.iter_corpus(path)  # fails now, not inside the generator, on a missing file or unknown format
    return stream(finder or SpanFinder(), lambda: data.iter_corpus(path))


def sample(
    path: str | Path, finder: SpanFinder | None, size: int, seed: int = 0, spans_to: Path | None = None
) -> tuple[list[Record], int, Marks]:
    """One read of the file: a uniform seeded sample of `size` records (reservoir sampling) with their final
    spans, the number of records, and what marks the others (`survey`). `spans_to`: every record's own spans
    written there, a line each (its length and keyed hash, offsets and labels: no text), for `marked`."""
    if not isinstance(path, (str, Path)):
        raise SaniError("stream=True reads the corpus (and holdout) from files: give their paths")
    data.iter_corpus(path)  # fails now on a missing file or unknown format
    rng, kept, n = random.Random(seed), [], 0
    with open(spans_to, "w", encoding="utf-8") if spans_to else contextlib.nullcontext() as out:

        def each(r: Record) -> None:
            nonlocal n
            n += 1
            if out:
                own = [[sp.start, sp.end, sp.label, sp.source] for sp in r.spans]
                out.write(json.dumps([len(r.text), value_hash(r.text), own]) + "\n")
            if len(kept) < size:
                kept.append(r)
            elif (j := rng.randrange(n)) < size:
                kept[j] = r

        marks = survey(finder or SpanFinder(), data.iter_corpus(path), each=each)
    if n == 0:
        raise SaniError(f"{path}: the corpus is empty")
    return marks.apply(kept), n, marks


def marked(path: str | Path, spans: Path, tags: str | None = None) -> Iterator[Record]:
    """The records with their own spans as `sample` wrote them (`Marks.apply` gives the final ones): one more
    read of the file, no span finding. `tags`: the inline tag the spans were found with (its markup removed
    again: the offsets index the text without it)."""
    with open(spans, encoding="utf-8") as lines:
        for r in data.iter_corpus(path):
            line = lines.readline()
            r = Record(r.text, [], r.where)
            if tags:
                strip_inline_tags([r], tags)
            length, text_hash, found = json.loads(line) if line else (-1, "", [])
            if length != len(r.text) or text_hash != value_hash(r.text):
                raise SaniError(f"{path}: the file changed while sani read it (at {r.where}); run again")
            yield Record(r.text, [data.Span(a, b, label, source) for a, b, label, source in found], r.where)
        if lines.readline():
            raise SaniError(f"{path}: the file changed while sani read it (it is shorter); run again")


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    part: list[Record] = []
    for r in records:
        part.append(r)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part
