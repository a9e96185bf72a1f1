"""Precision and recall of the built-in detectors per label, on corpora they were not written against.

    python benchmarks/detectors.py [--records 400] [--seed 0] [--no-ner]

Corpora (each annotated exactly by its generator):
- clinical notes: the project's own demo corpus (US; names without cues, phones as random (###) ###-####);
- pii en_US: Faker's varied US formats (phones with extensions and 001 prefixes, cards, IBANs, SSNs);
- HR/customer en_GB + fr_FR: a second generator, Faker's British and French locales (their phone, address,
  IBAN formats), UK National Insurance and NHS numbers, French NIR, run with `--region GB,FR`;
- free text with distractors: ISO dates and times, amounts, version numbers, order/invoice numbers, product
  codes, postcodes around a few true identifiers; "ambiguous" distractors (a bare 10-digit count that is a
  valid US number) are reported apart: precision with and without them.

A predicted span is correct when it overlaps a true span of the same label (DOB counts as DATE; a LOCATION
inside an annotated ADDRESS is correct too); a true span is found when a predicted span of its label overlaps
it. Names: the light NAME detector (cues) and, when
spaCy and an English pipeline are installed, NER; both are scored under NAME.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from sani import detect, synthetic
from sani.data import Record
from sani.spans import SpanFinder

SAME = {"DOB": "DATE"}
# a predicted label that is correct over a true span of these labels (a city inside an annotated address)
ALSO_RIGHT = {"LOCATION": {"LOCATION", "ADDRESS"}}


def score(records: list[Record], regions: str, detectors: str) -> dict[str, tuple[int, int, int, int]]:
    gold = [list(r.spans) for r in records]
    pred_records = [Record(r.text) for r in records]
    SpanFinder(detect=detectors, region=regions, propagate=False).apply(pred_records)
    tp_p, n_p, tp_g, n_g = Counter(), Counter(), Counter(), Counter()
    for g_spans, r in zip(gold, pred_records):
        for g in g_spans:
            lab = SAME.get(g.label, g.label)
            n_g[lab] += 1
            tp_g[lab] += any(p.label == lab and p.start < g.end and g.start < p.end for p in r.spans)
        for p in r.spans:
            n_p[p.label] += 1
            right = ALSO_RIGHT.get(p.label, {p.label})
            tp_p[p.label] += any(
                SAME.get(g.label, g.label) in right and p.start < g.end and g.start < p.end for g in g_spans
            )
    return {lab: (tp_p[lab], n_p[lab], tp_g[lab], n_g[lab]) for lab in sorted(set(n_g) | set(n_p))}


# --------------------------------------------------------------------------- a second generator: en_GB, fr_FR

_GB = [
    "Employee record: {NAME}, NI number {NINO}, email {EMAIL}. Mobile {PHONE}. Salary paid to {IBAN}.",
    "Customer {NAME} called from {PHONE} about order 55120. Address on file: {ADDRESS}.",
    "Patient NHS number {NHS_NUMBER}; next of kin can be reached on {PHONE} or {EMAIL}.",
    "Refund of 24.99 GBP to card {CREDIT_CARD} for {NAME}; postcode checked.",
]
_FR = [
    "Dossier salarié : {NAME}, n° de sécurité sociale {NIR}, tél. {PHONE}, e-mail {EMAIL}.",
    "Client {NAME}, domicilié {ADDRESS}, virement sur {IBAN}. Contact : {PHONE}.",
    "Remboursement sur la carte {CREDIT_CARD} ; pour toute question écrire à {EMAIL}.",
]
_NINO_FIRST, _NINO_SECOND = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"


def _nino(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
        if prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            break
    digits = f"{rng.randrange(10**6):06d}"
    suffix = rng.choice("ABCD")
    return rng.choice([f"{prefix}{digits}{suffix}", f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"])


def _nhs(rng: random.Random) -> str:
    from stdnum.gb import nhs

    while True:  # one number in ten is valid: draw until one is
        n = f"{rng.randrange(10**10):010d}"
        if nhs.is_valid(n):
            return nhs.format(n)


def make_gb_fr_corpus(n: int, seed: int) -> list[Record]:
    from faker import Faker

    rng = random.Random(seed)
    fakers = {"en_GB": Faker("en_GB"), "fr_FR": Faker("fr_FR")}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed + i)
    records = []
    for _ in range(n):
        locale = rng.choice(sorted(fakers))
        fake = fakers[locale]
        values = {
            "NAME": fake.name(),
            "EMAIL": fake.email(),
            "PHONE": fake.phone_number(),
            "IBAN": fake.iban(),
            "ADDRESS": fake.address().replace("\n", ", "),
            "CREDIT_CARD": fake.credit_card_number(),
            "NINO": _nino(rng),
            "NHS_NUMBER": _nhs(rng),
            "NIR": fake.ssn() if locale == "fr_FR" else "",
        }
        records.append(synthetic.render(rng.choice(_GB if locale == "en_GB" else _FR), values))
    return records


# --------------------------------------------------------------------------- free text with distractors

_DISTRACTORS = [
    "The meeting moved to {ISO_DATE} at {TIME}; the budget is {AMOUNT}.",
    "Upgrade to version {VERSION} before shipping order {ORDER}.",
    "Invoice {INVOICE} was paid on {ISO_DATE}; product code {PRODUCT} is back in stock.",
    "Deliveries to postcode {POSTCODE} and ZIP {ZIP} resume on {ISO_DATE}.",
    "Ref {INVOICE}: {AMOUNT} charged, build {VERSION} deployed at {TIME}.",
]
_TRUE = [
    "For questions call {PHONE} or write to {EMAIL}.",
    "Card {CREDIT_CARD} was declined; the account holder's SSN is {SSN}.",
    "Wire the funds to {IBAN} and confirm by phone at {PHONE}.",
]
_AMBIGUOUS = "The night batch counted {COUNT} records."  # a bare 10-digit count that is a valid US number


def _valid_us_number(rng: random.Random) -> str:
    import phonenumbers

    while True:
        digits = f"{rng.choice('23456789')}{rng.randrange(10**9):09d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(digits, "US")):
            return digits


def make_distractor_corpus(n: int, seed: int) -> tuple[list[Record], list[bool]]:
    """Records and, for each, whether it holds an ambiguous distractor."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    records, ambiguous = [], []
    for i in range(n):
        values = {
            "ISO_DATE": fake.date(),
            "TIME": fake.time(pattern=rng.choice(["%H:%M", "%H:%M:%S"])),
            "AMOUNT": rng.choice(["$", "EUR ", "GBP "]) + f"{rng.randrange(10, 10**7):,}.{rng.randrange(100):02d}",
            "VERSION": f"{rng.randrange(1, 12)}.{rng.randrange(30)}.{rng.randrange(30)}",
            "ORDER": f"{rng.choice(['ORD', 'PO', 'SO'])}-{rng.randrange(2019, 2027)}-{rng.randrange(10**6):06d}",
            "INVOICE": f"{rng.randrange(10**9, 10**10)}",
            "PRODUCT": f"{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}-{rng.randrange(10, 99)}",
            "POSTCODE": fake.bothify("?#? #??").upper(),
            "ZIP": fake.zipcode(),
            "PHONE": fake.numerify("(###) ###-####"),
            "EMAIL": fake.email(),
            "CREDIT_CARD": fake.credit_card_number(),
            "SSN": fake.ssn(),
            "IBAN": fake.iban(),
            "COUNT": _valid_us_number(rng),
        }
        distractor_labels = {
            "ISO_DATE": "DATE",
            **{
                k: None
                for k in ("TIME", "AMOUNT", "VERSION", "ORDER", "INVOICE", "PRODUCT", "POSTCODE", "ZIP", "COUNT")
            },
        }  # dates are dates
        is_ambiguous = i % 10 == 0
        template = _AMBIGUOUS if is_ambiguous else rng.choice(_DISTRACTORS + _TRUE)
        records.append(synthetic.render(template, values, distractor_labels))
        ambiguous.append(is_ambiguous)
    return records, ambiguous


