"""An evaluation corpus of people's names, postal addresses, phone numbers and places, with exact gold spans.

    python benchmarks/people_corpus.py --records 400 --seed 0 --out people0.jsonl

Records of 1 to 4 sentences in many registers (customer-service chat, e-mail, letters with letterheads,
meeting minutes, clinical and HR notes, event announcements, support tickets, CSV-like lines), with gold
labels NAME_FULL, NAME_GIVEN, NAME_FAMILY (the name only, never the title before it), ADDRESS (one span from
the house number to the postcode, city and region, across lines in letterheads), PHONE (some glued to a word:
"020 7946 0958-Fax") and LOCATION (a city named alone). Around them, unlabelled distractors: organisations
(some named after places), drugs, products, job titles, days, months and order or invoice codes. About one
record in twenty is all-lowercase chat.

Every name list, address format and template was written by hand for this file (tables in
`people_corpus_data.py`), independently of sani's detectors and without Faker or any installed name list.
It is for evaluation only: never train or tune a detector on it, or it stops measuring anything.
"""

from __future__ import annotations

import argparse
import json
import random

try:
    from benchmarks import people_corpus_data as D
except ImportError:  # run as a script: benchmarks/ is on the path
    import people_corpus_data as D

from sani.spans.data import Record, Span, write_records

SOURCE = "people_corpus"
LABELS = {"FULL": "NAME_FULL", "GIVEN": "NAME_GIVEN", "FAMILY": "NAME_FAMILY", "ADDR": "ADDRESS",
          "ADDRL": "ADDRESS", "PHONE": "PHONE", "CITY": "LOCATION"}  # fmt: skip
TARGET = {"NAME_FULL": 0.35, "NAME_GIVEN": 0.15, "NAME_FAMILY": 0.12, "ADDRESS": 0.20, "PHONE": 0.10, "LOCATION": 0.08}
REGIONS = [(order, D.split_names(g), D.split_names(f), name) for name, (order, g, f) in D.REGIONS.items()]

