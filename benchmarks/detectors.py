"""Precision and recall of the built-in detectors per label, on corpora they were not written against.

    python benchmarks/detectors.py [--records 400] [--seed 0] [--no-ner] [--out FILE.json]

Corpora (each annotated exactly by its generator):
- clinical notes: the project's own demo corpus (US; names without cues, phones as random (###) ###-####);
- pii en_US: Faker's varied US formats (phones with extensions and 001 prefixes, cards, IBANs, SSNs);
- HR/customer en_GB + fr_FR: a second generator, Faker's British and French locales (their phone, address,
  IBAN formats), UK National Insurance and NHS numbers, French NIR, run with `--region GB,FR`;
- free text with distractors: ISO dates and times, amounts, version numbers, order/invoice numbers, product
  codes, postcodes around a few true identifiers; "ambiguous" distractors (a bare 10-digit count that is a
  valid US number) are reported apart: precision with and without them;
- the name and address tagger's own templates with names and addresses from its evaluation locales only
  (sani.spans.tagger_data; phones and e-mails there are not annotated);
- people, written independently twice: benchmarks/people_corpus.py (the tagger's development set: its
  errors were read) and benchmarks/people_eval.py (evaluation only), each by an author that never saw the
  detectors, with NAME_FULL, NAME_GIVEN, NAME_FAMILY, ADDRESS, PHONE and LOCATION annotated.

A predicted span is correct when it overlaps a true span of the same label (DOB counts as DATE, NAME_* as
NAME; a LOCATION inside an annotated ADDRESS is correct too); a true span is found when a predicted span of
its label overlaps it. Beside them, per character: coverage (the share of the true values' characters any
span covers), character precision (the share of a label's marked characters inside true spans of that
label), and the
share of non-sensitive characters marked. Runs: a base install's detectors, then with sani's tagger (built
here when it is not yet), with spaCy's NER when installed, and with both.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

import people_corpus
import people_eval

from sani.bench import synthetic
from sani.spans import detect, tagger, tagger_data
from sani.spans.data import Record
from sani.spans.finder import SpanFinder

SAME = {"DOB": "DATE", "NAME_FULL": "NAME", "NAME_GIVEN": "NAME", "NAME_FAMILY": "NAME"}
# a predicted label that is correct over a true span of these labels (a city inside an annotated address)
ALSO_RIGHT = {"LOCATION": {"LOCATION", "ADDRESS"}}


def score(records: list[Record], regions: str, detectors: str) -> dict[str, dict[str, float | int]]:
    """Per label: span precision and recall by overlap (as before), and by character: `coverage` (the share
    of true values' characters any span covers, whatever its label: what sanitizing masks), `char_precision`
    (the share of a predicted label's characters inside true spans of that label); and under "ALL", the share of
    non-sensitive characters marked (`marked_outside`). True labels are reported as written (NAME_FULL,
    NAME_GIVEN, NAME_FAMILY apart) and matched as SAME says."""
    gold = [list(r.spans) for r in records]
    pred_records = [Record(r.text) for r in records]
    SpanFinder(detect=detectors, region=regions, propagate=False).apply(pred_records)
    c: Counter = Counter()
    for g_spans, r in zip(gold, pred_records):
        marked = _chars(r.spans)
        true = _chars(g_spans)
        c["ALL", "outside"] += len(marked - true)
        c["ALL", "plain"] += len(r.text) - len(true)
        for g in g_spans:
            lab = SAME.get(g.label, g.label)
            c[g.label, "true"] += 1
            c[g.label, "found"] += any(p.label == lab and p.start < g.end and g.start < p.end for p in r.spans)
            c[g.label, "chars"] += g.end - g.start
            c[g.label, "covered"] += len(set(range(g.start, g.end)) & marked)
        for p in r.spans:
            right = ALSO_RIGHT.get(p.label, {p.label})
            c[p.label, "predicted"] += 1
            c[p.label, "right"] += any(
                SAME.get(g.label, g.label) in right and p.start < g.end and g.start < p.end for g in g_spans
            )
            c[p.label, "pchars"] += p.end - p.start
            c[p.label, "inside"] += len(
                set(range(p.start, p.end)) & _chars(g for g in g_spans if SAME.get(g.label, g.label) in right)
            )
    out: dict[str, dict[str, float | int]] = {}
    for lab in sorted({k[0] for k in c} - {"ALL"}):
        out[lab] = {
            "precision": _rate(c[lab, "right"], c[lab, "predicted"]),
            "recall": _rate(c[lab, "found"], c[lab, "true"]),
            "coverage": _rate(c[lab, "covered"], c[lab, "chars"]),
            "char_precision": _rate(c[lab, "inside"], c[lab, "pchars"]),
            "predicted": c[lab, "predicted"],
            "true": c[lab, "true"],
        }
    out["ALL"] = {"marked_outside": _rate(c["ALL", "outside"], c["ALL", "plain"])}
    return out


def _chars(spans) -> set[int]:
    return {i for s in spans for i in range(s.start, s.end)}


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


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


def table(name: str, scores: dict[str, dict[str, float | int]]) -> None:
    print(f"\n{name}")
    cols = ("precision", "recall", "coverage", "char_precision")
    print(f"{'label':12s} " + " ".join(f"{c:>14s}" for c in cols) + f" {'predicted':>10s} {'true':>6s}")
    for lab, row in scores.items():
        if lab == "ALL":
            continue
        cells = " ".join(f"{row[c]:14.3f}" if row[c] is not None else f"{'-':>14s}" for c in cols)
        print(f"{lab:12s} {cells} {row['predicted']:10d} {row['true']:6d}")
    print(f"non-sensitive characters marked: {scores['ALL']['marked_outside']:.4f}")


def _runs(no_ner: bool) -> list[tuple[str, str]]:
    """The detector sets measured: a base install's, then sani's tagger (built here when it is not yet, as
    `sani tagger` builds it), spaCy's NER, and both."""
    base = ",".join(n.lower() for n in detect.ORDER if n not in detect.NEEDS_EXTRA)
    runs = [("base install", base)]
    if not tagger.model_path().is_file():
        print(f"building the tagger: {tagger.build()}")
    runs.append(("with the tagger", base + ",tagger"))
    if not no_ner:
        try:
            detect.ner_detector()
            runs += [("with NER (spaCy small)", base + ",ner"), ("with the tagger and NER", base + ",tagger,ner")]
        except detect.MissingExtra as e:
            print(f"NER not measured: {e}")
    return runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-ner", action="store_true", help="the detectors of a base install only")
    ap.add_argument("--out", help="also write the rates as JSON here")
    args = ap.parse_args()
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
        (
            "the tagger's templates, evaluation locales only (never trained on)",
            list(tagger_data.sentences(args.records, seed=1000 + args.seed, held_out=True)),
            "US,GB,IT,PT,AT,SK,SI,NZ,VN,TR",
        ),
        (
            "people, written independently (the tagger's dev set: benchmarks/people_corpus.py)",
            people_corpus.make(args.records, seed=args.seed),
            "US,GB,FR,DE,ES,IT,NL,IN,JP,BR,CA,AU,PL",
        ),
        (
            "people, written independently again (evaluation only: benchmarks/people_eval.py)",
            people_eval.make(args.records, seed=args.seed),
            "US,CA,MX,IE,GB,DE,AT,CH,SE,PT,GR,TR,ZA,KE,PH,SG,NZ,KR",
        ),
    ]
    results: dict = {"records": args.records, "seed": args.seed, "runs": {}}
    for run, detectors in _runs(args.no_ner):
        print(f"\n=== {run}: --detect {detectors}")
        results["runs"][run] = {"detect": detectors, "corpora": {}}
        for name, records, regions in corpora:
            start = time.perf_counter()
            scores = score(records, regions, detectors)
            seconds = time.perf_counter() - start
            table(f"{name}: {len(records)} records, {seconds:.1f} s", scores)
            results["runs"][run]["corpora"][name] = {"seconds": round(seconds, 2), "records": len(records), **scores}
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
