"""Phone numbers of every country, by `phonenumbers` (the port of Google's libphonenumber, what Presidio
uses), with context rules.

A number the library finds valid for one of the regions is kept; one of a possible length only, when a
phone cue ("phone", "tel", "call", ...) precedes it on its line or it is written as a phone (a `+` or `(`
prefix, or 3-3-4 digit groups). Either way, a number right after an identifier cue ("invoice", "order",
"ref", "SKU", "NHS number", "#", ...) is not a phone, unless a phone cue comes just before that cue
("phone no.", "mobile number").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import SaniError
from .data import Span

Detector = Callable[[str], Iterator[Span]]

PHONE_CUE = re.compile(
    r"\b(?:phone|tel|telephone|mobile|mob|cell|fax|call(?:s|ed|ing)?|ring|text|sms|whatsapp|contact|"
    r"reach(?:ed)?|dial(?:led)?|"
    r"t[ée]l[ée]phone|portable|appel|num[ée]ro)\b",
    re.IGNORECASE,
)
ID_CUE = re.compile(
    r"(?:\b(?:invoice|inv|order|ord|ref|reference|account|acct|serial|sku|ticket|case|claim|policy|"
    r"tracking|po|id|item|product|part|model|code|batch|lot|facture|commande|number|num|nr|nhs|ssn|"
    r"nino|nir|insurance)\b\.?|#|\bno\.|n°)\s*[:#]?\s*$",
    re.IGNORECASE,
)
CUE_WINDOW = 40  # characters before a number that are read for cues (on its line)


def before(text: str, start: int) -> str:
    """The text on the same line within CUE_WINDOW characters before `start`: where cues are read."""
    window = text[max(0, start - CUE_WINDOW) : start]
    return window.rsplit("\n", 1)[-1]


def _written_as_phone(raw: str) -> bool:
    if raw.startswith(("+", "(")):
        return True
    groups = [g for g in re.split(r"[^0-9]+", re.split(r"(?i)\s*(?:x|ext\.?|#)\s*\d+$", raw)[0]) if g]
    return [len(g) for g in groups][-3:] == [3, 3, 4]


def phone_detector(regions: Sequence[str] = ("US",)) -> Detector:
    """Phone numbers in national format for any of `regions` (ISO 3166 codes) and in international format
    from any region, by libphonenumber's matcher; with the context rules of the module docstring."""
    import phonenumbers

    regions = [r.strip().upper() for r in regions if r.strip()] or ["US"]
    known = phonenumbers.SUPPORTED_REGIONS
    bad = [r for r in regions if r not in known]
    if bad:
        raise SaniError(f"--region: unknown region {bad[0]!r} (ISO 3166 two-letter codes such as US, GB, FR, DE)")

    def matches(text: str) -> Iterator[tuple[int, int, Any]]:
        for region in regions:
            for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
                yield m.start, m.end, m
        # international numbers written with the 00 exit code (most of the world's): read as +, same offsets
        plus = _EXIT_00.sub(" +", text)
        if plus != text:
            for m in phonenumbers.PhoneNumberMatcher(plus, "ZZ", leniency=phonenumbers.Leniency.POSSIBLE):
                if text[m.start - 1 : m.start + 1] == "00":  # not a number written with + in the text itself
                    yield m.start - 1, m.end, m

    def detect(text: str) -> Iterator[Span]:
        seen: list[tuple[int, int]] = []
        for start, end, m in matches(text):
            if any(a < end and start < b for a, b in seen) or _glued(text, start, end, m.raw_string):
                continue
            ahead = before(text, start)
            cue = bool(PHONE_CUE.search(ahead))
            named = ID_CUE.search(ahead)  # "order 55120", "NHS number ...": another identifier, unless "phone no."
            if named and not PHONE_CUE.search(ahead[max(0, named.start() - 12) :]):
                continue
            if phonenumbers.is_valid_number(m.number) or cue or _written_as_phone(m.raw_string):
                seen.append((start, end))
                yield Span(start, end, "PHONE", source="detect:PHONE")

    return detect


_EXIT_00 = re.compile(r"(?<![\w+])00(?=[1-9])")


# what a phone's own label glued to it by a joiner says: "555-123-4567-Office", "Tel/555 0147", "Fax-..."
LINE_WORD = re.compile(
    r"(?:office|fax|home|work|mobile|mob|cell|tel|phone|direct|main|desk|landline|pager|voice|ext|"
    r"bureau|domicile|portable|fixe|standard)",
    re.IGNORECASE,
)


def _glued(text: str, start: int, end: int, raw: str = "") -> bool:
    """Part of a longer code (ORD-2023-065304, A7/2125550123): a joiner with a letter or digit beyond it;
    unless the word beyond is a phone's label ("555-123-4567-Office", "Tel/Fax/..."), on the right only
    for a number written as a phone or that word."""
    left = start >= 2 and text[start - 1] in "-/_" and text[start - 2].isalnum()
    right = end + 1 < len(text) and text[end] in "-/_" and text[end + 1].isalnum()
    if left and not LINE_WORD.fullmatch(
        re.search(r"[A-Za-z\u00C0-\u024F]*$", text[max(0, start - 41) : start - 1]).group()
    ):
        return True
    if right:
        word = re.match(r"[A-Za-z\u00C0-\u024F]*", text[end + 1 :]).group()
        beyond = text[end + 1 + len(word) : end + 2 + len(word)]
        return not (word and not beyond[:1].isdigit() and (LINE_WORD.fullmatch(word) or _written_as_phone(raw)))
    return False
