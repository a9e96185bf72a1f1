"""Corpora and their sensitive spans: reading, validating, term matching, and aligning spans to tokens.

A record is a text plus character spans (end exclusive) that must not be learned. Error messages name the
file, line and field, never the text of a span.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SaniError
from ..files import atomic_open

log = logging.getLogger(__name__)

DEFAULT_LABEL = "SENSITIVE"
MAX_RECORD_CHARS = 10_000_000  # one record a line: a longer line is almost surely not a record
TERM_LABEL = "TERM"


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str = DEFAULT_LABEL
    source: str = field(default="annotation", compare=False)  # where it came from: annotation, terms, detect:EMAIL...


@dataclass
class Record:
    text: str
    spans: list[Span] = field(default_factory=list)
    where: str = ""  # "train.jsonl line 5": for error messages

    def value(self, span: Span) -> str:
        return self.text[span.start : span.end]


# --------------------------------------------------------------------------- reading


def read_corpus(path: str | Path) -> list[Record]:
    """Read `.jsonl` (`{"text", "spans"}` a line), `.txt` (a record a line), `.csv` or `.parquet` (a `text` column)."""
    records = list(iter_corpus(path))
    if not records:
        raise SaniError(f"{path}: the corpus is empty")
    return records


def iter_corpus(path: str | Path) -> Iterator[Record]:
    """The records of a corpus file one at a time, never all in memory (tables through `datasets` streaming)."""
    path = Path(path)
    if not path.is_file():
        raise SaniError(f"{path}: corpus file not found")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return _iter_jsonl(path)
    if suffix == ".txt":
        return _iter_txt(path)
    if suffix in (".csv", ".parquet"):
        return _iter_table(path, suffix[1:])
    raise SaniError(f"{path}: unknown corpus format '{suffix}' (use .jsonl, .txt, .csv or .parquet)")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        raise SaniError(f"{path} line {line}: not valid UTF-8") from None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                yield n, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise SaniError(f"{path} line {n}: not valid UTF-8") from None


def _iter_jsonl(path: Path) -> Iterator[Record]:
    for n, line in _lines(path):
        if not line.strip():
            continue
        where = f"{path} line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise SaniError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
        yield _record_from_obj(obj, where)


def _iter_txt(path: Path) -> Iterator[Record]:
    for n, line in _lines(path):
        if line.strip():
            _check_length(line, f"{path} line {n}")
            yield Record(text=line, where=f"{path} line {n}")


def _check_length(text: str, where: str) -> None:
    if len(text) > MAX_RECORD_CHARS:
        raise SaniError(f"{where}: record is longer than {MAX_RECORD_CHARS:,} characters; split it into records")


def _iter_table(path: Path, kind: str) -> Iterator[Record]:
    import datasets

    try:
        table = datasets.load_dataset(kind, data_files=str(path), split="train", streaming=True)
        rows = iter(table)
        first = next(rows, None)
    except Exception as e:  # datasets raises many types for a malformed file
        raise SaniError(f"{path}: cannot read as {kind}: {type(e).__name__}") from None
    if first is None:
        return
    if "text" not in first:
        raise SaniError(f"{path}: no 'text' column (columns: {', '.join(first)})")
    rows = itertools.chain([first], rows)
    for i in itertools.count():
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as e:  # a malformed later row: the type only, as the message may quote a cell
            raise SaniError(f"{path}: cannot read as {kind} after {i} rows: {type(e).__name__}") from None
        where = f"{path} row {i + 1}" if kind == "parquet" else f"{path} line {i + 2}"
        yield _record_from_obj(row, where)


def _record_from_obj(obj: Any, where: str) -> Record:
    if not isinstance(obj, dict):
        raise SaniError(f"{where}: expected a JSON object with a 'text' field")
    text = obj.get("text")
    if not isinstance(text, str):
        raise SaniError(f"{where}: field 'text' must be a string")
    if not text:
        raise SaniError(f"{where}: field 'text' is empty")
    _check_length(text, where)
    raw_spans = obj.get("spans") or []
    if isinstance(raw_spans, str):  # a csv cell holding JSON
        try:
            raw_spans = json.loads(raw_spans)
        except json.JSONDecodeError:
            raise SaniError(f"{where}: field 'spans' is not valid JSON") from None
    if not isinstance(raw_spans, list):
        raise SaniError(f"{where}: field 'spans' must be a list")
    spans = [_span_from_obj(s, i, len(text), where) for i, s in enumerate(raw_spans)]
    return Record(text=text, spans=_normalize_spans(spans, where), where=where)


def _span_from_obj(obj: Any, i: int, length: int, where: str) -> Span:
    if not isinstance(obj, dict):
        raise SaniError(f"{where}: spans[{i}] must be an object with 'start' and 'end'")
    start, end, label = obj.get("start"), obj.get("end"), obj.get("label", DEFAULT_LABEL)
    for name, v in (("start", start), ("end", end)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise SaniError(f"{where}: spans[{i}].{name} must be an integer")
    if not isinstance(label, str) or not label:
        raise SaniError(f"{where}: spans[{i}].label must be a non-empty string")
    source = obj.get("source")
    if start < 0 or end <= start:
        raise SaniError(f"{where}: spans[{i}] has start={start}, end={end}: need 0 <= start < end")
    if end > length:
        raise SaniError(f"{where}: spans[{i}] ends at {end}, past the end of the text (length {length})")
    return Span(start, end, label, source if isinstance(source, str) and source else "annotation")


def _normalize_spans(spans: list[Span], where: str) -> list[Span]:
    """Sort, drop duplicates and spans nested in another; refuse spans that cross each other."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and s.start < out[-1].end:
            prev = out[-1]
            if s.end <= prev.end:
                continue  # nested or duplicate: the outer span already covers it
            raise SaniError(
                f"{where}: spans [{prev.start},{prev.end}) and [{s.start},{s.end}) overlap without one containing the other"
            )
        out.append(s)
    return out


