"""Which records serve which purpose (`sani.repair.parts`): held-out values the repair aims at, the stop's part and
the audits' part never share a value; surrogates from the holdout are its own values, nearest in length."""

import random

import pytest
from faker import Faker

from sani.presets import make_config
from sani.repair.parts import HELD_SHARE, assign, held_pool, split
from sani.spans.candidates import MIN_HELD, Candidates
from sani.spans.data import Encoded, Record, Span

pytestmark = pytest.mark.unit


def _records(people: int, seed: int = 0) -> list[Encoded]:
    """Notes on `people` patients in pl_PL (a locale the bench does not write), 1-3 notes each: records that
    share a patient share values. Encoded without a tokenizer: the parts read only the records."""
    f, rng = Faker("pl_PL"), random.Random(seed)
    f.seed_instance(seed)
    out = []
    for _ in range(people):
        name, pesel = f.name(), f.pesel()
        for _ in range(rng.randint(1, 3)):
            head = "Pacjent "
            text = f"{head}{name}, PESEL {pesel}, wizyta kontrolna."
            start = len(head) + len(name) + len(", PESEL ")
            spans = [Span(len(head), len(head) + len(name), "OSOBA"), Span(start, start + len(pesel), "PESEL")]
            out.append(Encoded([], [], Record(text, spans)))
    out += [Encoded([], [], Record("Bez danych.")) for _ in range(5)]
    rng.shuffle(out)
    return out


def _values(encoded: list[Encoded]) -> set[str]:
    return {e.record.value(s) for e in encoded for s in e.record.spans}


def test_held_pool_takes_whole_value_groups():
    hold = _records(60)
    pool, rest, held = held_pool(hold, seed=0)
    assert held + len(rest) == len(hold)
    assert abs(held - HELD_SHARE * len(hold)) <= 4  # a third, up to one patient's notes
    assert not {v for _, v in pool} & _values(rest)  # no surrogate value is left for the audit
    assert {label for label, _ in pool} == {"OSOBA", "PESEL"}
    assert held_pool(hold, seed=0)[0] == pool and held_pool(hold, seed=1)[0] != pool  # seeded
    small = [h for h in hold if h.record.spans][:5]
    assert held_pool(small, seed=0) == ([], small, 0)  # too few to spare a third
    assert held_pool(None, seed=0) == ([], None, 0)


def test_stop_and_audit_share_no_value():
    enc, hold = _records(80, seed=1), _records(30, seed=2)
    stop, reported, stop_hold, reported_hold = split(enc, hold, True, seed=0)
    assert not _values(stop) & _values(reported) and not _values(stop_hold) & _values(reported_hold)
    with_values = sum(1 for e in enc if e.record.spans)
    assert 0.2 * with_values <= sum(1 for e in stop if e.record.spans) <= 0.3 * with_values
    assert len(stop) + len(reported) == len(enc) and len(stop_hold) + len(reported_hold) == len(hold)
    assert split(enc, hold, False, seed=0)[0] == []  # a target on regurgitation alone checks every record


def test_assign_gives_the_holdout_to_the_calibrated_repair_only():
    enc, hold = _records(40, seed=3), _records(30, seed=4)
    cfg = make_config(task="causal-lm", surrogate_source="holdout", target="membership<=0.1")
    parts = assign(enc, hold, cfg)
    assert parts.pool and parts.held_records > 0
    used = [parts.stop_holdout, parts.audited_holdout]
    assert not {v for _, v in parts.pool} & set().union(*map(_values, used))
    assert sum(map(len, used)) + parts.held_records == len(hold)
    assert not assign(enc, hold, make_config(task="causal-lm", surrogate_source="faker")).pool
    assert not assign(enc, hold, make_config(task="causal-lm", objective="masked", surrogate_source="holdout")).pool


def test_a_level_correction_gets_the_stops_part_without_a_target():
    enc, hold = _records(40, seed=3), _records(30, seed=4)
    parts = assign(enc, hold, make_config(task="causal-lm", level="holdout"))
    assert parts.stop and parts.stop_holdout and parts.audited and parts.audited_holdout
    assert not _values(parts.stop) & _values(parts.audited)  # by value: the audit never reports what it measured
    assert not _values(parts.stop_holdout) & _values(parts.audited_holdout)
    plain = assign(enc, hold, make_config(task="causal-lm", objective="masked", level="holdout"))
    assert not plain.stop and len(plain.audited) == len(enc)  # no calibrated targets: nothing to correct


def test_holdout_surrogates_are_held_values_nearest_in_length():
    corpus = [("ID", f"AB{i:07d}") for i in range(20)] + [("NAME", "Jan Kowalski")]
    pool = [("ID", f"ZZ{i:07d}") for i in range(8)] + [("ID", f"Z{i}") for i in range(8)] + [("ID", "AB0000001")]
    pool += [("NAME", n) for n in ("Anna Nowak", "Piotr Lis")]  # fewer than MIN_HELD: Faker serves the label
    c = Candidates(corpus, source="holdout", stream="repair", pool=pool)
    got, served = c.for_value("ID", "AB0000003", 4, seed="s")
    assert served == "holdout" and len(got) == 4
    assert all(g.startswith("ZZ") for g in got)  # the 9-character held values, not the 2-character ones
    assert "AB0000001" not in {g for k in range(20) for g in c.for_value("ID", f"AB{k:07d}", 16, seed=str(k))[0]}
    assert c.served("ID") == "holdout" and c.served("NAME") == "faker:name" and len(pool) - 18 < MIN_HELD
    assert Candidates(corpus, source="holdout").served("ID") == "shape"  # no holdout: the fallback
