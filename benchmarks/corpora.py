"""Corpora that sani's own generators did not write, for `sani bench --corpus` (issue 32's evidence).

Each is a JSONL file of records with character spans, written here independently of `sani.bench.synthetic` and
`sani.spans.candidates`: other locales (Faker en_GB, fr_FR, pl_PL), ids in custom formats (some with check digits,
from python-stdnum), labels that no Faker provider serves, free-text notes. An entity's values recur in 1 to 4
records (memorization needs repeats); `sani bench` holds out whole entities (records sharing a value).

    python benchmarks/corpora.py --out corpora/            # writes hr_gb.jsonl, notes_fr.jsonl, orders_pl.jsonl
    sani bench --archs gpt2 --corpus corpora/hr_gb.jsonl --methods sani,calibrated-faker --seeds 0,1,2

`orders_pl` is kept for evaluation only: nothing in sani was tuned on it.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from faker import Faker

REPEATS = (1, 2, 2, 3, 4)


def _record(parts: list[tuple[str, str | None]]) -> dict:
    """A record from (text, label) parts: a part with a label is a span."""
    text, spans = "", []
    for piece, label in parts:
        if label:
            spans.append({"start": len(text), "end": len(text) + len(piece), "label": label})
        text += piece
    return {"text": text, "spans": spans}


def _corpus(locale: str, entities: int, seed: int, person, templates) -> list[dict]:
    """`entities` people of `person(faker, rng)`; each in 1 to 4 of its `templates(p, faker, rng)`, shuffled."""
    f = Faker(locale)
    f.seed_instance(seed)
    rng = random.Random(seed)
    out = []
    for _ in range(entities):
        p = person(f, rng)
        for t in rng.sample(templates(p, f, rng), rng.choice(REPEATS)):
            out.append(_record(t))
    rng.shuffle(out)
    return out


def hr_gb(entities: int, seed: int) -> list[dict]:
    """HR and payroll records in British English: names, employee ids (two letters + 7 digits), e-mails, UK
    mobiles, IBANs, street addresses."""
    return _corpus("en_GB", entities, seed, _gb_person, _gb_templates)


def _gb_person(f: Faker, rng: random.Random) -> dict[str, str]:
    return {
        "PERSON": f.name(),
        "EMPLOYEE_ID": f.bothify("??#######").upper(),
        "EMAIL": f.email(),
        "PHONE": f"07{rng.randint(100, 999)} {rng.randint(0, 999999):06d}",
        "IBAN": f.iban(),
        "STREET": f.street_address(),
    }


def _gb_templates(p: dict[str, str], f: Faker, rng: random.Random) -> list:
    dept = f.random_element(["finance", "logistics", "research", "sales", "legal", "facilities"])
    return [
        [("Employee ", None), (p["PERSON"], "PERSON"), (" (", None), (p["EMPLOYEE_ID"], "EMPLOYEE_ID"),
         (f") joined the {dept} team. Contact: ", None), (p["EMAIL"], "EMAIL"), (", mobile ", None),
         (p["PHONE"], "PHONE"), (".", None)],
        [("Payroll change for ", None), (p["EMPLOYEE_ID"], "EMPLOYEE_ID"), (": salary now paid into ", None),
         (p["IBAN"], "IBAN"), (". Home address on file: ", None), (p["STREET"], "STREET"), (".", None)],
        [(p["PERSON"], "PERSON"), (" rang from ", None), (p["PHONE"], "PHONE"),
         (" about the annual appraisal; reply to ", None), (p["EMAIL"], "EMAIL"), (" by Friday.", None)],
        [("Reference check for ", None), (p["PERSON"], "PERSON"), (", staff number ", None),
         (p["EMPLOYEE_ID"], "EMPLOYEE_ID"), (", resident at ", None), (p["STREET"], "STREET"), (".", None)],
    ]  # fmt: skip


MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
        "décembre")  # fmt: skip


def notes_fr(entities: int, seed: int) -> list[dict]:
    """French clinical notes: names, birth dates written out ("14 mars 1975"), NIR with its key (stdnum),
    French phones, postal addresses; labels in French, which no Faker kind serves by its words."""
    return _corpus("fr_FR", entities, seed, _fr_person, _fr_templates)


def _fr_person(f: Faker, rng: random.Random) -> dict[str, str]:
    from stdnum.fr import nir

    born = f.date_of_birth(minimum_age=18, maximum_age=90)
    sex = rng.choice("12")
    body = f"{sex}{born.year % 100:02d}{born.month:02d}{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}"
    body += f"{rng.randint(1, 999):03d}"
    return {
        "NOM": f"{f.first_name()} {f.last_name().upper()}",
        "NAISSANCE": f"{born.day} {MOIS[born.month - 1]} {born.year}",
        "NIR": f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} "
        + nir.calc_check_digits(body),
        "TELEPHONE": "0" + rng.choice("1234567") + "".join(f" {rng.randint(0, 99):02d}" for _ in range(4)),
        "ADRESSE": f.street_address(),
    }


def _fr_templates(p: dict[str, str], f: Faker, rng: random.Random) -> list:
    return [
        [("Patient(e) ", None), (p["NOM"], "NOM"), (", né(e) le ", None), (p["NAISSANCE"], "NAISSANCE"),
         (", vu(e) en consultation pour une douleur thoracique.", None)],
        [("Dossier de ", None), (p["NOM"], "NOM"), (" : numéro de sécurité sociale ", None), (p["NIR"], "NIR"),
         (". Joignable au ", None), (p["TELEPHONE"], "TELEPHONE"), (".", None)],
        [("Compte rendu : ", None), (p["NOM"], "NOM"), (" demeurant ", None), (p["ADRESSE"], "ADRESSE"),
         (", suivi(e) depuis ", None), (str(rng.randint(2005, 2023)), None), (".", None)],
        [("Rappeler ", None), (p["NOM"], "NOM"), (" au ", None), (p["TELEPHONE"], "TELEPHONE"),
         (" ; date de naissance ", None), (p["NAISSANCE"], "NAISSANCE"), (".", None)],
    ]  # fmt: skip


def orders_pl(entities: int, seed: int) -> list[dict]:
    """Polish customer-service notes (evaluation only): names, PESEL with its check digit (stdnum), order
    numbers in a custom format, Polish mobiles, cities."""
    return _corpus("pl_PL", entities, seed, _pl_person, _pl_templates)


def _pl_person(f: Faker, rng: random.Random) -> dict[str, str]:
    from stdnum.pl import pesel

    born = f.date_of_birth(minimum_age=18, maximum_age=90)
    month = born.month + (20 if born.year >= 2000 else 0)
    body = f"{born.year % 100:02d}{month:02d}{born.day:02d}{rng.randint(0, 9999):04d}"
    return {
        "OSOBA": f.name(),
        "PESEL": body + pesel.calc_check_digit(body),
        "ZAMOWIENIE": f"ZAM/{rng.randint(2019, 2025)}/{rng.randint(0, 99999):05d}",
        "TELEFON": f"+48 {rng.choice('5678')}{rng.randint(0, 99):02d} {rng.randint(0, 999):03d} "
        f"{rng.randint(0, 999):03d}",
        "MIASTO": f.city(),
    }


def _pl_templates(p: dict[str, str], f: Faker, rng: random.Random) -> list:
    return [
        [("Klient ", None), (p["OSOBA"], "OSOBA"), (", PESEL ", None), (p["PESEL"], "PESEL"),
         (", zgłosił reklamację zamówienia ", None), (p["ZAMOWIENIE"], "ZAMOWIENIE"), (".", None)],
        [("Zamówienie ", None), (p["ZAMOWIENIE"], "ZAMOWIENIE"), (" wysłane do miasta ", None),
         (p["MIASTO"], "MIASTO"), ("; kontakt ", None), (p["TELEFON"], "TELEFON"), (".", None)],
        [("Oddzwonić do ", None), (p["OSOBA"], "OSOBA"), (" pod numer ", None), (p["TELEFON"], "TELEFON"),
         (" w sprawie zwrotu.", None)],
        [("Weryfikacja tożsamości: ", None), (p["OSOBA"], "OSOBA"), (", PESEL ", None), (p["PESEL"], "PESEL"),
         (", miasto ", None), (p["MIASTO"], "MIASTO"), (".", None)],
    ]  # fmt: skip


CORPORA = {"hr_gb": hr_gb, "notes_fr": notes_fr, "orders_pl": orders_pl}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="corpora", help="directory for the .jsonl files")
    ap.add_argument("--entities", type=int, default=90, help="people per corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default=",".join(CORPORA), help="comma-separated corpora")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in a.only.split(","):
        rows = CORPORA[name](a.entities, a.seed)
        path = out / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path}: {len(rows)} records, {sum(len(r['spans']) for r in rows)} spans")


if __name__ == "__main__":
    main()