# --------------------------------------------------------------------------- templates
# {FULL} {GIVEN} {FAMILY}: a new person each time; {FULL1} {GIVEN1} {FAMILY1}: person 1 of the record.
# {ADDR}: an address on one line, {ADDRL}: across lines. Other slots are unlabelled distractors.
STYLES = {
    "chat": [
        "Hi, this is {FULL1} and I'm calling about order {CODE}.",
        "Agent: Thanks, {GIVEN1}! Could you confirm the phone number on the account?",
        "It's {PHONE}, but maybe it's under {FULL}, my partner set it up.",
        "Please change the delivery name to {FULL} and the address to {ADDR}.",
        "hey, can you ask {GIVEN} whether the parcel left {CITY} yet?",
        "{GIVEN}: I've updated the account, the billing address is now {ADDR}.",
        "My landlord, {TTL} {FAMILY}, says the meter is registered to {FULL}.",
        "Sure, you can reach me at {PHONE}-Mobile after 6pm.",
        "Yes, the card holder is {FULL} ({PHONE}).",
        "hi its {FULL} here, my {PROD} arrived broken",
        "Can I speak to {GIVEN} again? We spoke on {DAY}.",
        "I moved from {CITY} last month, so the old address {ADDR} is wrong.",
    ],
    "email": [
        "Dear {GIVEN}, thanks for the quick reply on {CODE}.",
        "Forwarded by {FULL} on {DAY}: the {ORG} invoice {CODE} is still open.",
        "{FULL} from {ORG} is the keynote speaker this {MONTH}.",
        "Could you loop in {GIVEN} and {FULL}? They handled the {CITY} rollout.",
        "{FAMILY}'s report on the {ORG} account is attached.",
        "I've copied {FULL}, {FULL} and {FULL} so everyone sees the numbers.",
        "Please send the signed copy to {ADDR} by {DAY}.",
        "Out of office until {MONTH} 14; for urgent matters call {PHONE} or write to {GIVEN}.",
        "As agreed with {TTL} {FULL}, the {JOB} will sign off on {DAY}.",
        "Many thanks, {GIVEN}.",
    ],
    "clinical": [
        "{FULL}, 54, presented with chest pain; continue {DRUG} and review in two weeks.",
        "Discussed with {TTL} {FAMILY} (cardiology); {DRUG} dose reduced.",
        "Patient lives alone at {ADDR}; neighbour {GIVEN} visits daily.",
        "Referred to {ORG} in {CITY} for imaging.",
        "Pharmacy on {PHONE} confirmed the {DRUG} refill for {FULL}.",
        "Next of kin: {FULL} (spouse), {PHONE}.",
        "Seen today by {FAMILY} and the {JOB}; no change to {DRUG}.",
    ],
    "hr": [
        "{FULL} joins as {JOB} on {DAY}, reporting to {FAMILY}.",
        "At {GIVEN}'s request, payslips go to {ADDR} from {MONTH}.",
        "Reference check: spoke with {TTL} {FULL}, former manager at {ORG}.",
        "Relocation approved for {FULL} from {CITY} to {CITY}.",
        "{FAMILY} and {FAMILY} will run the interviews; call {PHONE} to reschedule.",
        "Annual leave for {GIVEN} (14-18 {MONTH}) was approved by the {JOB}.",
    ],
    "event": [
        "Join us on {DAY} when {FULL} of {ORG} speaks about supply chains in {CITY}.",
        "Tickets are available from {GIVEN} at the front desk or on {PHONE}.",
        "The venue is {ADDR}; doors open at 7pm.",
        "Special thanks to {FULL}, {FULL} and {FULL} for organising.",
        "Panel chaired by {TTL} {FAMILY} with guests from {ORG}.",
        "Last year's winner, {FULL}, flew in from {CITY} for the ceremony.",
    ],
    "ticket": [
        "Customer {FULL} reports that the {PROD} crashes on launch (ref {CODE}).",
        "Escalated to {GIVEN}; {FAMILY} was out on {DAY}.",
        "Callback requested on {PHONE}/Home before noon.",
        "Replacement unit to be sent to {ADDR}.",
        "Maybe it's filed under {FAMILY}, the old account holder; check {CODE}.",
        "Duplicate of {CODE}, raised by {FULL} (site: {CITY}).",
    ],
    "minutes": [
        "{GIVEN} opened the meeting and welcomed {FULL} from {ORG}.",
        "Action: {FAMILY} to draft the {MONTH} budget with the {JOB}.",
        "{FULL} noted that the {CITY} office moves to {ADDR} in {MONTH}.",
        "Agreed: {GIVEN} and {GIVEN} to review {CODE} before {DAY}.",
        "Apologies received from {TTL} {FAMILY} and {FULL}.",
    ],
}
FILLER = [  # no gold span: capitalised words, organisations, drugs, codes
    "{DRUG} stock at {ORG} runs out on {DAY}.",
    "{MONTH} figures are in the shared folder.",
    "{ORG} confirmed receipt of {CODE}.",
    "The {JOB} wants the {PROD} licences renewed by {MONTH}.",
    "Thanks again for your patience.",
    "Order {CODE} was split into two parcels.",
]
BLOCKS = [
    "{FULL1}\n{ADDRL}\n\nDear {TTL} {FAMILY},\nThank you for your letter about {CODE}.\nYours sincerely,\n{FULL1}",
    "{ORG}\n{ADDRL}\nTel: {PHONE}\n\nTo: {FULL}\nRe: invoice {CODE}",
    "Best regards,\n{FULL}\n{JOB}, {ORG}\n{PHONE}-Office | {PHONE}-Fax",
    "name;phone;city\n{FULL};{PHONE};{CITY}\n{FULL};{PHONE};{CITY}",
    "Minutes of {DAY} 3 {MONTH}\nPresent: {FULL}, {FULL}, {GIVEN} (notes)\nApologies: {TTL} {FAMILY}\n"
    "Action: {FAMILY} to update the {ORG} contract.",
    "Patient: {FULL}\nAddress: {ADDR}\nSeen by {TTL} {FAMILY} on {DAY}. Started {DRUG} 500 mg.",
    "Employee: {FULL} ({JOB})\nHome address:\n{ADDRL}\nEmergency contact: {FULL}, {PHONE}/Home",
    "{ORG} presents an evening with {FULL}\nVenue: {ADDR}\nRSVP to {GIVEN} on {PHONE}.",
    "Ticket {CODE}\nReporter: {FULL}\nAssignee: {GIVEN}\nSummary: {PROD} fails to sync after the {MONTH} update.",
    "{FULL}\n{JOB}\n{ORG}\n{ADDRL}\nTel/Fax: {PHONE}",
    "SHIP TO:\n{FULL}\n{ADDRL}\n{PHONE}",
    "id;name;phone\n{CODE};{FULL};{PHONE}\n{CODE};{FULL};{PHONE}-Home",
    "From: {FULL1}\nTo: {FULL}\nSubject: visit to {CITY}\n\nCould we meet at {ADDR} on {DAY}? Call me on {PHONE}.\n{GIVEN1}",
    "Re: {FULL1}, {ADDR}\n\nDear Dr {FAMILY},\nI would be grateful if you could see {GIVEN1}, who has been on {DRUG} "
    "since {MONTH}.",
    "Contacts (for the {CITY} trip):\n- driver ({FULL}, {PHONE})\n- hotel: {ADDR}",
]


