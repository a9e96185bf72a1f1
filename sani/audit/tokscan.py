"""What ships besides the weights: the tokenizer. A tokenizer trained on the sensitive corpus may hold values,
or long pieces of them, as vocabulary entries (and the merges that build them), and sani copies it unchanged
into the output. This scan looks for the corpus's values among the entries (decoded to text), for pieces
of at least `MIN_PIECE` characters of a value, and for whole values in the tokenizer's other text (added
tokens, chat template). Counts per label and keyed hashes only, never a value.

A whole value that is an entry fails the check; pieces alone are a warning (a public vocabulary holds
"Smith" or "2019" too). Entries the reference model's tokenizer also has are not counted: a tokenizer shared
with the public base model was not trained on the corpus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..privacy import value_hash
from .common import Context, MetricResult, register

MIN_PIECE = 4  # shorter pieces ("Jo", "12") are in every vocabulary


def entries(tokenizer: Any) -> set[str]:
    """Every vocabulary entry as the text it stands for (byte-level and SentencePiece markers decoded,
    WordPiece's "##" removed), stripped, of at least `MIN_PIECE` characters."""
    ids = sorted(set(tokenizer.get_vocab().values()))
    texts = tokenizer.batch_decode([[i] for i in ids], clean_up_tokenization_spaces=False)
    out = {t.strip().removeprefix("##").strip() for t in texts}
    return {t for t in out if len(t) >= MIN_PIECE}


def _lowercases(tokenizer: Any) -> bool:
    """An uncased tokenizer (BERT uncased) reads "Smith" as "smith": values are compared lower-cased."""
    return tokenizer.tokenize("Smith Qx") == tokenizer.tokenize("smith qx")


def _other_text(tokenizer: Any) -> str:
    """The tokenizer's text beyond its vocabulary: the chat template and the added tokens."""
    parts = [str(getattr(tokenizer, "chat_template", None) or "")]
    parts += [str(t) for t in getattr(tokenizer, "added_tokens_decoder", {}).values()]
    return "\n".join(parts)


def scan(tokenizer: Any, pairs: Sequence[tuple[str, str]], reference: Any = None) -> dict[str, Any]:
    """Which distinct (label, value) `pairs` are tokenizer entries (`values`), have only pieces among them
    (`pieces`), per label, with keyed hashes; entries `reference`'s tokenizer shares are discounted."""
    found = entries(tokenizer)
    shared = found & entries(reference) if reference is not None else set()
    found -= shared
    lower = _lowercases(tokenizer)
    other = _other_text(tokenizer)
    longest = max(map(len, found), default=0)
    by_label: dict[str, dict[str, int]] = defaultdict(lambda: {"values": 0, "pieces": 0, "total": 0})
    items, piece_entries = [], set()
    for label, value in sorted(set(pairs)):
        v = value.strip().lower() if lower else value.strip()
        by_label[label]["total"] += 1
        if len(v) < MIN_PIECE:
            continue
        whole = v in found or v in other
        pieces = {v[i:j] for i in range(len(v)) for j in range(i + MIN_PIECE, min(len(v), i + longest) + 1)}
        pieces = (pieces & found) - {v}
        if whole or pieces:
            by_label[label]["values" if whole else "pieces"] += 1
            piece_entries |= pieces
            items.append({"hash": value_hash(value), "label": label, "whole": whole, "pieces": len(pieces)})
    return {
        "entries": len(found) + len(shared),
        "shared_with_reference": len(shared) if reference is not None else None,
        "lowercased": lower,
        "values": sum(b["values"] for b in by_label.values()),
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
    return (f"warning: the tokenizer holds {block['values']} of the corpus's values as vocabulary entries and "
            f"pieces (>= {MIN_PIECE} characters) of {block['pieces']} others ({block['piece_entries']} entries); "
            "it ships with the model: use a tokenizer trained on public text (docs/attacks.md, 'What ships')")  # fmt: skip