# --------------------------------------------------------------------------- report


def table(name: str, scores: dict[str, tuple[int, int, int, int]]) -> None:
    print(f"\n{name}")
    print(f"{'label':12s} {'precision':>10s} {'recall':>8s} {'predicted':>10s} {'true':>6s}")
    for lab, (tpp, np_, tpg, ng) in scores.items():
        prec = f"{tpp / np_:.3f}" if np_ else "-"
        rec = f"{tpg / ng:.3f}" if ng else "-"
        print(f"{lab:12s} {prec:>10s} {rec:>8s} {np_:10d} {ng:6d}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-ner", action="store_true", help="the detectors of a base install only")
    args = ap.parse_args()
    base = ",".join(n.lower() for n in detect.ORDER if n != "NER")
    runs = [("base install", base)]
    if not args.no_ner:
        try:
            detect.ner_detector()
            runs.append(("with NER", base + ",ner"))
        except detect.MissingExtra as e:
            print(f"NER not measured: {e}")
    distractors, ambiguous = make_distractor_corpus(args.records, args.seed)
    corpora = [
        ("clinical notes (demo, US)", synthetic.make_corpus(args.records // 4, seed=args.seed), "US"),
        ("pii en_US (Faker's varied formats)", synthetic.make_pii_corpus(args.records, seed=args.seed), "US"),
        ("HR/customer en_GB + fr_FR (--region GB,FR)", make_gb_fr_corpus(args.records, args.seed), "GB,FR"),
        ("free text with distractors, ambiguous ones included (US)", distractors, "US"),
        (
            "free text with distractors, ambiguous ones left out (US)",
            [r for r, a in zip(distractors, ambiguous) if not a],
            "US",
        ),
    ]
    for run, detectors in runs:
        print(f"\n=== {run}: --detect {detectors}")
        for name, records, regions in corpora:
            start = time.perf_counter()
            scores = score(records, regions, detectors)
            table(f"{name}: {len(records)} records, {time.perf_counter() - start:.1f} s", scores)


if __name__ == "__main__":
    main()
