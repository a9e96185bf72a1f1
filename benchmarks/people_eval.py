"""A held-out evaluation corpus of people's names, postal addresses, phones and places: FOR EVALUATION ONLY.

Nothing may be tuned on it. It was written independently of sani's detectors (sani/spans/detect.py, sani/spans/tagger*.py),
of sani/bench/synthetic.py and of benchmarks/people_corpus*.py, none of which was read in writing it; every name, street,
city, postcode and phone format and sentence template is hand-written in benchmarks/people_eval_data.py (no Faker,
no name list from an installed package).

Records are short documents (1-5 sentences or lines): insurance notes, school e-mails, legal intake, listings,
tenancy letters, bookings, police reports, pharmacy notes, courier notices, rosters, court lists, forum posts,
SMS threads, transcribed voicemail and office notes. Gold labels:

- NAME_FULL: given + family name (with middle names or initials, particles, hyphens, family-first order; also
  "Family, Given" and airline "FAMILY/GIVEN"); titles (Dr, Mr, Sgt...) and honorifics are outside the span;
- NAME_GIVEN: a given name or nickname alone; NAME_FAMILY: a family name alone (as after a title);
- ADDRESS: one span for a whole postal address, one line or several, without the country name;
- PHONE: the number only, without a label glued to it ("-Work", "/Cell", "Tel/Fax");
- LOCATION: a city or region mentioned alone, outside an address. Country names are never gold.

Organisations (also ones made of surnames), businesses named after streets, drugs, products, vehicles, days,
months, holidays, job titles, references, amounts and flight numbers appear in the same records and are not gold.
About 5% of records are informal ones in all lower case.

    python benchmarks/people_eval.py --records 400 --seed 0 --out people_eval0.jsonl
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import people_eval_data as D  # noqa: E402

from sani.spans.data import Record, Span, write_records  # noqa: E402

TARGET = {"NAME_FULL": 0.33, "NAME_GIVEN": 0.14, "NAME_FAMILY": 0.13, "ADDRESS": 0.20, "PHONE": 0.10, "LOCATION": 0.10}
PERSON_LABELS = {
    "full": "NAME_FULL",
    "FULL": "NAME_FULL",
    "rev": "NAME_FULL",
    "init": "NAME_FULL",
    "pnr": "NAME_FULL",
    "given": "NAME_GIVEN",
    "GIVEN": "NAME_GIVEN",
    "nick": "NAME_GIVEN",
    "family": "NAME_FAMILY",
    "FAMILY": "NAME_FAMILY",
    "title": None,
    "hon": None,
}
ADDRESS_LABELS = {"": "ADDRESS", "ml": "ADDRESS", "city": "LOCATION", "country": None}
INFORMAL = {"sms", "forum", "voicemail"}
LOWER_SHARE = 0.35  # of informal records: about 5% of all
CANDIDATES = 2  # templates drawn per record (see make)
TOLERANCE = 0.005
TITLE_WORDS = {"mr", "mrs", "ms", "miss", "dr", "prof", "rev", "fr", "sgt", "pc", "hhj", "judge", "mx"}
EIRCODE = "ACDEFHKNPRTVWXY0123456789"
CAPS = "ABDEFGHJLNPQRSTUWXYZ"


def expand(pattern: str, rng: random.Random) -> str:
    """Fill a pattern (see people_eval_data's docstring): `#` digit, `%` 1-9, `@` letter, `&` letter or digit..."""
    pick = {
        "#": "0123456789",
        "%": "123456789",
        "@": CAPS,
        "&": CAPS + "23456789",
        "*": EIRCODE,
        "~": "abcd",
        "^": "ABCD",
    }
    return "".join(rng.choice(pick[c]) if c in pick else "#" if c == "!" else c for c in pattern)


def fold(s: str) -> str:
    """ASCII capitals for airline name fields: 'Weißmann' -> 'WEISSMANN', 'Yılmaz' -> 'YILMAZ'."""
    s = s.replace("ß", "ss").replace("ı", "i").replace("ł", "l").replace("Ł", "L")
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return "".join(c for c in s.upper() if c.isalnum() or c == " ").replace(" ", "")


class Person:
    def __init__(self, rng: random.Random, gender: str | None = None):
        self.culture = rng.choice(sorted(D.CULTURES))
        c = D.CULTURES[self.culture]
        self.female = gender == "f" if gender else rng.random() < 0.5
        g = "f" if self.female else "m"
        self.given = rng.choice(c[g])
        families = c.get("fam", []) + c.get("fam_" + g, [])
        family = rng.choice(families)
        if rng.random() < c.get("double", 0):
            family += " " + rng.choice([x for x in families if x != family])
        self.family_full = family  # with a patronymic particle ("bin Ismail")
        words = family.split()
        patronymic = words[0] in D.PATRONYMIC  # "bin Ismail", "bint Hamad Al-Thani"
        # alone: the father's name after the particle (Mr Ismail), or the family name after it (Ms Al-Thani)
        self.family = " ".join(words[2:] if len(words) > 2 else words[1:]) if patronymic else family
        mid = ""
        if c.get("mid_" + g) and rng.random() < c.get("mid_p", 0):
            mid = rng.choice(c["mid_" + g])
        elif rng.random() < c.get("init_p", 0.05):
            mid = rng.choice("ABCDEFGHJKLMNPRSTW") + "."
        self.family_first = rng.random() < c.get("order", 0)
        parts = [family, mid, self.given] if self.family_first else [self.given, mid, family]
        self.full = " ".join(p for p in parts if p)
        self.nick = D.NICKNAMES.get(self.given, self.given) if rng.random() < 0.7 else self.given
        self.title = rng.choice(D.TITLES_F if self.female else D.TITLES_M)
        self.hon = rng.choice(["MS", "MRS", "DR"] if self.female else ["MR", "DR"])
        self.init = self.full if self.family_first or patronymic else f"{self.given[0]}. {family}"

    def attr(self, name: str) -> str:
        return {
            "full": self.full,
            "FULL": self.full.upper(),
            "rev": f"{self.family_full}, {self.given}",
            "init": self.init,
            "pnr": f"{fold(self.family_full)}/{fold(self.given)}",
            "given": self.given,
            "GIVEN": self.given.upper(),
            "nick": self.nick,
            "family": self.family,
            "FAMILY": self.family.upper(),
            "title": self.title,
            "hon": self.hon,
        }[name]


def city_alone(name: str) -> str:
    """A city without its postal district: 'Dublin 6W' -> 'Dublin'."""
    return " ".join(w for w in name.split() if not any(ch.isdigit() for ch in w))


class Address:
    def __init__(self, rng: random.Random, country: str):
        c = D.COUNTRIES[country]
        city = rng.choice(c["cities"])
        name, region, pc = city[0], city[1], city[2]
        subs = city[3] if len(city) > 3 else c.get("subs", [])
        pc = expand(rng.choice(pc) if isinstance(pc, list) else pc, rng)
        fields = {
            "n": expand(rng.choice(c["nums"]), rng),
            "st": rng.choice(c["streets"]),
            "unit": expand(rng.choice(c["units"]), rng),
            "sub": rng.choice(subs) if subs else "",
            "city": name,
            "reg": region,
            "_reg": ", " + region if region else "",
            "pc": pc,
        }
        usable = [f for f in c["one"] if subs or "{sub}" not in f]
        self.one = rng.choice(usable).format(**fields)
        usable = [f for f in c["multi"] if subs or "{sub}" not in f]
        self.ml = rng.choice(usable).format(**fields)
        self.city = city_alone(name)
        self.country = rng.choice(c["names"]) if c["names"] else ""


def place(rng: random.Random, country: str) -> str:
    """A city or region alone: half from the record's country, half from anywhere."""
    c = D.COUNTRIES[country]
    if rng.random() < 0.5:
        return rng.choice(D.WORLD_PLACES)
    names = sorted({city_alone(x[0]) for x in c["cities"]})
    return rng.choice(names + c["regions"])


def distractor(key: str, r: random.Random) -> str:
    """The text of a placeholder that is never gold: organisations, drugs, days, references, amounts..."""
    simple = {
        "org": D.ORGS,
        "hotel": D.HOTELS,
        "clinic": D.CLINICS,
        "school": D.SCHOOLS,
        "company": D.COMPANIES,
        "sorg": D.SURNAME_ORGS,
        "biz": D.STREET_BIZ,
        "drug": D.DRUGS,
        "product": D.PRODUCTS,
        "vehicle": D.VEHICLES,
        "day": D.DAYS,
        "month": D.MONTHS,
        "holiday": D.HOLIDAYS,
        "job": D.JOBS,
        "dept": D.DEPTS,
        "relation": D.RELATIONS,
    }
    if key in simple:
        return r.choice(simple[key])
    refs = {"ref": D.REFS, "clm": D.CLAIM_REFS, "case": D.CASE_REFS, "policy": D.POLICY_REFS, "rx": D.RX_REFS}
    if key in refs or key == "sid":
        return expand(r.choice(D.ID_REFS if key == "sid" else refs[key]), r)
    if key == "awb":
        return expand(r.choice(D.AWB), r)
    if key == "pnr":
        return expand("&&&&&&", r)
    if key == "flight":
        return r.choice(D.AIRLINES) + r.choice(["", " "]) + str(r.randint(1, 2999))
    if key == "amount":
        return expand(r.choice(D.AMOUNTS), r)
    if key == "unit":
        return expand(r.choice(D.UNITS), r)
    if key == "num":
        return str(r.randint(2, 60))
    if key == "age":
        return str(r.randint(16, 91))
    if key == "time":
        h, m = r.randint(6, 22), r.choice([0, 10, 15, 30, 45])
        return r.choice([f"{h:02d}:{m:02d}", f"{(h - 1) % 12 + 1}.{m:02d}{'am' if h < 12 else 'pm'}", f"{h}h{m:02d}"])
    if key == "date":
        d, mo, y = r.randint(1, 28), r.randint(1, 12), r.randint(2019, 2025)
        name = D.MONTHS[mo - 1]
        return r.choice([f"{d} {name} {y}", f"{name} {d}, {y}", f"{y}-{mo:02d}-{d:02d}", f"{d:02d}/{mo:02d}/{y}"])
    raise KeyError(f"unknown placeholder {{{key}}}")


def parse(template: str) -> list[tuple[str, str | None]]:
    """Literal text and placeholders: ("text", None) or (key, "") for "{key}"."""
    out, rest = [], template
    while "{" in rest:
        head, rest = rest.split("{", 1)
        key, rest = rest.split("}", 1)
        out += [(head, None), (key, "")]
    return out + [(rest, None)]


def label_of(key: str) -> str | None:
    ent, _, attr = key.partition(".")
    if ent[0] == "p" and ent[1:2].isdigit():
        return PERSON_LABELS[attr]
    if ent[0] == "a" and ent[1:].isdigit():
        return ADDRESS_LABELS[attr]
    if ent[0] == "t" and ent[1:].isdigit():
        return "PHONE"
    if ent[0] == "l" and ent[1:].isdigit():
        return "LOCATION"
    return None


def static_counts(template: str) -> Counter:
    return Counter(lab for key, kind in parse(template) if kind is not None and (lab := label_of(key)))


def render(template: str, rng: random.Random, lower: bool) -> Record:
    country = rng.choice(sorted(D.COUNTRIES))
    tokens = parse(template)
    genders = {}
    for key, kind in tokens:
        ent = key.split(".")[0]
        if kind is not None and ent[0] == "p" and ent[-1] in "fm":
            genders[ent[:-1]] = ent[-1]
    people, addresses, phones, places = {}, {}, {}, {}
    text, spans = "", []
    for key, kind in tokens:
        if kind is None:
            piece, label = key, None
        else:
            ent, _, attr = key.partition(".")
            label = label_of(key)
            if ent[0] == "p" and ent[1:2].isdigit():
                ent = ent.rstrip("fm")
                while ent not in people:
                    p = Person(rng, genders.get(ent))
                    if all(p.full != q.full and p.family != q.family for q in people.values()):
                        people[ent] = p
                piece = people[ent].attr(attr)
            elif label_of(key) and ent[0] == "a":
                while ent not in addresses:
                    a = Address(rng, country if ent == "a1" or rng.random() < 0.6 else rng.choice(sorted(D.COUNTRIES)))
                    if all(a.one != b.one for b in addresses.values()):
                        addresses[ent] = a
                piece = getattr(addresses[ent], attr or "one")
            elif ent[0] == "a" and attr == "country":
                if ent not in addresses:
                    addresses[ent] = Address(rng, country)
                piece = addresses[ent].country
            elif label == "PHONE":
                piece = phones.setdefault(ent, expand(rng.choice(D.COUNTRIES[country]["phones"]), rng))
            elif label == "LOCATION":
                while ent not in places:
                    x = place(rng, country)
                    if x not in places.values():
                        places[ent] = x
                piece = places[ent]
            else:
                piece = distractor(key, rng)
        if lower:
            piece = piece.lower()
        if not label and piece.startswith(".") and text.endswith("."):  # "Baker & Co." ending a sentence
            piece = piece[1:]
        if label:
            spans.append(Span(len(text), len(text) + len(piece), label, source="people_eval"))
        text += piece
    return Record(text=text.rstrip(), spans=spans)


def check(records: list[Record]) -> None:
    """Every gold span lies in its text, is trimmed and non-empty, in order and overlapping no other; no name span
    holds a title."""
    for i, r in enumerate(records):
        end = 0
        for s in r.spans:
            assert 0 <= s.start < s.end <= len(r.text), (i, s)
            assert s.start >= end, f"record {i}: spans overlap at {s.start}"
            v = r.text[s.start : s.end]
            assert v == v.strip() and v, (i, v)
            if s.label.startswith("NAME"):
                assert v.split()[0].rstrip(".").lower() not in TITLE_WORDS, (i, v)
            end = s.end


def make(n: int, seed: int = 0) -> list[Record]:
    """`n` records, the same for the same seed (whatever PYTHONHASHSEED).

    Each record's template is drawn at random; while the labels so far stray more than TOLERANCE from TARGET,
    the better of CANDIDATES draws is taken instead, so the mix stays near TARGET and every template is used."""
    rng = random.Random(seed)
    counts = {lab: 0 for lab in TARGET}
    static = [static_counts(t) for _, t in D.TEMPLATES]

    def cost(j: int) -> float:
        new = {lab: counts[lab] + static[j][lab] for lab in TARGET}
        total = sum(new.values())
        return sum((new[lab] / total - TARGET[lab]) ** 2 for lab in TARGET)

    records = []
    for _ in range(n):
        drawn = [rng.randrange(len(D.TEMPLATES)) for _ in range(CANDIDATES)]
        total = sum(counts.values())
        off = total and max(abs(counts[lab] / total - TARGET[lab]) for lab in TARGET)
        kind, template = D.TEMPLATES[min(drawn, key=cost) if off > TOLERANCE else drawn[0]]
        lower = kind in INFORMAL and rng.random() < LOWER_SHARE
        rec = render(template, rng, lower)
        for s in rec.spans:
            counts[s.label] += 1
        records.append(rec)
    check(records)
    return records


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    records = make(args.records, args.seed)
    write_records(records, args.out)
    labels = Counter(s.label for r in records for s in r.spans)
    total = sum(labels.values())
    print(f"{len(records)} records, {total} spans -> {args.out}")
    for lab in TARGET:
        print(f"  {lab:12s} {labels[lab]:5d}  {labels[lab] / total:6.1%}  (target {TARGET[lab]:.0%})")


if __name__ == "__main__":
    main()
