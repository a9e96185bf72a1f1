"""sani's own name and address tagger (`--detect tagger`): a linear-chain conditional random field (Lafferty
et al. 2001, in CRFsuite: Okazaki 2007, `python-crfsuite`) over each word's shape, affixes and case, the
words around it, and lists of street, unit and title words; learnt from synthetic sentences in many
locales and styles (`sani.spans.tagger_data`). It marks whole names (NAME) and whole postal addresses (ADDRESS:
house number, street, unit, postcode and city as one span), then the parts of a name found in a record
wherever they stand alone in it ("Dr Okafor" after "Ada Okafor").

No weights ship with sani and nothing is downloaded: `sani tagger` builds them once (about 90 s on a CPU)
into the cache (`model_path`), with the word lists its features read (`Vocab`); without a build, or with
one by another version, `--detect tagger` ends in one line and `--detect all` skips it, saying so.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingExtra, SaniError
from .data import Record, Span

VERSION = 8  # of the features and labels: a model built by another version is refused (rebuild it)
# words (O'Neil, Ha-eun, Smith-Jones: one token; a possessive 's: its own), numbers, any other character
TOKEN = re.compile(r"[^\W\d_]+(?:(?:['’](?![sS]\b)|-)[^\W\d_]+)*|\d+|\S")
STREET = frozenset(
    "street st road rd avenue ave av lane ln drive dr boulevard blvd way court ct place pl close crescent "
    "terrace square sq highway hwy parkway pkwy row mews grove gardens park hill walk rue allée allee chemin "
    "impasse quai cours straße strasse str weg platz gasse allee ring damm via viale piazza corso vicolo "
    "calle avenida plaza paseo camino carrera rua travessa alameda praça ulica ul aleja al plac osiedle "
    "straat laan plein gracht kade gatan vägen vej gade katu tie utca ulice náměstí jalan jl".split()
)
UNIT = frozenset("apt apartment suite ste unit flat floor room bldg building box appt étage bâtiment piso "
                 "puerta wohnung".split())  # fmt: skip
TITLE = frozenset("mr mrs ms miss mx dr prof professor sir dame mme mlle herr frau sr sra dott ing sgt rev capt "
                  "judge".split())  # fmt: skip
WEEK = ("monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
        "august september october november december")  # fmt: skip


BANDS = (1000, 5000, 20000, 80000)  # a word's frequency band: its rank among English words, these bounds
GAZETTEER_LISTS = {"g": ("first_names", "first_names_male", "first_names_female", "first_romanized_names"),
                   "f": ("last_names", "last_romanized_names")}  # fmt: skip


@dataclass
class Vocab:
    """The word lists the features read, taken from the installed packages when the tagger is built and
    saved with it (`vocab_path`), so that detection reads the lists it learnt with whatever is installed
    later: common English words (Faker's), each word's frequency band (pyspellchecker's English list: how
    common a word is says more than a capital, which a sentence's first word always has), and given ("g")
    and family ("f") names (Faker's, of every locale but the tagger's evaluation ones: a hint, never the
    rule; training drops it from half the tokens, so a name it lacks is still read by its shape and place)."""

    common: frozenset[str]
    bands: dict[str, str]
    names: dict[str, str]

    @classmethod
    def installed(cls) -> Vocab:
        from faker.providers.lorem.en_US import Provider

        try:
            from spellchecker import SpellChecker
        except ImportError:
            raise MissingExtra("pyspellchecker is not installed (pip install 'sani-llm[tagger]')") from None
        counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
        ranked = sorted(counts.items(), key=lambda x: (-x[1], x[0]))
        bands = {w: str(next((b for b in BANDS if i < b), "rare")) for i, (w, _) in enumerate(ranked)}
        common = frozenset(Provider.word_list) | frozenset(WEEK.split()) | TITLE | STREET | UNIT
        return cls(common, bands, _gazetteer())

    def save(self, path: Path) -> None:
        data = {"common": sorted(self.common), "bands": self.bands, "names": self.names}
        path.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(frozenset(data["common"]), data["bands"], data["names"])

    def band(self, low: str) -> str:
        return self.bands.get(low, "none")


def _gazetteer() -> dict[str, str]:
    import importlib

    import faker.config

    from .tagger_data import EVAL_LOCALES

    kinds: dict[str, set[str]] = {}
    for loc in faker.config.AVAILABLE_LOCALES:
        if loc in EVAL_LOCALES:
            continue
        try:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except (ImportError, AttributeError):
            continue
        for kind, attrs in GAZETTEER_LISTS.items():
            for attr in attrs:
                names = getattr(provider, attr, ())
                for name in names if isinstance(names, (tuple, list, dict)) else ():
                    if isinstance(name, str) and all(ord(c) < 0x250 for c in name):
                        kinds.setdefault(name.strip().lower(), set()).add(kind)
    return {name: "".join(sorted(k)) for name, k in kinds.items()}


PART = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def model_path() -> Path:
    """Where the built tagger is read from and written to: `SANI_TAGGER`, else the user's cache directory."""
    given = os.environ.get("SANI_TAGGER")
    if given:
        return Path(given)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sani" / f"tagger-v{VERSION}.crfsuite"


def tokens(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in TOKEN.finditer(text)]


def _shape(word: str) -> str:
    classes = ("X" if c.isupper() else "x" if c.isalpha() else "d" if c.isdigit() else c for c in word)
    out: list[str] = []
    for c in classes:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _own(text: str, start: int, end: int, first: bool, vocab: Vocab, drop: Any = None) -> dict[str, Any]:
    """A token's own features. Its word itself only when common or not capitalised: the tagger must read a
    name it never saw by its shape and place, not learn the names it was trained on."""
    w = text[start:end]
    low = w.lower().rstrip(".")
    band = vocab.band(low) if w[:1].isalpha() else ""
    known = low in vocab.common or band in ("1000", "5000")
    before = text[max(0, start - 3) : start].rstrip(" \t")
    return {
        "w": low if known or not w[:1].isalpha() else "",
        "common": known,
        "band": band,
        "gaz": vocab.names.get(low, "") if w[:1].isalpha() and not (drop and drop.random() < 0.5) else "",
        "starts": first or not before or before[-1] in '.!?:;\n"(',
        "shape": _shape(w),
        "title": w[:1].isupper() and w[1:].islower(),
        "upper": w.isupper() and len(w) > 1,
        "digits": str(len(w)) if w.isdigit() else "",
        "suf3": low[-3:],
        "pre3": low[:3],
        "street": low in STREET,
        "unit": low in UNIT,
        "honorific": low in TITLE,
        "line": first or "\n" in text[max(0, start - 3) : start],
    }


def features(
    text: str, spans: list[tuple[int, int]], vocab: Vocab, drop: random.Random | None = None
) -> list[dict[str, Any]]:
    """Per token: its own features and its neighbours' (two each side), for the CRF; `drop` (training): the
    name-list hint left out of half the tokens."""
    own = [_own(text, a, b, i == 0, vocab, drop) for i, (a, b) in enumerate(spans)]
    out = []
    for i, f in enumerate(own):
        feats: dict[str, Any] = {"bias": 1.0, **{k: v for k, v in f.items() if v not in ("", False)}}
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < len(own):
                n = own[j]
                for k in ("w", "shape", "title", "common", "band", "gaz", "street", "unit", "honorific", "line"):
                    if n[k] not in ("", False):
                        feats[f"{d}:{k}"] = n[k]
            else:
                feats[f"{d}:edge"] = 1.0
        if 0 < i < len(own) - 1:  # the words on both sides together: "At _'s", "to _ and"
            feats["around"] = f"{own[i - 1]['w'] or own[i - 1]['shape']}|{own[i + 1]['w'] or own[i + 1]['shape']}"
        out.append(feats)
    return out


def labels(record: Record, spans: list[tuple[int, int]]) -> list[str]:
    """BIO labels of the tokens from the record's spans (a token inside a span takes its label)."""
    out = ["O"] * len(spans)
    for s in record.spans:
        inside = [i for i, (a, b) in enumerate(spans) if a >= s.start and b <= s.end]
        for k, i in enumerate(inside):
            out[i] = f"{'B' if k == 0 else 'I'}-{s.label}"
    return out


def train(records: Iterable[Record], out: Path, iterations: int = 200) -> Path:
    """A CRF learnt from `records` (their NAME and ADDRESS spans), written to `out` with its version."""
    crfsuite = _crfsuite()
    trainer = crfsuite.Trainer(verbose=False)
    drop = random.Random("sani:tagger:drop")
    vocab = Vocab.installed()
    for r in records:
        spans = tokens(r.text)
        trainer.append(features(r.text, spans, vocab, drop), labels(r, spans))
    trainer.set_params({"c1": 0.05, "c2": 0.01, "max_iterations": iterations, "feature.possible_transitions": True})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    trainer.train(str(tmp))
    tmp.replace(out)
    vocab.save(vocab_path(out))
    out.with_suffix(".json").write_text(json.dumps({"version": VERSION, "iterations": iterations}))
    return out


def vocab_path(model: Path) -> Path:
    """The word lists saved beside a built tagger (`Vocab`)."""
    return model.with_name(model.stem + ".vocab.json")


def build(out: str | Path | None = None, sentences: int = 20000, seed: int = 0, iterations: int = 200) -> dict:
    """Build the tagger from `sentences` synthetic sentences (`sani.spans.tagger_data`) into `out` (default
    `model_path()`): what `sani tagger` runs."""
    from .tagger_data import sentences as make

    if sentences < 1 or iterations < 1:
        raise SaniError(f"sani tagger: --sentences and --iterations must be at least 1 (got {sentences}, {iterations})")
    path = Path(out) if out is not None else model_path()
    clock = time.perf_counter()
    train(make(sentences, seed), path, iterations)
    return {"path": str(path), "sentences": sentences, "seconds": round(time.perf_counter() - clock, 1)}


def _crfsuite() -> Any:
    try:
        import pycrfsuite
    except ImportError:
        raise MissingExtra("python-crfsuite is not installed (pip install 'sani-llm[tagger]')") from None
    return pycrfsuite


def tagger_detector(path: str | Path | None = None) -> Any:
    """The detector: NAME and ADDRESS spans of a text by the built CRF, and a found name's parts alone."""
    crfsuite = _crfsuite()
    path = Path(path) if path is not None else model_path()
    if not path.is_file():
        raise MissingExtra(f"the tagger is not built ({path}): run 'sani tagger' once, or set SANI_TAGGER")
    meta = path.with_suffix(".json")
    version = json.loads(meta.read_text()).get("version") if meta.is_file() else None
    if version != VERSION or not vocab_path(path).is_file():  # `--detect all` skips it, and says why
        raise MissingExtra(f"{path} was built by another version of sani's tagger: run 'sani tagger' to rebuild it")
    crf = crfsuite.Tagger()
    crf.open(str(path))
    vocab = Vocab.load(vocab_path(path))

    def detect(text: str) -> Iterator[Span]:
        spans = tokens(text)
        if not spans:
            return
        tags = crf.tag(features(text, spans, vocab))
        found = [t for t in (_trim(text, *f, vocab) for f in _decode(tags, spans)) if t]
        yield from (Span(a, b, label, source="detect:TAGGER") for a, b, label in found)
        yield from _parts(text, [(a, b) for a, b, label in found if label == "NAME"], [(a, b) for a, b, _ in found])

    return detect


def _decode(tags: list[str], spans: list[tuple[int, int]]) -> Iterator[tuple[int, int, str]]:
    """BIO tags to character spans; an I- tag after another label starts a span."""
    current: list[Any] | None = None
    for tag, (a, b) in zip(tags, spans):
        kind, _, label = tag.partition("-")
        if current and kind == "I" and label == current[2]:
            current[1] = b
            continue
        if current:
            yield tuple(current)
        current = [a, b, label] if kind in ("B", "I") else None
    if current:
        yield tuple(current)


PARTICLES = frozenset("de la le du des van der den von di da del della dos das al el bin ibn bint ten ter".split())


def _trim(text: str, start: int, end: int, label: str, vocab: Vocab) -> tuple[int, int, str] | None:
    """A span without the lowercase words the CRF let it run into at either end ("neighbour Ana", "Ana
    noted"; "now 12 Rue ..."), when the span has a capitalised word (one written without capitals stays
    whole): a name's particles (de, van, al...) stay, and an address loses only very common words; an
    address also loses lines of digits alone at its ends. None when nothing is left."""
    if label == "ADDRESS":  # lines of digits alone at its ends are phones or codes, not the address's
        lines = [m for m in re.finditer(r"[^\n]+", text[start:end]) if re.search(r"[^\W\d_]", m.group())]
        if not lines or not re.search(r"[^\W\d_]{3}", text[start:end]):
            return None
        start, end = start + lines[0].start(), start + lines[-1].end()
    words = [m for m in re.finditer(r"\S+", text[start:end])]
    if not any(m.group()[:1].isupper() for m in words):  # written without capitals: nothing says where it ends
        return start, end, label

    def loose(m: re.Match) -> bool:
        w = m.group().strip(".,;:").lower()
        if not m.group()[:1].islower() or w in PARTICLES:
            return False
        return label == "NAME" or vocab.band(w) == str(BANDS[0])

    while words and loose(words[0]):
        words.pop(0)
    while words and loose(words[-1]):
        words.pop()
    if not words:
        return None
    return start + words[0].start(), start + words[-1].end(), label


def _parts(text: str, names: list[tuple[int, int]], taken: list[tuple[int, int]]) -> Iterator[Span]:
    """Each part (3 letters or more) of a name found in `text`, where it occurs alone elsewhere in it,
    written the same way."""
    parts = {p for a, b in names for p in PART.findall(text[a:b]) if len(p) >= 3 and p[:1].isupper()}
    for p in sorted(parts):
        for m in re.finditer(rf"(?<![\w'’-]){re.escape(p)}(?![\w'’-])", text):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                taken.append(m.span())
                yield Span(m.start(), m.end(), "NAME", source="detect:TAGGER")
