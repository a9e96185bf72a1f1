"""What ships besides the weights: the tokenizer. A tokenizer trained on the sensitive corpus may hold values,
or long pieces of them, as vocabulary entries (and the merges that build them), and sani copies it unchanged
into the output. This scan looks for the corpus's values among the entries (decoded to text), for pieces
of at least `MIN_PIECE` characters of a value, and for whole values in the tokenizer's other text (added
tokens, chat template). Counts per label and keyed hashes only, never a value.

A whole value with digits or several words that is an entry fails the check (no public vocabulary holds
one); a single word (a first name, a city) fails it only against a reference model's tokenizer, and is
inconclusive without one; pieces alone are a warning (a public vocabulary holds "Smith" or "2019" too).
Entries the reference model's tokenizer also has are not counted: a tokenizer shared with the public base
model was not trained on the corpus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from ..privacy import value_hash
from .common import Context, MetricResult, register

MIN_PIECE = 4  # bytes: shorter pieces ("Jo", "12") are in every vocabulary; 2 CJK characters are 6 bytes


def _long(text: str) -> bool:
    return len(text.encode()) >= MIN_PIECE


def entries(tokenizer: Any) -> set[str]:
    """Every vocabulary entry as the text it stands for (byte-level and SentencePiece markers decoded,
    WordPiece's "##" removed), stripped, of at least `MIN_PIECE` bytes."""
    ids = sorted(set(tokenizer.get_vocab().values()))
    texts = tokenizer.batch_decode([[i] for i in ids], clean_up_tokenization_spaces=False)
    return {t for t in (t.strip().removeprefix("##").strip() for t in texts) if _long(t)}


def normalizer(tokenizer: Any) -> Callable[[str], str]:
    """What the tokenizer does to text before it looks up entries (BERT uncased: lower case, no accents;
    NFKC), so "Müller" is compared as the "muller" an uncased vocabulary holds; SentencePiece's space
    marker is turned back into a space."""
    norm = getattr(getattr(tokenizer, "backend_tokenizer", None), "normalizer", None)
    if norm is None:
        return str.strip
    return lambda text: norm.normalize_str(text).replace("\u2581", " ").strip()


def _other_text(tokenizer: Any) -> str:
    """The tokenizer's text beyond its vocabulary: the chat template and the added tokens."""
    parts = [str(getattr(tokenizer, "chat_template", None) or "")]
    parts += [str(t) for t in getattr(tokenizer, "added_tokens_decoder", {}).values()]
    return "\n".join(parts)


def _distinctive(value: str) -> bool:
    """A value no public vocabulary holds as one entry: more than one word, or digits in it (a single word
    of letters, a first name or a city, may be an entry of any vocabulary)."""
    return not value.isalpha()


def scan(tokenizer: Any, pairs: Sequence[tuple[str, str]], reference: Any = None) -> dict[str, Any]:
    """Which distinct (label, value) `pairs` are tokenizer entries (`values`; `distinctive`: those with
    digits or several words), have only pieces among them (`pieces`), per label, with keyed hashes; entries
    `reference`'s tokenizer shares are discounted."""
    found = entries(tokenizer)
    shared = found & entries(reference) if reference is not None else set()
    found -= shared
    norm, other = normalizer(tokenizer), _other_text(tokenizer)
    longest = max(map(len, found), default=0)
    by_label: dict[str, dict[str, int]] = defaultdict(lambda: {"values": 0, "pieces": 0, "total": 0})
    items, piece_entries, distinctive = [], set(), 0
    for label, value in sorted(set(pairs)):
        v = norm(value)
        by_label[label]["total"] += 1
        if not _long(v):
            continue
        whole = v in found or v in other
        pieces = {v[i:j] for i in range(len(v)) for j in range(i + 1, min(len(v), i + longest) + 1)}
        pieces = {p for p in pieces & found if _long(p)} - {v}
        if whole or pieces:
            by_label[label]["values" if whole else "pieces"] += 1
            distinctive += whole and _distinctive(v)
            piece_entries |= pieces
            items.append({"hash": value_hash(value), "label": label, "whole": whole, "pieces": len(pieces)})
    return {
        "entries": len(found) + len(shared),
        "shared_with_reference": len(shared) if reference is not None else None,
        "normalized": norm("Müller Smith") != "Müller Smith",
        "values": sum(b["values"] for b in by_label.values()),
        "distinctive": distinctive,
        "pieces": sum(b["pieces"] for b in by_label.values()),
        "piece_entries": len(piece_entries),
        "by_label": dict(sorted(by_label.items())),
        "items": items,
    }


@register("tokenizer")
def tokenizer_metric(ctx: Context) -> MetricResult | None:
    pairs = [(s.label, e.record.value(s)) for e in ctx.encoded for s in e.record.spans]
    if not pairs:
        return None
    return MetricResult(scan(ctx.tokenizer, pairs, ctx.reference_tokenizer))


def warning(block: dict[str, Any] | None) -> str | None:
    """One line for sanitize's and audit's output when the tokenizer holds values or pieces of them."""
    if not block or not (block["values"] or block["pieces"]):
        return None
    return (
        f"warning: the tokenizer holds {block['values']} of the corpus's values as vocabulary entries and "
        f"pieces (>= {MIN_PIECE} bytes) of {block['pieces']} others ({block['piece_entries']} entries); "
        "it ships with the model: use a tokenizer trained on public text (docs/attacks.md, 'What ships')"
    )
