"""Values that look like a label's own, learnt from the corpus: the calibrated repair's surrogates with
`--surrogate-source corpus`.

The repair pulls each value down to where an unseen value *of the corpus's own kind* would sit. A fixed
generator (Faker en_US, random characters of the value's shape) draws values of another kind: on British
phones, custom ids or IBANs whose pieces a corpus-trained tokenizer holds, its surrogates split into more,
rarer tokens than the corpus's values, and the repair pushes the values below where a model that never saw
them puts them (../shared/research/forgetting-vs-hiding.md, 2026-12). The surrogates here are made of the
corpus's own pieces, in its own layouts (measured against the oracle, label by label, in docs/benchmarks.md:
nearer than Faker's where the tokenizer was learnt on the corpus, farther where it was not; the pieces are
ones the model memorized, so surrogates made of them score high and leave some labels above the oracle's
level. Not the default):

- a value is cut into pieces: runs of letters, runs of digits, and single other characters; values that
  cut the same way (the same other characters, the same digit-run lengths, the same case of each letter run)
  share a layout;
- a surrogate keeps the value's layout; each letter run is one the label's values hold at that place of
  that layout (where that place has fewer than `MIN_CHOICES` distinct runs: as often as the values hold it,
  when at least `MIN_CHOICES` values have that layout, as a domain or a country code; else any run of the
  label with the same case); given the model's tokenizer, each digit run comes in the tokens the value's is
  cut into, each a digit token the values hold at that place; else (or where fewer than `MIN_CHOICES` such
  tokens exist) each digit is drawn from the digits the layout's values hold at that position, smoothed so
  that every digit stays possible (the prefixes of a corpus's phones and IBANs are kept, the rest varies);
- a surrogate is never a value the corpus holds, and is drawn as if its value had not been learnt from (its
  own letter runs and digits left out of the counts), so that it never echoes the value it stands for.

A label with fewer than `MIN_VALUES` distinct values has too little to learn from: `sani.spans.candidates` falls
back to Faker or the value's shape for it and says so.
"""

from __future__ import annotations

import random
import string
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MIN_VALUES = 10  # distinct values of a label before its surrogates are learnt from them
MIN_CHOICES = 5  # distinct letter runs at one place of one layout before that place draws only from them
SMOOTHING = 0.1  # added to each digit's count at a position: an unseen digit stays possible
Piece = tuple[str, str]  # (class, text): "L" letters, "D" digits, "O" one other character


def pieces(value: str) -> list[Piece]:
    """`value` cut into runs of letters, runs of digits and single other characters."""
    out: list[Piece] = []
    for c in value:
        cls = "L" if c.isalpha() else "D" if c.isdigit() else "O"
        if out and cls != "O" and out[-1][0] == cls:
            out[-1] = (cls, out[-1][1] + c)
        else:
            out.append((cls, c))
    return out


def case(run: str) -> str:
    """The case of a letter run: "upper", "lower", "title" or "mixed" (a single capital is "upper")."""
    if run.isupper():
        return "upper"
    if run.islower():
        return "lower"
    if run[0].isupper() and (run[1:].islower() or len(run) == 1):
        return "title"
    return "mixed"


def layout(value: str) -> tuple[str, ...]:
    """What values that cut the same way share: each digit run's length, each letter run's case, each other
    character itself."""
    return tuple(f"D{len(t)}" if c == "D" else f"L{case(t)}" if c == "L" else f"O{t}" for c, t in pieces(value))


