"""Candidate values of a label: the values an attacker ranks a true value against (value exposure, Carlini et
al. 2019, "The Secret Sharer", without planted canaries; the paired membership test) and, for the repair,
surrogates. A candidate is a value of the same kind, never one the corpus holds.

Four sources:
- "holdout": values of the same label from held-out records the model never saw (`pool`): the calibrated
  repair's surrogates with `--surrogate-source holdout` (a third of the holdout's value groups, which the
  stop and the audit then leave out, `sani.repair.parts`) and the audit's candidates with `--exposure-source
  holdout` (the audit's holdout); the `k` nearest in token count to the value (under a tokenizer learnt on
  the corpus a memorized value takes fewer tokens than a fresh one); a label with fewer than `MIN_HELD`
  distinct held-out values falls back to "faker";
- "corpus": values that look like the label's own, learnt from the corpus (`sani.spans.lookalike`: its layouts,
  words, pieces and digit prefixes), for a label with at least `lookalike.MIN_VALUES` distinct values; dates
  in a layout strftime writes get Faker's dates in the corpus's range of years; every other label falls back
  to "faker". The calibrated repair's surrogates with `--surrogate-source corpus`.
- "faker": Faker's provider for the labels it knows (names, dates, emails, addresses, cities, companies,
  jobs; phones, SSNs, IBANs, cards and postcodes when Faker's layout is the value's), the value's own format
  kept (word count and case of a name, the strftime layout of a date, years in the label's range);
- "shape": format-preserving: each digit a random digit, each letter a random letter of the same case,
  everything else kept, the same length. Used for every label Faker does not know, and for a value whose
  layout Faker does not produce.
Characters that are the same in every value of a label and length (a prefix such as `MRN-`, fixed
separators) are kept when the label has at least `MIN_DISTINCT` distinct values of that length.

The audit draws from "faker" on its own seed stream ("audit"); the repair draws its surrogates on another
stream ("repair"), so that the audit never grades the repair with the candidates it was trained on.

A label's kind comes from `LABELS` (exact names, Presidio's and spaCy's among them) first, else from whole
words of the label (`KINDS`): `USERNAME` is not a name, `IP_ADDRESS` not a postal address.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import string
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import lookalike

SOURCES = ("holdout", "corpus", "faker", "shape")
MIN_HELD = 5  # distinct held-out values of a label before they serve its surrogates
POOL = 400  # Faker values drawn once per label and layout (at least 4k); a value's k candidates are a sample
MIN_DISTINCT = 5  # distinct values of one length before characters they all share are kept fixed

# label kinds Faker knows, by words in the label (checked in this order: "DATE_OF_BIRTH" is a date)
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("date", ("DATE", "DOB", "BIRTH", "DAY")),
    ("email", ("EMAIL", "MAIL")),
    ("phone", ("PHONE", "TEL", "FAX", "MOBILE", "CELL")),
    ("ssn", ("SSN", "SOCIAL")),
    ("iban", ("IBAN",)),
    ("card", ("CARD", "CREDIT")),
    ("postcode", ("ZIP", "POSTCODE", "POSTAL")),
    ("street", ("STREET",)),
    ("city", ("CITY", "GPE", "TOWN")),
    ("address", ("ADDRESS", "LOCATION", "LOC")),
    ("company", ("COMPANY", "ORG", "EMPLOYER", "HOSPITAL", "ORGANIZATION", "ORGANISATION")),
    ("job", ("JOB", "PROFESSION", "OCCUPATION")),
    ("name", ("NAME", "PERSON", "PER", "PATIENT", "DOCTOR", "PHYSICIAN", "NURSE")),
)
# exact labels whose kind whole words would get wrong or miss (None: no Faker kind, the value's own shape)
LABELS: dict[str, str | None] = {
    "IP_ADDRESS": None, "IP": None, "MAC_ADDRESS": None, "URL": None, "DOMAIN": None, "USERNAME": None,
    "USER_NAME": None, "LOGIN": None, "HANDLE": None, "PASSWORD": None, "ACCOUNT_NUMBER": None,
    "US_BANK_NUMBER": None, "US_DRIVER_LICENSE": None, "US_PASSPORT": None, "US_ITIN": None, "CRYPTO": None,
    "MEDICAL_LICENSE": None, "NRP": None, "NORP": None, "FILENAME": None, "FIRSTNAME": "name",
    "FIRST_NAME": "name", "LASTNAME": "name", "LAST_NAME": "name", "SURNAME": "name", "GIVENNAME": "name",
    "FULLNAME": "name", "DATE_TIME": "date", "DATETIME": "date", "LOC": "address", "FAC": "address",
    "CREDIT_CARD": "card", "IBAN_CODE": "iban", "UK_NHS": None, "NHS_NUMBER": None,
}  # fmt: skip
PATTERNED = {"phone", "ssn", "iban", "card", "postcode"}  # Faker's value used only when its layout matches
DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%B %d, %Y",
                "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%y", "%Y%m%d")  # fmt: skip


def label_kind(label: str) -> str | None:
    """The Faker kind of a label ("name", "date", ...), None when Faker does not know it: `LABELS` first, else
    the first kind of `KINDS` one of whose words is a whole word of the label."""
    if label.upper() in LABELS:
        return LABELS[label.upper()]
    words = {w for w in "".join(c if c.isalnum() else " " for c in label.upper()).split()}
    for kind, keys in KINDS:
        if any(k in words for k in keys):
            return kind
    return None


def shape(value: str) -> str:
    """The layout of a value: 9 a digit, a a lower-case letter, A an upper-case one, anything else kept."""
    return "".join("9" if c.isdigit() else "a" if c.islower() else "A" if c.isupper() else c for c in value)


def _date_format(value: str) -> str | None:
    for fmt in DATE_FORMATS:
        try:
            d = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        if d.strftime(fmt) == value:  # zero-padding and case as written
            return fmt
    return None


@dataclass
class Profile:
    """What the corpus's values of one label say about candidates: the characters fixed per length, the
    range of years of its dates."""

    fixed: dict[int, dict[int, str]] = field(default_factory=dict)
    years: tuple[int, int] = (1920, 2030)

    @classmethod
    def of(cls, values: Iterable[str]) -> Profile:
        by_len: dict[int, set[str]] = defaultdict(set)
        for v in values:
            by_len[len(v)].add(v)
        fixed = {}
        for n, vs in by_len.items():
            if len(vs) >= MIN_DISTINCT:
                first = next(iter(vs))
                fixed[n] = {i: c for i, c in enumerate(first) if all(v[i] == c for v in vs)}
        years = [y for v in set().union(*by_len.values()) if (y := _year(v)) is not None]
        return cls(fixed, (min(years), max(years)) if years else (1920, 2030))


def _year(value: str) -> int | None:
    fmt = _date_format(value)
    return dt.datetime.strptime(value, fmt).year if fmt else None


def profiles(values: Iterable[tuple[str, str]]) -> dict[str, Profile]:
    """A profile per label, from (label, value) pairs."""
    by_label: dict[str, set[str]] = defaultdict(set)
    for label, v in values:
        by_label[label].add(v)
    return {label: Profile.of(vs) for label, vs in by_label.items()}


# --------------------------------------------------------------------------- format-preserving


def _free(value: str, profile: Profile) -> list[tuple[int, str]]:
    """The positions a shape candidate varies, and the alphabet of each."""
    fixed = profile.fixed.get(len(value), {})
    out = []
    for i, c in enumerate(value):
        if i in fixed:
            continue
        if c.isdigit():
            out.append((i, string.digits))
        elif c.isalpha():
            out.append((i, string.ascii_lowercase if c.islower() else string.ascii_uppercase))
    return out


def shape_space(value: str, profile: Profile) -> int:
    """How many values of this layout there are (the value itself included)."""
    return math.prod(len(a) for _, a in _free(value, profile))


def shape_candidates(value: str, profile: Profile, k: int, rng: random.Random, exclude: set[str]) -> list[str]:
    """Up to `k` distinct format-preserving candidates; all of them when the layout has few values."""
    free = _free(value, profile)
    chars = list(value)
    if shape_space(value, profile) <= 4 * k:  # small space: enumerate, then sample
        import itertools

        every = []
        for combo in itertools.product(*(a for _, a in free)):
            for (i, _), c in zip(free, combo):
                chars[i] = c
            every.append("".join(chars))
        pool = [c for c in every if c != value and c not in exclude]
        return rng.sample(pool, min(k, len(pool)))

    def one() -> str:
        for i, alphabet in free:
            chars[i] = rng.choice(alphabet)
        return "".join(chars)

    return lookalike.distinct(one, k, value, exclude)


# --------------------------------------------------------------------------- held-out values


def _length(value: str, tokenizer: Any) -> int:
    """A value's length in the model's tokens (in characters without a tokenizer)."""
    return len(tokenizer(value, add_special_tokens=False)["input_ids"]) if tokenizer is not None else len(value)


def held_values(pool: Iterable[tuple[str, str]], exclude: set[str], tokenizer: Any) -> dict[str, list[tuple[str, int]]]:
    """Per label with at least `MIN_HELD` distinct held-out values that the corpus does not hold: each with
    its length (`_length`), in a fixed order."""
    by_label: dict[str, set[str]] = defaultdict(set)
    for label, v in pool:
        if v not in exclude:
            by_label[label].add(v)
    return {
        label: [(v, _length(v, tokenizer)) for v in sorted(vs)] for label, vs in by_label.items() if len(vs) >= MIN_HELD
    }


def nearest(held: list[tuple[str, int]], length: int, k: int, rng: random.Random) -> list[str]:
    """The `k` held-out values nearest to `length`, ties broken at random."""
    ranked = sorted(held, key=lambda vl: (abs(vl[1] - length), rng.random()))
    return [v for v, _ in ranked[:k]]


# --------------------------------------------------------------------------- Faker


def _name(fake: Any, value: str, profile: Profile) -> str:
    words = value.split()
    out = []
    for i, w in enumerate(words):
        if w.endswith(".") and len(w) <= 5:  # a title (Dr., Mrs.) stays, an initial gets another letter
            out.append(w if len(w) > 2 else fake.random_uppercase_letter() + ".")
        elif i == len(words) - 1 and len(words) > 1 or len(words) == 1 and fake.random_int(0, 1):
            out.append(fake.last_name())
        else:
            out.append(fake.first_name())
    name = " ".join(out)
    return name.upper() if value.isupper() else name.lower() if value.islower() else name


def _date(fake: Any, value: str, profile: Profile) -> str:
    lo, hi = profile.years
    return fake.date_between(dt.date(lo, 1, 1), dt.date(hi, 12, 31)).strftime(_date_format(value) or "%Y-%m-%d")


FAKERS: dict[str, Callable[[Any, str, Profile], str]] = {
    "name": _name,
    "date": _date,
    "email": lambda f, v, p: f.email(),
    "street": lambda f, v, p: f.street_address(),
    "city": lambda f, v, p: f.city(),
    "address": lambda f, v, p: f.address().replace("\n", ", "),
    "company": lambda f, v, p: f.company(),
    "job": lambda f, v, p: f.job(),
    "phone": lambda f, v, p: f.phone_number(),
    "ssn": lambda f, v, p: f.ssn(),
    "iban": lambda f, v, p: f.iban(),
    "card": lambda f, v, p: f.credit_card_number(),
    "postcode": lambda f, v, p: f.postcode(),
}


@lru_cache(maxsize=8)
def _faker(locale: str) -> Any:
    from faker import Faker

    try:
        return Faker(locale)
    except AttributeError:
        from ..errors import SaniError

        raise SaniError(f"exposure_locale={locale!r}: not a locale Faker knows (e.g. en_US, de_DE, fr_FR)") from None


def _pool_key(kind: str, value: str) -> tuple[str, Any]:
    """Values sharing a key share a pool of Faker candidates."""
    if kind == "name":  # the same words: titles kept as they are, initials, names; and the case
        words = tuple(w if w.endswith(".") and len(w) > 2 else "I" if w.endswith(".") else "W" for w in value.split())
        return kind, (words, value.isupper(), value.islower())
    if kind == "date":
        return kind, _date_format(value)
    if kind in PATTERNED:
        return kind, shape(value)
    return kind, None


class Candidates:
    """Candidates for the values of one corpus: `for_value(label, value, k, seed)`; deterministic in the
    seed, whatever else was asked before."""

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]],
        *,
        source: str = "faker",
        locale: str = "en_US",
        stream: str = "audit",
        tokenizer: Any = None,
        pool: Iterable[tuple[str, str]] = (),
    ) -> None:
        pairs = list(pairs)
        if source not in SOURCES:
            from ..errors import SaniError

            raise SaniError(f"candidate source {source!r}: expected one of {', '.join(SOURCES)}")
        self.source, self.locale, self.stream = source, locale, stream
        self.profiles = profiles(pairs)
        self.exclude = {v for _, v in pairs}  # never a value the corpus holds
        self.learnt = lookalike.learn(pairs, tokenizer) if source == "corpus" else {}
        self.tokenizer = tokenizer
        self.held = held_values(pool, self.exclude, tokenizer) if source == "holdout" else {}
        self._pools: dict[tuple[str, tuple[str, Any], int], list[str]] = {}

    def _pool(self, label: str, kind: str, value: str, k: int) -> list[str]:
        """Distinct Faker values for values like this one; the same for the same label, layout and size."""
        size = max(POOL, 4 * k)
        key = (label, _pool_key(kind, value), size)
        if key not in self._pools:
            fake = _faker(self.locale)
            fake.seed_instance(f"{self.stream}:{label}:{key[1]}:{size}")
            make, prof = FAKERS[kind], self.profiles.get(label, Profile())
            want = shape(value) if kind in PATTERNED else None
            pool: dict[str, None] = {}
            for _ in range(2 * size):
                c = make(fake, value, prof)
                if c not in self.exclude and (want is None or shape(c) == want):
                    pool[c] = None
                    if len(pool) >= size:
                        break
            self._pools[key] = list(pool)
        return self._pools[key]

    def served(self, label: str) -> str:
        """What serves a label's candidates: "corpus", "faker:<kind>" or "shape" (a value Faker or the corpus
        cannot serve falls back to its shape)."""
        kind = label_kind(label) if self.source != "shape" else None
        if label in self.held:
            return "holdout"
        if label in self.learnt and kind != "date":
            return "corpus"
        return f"faker:{kind}" if kind else "shape"

    def for_value(self, label: str, value: str, k: int, seed: str) -> tuple[list[str], str]:
        """Up to `k` distinct candidates for `value` (never it, never a corpus value) and the generator used
        ("holdout", "corpus", "faker:<kind>" or "shape"): the same for the same arguments, whatever was asked
        before."""
        rng = random.Random(f"sani:{self.stream}:{seed}")
        if label in self.held:
            return nearest(self.held[label], _length(value, self.tokenizer), k, rng), "holdout"
        kind = label_kind(label) if self.source != "shape" else None
        if kind == "date" and _date_format(value) is None:
            kind = None  # a layout strftime does not write: the shape keeps it (or the corpus's lookalikes)
        if label in self.learnt and kind != "date":
            got = self.learnt[label].draw(value, k, rng, self.exclude)
            if len(got) >= min(k, 2):
                return got, "corpus"
        if kind is not None:
            pool = [c for c in self._pool(label, kind, value, k) if c != value]
            if len(pool) >= k or kind not in PATTERNED and len(pool) >= min(k, 50):
                return rng.sample(pool, min(k, len(pool))), f"faker:{kind}"
        return shape_candidates(value, self.profiles.get(label, Profile()), k, rng, self.exclude), "shape"
