"""Finding the sensitive spans: inline tags, term lists, built-in detectors, user patterns, an optional
Presidio backend, label sets, a rarity rule for quasi-identifiers, and propagation to every occurrence.

Order: tags -> (annotations) -> terms -> detectors/patterns/Presidio -> rarity -> label set -> propagation.
Spans from different sources that overlap are merged into one (the earlier source's label wins).
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SaniError
from ..fields import opt
from ..privacy import mask, value_hash
from . import detect
from .data import Record, Span, add_term_spans, merge_spans, read_terms

log = logging.getLogger(__name__)

# Direct identifiers single a person out alone; indirect ones (quasi-identifiers) do in combination.
DIRECT_LABELS = frozenset(
    {
        "NAME",
        "PERSON",
        "SSN",
        "PHONE",
        "EMAIL",
        "MRN",
        "ID",
        "IBAN",
        "CREDIT_CARD",
        "IP_ADDRESS",
        "URL",
        "ADDRESS",
        "DOB",
        "TERM",
        "SENSITIVE",
    }
)
INDIRECT_LABELS = frozenset(
    {
        "DATE",
        "LOCATION",
        "CITY",
        "ZIP",
        "PROFESSION",
        "OCCUPATION",
        "AGE",
        "CONDITION",
        "ORGANIZATION",
        "HOSPITAL",
        "NATIONALITY",
        "ETHNICITY",
        "RELIGION",
        "GENDER",
    }
)
MIN_PROPAGATE_CHARS = 3  # shorter values ("Al", "12") would match everywhere


@dataclass
class SpanFinder:
    """How to find the sensitive spans beyond those annotated in the corpus: the Python API's settings and the
    command line's flags (`sani.cli` generates them from these fields)."""

    _argument_group_name = "finding the sensitive spans (besides the corpus's own 'spans')"

    # the API also takes the terms themselves as a list
    terms: Sequence[str] | str | None = opt(
        None, "confidential terms, one a line; every whole-word occurrence becomes a span"
    )
    ignore_case: bool = opt(False, "match --terms case-insensitively")
    term_variants: bool = opt(False, "match --terms with other spacing/punctuation")
    tags: str | None = opt(
        None, 'inline tags to read and remove, e.g. PHI for <PHI type="NAME">...</PHI>', metavar="TAG"
    )
    detect: Sequence[str] | str | None = opt(
        None, "built-in detectors: all, or some of " + ", ".join(detect.ORDER).lower(), metavar="LIST"
    )
    region: str = opt(
        "US",
        "phone numbers in the national format of these regions (ISO 3166 codes, e.g. GB,FR); "
        "international (+...) numbers are found from any region",
        metavar="CC[,CC]",
    )
    patterns: Sequence[str] | str | None = opt(
        None,
        "a regex for an identifier (repeatable); a group named 'value' marks the part to mask",
        action="append",
        metavar="LABEL=REGEX",
        aliases="--pattern",  # the flag: one pattern each time it is given
    )
    presidio: bool = opt(False, "also use Microsoft Presidio (pip install 'sani-llm[presidio]')")
    labels: str = opt("all", "all, direct (drops quasi-identifiers), or LABEL,LABEL")
    # "LABELS:K" as on the command line, or {label: k} (kept as the mapping)
    rare: dict[str, int] | str | None = opt(
        None, "for these labels only values seen in fewer than K records are sensitive", metavar="LABELS:K"
    )
    propagate: bool = opt(True, "mark other occurrences of known values (--no-propagate: do not)")

    def __post_init__(self) -> None:
        self.rare = parse_rare(self.rare) if not isinstance(self.rare, dict) else dict(self.rare)
        self.patterns = [self.patterns] if isinstance(self.patterns, str) else list(self.patterns or [])

    def describe(self) -> dict[str, Any]:
        """How the spans are found, for an audit's scope: which sources and detectors, and which not (never a
        term or a value)."""
        ran = getattr(self, "ran", None) or detect.parse_detect(self.detect)  # once built: those that ran
        return {
            "annotations": "the corpus's own spans",
            "terms": self.terms is not None,
            "tags": self.tags,
            "detectors": [d.lower() for d in ran],
            "detectors_not_run": [d.lower() for d in detect.ORDER if d not in ran],
            "patterns": len(self.patterns),
            "presidio": self.presidio,
            "labels": self.labels,
            "rare": dict(self.rare),
            "propagate": self.propagate,
        }

    def apply(self, records: list[Record]) -> list[Record]:
        self.apply_local(records)
        if self.rare:
            apply_rarity(records, self.rare)
        keep = label_filter(self.labels)
        for r in records:
            r.spans = [s for s in r.spans if keep(s.label)]
        if self.propagate:
            propagate(records)
        return records

    def prepare(self) -> tuple[list[str] | None, list[Any]]:
        """The term list and the detectors, read and built once."""
        terms = None
        if self.terms is not None:
            terms = read_terms(self.terms) if isinstance(self.terms, str) else list(self.terms)
        named = detect.build_named(self.detect, self.region)
        self.ran = [name for name, _ in named]  # what `describe` reports (not a setting): a skipped one did not run
        detectors = [d for _, d in named]
        detectors += [detect.pattern_detector(*detect.compile_pattern(p)) for p in self.patterns]
        if self.presidio:
            from .presidio import presidio_detector

            detectors.append(presidio_detector())
        return terms, detectors

    def apply_local(
        self,
        records: list[Record],
        term_hits: dict[int, int] | None = None,
        prepared: tuple[list[str] | None, list[Any]] | None = None,
    ) -> list[Record]:
        """The steps that read one record at a time: tags, terms, detectors and patterns. With `term_hits`,
        `records` is a part of the corpus: term matches are counted there, and checked by the caller."""
        term_list, detectors = prepared or self.prepare()
        if self.tags:
            strip_inline_tags(records, self.tags)
        if term_list is not None:
            add_term_spans(
                records,
                term_list,
                ignore_case=self.ignore_case,
                variants=self.term_variants,
                source=self.terms if isinstance(self.terms, str) else "terms",
                hits=term_hits,
            )
        for det in detectors:
            for r in records:
                found = list(det(r.text))
                if found:
                    r.spans = merge_spans(r.spans, found)
        return records