# --------------------------------------------------------------------------- values
def _d(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _person(rng: random.Random) -> dict[str, str]:
    order, givens, families, region = rng.choice(REGIONS)
    given, family = rng.choice(givens), rng.choice(families)
    if order == "gf" and rng.random() < 0.08:  # family name from elsewhere
        family = rng.choice(rng.choice(REGIONS)[2])
    if order == "fg":
        middle = rng.choice(D.VIET_MIDDLE) + " " if region == "vietnam" else ""
        full = f"{family} {middle}{given}" if rng.random() < 0.75 else f"{given} {family}"
        return {"FULL": full, "GIVEN": given, "FAMILY": family}
    r = rng.random()
    if region in D.IBERIAN and r < 0.3 and " " not in family:
        family = f"{family} {rng.choice([f for f in families if ' ' not in f])}"
    elif r < 0.06 and " " not in family:
        family = f"{family}-{rng.choice([f for f in families if ' ' not in f and f != family])}"
    r = rng.random()
    middle = (
        f"{rng.choice('ABCDEFGHJKLMNPRSTW')}. "
        if r < 0.12
        else (f"{rng.choice([g for g in givens if g != given])} " if r < 0.2 else "")
    )
    return {"FULL": f"{given} {middle}{family}", "GIVEN": given, "FAMILY": family}


def _address(rng: random.Random) -> list[str]:
    """One postal address as its lines, in the format of one of 13 countries."""
    c, n = rng.choice, rng.randint
    kind = c("US UK FR DE ES IT NL IN JP BR CA AU PL NG".split())
    if kind == "US":
        city, st, z = c(D.US_CITIES)
        unit = c(["", f"Apt {n(1, 12)}{c('ABCD')}", f"Suite {n(1, 4)}{n(10, 40)}"])
        zip_ = z + _d(rng, 2) + (f"-{_d(rng, 4)}" if rng.random() < 0.2 else "")
        return [f"{n(10, 9800)} {c(D.US_STREETS)}"] + ([unit] if unit else []) + [f"{city}, {st} {zip_}"]
    if kind == "UK":
        city, area = c(D.UK_CITIES)
        pc = f"{area}{n(1, 19)} {n(1, 9)}{c('ABDEFGHJLNPRSTUWXYZ')}{c('ABDEFGHJLNPRSTUWXYZ')}"
        flat = [f"Flat {n(1, 9)}"] if rng.random() < 0.3 else []
        return flat + [f"{n(1, 240)} {c(D.UK_STREETS)}", f"{city} {pc}"]
    if kind == "FR":
        city, p = c(D.FR_CITIES)
        extra = [c(["Appt 12", "Bât. B", "Résidence les Pins", "3e étage"])] if rng.random() < 0.3 else []
        return extra + [f"{n(1, 140)}{c(['', '', ' bis'])} {c(D.FR_STREETS)}", f"{p}{_d(rng, 2)} {city}"]
    if kind == "DE":
        city, p = c(D.DE_CITIES)
        return [f"{c(D.DE_STREETS)} {n(1, 90)}{c(['', '', 'a', 'b'])}", f"{p}{_d(rng, 3)} {city}"]
    if kind == "ES":
        city, p = c(D.ES_CITIES)
        floor = c(["1º A", "2º izq.", "3º B", "bajo", "4º dcha.", "5º C"])
        return [f"{c(D.ES_STREETS)}, {n(1, 160)}, {floor}", f"{p}{_d(rng, 3)} {city}"]
    if kind == "IT":
        city, p, prov = c(D.IT_CITIES)
        int_ = c(["", "", ", int. 4", ", scala B"])
        return [f"{c(D.IT_STREETS)} {n(1, 120)}{int_}", f"{p}{_d(rng, 2)} {city} {c([prov, f'({prov})'])}"]
    if kind == "NL":
        city, p = c(D.NL_CITIES)
        pc = f"{p}{_d(rng, 2)} {c('ABCEGHJKLMNPRTVWXZ')}{c('ABCEGHJKLMNPRTVWXZ')}"
        return [f"{c(D.NL_STREETS)} {n(1, 400)}{c(['', '', '-II', 'A', ' hs'])}", f"{pc} {city}"]
    if kind == "IN":
        city, state, p, places = c(D.IN_CITIES)
        pin = p + _d(rng, 3)
        last = c([f"{city}, {state} {pin}", f"{city} - {pin}, {state}"])
        return [f"Flat {n(1, 9)}0{n(1, 8)}, {c(D.IN_BUILDINGS)}", f"{c(D.IN_ROADS)}, {c(places)}", last]
    if kind == "JP":
        city, ward, p, places = c(D.JP_CITIES)
        room = [f"{c(D.JP_BUILDINGS)} {n(1, 9)}0{n(1, 9)}"] if rng.random() < 0.4 else []
        return room + [f"{n(1, 5)}-{n(1, 30)}-{n(1, 20)} {c(places)}", f"{ward}, {city} {p}-{_d(rng, 4)}"]
    if kind == "BR":
        city, uf, p, places = c(D.BR_CITIES)
        apto = c(["", f", apto {n(1, 20)}{n(1, 4)}", f", casa {n(1, 3)}"])
        cep = f"{p}{_d(rng, 3)}-{_d(rng, 3)}"
        return [f"{c(D.BR_STREETS)}, {n(10, 2400)}{apto}", c(places), f"{city} - {uf}, {cep}"]
    if kind == "CA":
        city, prov, first = c(D.CA_CITIES)
        L = "ABCEGHJKLMNPRSTVWXYZ"
        pc = f"{first}{n(1, 9)}{c(L)} {n(1, 9)}{c(L)}{n(1, 9)}"
        num = c([f"{n(1, 30)}-{n(10, 980)}", str(n(10, 9900))])
        return [f"{num} {c(D.CA_STREETS)}", f"{city}, {prov} {pc}"]
    if kind == "AU":
        suburb, st, pc = c(D.AU_SUBURBS)
        num, u = n(1, 180), n(1, 12)
        return [c([f"{u}/{num}", f"Unit {u}, {num}", str(num)]) + f" {c(D.AU_STREETS)}", f"{suburb} {st} {pc}"]
    if kind == "PL":
        city, p = c(D.PL_CITIES)
        return [f"{c(D.PL_STREETS)} {n(1, 90)}{c(['', f'/{n(1, 40)}', f' m. {n(1, 40)}'])}", f"{p}-{_d(rng, 3)} {city}"]
    city, p, places = c(D.NG_CITIES)
    return [f"{n(1, 60)} {c(D.NG_STREETS)}", c(places), f"{city} {p}{_d(rng, 3)}"]


def _phone(rng: random.Random) -> str:
    c, d = rng.choice, lambda k: _d(rng, k)
    ac, last = c(["212", "415", "617", "312", "503", "206", "713", "919"]), f"01{d(2)}"
    return c([
        f"({ac}) 555-{last}", f"{ac}-555-{last}", f"+1 {ac} 555 {last}", f"{ac}.555.{last}", f"({ac}) 555-{last}",
        f"020 7946 0{d(3)}", f"0113 496 0{d(3)}", f"0161 496 0{d(3)}", f"07700 900{d(3)}", f"+44 20 7946 0{d(3)}",
        f"+44 7700 900{d(3)}", f"01 99 00 {d(2)} {d(2)}", f"+33 1 99 00 {d(2)} {d(2)}", f"06 39 98 {d(2)} {d(2)}",
        f"+33 6 39 98 {d(2)} {d(2)}", f"+49 30 {d(4)} {d(3)}", f"0221 {d(3)} {d(4)}", f"+91 98{d(3)} {d(5)}",
        f"(02) 5550 {d(4)}", f"0491 570 1{d(2)}", f"03-{d(4)}-{d(4)}",
    ])  # fmt: skip


def _code(rng: random.Random) -> str:
    y = rng.randint(2018, 2025)
    return rng.choice([f"ORD-{y}-0{_d(rng, 5)}", f"INV-{rng.randint(10, 99)}/{y}", f"SKU-{_d(rng, 4)}-{_d(rng, 4)}",
                       f"TKT-{_d(rng, 5)}", f"PO {_d(rng, 4)}-{_d(rng, 2)}", f"REF/{y}/{_d(rng, 3)}"])  # fmt: skip


# --------------------------------------------------------------------------- records
class _Builder:
    def __init__(self, rng: random.Random):
        self.rng, self.text, self.spans, self.values, self.people = rng, "", [], [], {}

    def add(self, template: str) -> None:
        while "{" in template:
            literal, _, rest = template.partition("{")
            slot, _, template = rest.partition("}")
            self.text += literal
            self._slot(slot)
        self.text += template

    def _slot(self, slot: str) -> None:
        kind = slot.rstrip("0123456789")
        if kind in ("FULL", "GIVEN", "FAMILY"):
            who = slot[len(kind) :] or object()  # no index: a new person
            if who not in self.people:
                self.people[who] = _person(self.rng)
            value = self.people[who][kind]
        elif kind in ("ADDR", "ADDRL"):
            value = ("\n" if kind == "ADDRL" else ", ").join(_address(self.rng))
        elif kind == "PHONE":
            value = _phone(self.rng)
        elif kind == "CODE":
            value = _code(self.rng)
        else:
            value = self.rng.choice(D.PICK[kind])
        if kind == "FAMILY" and (self.text.endswith((". ", "\n", "! ", "? ")) or not self.text):
            value = value[0].upper() + value[1:]  # "Van der Berg's report"
        if kind in LABELS:
            self.spans.append(Span(len(self.text), len(self.text) + len(value), LABELS[kind], source=SOURCE))
            self.values.append(value)
        self.text += value


def _candidate(rng: random.Random) -> _Builder:
    b = _Builder(rng)
    lower = rng.random() < 0.04
    style = "chat" if lower else rng.choice([*STYLES, "block", "block"])
    if style == "block":
        b.add(rng.choice(BLOCKS))
    else:
        n = rng.choice([1, 2, 2, 3, 3, 4])
        pool = STYLES[style] + (FILLER if rng.random() < 0.3 else [])
        b.add(("\n" if style == "chat" else " ").join(rng.sample(pool, n)))
    if lower:
        assert len(b.text.lower()) == len(b.text)
        b.text, b.values = b.text.lower(), [v.lower() for v in b.values]
    return b


def _distance(counts: dict[str, int], spans: list[Span]) -> float:
    """How far the label mix would be from TARGET with these spans added."""
    new = dict(counts)
    for s in spans:
        new[s.label] += 1
    total = sum(new.values()) or 1
    return sum((new[k] / total - p) ** 2 for k, p in TARGET.items())


def make(n: int, seed: int = 0) -> list[Record]:
    """`n` records with gold spans, the same for the same seed. Each record is the best of three drafts for
    keeping the label mix near TARGET."""
    rng = random.Random(seed)
    counts = dict.fromkeys(TARGET, 0)
    built: list[_Builder] = []
    for _ in range(n):
        best = min((_candidate(rng) for _ in range(3)), key=lambda b: _distance(counts, b.spans))
        for s in best.spans:
            counts[s.label] += 1
        built.append(best)
    records = [Record(b.text, b.spans, where=f"{SOURCE} seed {seed} record {i}") for i, b in enumerate(built)]
    _check(records, [b.values for b in built])
    return records


def _check(records: list[Record], values: list[list[str]] | None = None) -> None:
    """Offsets are exact, spans sorted and disjoint, each span a whole word sequence of its kind."""
    for i, r in enumerate(records):
        assert r.text and r.text == r.text.strip(), i
        end = 0
        for j, s in enumerate(r.spans):
            v = r.text[s.start : s.end]
            assert 0 <= end <= s.start < s.end <= len(r.text), (i, s)
            assert s.label in TARGET, s.label
            assert values is None or v == values[i][j], (i, v)
            assert (v[0].isalnum() or v[0] in "(+") and (v[-1].isalnum() or v[-1] == ")"), (i, v)
            assert s.start == 0 or not r.text[s.start - 1].isalnum(), (i, v)
            assert s.end == len(r.text) or not r.text[s.end].isalnum(), (i, v)
            if s.label.startswith("NAME") or s.label == "LOCATION":
                assert not any(ch.isdigit() for ch in v), (i, v)
            if s.label == "PHONE":
                assert set(v) <= set("0123456789 +-().") and sum(ch.isdigit() for ch in v) >= 9, (i, v)
            if s.label == "ADDRESS":
                assert any(ch.isdigit() for ch in v), (i, v)
            end = s.end


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="JSONL file to write")
    args = p.parse_args()
    records = make(args.records, args.seed)
    write_records(records, args.out)
    counts = {k: sum(s.label == k for r in records for s in r.spans) for k in TARGET}
    print(json.dumps({"out": args.out, "records": len(records), "spans": counts}))


if __name__ == "__main__":
    main()
