"""Synthetic clinical notes with annotated identifiers, for the demo, the tests and the benchmarks.

Each patient has a fixed identity (Faker: name, SSN, phone, birth date, record number, address) and one or
more notes, so some values occur once and some many times. Spans are exact character offsets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ..spans.data import Record, Span, write_records

DIRECT_LABELS = ("NAME", "SSN", "PHONE", "DOB", "MRN", "ADDRESS")

_CONDITIONS = [
    "type 2 diabetes",
    "hypertension",
    "asthma",
    "chronic kidney disease",
    "atrial fibrillation",
    "community-acquired pneumonia",
    "migraine",
    "iron deficiency anemia",
    "hypothyroidism",
    "osteoarthritis",
    "congestive heart failure",
    "major depressive disorder",
    "gastroesophageal reflux",
    "COPD exacerbation",
]
_MEDS = [
    "metformin 500 mg twice daily",
    "lisinopril 10 mg daily",
    "albuterol as needed",
    "apixaban 5 mg twice daily",
    "amoxicillin 875 mg twice daily",
    "sumatriptan 50 mg as needed",
    "ferrous sulfate 325 mg daily",
    "levothyroxine 75 mcg daily",
    "ibuprofen 400 mg as needed",
    "furosemide 40 mg daily",
    "sertraline 50 mg daily",
    "omeprazole 20 mg daily",
    "prednisone 40 mg for five days",
]
_FINDINGS = [
    "Vital signs were stable.",
    "Lungs were clear to auscultation.",
    "Mild edema was noted in both ankles.",
    "Blood pressure was elevated at the visit.",
    "Laboratory results were within normal limits.",
    "The patient reported improved sleep.",
    "No acute distress was observed.",
    "Heart rate was irregular.",
    "Blood glucose remained above target.",
    "The patient denied chest pain or shortness of breath.",
]
_PLANS = [
    "Follow up in two weeks.",
    "Repeat labs in three months.",
    "Referred to cardiology.",
    "Advised diet and exercise changes.",
    "Continue current medication and monitor.",
    "Scheduled imaging next week.",
]
_DEPTS = ["cardiology", "internal medicine", "pulmonology", "endocrinology", "family medicine", "nephrology"]

# Templates: literal text with {FIELD} slots. Identifiers follow text that names the patient or the note,
# so a memorizing model has a key to recall them from, as in real notes.
_TEMPLATES = [
    "Clinic note, {dept}. Patient name: {NAME}. Date of birth: {DOB}. SSN: {SSN}. MRN: {MRN}. "
    "Seen today for {cond}. {finding} Current medication: {med}. Contact phone: {PHONE}. {plan}",
    "Discharge summary ({dept}). {NAME}, born {DOB}, medical record number {MRN}, was admitted with {cond}. "
    "{finding} Discharged on {med}. Home address: {ADDRESS}. Phone on file: {PHONE}. {plan}",
    "Referral letter. Re: {NAME} (MRN {MRN}, SSN {SSN}). This patient with {cond} is referred to {dept}. "
    "{finding} Lives at {ADDRESS}. Please call {PHONE} to schedule. {plan}",
    "Progress note. {NAME} returned to {dept} for {cond}. {finding} Medication: {med}. "
    "Identifiers: DOB {DOB}, MRN {MRN}, SSN {SSN}. {plan}",
]


@dataclass
class Patient:
    NAME: str
    SSN: str
    PHONE: str
    DOB: str
    MRN: str
    ADDRESS: str


def make_patients(n: int, seed: int = 0) -> list[Patient]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    patients = []
    for _ in range(n):
        patients.append(
            Patient(
                NAME=fake.name(),
                SSN=fake.ssn(),
                PHONE=fake.numerify("(###) ###-####"),
                DOB=fake.date_of_birth(minimum_age=18, maximum_age=90).strftime("%m/%d/%Y"),
                MRN="MRN-" + fake.numerify("#######"),
                ADDRESS=fake.address().replace("\n", ", "),
            )
        )
    return patients


def render_note(patient: Patient, rng: random.Random, template: str | None = None) -> Record:
    """Fill a template; returns the text and the exact span of every identifier it holds."""
    template = template or rng.choice(_TEMPLATES)
    filler = {
        "dept": rng.choice(_DEPTS),
        "cond": rng.choice(_CONDITIONS),
        "med": rng.choice(_MEDS),
        "finding": rng.choice(_FINDINGS),
        "plan": rng.choice(_PLANS),
    }
    text, spans, pos = [], [], 0
    for i, part in enumerate(template.replace("}", "{").split("{")):
        if i % 2 == 0:
            piece = part
        elif part in DIRECT_LABELS:
            piece = getattr(patient, part)
            spans.append(Span(pos, pos + len(piece), part))
        else:
            piece = filler[part]
        text.append(piece)
        pos += len(piece)
    return Record(text="".join(text), spans=spans)


def make_corpus(n_patients: int = 120, seed: int = 0, repeats: tuple[int, ...] = (1, 1, 1, 2, 3, 5)) -> list[Record]:
    """Notes for `n_patients` patients; each patient gets a number of notes drawn from `repeats`."""
    rng = random.Random(seed)
    records = []
    for p in make_patients(n_patients, seed=seed):
        for _ in range(rng.choice(repeats)):
            records.append(render_note(p, rng))
    rng.shuffle(records)
    return records


_INDIRECT = "Works as {PROFESSION} at {EMPLOYER}."
_MEMOS = [
    "Internal memo: the {TERM} study will enroll patients from {dept}. Budget review for {TERM} is due next week.",
    "Research update. Recruitment for {TERM} continues in {dept}; {finding} Results of {TERM} stay confidential.",
    "Steering committee: {TERM} moves to phase two. {plan} Do not discuss {TERM} outside the hospital.",
]


def make_terms(n: int = 12, seed: int = 0) -> list[str]:
    """Confidential project code names ("Falcon-17"), as in a list of confidential terms."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    return [f"{fake.unique.word().capitalize()}-{fake.random_int(10, 99)}" for _ in range(n)]


