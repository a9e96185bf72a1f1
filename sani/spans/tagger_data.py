"""Synthetic texts the name and address tagger (`sani.spans.tagger`) learns from: the templates, frames and
letter blocks of `sani.spans.tagger_templates` (chat, e-mail, letterheads, clinical, HR, legal, insurance,
school, lettings, travel, police, forums), filled with names and addresses from Faker's Latin-script and
romanized locales and with distractors in the same slots (organisations, some made of surnames, drugs,
products, codes, dates, cities alone, capitalised common words), which stay unmarked.

The evaluation locales (`EVAL_LOCALES`) never appear in training; `benchmarks/detectors.py` scores on them
and on two corpora written independently (`benchmarks/people_corpus.py`, the development set, and
`benchmarks/people_eval.py`, evaluation only).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from .data import Record, Span
from .tagger_templates import (
    BLOCKS,
    DAYS,
    DRUGS,
    FRAMES,
    INDUSTRY,
    KEYS,
    KIN,
    PHONE_LABELS,
    ROLES,
    SUFFIX,
    TEMPLATES,
    TITLES,
)

# names: Latin-script and romanized locales of many regions; addresses: locales whose addresses Faker writes
# in Latin script. The evaluation locales are kept out of both.
NAME_LOCALES = ("en_US", "en_GB", "en_IN", "en_NG", "en_KE", "en_PK", "en_PH", "en_IE", "fr_FR", "fr_CH", "de_DE",
                "es_ES", "es_MX", "es_AR", "pt_BR", "pl_PL", "nl_NL", "sv_SE", "no_NO", "cs_CZ", "fi_FI", "hu_HU",
                "ro_RO", "hr_HR", "lt_LT", "id_ID", "yo_NG", "ha_NG", "ig_NG", "zu_ZA", "tw_GH", "sw", "uz_UZ",
                "fil_PH", "ja_JP", "zh_CN")  # fmt: skip
ADDRESS_LOCALES = ("en_US", "en_GB", "en_CA", "en_IN", "en_IE", "fr_FR", "de_DE", "es_ES", "es_MX", "pt_BR",
                   "pl_PL", "nl_NL", "sv_SE", "cs_CZ", "da_DK", "fi_FI", "id_ID", "ro_RO")  # fmt: skip
# the evaluation locales: each with its own Faker names (and, for EVAL_PLACES, addresses), never trained on
EVAL_LOCALES = ("it_IT", "tr_TR", "vi_VN", "pt_PT", "de_AT", "sk_SK", "sl_SI", "en_NZ", "zh_TW")
EVAL_PLACES = ("it_IT", "vi_VN", "pt_PT", "de_AT", "sk_SK", "sl_SI", "en_NZ")
ROMANIZED = ("ja_JP", "zh_CN", "zh_TW")  # their names in Latin letters (Faker's romanized providers)


@cache
def _cached(locale: str) -> Any:
    from faker import Faker

    return Faker(locale)


def _faker(locale: str, rng: random.Random) -> Any:
    """Faker for `locale`, seeded from `rng`: every draw follows the texts' seed, nothing else."""
    f = _cached(locale)
    f.seed_instance(rng.randrange(2**31))
    return f


def _name_parts(rng: random.Random, locales: tuple[str, ...]) -> tuple[str, str]:
    loc = rng.choice(locales)
    f = _faker(loc, rng)
    if loc in ROMANIZED:
        return f.first_romanized_name().strip().title(), f.last_romanized_name().strip().title()
    return f.first_name().strip(), f.last_name().strip()


def _full(rng: random.Random, locales: tuple[str, ...]) -> str:
    given, family = _name_parts(rng, locales)
    shape = rng.random()
    if shape < 0.12:  # a middle initial or name
        middle = _name_parts(rng, locales)[0]
        return f"{given} {middle[0]}. {family}" if rng.random() < 0.5 else f"{given} {middle} {family}"
    if shape < 0.17:
        return f"{family.upper()} {given}"
    return f"{given} {family}"


def _address(rng: random.Random, locales: tuple[str, ...], lines: bool) -> str:
    text = _faker(rng.choice(locales), rng).address().strip()
    return text if lines else re.sub(r"\s*\n\s*", ", ", text)


def _filler(rng: random.Random, slot: str) -> str:
    f = _faker("en_US", rng)
    return {
        "C": lambda: f.company(),
        "CITY": lambda: _faker(rng.choice(ADDRESS_LOCALES), rng).city(),
        "D": lambda: rng.choice(DRUGS),
        "J": lambda: f.job().split(",")[0].title(),
        "W": lambda: " ".join(w.title() for w in f.words(rng.randint(1, 3))),
        "P": lambda: _faker(rng.choice(ADDRESS_LOCALES), rng).phone_number() + rng.choice(("",) * 6 + PHONE_LABELS),
        "X": lambda: (
            f"{rng.choice(['ORD', 'INV', 'REF', 'SKU'])}-{rng.randint(2015, 2026)}-{rng.randint(1, 99999):05d}"
        ),
        "T": lambda: rng.choice(TITLES),
        "DAY": lambda: rng.choice(DAYS),
        "KEY": lambda: rng.choice(KEYS),
        "KIN": lambda: rng.choice(KIN),
    }[slot]()