def label_filter(labels: str):
    """`all`, `direct` (drops the known indirect labels), `direct+indirect`, or a comma list of labels."""
    choice = labels.strip()
    if choice in ("all", "direct+indirect", ""):
        return lambda label: True
    if choice == "direct":
        return lambda label: label not in INDIRECT_LABELS
    wanted = {x.strip() for x in choice.split(",") if x.strip()}
    return lambda label: label in wanted


def parse_rare(spec: str | None) -> dict[str, int]:
    """`PROFESSION,CITY:5` -> {"PROFESSION": 5, "CITY": 5}."""
    if not spec:
        return {}
    labels, sep, k = spec.rpartition(":")
    if not sep or not labels or not k.isdigit() or int(k) < 1:
        raise SaniError(f"--rare {spec!r}: expected LABEL[,LABEL...]:K with K >= 1")
    return {lab.strip(): int(k) for lab in labels.split(",") if lab.strip()}


def apply_rarity(records: list[Record], rare: dict[str, int]) -> None:
    """For the chosen labels, only values that occur in fewer than k distinct records stay sensitive: a rare
    profession or place singles a person out, a common one does not."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    count_rare(records, rare, seen)
    for r in records:
        r.spans = [s for s in r.spans if is_rare_enough(s.label, r.value(s), rare, seen)]


def count_rare(records: Iterable[Record], rare: dict[str, int], seen: dict[tuple[str, str], int]) -> None:
    """Add to `seen` ((label, value) -> records holding it) for the labels under the rarity rule."""
    for r in records:
        for key in {(s.label, r.value(s).casefold()) for s in r.spans if s.label in rare}:
            seen[key] += 1


def is_rare_enough(label: str, value: str, rare: dict[str, int], seen: dict[tuple[str, str], int]) -> bool:
    """Whether a span stays sensitive under the rarity rule (labels outside it always do)."""
    return label not in rare or seen[(label, value.casefold())] < rare[label]


def propagate(records: list[Record]) -> int:
    """Once a value is sensitive in one record, mark every whole-word occurrence of it in every record."""
    label_of: dict[str, str] = {}
    for r in records:
        for s in r.spans:
            v = r.value(s)
            if len(v.strip()) >= MIN_PROPAGATE_CHARS:
                label_of.setdefault(v, s.label)
    return mark_values(records, label_of)


def value_regex(label_of: dict[str, str]) -> re.Pattern | None:
    """One pattern for every value, longest first, matched as whole words."""
    if not label_of:
        return None
    alternatives = "|".join(re.escape(v) for v in sorted(label_of, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")


def mark_values(records: list[Record], label_of: dict[str, str], rx: re.Pattern | None = None) -> int:
    """Mark every whole-word occurrence of the values in `label_of` with their label; returns spans added."""
    rx = rx or value_regex(label_of)
    if rx is None:
        return 0
    added = 0
    for r in records:
        new = [Span(m.start(), m.end(), label_of[m.group()], source="propagated") for m in rx.finditer(r.text)]
        if new:
            before = len(r.spans)
            r.spans = merge_spans(r.spans, new)
            added += max(0, len(r.spans) - before)
    return added


def strip_inline_tags(records: list[Record], tag: str = "PHI") -> None:
    """`<PHI type="NAME">John Smith</PHI>` -> the text `John Smith`, annotated as a NAME span."""
    rx = re.compile(r"<" + re.escape(tag) + r"(?:\s+([^>]*))?>(.*?)</" + re.escape(tag) + r"\s*>", re.DOTALL)
    attr = re.compile(r"""(?:type|label)\s*=\s*["']([^"']+)["']""")
    for r in records:
        if f"<{tag}" not in r.text:
            continue
        if r.spans:
            raise SaniError(f"{r.where}: has both inline <{tag}> tags and 'spans'; use one or the other")
        out, spans, pos, last = [], [], 0, 0
        for m in rx.finditer(r.text):
            out.append(r.text[last : m.start()])
            pos += m.start() - last
            inner = m.group(2)
            if f"<{tag}" in inner:
                raise SaniError(f"{r.where}: nested <{tag}> tags are not supported")
            label = (attr.search(m.group(1) or "") or [None, "SENSITIVE"])[1]
            if inner:
                spans.append(Span(pos, pos + len(inner), label, source="tags"))
            out.append(inner)
            pos += len(inner)
            last = m.end()
        out.append(r.text[last:])
        text = "".join(out)
        if f"<{tag}" in text or f"</{tag}" in text:
            raise SaniError(f"{r.where}: an inline <{tag}> tag is not closed")
        r.text, r.spans = text, spans


# --------------------------------------------------------------------------- summary


def summarize(records: Sequence[Record], tokenizer: Any = None, top: int = 10) -> dict[str, Any]:
    """Counts per label and source, share of characters (and tokens) marked, and the most frequent values
    shown masked with their keyed hash."""
    by_label, by_source, values = Counter(), Counter(), Counter()
    chars = marked = 0
    for r in records:
        chars += len(r.text)
        for s in r.spans:
            by_label[s.label] += 1
            by_source[s.source] += 1
            marked += s.end - s.start
            values[(s.label, r.value(s))] += 1
    out: dict[str, Any] = {
        "records": len(records),
        "spans": sum(by_label.values()),
        "by_label": dict(by_label.most_common()),
        "by_source": dict(by_source.most_common()),
        "char_share": round(marked / chars, 4) if chars else 0.0,
        "top_values": [
            {"label": lab, "masked": mask(v, keep=1), "hash": value_hash(v), "count": n}
            for (lab, v), n in values.most_common(top)
        ],
    }
    if tokenizer is not None:
        from .data import encode_corpus

        enc = encode_corpus(tokenizer, records)
        total = sum(len(e.input_ids) for e in enc)
        out["token_share"] = round(sum(sum(e.sensitive) for e in enc) / total, 4) if total else 0.0
    return out


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"{summary['spans']} sensitive spans in {summary['records']} records; "
        f"{100 * summary['char_share']:.1f}% of characters"
        + (f", {100 * summary['token_share']:.1f}% of tokens" if "token_share" in summary else "")
    ]
    lines.append("by label:  " + ", ".join(f"{k} {v}" for k, v in summary["by_label"].items()))
    lines.append("by source: " + ", ".join(f"{k} {v}" for k, v in summary["by_source"].items()))
    if summary["top_values"]:
        lines.append("most frequent values (masked):")
        lines += [f"  {t['count']:5d}  {t['label']:<12s} {t['masked']:<24s} {t['hash']}" for t in summary["top_values"]]
    return "\n".join(lines)
