"""Built-in detectors for common direct identifiers: patterns, validated by checksums where one exists.

Each detector returns `Span`s labelled with its name. They favour recall on well-formed values and use
checksums (Luhn, IBAN mod-97) and validity rules (SSN areas, IP octets) to keep precision.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable, Iterator

from .data import Span
from .errors import SaniError

Detector = Callable[[str], Iterator[Span]]


def _regex(label: str, pattern: str, flags: int = 0, check: Callable[[str], bool] | None = None) -> Detector:
    rx = re.compile(pattern, flags)

    def detect(text: str) -> Iterator[Span]:
        for m in rx.finditer(text):
            if check is None or check(m.group()):
                yield Span(m.start(), m.end(), label, source=f"detect:{label}")

    return detect


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _iban(text: str) -> Iterator[Span]:
    # the pattern can run into a following capitalised word: take the longest prefix that validates
    for m in re.finditer(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", text):
        s = m.group()
        for end in range(len(s), 14, -1):
            if s[end - 1] != " " and (end == len(s) or not s[end].isalnum()) and iban_ok(s[:end]):
                yield Span(m.start(), m.start() + end, "IBAN", source="detect:IBAN")
                break


def _ip(text: str) -> Iterator[Span]:
    for m in re.finditer(r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w]|[.:]\w)", text):
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
    "SSN": _regex("SSN", r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"),
    # 13-19 digits, bare or in the printed groupings (4-4-4-4[-3], Amex 4-6-5), Luhn-checked
    "CREDIT_CARD": _regex(
        "CREDIT_CARD",
        r"(?<![\d-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?![\d-])",
        check=luhn_ok,
    ),
    "IBAN": _iban,
    "PHONE": _regex(
        "PHONE",
        r"(?<![\w+(-])(?:"
        r"(?:\+?1[ .-]?|001[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"  # North America: (555) 123-4567, 555-123-4567
        r"|\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"  # international: +44 20 7946 0958
        r"|0\d(?:[ .]\d{2}){4}"  # France-style: 01 23 45 67 89
        r"|\d{10}"  # bare ten digits: the North American format without separators
        r")(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w-])",  # optional extension: x2194, ext. 12
    ),
    "IP_ADDRESS": _ip,
    "URL": _url,
    "DATE": _regex("DATE", _DATE, flags=re.IGNORECASE),
}

# Checksum-validated detectors first: where two overlap, the first one's label is kept.
ORDER = ("IBAN", "CREDIT_CARD", "EMAIL", "URL", "SSN", "IP_ADDRESS", "PHONE", "DATE")


def parse_detect(names: str | list[str] | None) -> list[str]:
    """`"all"`, `"email,phone"` or a list -> detector names, validated."""
    if not names:
        return []
    items = names.split(",") if isinstance(names, str) else list(names)
    items = [n.strip().upper() for n in items if n.strip()]
    if "ALL" in items:
        return list(ORDER)
    unknown = [n for n in items if n not in DETECTORS]
    if unknown:
        raise SaniError(f"--detect: unknown detector {unknown[0]!r} (known: {', '.join(ORDER)}, all)")
    return [n for n in ORDER if n in items]


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