def _number(rng: random.Random) -> str:
    """Numbers that are not addresses: dates, ranges, amounts, doses, times, versions, codes."""
    d, m = rng.randint(1, 28), rng.choice(DAYS[7:] + ("Oct", "Jan", "Sept"))
    return rng.choice(
        (
            f"{d} {m}",
            f"{d}-{d + rng.randint(1, 3)} {m}",
            f"{d}/{rng.randint(1, 12)}/{rng.randint(2019, 2026)}",
            f"{rng.randint(5, 900)} mg",
            f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d} EUR",
            f"${rng.randint(10, 9999)}",
            f"{rng.randint(7, 20)}:{rng.choice(('00', '15', '30', '45'))}",
            f"v{rng.randint(1, 15)}",
            f"PO {rng.randint(1000, 9999)}-{rng.randint(10, 99)}",
            f"TKT-{rng.randint(10000, 99999)}",
            f"{rng.randint(2, 400)}",
            f"{rng.randint(100, 999)}-{rng.randint(10, 99)}",
            f"{rng.choice(('BA', 'LH', 'AF', 'UA'))} {rng.randint(10, 999)}",
        )
    )


def _org(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return _faker("en_US", rng).company()
    if rng.random() < 0.1:  # a saint's name is a hospital's or a school's, not a person's
        return f"St {_name_parts(rng, NAME_LOCALES)[0]}'s {rng.choice(('Hospital', 'School', 'Church', 'College'))}"
    heads = (
        _faker(rng.choice(ADDRESS_LOCALES), rng).city(),
        _filler(rng, "W").split()[0],
        _name_parts(rng, NAME_LOCALES)[1],
    )
    head = rng.choice(heads)
    return " ".join(x for x in (head, rng.choice(INDUSTRY), rng.choice(SUFFIX)) if x)


def _party(rng: random.Random, names: tuple, places: tuple) -> tuple[str, list[tuple[int, int]]]:
    """A person written one of many ways (its name's offsets), or an organisation or a role (none)."""
    x = rng.random()
    if x < 0.35:
        v = _full(rng, names)
        return v, [(0, len(v))]
    if x < 0.5:
        v = _name_parts(rng, names)[0]
        return v, [(0, len(v))]
    if x < 0.65:
        title, family = rng.choice(TITLES), _name_parts(rng, names)[1]
        return f"{title} {family}", [(len(title) + 1, len(title) + 1 + len(family))]
    if x < 0.7:
        v = _name_parts(rng, names)[1]
        return v, [(0, len(v))]
    return (_org(rng) if x < 0.85 else rng.choice(ROLES)), []


def _value(slot: str, rng: random.Random, names: tuple, places: tuple) -> tuple[str, list[tuple[int, int, str]]]:
    """A slot's text and its marked spans (offsets in the text)."""
    whole = {"N": "NAME", "R": "NAME", "G": "NAME", "F": "NAME", "A": "ADDRESS", "L": "ADDRESS"}
    if slot == "N":
        v = _full(rng, names)
    elif slot == "R":
        v = ", ".join(reversed(_name_parts(rng, names)))
    elif slot in ("G", "F"):
        v = _name_parts(rng, names)[slot == "F"]
    elif slot in ("A", "L"):
        v = _address(rng, places, lines=slot == "L")
    elif slot == "Q":
        v, spans = _party(rng, names, places)
        return v, [(a, b, "NAME") for a, b in spans]
    elif slot == "O":
        v = _org(rng)
    elif slot == "NUM":
        v = _number(rng)
    elif slot == "E":
        v = f"{_filler(rng, 'W').split()[0].lower()}@example.org"
    else:
        v = _filler(rng, slot)
    return v, ([(0, len(v), whole[slot])] if slot in whole else [])


def render(template: str, rng: random.Random, name_locales: tuple, address_locales: tuple) -> Record:
    """One text from `template`, its slots filled and its names and addresses marked."""
    case = rng.random()  # 6%: chat written without capitals; 3%: headings and forms in capitals
    cased = str.lower if case < 0.06 else str.upper if case < 0.09 else str
    out, spans, pos = [], [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(cased(template[pos : m.start()]))
        start = sum(map(len, out))
        value, marked = _value(m.group(1), rng, name_locales, address_locales)
        # each marked piece cased on its own: "ß".upper() is "SS", so the offsets follow the cased text
        pieces, at, moved = [], 0, []
        for a, b, label in sorted(marked):
            pieces.append(cased(value[at:a]))
            lo = sum(map(len, pieces))
            pieces.append(cased(value[a:b]))
            moved.append((lo, lo + len(pieces[-1]), label))
            at = b
        pieces.append(cased(value[at:]))
        out.append("".join(pieces))
        spans += [Span(start + a, start + b, label, source="tagger-data") for a, b, label in moved]
        pos = m.end()
    out.append(cased(template[pos:]))
    return Record("".join(out), spans)


def sentences(n: int, seed: int = 0, held_out: bool = False) -> Iterator[Record]:
    """`n` seeded texts of one to three parts (templates, frames, blocks); `held_out`: names and addresses
    from the evaluation locales only."""
    rng = random.Random(f"sani:tagger:{seed}:{held_out}")
    names = EVAL_LOCALES if held_out else NAME_LOCALES
    places = EVAL_PLACES if held_out else ADDRESS_LOCALES
    for _ in range(n):
        parts = [
            render(rng.choice(rng.choices((TEMPLATES, FRAMES, BLOCKS), (0.45, 0.4, 0.15))[0]), rng, names, places)
            for _ in range(rng.choice((1, 1, 2, 3)))
        ]
        yield join(parts, rng.choice((" ", "\n")))


def join(parts: list[Record], sep: str) -> Record:
    """Records as one text, their spans moved along."""
    text, spans = "", []
    for r in parts:
        if text:
            text += sep
        spans += [Span(s.start + len(text), s.end + len(text), s.label, source=s.source) for s in r.spans]
        text += r.text
    return Record(text, spans)