@dataclass
class Lookalike:
    """Learnt from the distinct values of one label: `draw(value, k, rng, exclude)` gives surrogates."""

    runs: dict[tuple[tuple[str, ...], int], Counter] = field(default_factory=dict)  # (layout, place) -> runs
    by_case: dict[str, list[str]] = field(default_factory=dict)  # the label's letter runs of each case
    digits: dict[tuple[tuple[str, ...], int], list[Counter]] = field(default_factory=dict)  # per digit position
    values: int = 0
    pieces: dict[tuple[tuple[str, ...], int, int], Counter] = field(default_factory=dict)  # digit tokens by length
    cuts: dict[str, list[list[int]]] = field(default_factory=dict)  # a value's digit runs cut as its tokens are

    @classmethod
    def learn(cls, values: Iterable[str], tokenizer: Any = None) -> Lookalike:
        runs: dict[tuple[tuple[str, ...], int], Counter] = defaultdict(Counter)
        by_case: dict[str, dict[str, None]] = defaultdict(dict)
        digits: dict[tuple[tuple[str, ...], int], list[Counter]] = {}
        distinct = set(values)
        for v in sorted(distinct):
            lay = layout(v)
            for place, (c, text) in enumerate(pieces(v)):
                if c == "L":
                    runs[(lay, place)][text] += 1
                    by_case[case(text)][text] = None
                elif c == "D":
                    counts = digits.setdefault((lay, place), [Counter() for _ in text])
                    for counter, d in zip(counts, text):
                        counter[d] += 1
        made = cls(dict(runs), {k: list(v) for k, v in by_case.items()}, digits, len(distinct))
        if tokenizer is not None:
            made.learn_tokens(distinct, tokenizer)
        return made

    def learn_tokens(self, values: Iterable[str], tokenizer: Any) -> None:
        """How the tokenizer cuts each value's digit runs, and the digit tokens of each length at each place
        of each layout: a surrogate's digits then come in tokens the values' come in (a tokenizer learnt on
        the corpus merges its values' digits; random digits would take more, rarer-looking tokens)."""
        for v in values:
            ends = {e for s, e in tokenizer(v, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]}
            lay, at, cuts = layout(v), 0, []
            for place, (c, text) in enumerate(pieces(v)):
                if c == "D":
                    bounds = [0] + [e - at for e in sorted(ends) if at < e < at + len(text)] + [len(text)]
                    cuts.append([b - a for a, b in zip(bounds, bounds[1:])])
                    for a, b in zip(bounds, bounds[1:]):
                        self.pieces.setdefault((lay, place, b - a), Counter())[text[a:b]] += 1
                at += len(text)
            self.cuts[v] = cuts

    def _letters(self, lay: tuple[str, ...], place: int, text: str, rng: random.Random) -> str:
        counts = self.runs.get((lay, place), Counter())
        here = [r for r in counts if r != text]
        if len(here) >= MIN_CHOICES:
            return rng.choice(here)
        if counts.total() >= MIN_CHOICES:  # a place of few runs that many values share (a domain, a country code)
            return rng.choices(list(counts), list(counts.values()))[0]
        same = [r for r in self.by_case.get(case(text), []) if r != text]
        if len(same) >= 2:
            return rng.choice(same)
        letters = string.ascii_uppercase if text.isupper() else string.ascii_lowercase
        return "".join(rng.choice(letters) for _ in text)  # too few runs of this case: random letters

    def _digits(self, lay: tuple[str, ...], place: int, text: str, rng: random.Random) -> str:
        counts = self.digits.get((lay, place)) or [Counter() for _ in text]
        out = []
        for counter, own in zip(counts, text):
            weights = [max(0, counter[d] - (d == own)) + SMOOTHING for d in string.digits]
            out.append(rng.choices(string.digits, weights)[0])
        return "".join(out)

    def _tokens(self, lay: tuple[str, ...], place: int, text: str, lengths: list[int], rng: random.Random) -> str:
        """A digit run in tokens of the lengths the value's run is cut into, each one the values hold at that
        place (not the value's own); per-position digits where fewer than `MIN_CHOICES` such tokens exist."""
        out, at = [], 0
        for n in lengths:
            own = text[at : at + n]
            here = [t for t in self.pieces.get((lay, place, n), ()) if t != own]
            out.append(rng.choice(here) if len(here) >= MIN_CHOICES else self._digits(lay, place, own, rng)[:n])
            at += n
        return "".join(out)

    def draw(self, value: str, k: int, rng: random.Random, exclude: set[str]) -> list[str]:
        """Up to `k` distinct surrogates in `value`'s layout, none of them `value` or in `exclude`."""
        lay, cut = layout(value), pieces(value)
        cuts = iter(self.cuts.get(value, []))
        runs = {place: next(cuts) for place, (c, _) in enumerate(cut) if c == "D"} if value in self.cuts else {}

        def one() -> str:
            parts = []
            for place, (c, text) in enumerate(cut):
                if c == "L":
                    parts.append(self._letters(lay, place, text, rng))
                elif c == "D" and place in runs:
                    parts.append(self._tokens(lay, place, text, runs[place], rng))
                elif c == "D":
                    parts.append(self._digits(lay, place, text, rng))
                else:
                    parts.append(text)
            return "".join(parts)

        return distinct(one, k, value, exclude)


def distinct(draw: Callable[[], str], k: int, value: str, exclude: set[str]) -> list[str]:
    """Up to `k` distinct results of `draw()`, none of them `value` or in `exclude` (at most 20 k tries)."""
    out: dict[str, None] = {}
    for _ in range(20 * k):
        s = draw()
        if s != value and s not in exclude:
            out[s] = None
            if len(out) >= k:
                break
    return list(out)


def learn(pairs: Iterable[tuple[str, str]], tokenizer: Any = None) -> dict[str, Lookalike]:
    """A `Lookalike` per label with at least `MIN_VALUES` distinct values, from (label, value) pairs; with the
    model's `tokenizer`, digit runs come in the tokens the values' come in."""
    by_label: dict[str, set[str]] = defaultdict(set)
    for label, v in pairs:
        by_label[label].add(v)
    return {label: Lookalike.learn(vs, tokenizer) for label, vs in by_label.items() if len(vs) >= MIN_VALUES}