def make_bench_corpus(
    n_patients: int = 60, seed: int = 0, repeats: tuple[int, ...] = (1, 1, 2, 5, 10)
) -> tuple[list[Record], list[str]]:
    """The benchmark corpus: clinical notes whose values occur once to 10 times, each note with indirect
    identifiers (profession, employer) too, plus memos holding confidential terms (the paper's second
    experiment). Returns the records (terms already marked as TERM spans) and the term list."""
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed + 7)
    records = []
    for p in make_patients(n_patients, seed=seed):
        job, employer = fake.job().split(",")[0], fake.company()
        for _ in range(rng.choice(repeats)):
            note = render_note(p, rng)
            extra = _INDIRECT.replace("{PROFESSION}", job).replace("{EMPLOYER}", employer)
            start = len(note.text) + 1
            a = start + len("Works as ")
            b = a + len(job)
            c = b + len(" at ")
            records.append(
                Record(
                    f"{note.text} {extra}",
                    [*note.spans, Span(a, b, "PROFESSION"), Span(c, c + len(employer), "EMPLOYER")],
                )
            )
    terms = make_terms(max(4, n_patients // 5), seed=seed)
    for term in terms:
        for _ in range(rng.choice((1, 2, 5))):
            memo = rng.choice(_MEMOS)
            for key, options in (("dept", _DEPTS), ("finding", _FINDINGS), ("plan", _PLANS)):
                memo = memo.replace("{" + key + "}", rng.choice(options))
            text = memo.replace("{TERM}", term)
            spans, i = [], text.find(term)
            while i >= 0:
                spans.append(Span(i, i + len(term), "TERM"))
                i = text.find(term, i + len(term))
            records.append(Record(text, spans))
    rng.shuffle(records)
    return records, terms


_PII_TEMPLATES = [
    "Billing record for {NAME}: card {CREDIT_CARD}, refund to {IBAN}. Questions to {EMAIL} or {PHONE}.",
    "Portal login by {NAME} from {IP_ADDRESS} on {DATE}; results shared at {URL}. SSN on file {SSN}.",
    "{NAME} (born {DATE}) updated contact details: {EMAIL}, phone {PHONE}, address {ADDRESS}.",
    "Transfer of {IBAN} approved on {DATE}. Contact {PHONE}. Audit trail: {URL} from {IP_ADDRESS}.",
    "Insurance claim: member SSN {SSN}, card {CREDIT_CARD}, visit {DATE}, email {EMAIL}.",
]


def make_pii_corpus(n: int = 300, seed: int = 0) -> list[Record]:
    """Records with many kinds of identifier in Faker's varied formats (phones, dates, IPv4/IPv6, cards,
    IBANs), annotated exactly: ground truth for measuring detectors."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        values = {
            "NAME": fake.name(),
            "SSN": fake.ssn(),
            "PHONE": fake.phone_number(),
            "EMAIL": fake.email(),
            "IBAN": fake.iban(),
            "CREDIT_CARD": fake.credit_card_number(),
            "IP_ADDRESS": fake.ipv4() if rng.random() < 0.7 else fake.ipv6(),
            "URL": fake.url() + fake.uri_path(),
            "DATE": fake.date(pattern=rng.choice(["%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y", "%d %b %Y"])),
            "ADDRESS": fake.address().replace("\n", ", "),
        }
        records.append(render(rng.choice(_PII_TEMPLATES), values))
    return records


def render(template: str, values: dict[str, str], labels: dict[str, str] | None = None) -> Record:
    """A template's `{KEY}` slots filled from `values`, each an exactly annotated span (labelled
    `labels.get(KEY, KEY)`; a label of None leaves the value unannotated)."""
    text, spans, pos = [], [], 0
    for i, part in enumerate(template.replace("}", "{").split("{")):
        piece = values[part] if i % 2 else part
        label = (labels or {}).get(part, part) if i % 2 else None
        if label:
            spans.append(Span(pos, pos + len(piece), label))
        text.append(piece)
        pos += len(piece)
    return Record("".join(text), spans)


CONDITION_GROUPS = {
    "cardiovascular": ["hypertension", "atrial fibrillation", "congestive heart failure"],
    "respiratory": ["asthma", "community-acquired pneumonia", "COPD exacerbation"],
    "metabolic": ["type 2 diabetes", "hypothyroidism", "chronic kidney disease", "iron deficiency anemia"],
    "other": ["migraine", "osteoarthritis", "major depressive disorder", "gastroesophageal reflux"],
}


def make_task(n: int = 200, seed: int = 0) -> list[dict[str, str]]:
    """A downstream task in the notes' language: which group of conditions a short assessment is about."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        group = rng.choice(sorted(CONDITION_GROUPS))
        text = (
            f"Seen today for {rng.choice(CONDITION_GROUPS[group])}. {rng.choice(_FINDINGS)} "
            f"Current medication: {rng.choice(_MEDS)}. {rng.choice(_PLANS)}"
        )
        rows.append({"text": text, "label": group})
    return rows


def write_jsonl(records: list[Record], path: str | Path) -> Path:
    return write_records(records, path)