def merge_spans(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Union of two span sets from different sources: overlapping spans become one covering both, with the
    label and source of the first set's span."""
    ranked = sorted([(s, 0) for s in a] + [(s, 1) for s in b], key=lambda x: (x[0].start, -x[0].end, x[1]))
    out: list[tuple[Span, int]] = []
    for s, rank in ranked:
        if out and s.start < out[-1][0].end:
            prev, prev_rank = out[-1]
            keep = prev if prev_rank <= rank else s
            out[-1] = (Span(prev.start, max(prev.end, s.end), keep.label, keep.source), min(prev_rank, rank))
        else:
            out.append((s, rank))
    return [s for s, _ in out]


def write_records(records: Sequence[Record], path: str | Path) -> Path:
    """Write a corpus as JSON Lines with its spans (and their sources), atomically."""
    with atomic_open(path) as f:
        for r in records:
            spans = [{"start": s.start, "end": s.end, "label": s.label, "source": s.source} for s in r.spans]
            f.write(json.dumps({"text": r.text, "spans": spans}, ensure_ascii=False) + "\n")
    return Path(path)


# --------------------------------------------------------------------------- term lists


def read_terms(path: str | Path) -> list[str]:
    """Confidential terms, one a line (surrounding white space stripped, blank lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise SaniError(f"{path}: term list not found")
    terms = [line.strip() for line in _read_text(path).splitlines()]
    if not any(terms):
        raise SaniError(f"{path}: the term list is empty")
    return terms


def term_regex(term: str, *, variants: bool = False) -> str:
    """Whole-word pattern for a term. With `variants`, the white space and punctuation between its words and
    digit groups may differ or be absent: "John Smith" also matches "John-Smith", "123-45-6789" "123 45 6789"."""
    chunks = re.findall(r"[^\W_]+", term)
    body = r"[\W_]*".join(map(re.escape, chunks)) if variants and chunks else re.escape(term)
    return r"(?<!\w)" + body + r"(?!\w)"


def add_term_spans(
    records: list[Record],
    terms: Sequence[str],
    *,
    ignore_case: bool = False,
    variants: bool = False,
    source: str = "terms",
    hits: dict[int, int] | None = None,
) -> int:
    """Mark every whole-word occurrence of each term as a sensitive span. Returns how many were found.

    `terms` keeps blank entries so that warnings can name the line of a term that matches nothing. With
    `hits` (term line -> count, added to), the corpus is read in parts: no check here, `check_term_hits`
    once all parts are done."""
    flags = re.IGNORECASE if ignore_case else 0
    patterns = [(n, re.compile(term_regex(t, variants=variants), flags)) for n, t in enumerate(terms, 1) if t]
    counts = {n: 0 for n, _ in patterns}
    found: list[list[Span]] = [[] for _ in records]
    for n, pattern in patterns:
        for i, record in enumerate(records):
            for m in pattern.finditer(record.text):
                found[i].append(Span(m.start(), m.end(), TERM_LABEL, source="terms"))
                counts[n] += 1
    for record, spans in zip(records, found):
        if spans:
            record.spans = merge_spans(record.spans, spans)
    if hits is None:
        check_term_hits(counts, source)
    else:
        for n, c in counts.items():
            hits[n] = hits.get(n, 0) + c
    return sum(counts.values())


def check_term_hits(hits: dict[int, int], source: str) -> None:
    """Refuse a term list that matches nothing; warn about the terms (by line) that match nothing."""
    if sum(hits.values()) == 0:
        raise SaniError(f"{source}: none of the {len(hits)} terms occurs in the corpus")
    unmatched = sorted(n for n, c in hits.items() if c == 0)
    if unmatched:
        log.warning("%s: %d term(s) match nothing (lines %s)", source, len(unmatched), _short_list(unmatched))


def _short_list(xs: Sequence[int], most: int = 10) -> str:
    s = ", ".join(map(str, xs[:most]))
    return s + (f" and {len(xs) - most} more" if len(xs) > most else "")


# --------------------------------------------------------------------------- tokens


@dataclass
class Encoded:
    """One record tokenized whole: ids, and which tokens overlap a sensitive span (and which span)."""

    input_ids: list[int]
    span_of_token: list[int]  # index into record.spans, or -1
    record: Record

    @property
    def sensitive(self) -> list[bool]:
        return [s >= 0 for s in self.span_of_token]


def check_tokenizer(tokenizer: Any) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise SaniError(
            f"tokenizer {type(tokenizer).__name__} has no offset mapping (it is not a 'fast' tokenizer); "
            "sani needs offsets to align spans to tokens"
        )


def encode(tokenizer: Any, record: Record) -> Encoded:
    """Tokenize a record whole; a token is sensitive when its characters overlap a span."""
    enc = tokenizer(record.text, return_offsets_mapping=True, add_special_tokens=True, verbose=False)
    span_of_token = []
    spans = record.spans
    j = 0
    for a, b in enc["offset_mapping"]:
        while j < len(spans) and spans[j].end <= a:
            j += 1
        # spans are sorted and disjoint, so after skipping those that end before this token,
        # only spans[j] can overlap it; special tokens have empty offsets and never do
        hit = j if b > a and j < len(spans) and spans[j].start < b else -1
        span_of_token.append(hit)
    return Encoded(list(enc["input_ids"]), span_of_token, record)


def encode_corpus(tokenizer: Any, records: Iterable[Record]) -> list[Encoded]:
    check_tokenizer(tokenizer)
    return [encode(tokenizer, r) for r in records]


def windows(encoded: Encoded, max_length: int, marks: Sequence[Any] | None = None) -> Iterable[tuple[list[int], list]]:
    """Cut a tokenized record into training windows of at most `max_length` tokens, so long records are
    trained on whole rather than truncated; each with its tokens' `marks` (default: the sensitive flags)."""
    ids = encoded.input_ids
    marks = encoded.sensitive if marks is None else marks
    for i in range(0, len(ids), max_length):
        chunk = ids[i : i + max_length]
        if len(chunk) > 1 or i == 0:
            yield chunk, list(marks[i : i + max_length])
