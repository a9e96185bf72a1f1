"""The audit's yardsticks: candidate values, value exposure, the paired membership test and the membership
rule (issue: exposure of every real value, no canaries, no holdout)."""

from __future__ import annotations

import math
import random
import re

import pytest

from sani.audit.rule import auc, judge, tpr_at_fpr, verdict
from sani.audit.values import chance, exposure_bits
from sani.spans.candidates import Candidates, Profile, label_kind, shape, shape_candidates, shape_space

# --------------------------------------------------------------------------- candidates


@pytest.mark.unit
def test_shape_candidates_keep_the_layout_and_never_the_value():
    rng = random.Random(0)
    got = shape_candidates("Ab-12 c", Profile(), 200, rng, exclude={"Xy-34 z"})
    assert len(got) == len(set(got)) == 200
    assert all(shape(c) == "Aa-99 a" and c != "Ab-12 c" and c != "Xy-34 z" for c in got)


@pytest.mark.unit
def test_characters_every_value_shares_are_kept_only_with_five_distinct_values():
    values = [f"MRN-{n:05d}" for n in (12345, 22222, 31337, 40404, 55555)]
    prof = Profile.of(values)
    got = shape_candidates(values[0], prof, 50, random.Random(1), set(values))
    assert all(c.startswith("MRN-") and c[4:].isdigit() for c in got)
    few = Profile.of(values[:4])  # four values: the shape alone (the prefix's letters vary too)
    got = shape_candidates(values[0], few, 50, random.Random(1), set())
    assert not all(c.startswith("MRN-") for c in got) and all(shape(c) == "AAA-99999" for c in got)


@pytest.mark.unit
def test_a_small_space_is_used_whole_and_shows_the_smaller_cap():
    assert shape_space("7", Profile()) == 10
    got = shape_candidates("7", Profile(), 1000, random.Random(0), set())
    assert sorted(got) == [d for d in "012345689"]  # every other digit, once


@pytest.mark.unit
def test_faker_candidates_follow_the_value_and_are_reproducible():
    pairs = [("PATIENT_NAME", "Maria Lopez"), ("DOB", "03/14/1975"), ("DOB", "11/02/1990"), ("EMAIL", "a@b.org")]
    c = Candidates(pairs)
    names, gen = c.for_value("PATIENT_NAME", "Maria Lopez", 300, seed="x")
    assert gen == "faker:name" and len(set(names)) == 300 and "Maria Lopez" not in names
    assert all(len(n.split()) == 2 for n in names)
    upper, _ = c.for_value("PATIENT_NAME", "MARIA LOPEZ", 20, seed="x")
    assert all(n.isupper() for n in upper)
    dates, gen = c.for_value("DOB", "03/14/1975", 200, seed="y")
    assert gen == "faker:date" and all(re.fullmatch(r"\d\d/\d\d/(19[7-8]\d|1990)", d) for d in dates)
    assert c.for_value("DOB", "03/14/1975", 50, seed="y") == Candidates(pairs).for_value("DOB", "03/14/1975", 50, "y")
    assert c.for_value("DOB", "03/14/1975", 50, seed="y") != c.for_value("DOB", "03/14/1975", 50, seed="z")
    other, gen = c.for_value("BADGE", "K-77", 30, seed="y")  # a label Faker does not know: its format
    assert gen == "shape" and all(shape(o) == "A-99" for o in other)
    odd, gen = c.for_value("PHONE", "+33 6 12 34 56 78", 30, seed="y")  # a layout Faker's en_US never writes
    assert gen == "shape" and all(shape(o) == shape("+33 6 12 34 56 78") for o in odd)


@pytest.mark.unit
def test_candidates_never_hold_a_corpus_value():
    values = [f"{d}" for d in range(10)]
    c = Candidates([("CODE", v) for v in values[:9]])
    got, _ = c.for_value("CODE", "3", 100, seed="s")
    assert got == ["9"]  # the one digit the corpus does not hold


@pytest.mark.unit
@pytest.mark.parametrize(
    "label,kind",
    [("PERSON", "name"), ("DATE_OF_BIRTH", "date"), ("PHONE_NUMBER", "phone"), ("US_SSN", "ssn"),
     ("IBAN_CODE", "iban"), ("EMAIL_ADDRESS", "email"), ("GPE", "city"), ("ORG", "company"), ("MRN", None)],
)  # fmt: skip
def test_labels_map_to_faker_providers(label, kind):
    assert label_kind(label) == kind


@pytest.mark.unit
def test_a_candidate_takes_the_value_s_place_everywhere_in_its_record():
    from sani.audit.values import in_place
    from sani.spans.data import Record, Span

    text = "Call 555-0101 now. Name: Ann. Again: 555-0101."
    rec = Record(text, [Span(5, 13, "PHONE"), Span(25, 28, "NAME"), Span(37, 45, "PHONE")])
    assert in_place(rec, rec.spans[2], "555-9999") == ("Call 555-9999 now. Name: Ann. Again: ", "555-9999", ".")
    assert in_place(rec, rec.spans[1], "Bob") == ("Call 555-0101 now. Name: ", "Bob", ". Again: 555-0101.")


# --------------------------------------------------------------------------- exposure maths


@pytest.mark.unit
def test_a_random_rank_reads_the_chance_level():
    assert chance(1000) == pytest.approx(1 / math.log(2), abs=0.01)
    assert chance(1) == pytest.approx(0.5)  # rank 1 or 2 among two: 1 bit or 0
    assert exposure_bits(5.0, [1.0, 2.0, 3.0]) == (1, 2.0)  # first among 4: the cap log2 4
    assert exposure_bits(1.0, [1.0, 2.0, 3.0])[0] == 3.5  # a tie counts half
    rng = random.Random(0)
    bits = [exposure_bits(rng.random(), [rng.random() for _ in range(1000)])[1] for _ in range(400)]
    assert sum(bits) / len(bits) == pytest.approx(chance(1000), abs=0.25)


# --------------------------------------------------------------------------- the membership rule


@pytest.mark.unit
def test_auc_and_tpr_at_low_fpr_on_hand_computed_cases():
    assert auc([3, 4], [1, 2]) == 1.0 and auc([1, 2], [3, 4]) == 0.0
    assert auc([1, 3], [2, 2]) == 0.5 and auc([2], [2]) == 0.5
    members, nonmembers = list(range(100, 200)), list(range(0, 100)) + [150, 160]
    assert tpr_at_fpr(members, nonmembers, 0.01) == pytest.approx(0.49)  # 1 of 102 may pass (160): above 150
    assert tpr_at_fpr([5, 6], [1, 2, 7]) == 0.0  # fewer than 100 non-members: above every one


@pytest.mark.unit
def test_verdict_needs_the_whole_interval():
    assert verdict([-0.03, 0.04], 0.05) == "pass"
    assert verdict([0.06, 0.2], 0.05) == "fail" and verdict([-0.3, -0.1], 0.05) == "fail"
    assert verdict([0.01, 0.09], 0.05) == "inconclusive"


@pytest.mark.unit
def test_the_rule_passes_chance_fails_a_leak_and_cannot_tell_from_few_records():
    rng = random.Random(0)
    same = [rng.gauss(0, 1) for _ in range(4000)]
    r = judge(same[:2000], same[2000:], paired=True, resamples=200)
    assert r["verdict"] == "pass" and r["test"] == "paired" and r["auc_ref"] == 0.5
    leak = judge([x + 1 for x in same[:300]], same[300:600], paired=True, resamples=200)
    assert leak["verdict"] == "fail" and leak["interval"][0] > 0.05 and leak["tpr_at_1pct_fpr"] > 0.01
    few = judge(same[:10], same[10:20], paired=False, resamples=200)
    assert few["verdict"] == "inconclusive"
    # a reference model that leaks as much: the same AUC is no longer a finding
    ref = judge([x + 1 for x in same[:300]], same[300:600], paired=True, resamples=200,
                reference=([x + 1 for x in same[600:900]], same[900:1200]), reference_name="oracle")  # fmt: skip
    assert ref["reference"] == "oracle" and ref["verdict"] != "fail" and abs(ref["difference"]) < 0.08


# --------------------------------------------------------------------------- scoring in place


def _direct(model, tokenizer, kind, prefix, value, suffix, values):
    """log p(value | prefix), written from the definition: the tokens after those every candidate's text
    shares; one sequence, no cache, no batch."""
    import torch

    with torch.no_grad():
        if kind == "causal":
            ids = tokenizer(prefix + value)["input_ids"]
            every = tokenizer([prefix + v for v in values])["input_ids"]
            cut = next(i for i in range(len(ids)) if len({tuple(e[: i + 1]) for e in every}) > 1)
            lp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
            return sum(float(lp[i - 1, ids[i]]) for i in range(cut, len(ids)))
        enc = tokenizer(prefix + value + suffix, return_offsets_mapping=True)
        ids, total = enc["input_ids"], 0.0
        for p, (a, b) in enumerate(enc["offset_mapping"]):
            if b > a and a < len(prefix) + len(value) and b > len(prefix):
                masked = list(ids)
                masked[p] = tokenizer.mask_token_id
                out = model(input_ids=torch.tensor([masked])).logits[0, p].float()
                total += float(torch.log_softmax(out, -1)[ids[p]])
        return total


@pytest.mark.model
@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_values_scored_in_place_match_one_at_a_time(arch, tokenizer):
    """The batched, cache-sharing scorer gives each candidate the log-likelihood a plain pass gives it."""
    from sani.bench import tiny
    from sani.models import kinds

    tok = (
        tiny.train_for(arch, ["Patient Jane Roe, phone (555) 123-4567, seen today."] * 3)
        if arch == "bert"
        else tokenizer
    )
    model = tiny.tiny_model(arch, tok, seed=0, layers=2, hidden=32, heads=2).eval()
    kind = kinds.of(model)
    prefix, suffix = "Patient Jane Roe, phone ", ", seen today."
    values = ["(555) 123-4567", "(555) 987-0000", "(123) 456-7890", "unknown"]
    got = kind.value_logprobs(model, tok, [(prefix, v, suffix) for v in values])
    want = [_direct(model, tok, "masked" if arch == "bert" else "causal", prefix, v, suffix, values) for v in values]
    assert got == pytest.approx(want, abs=1e-3)


# --------------------------------------------------------------------------- on a model that memorized


@pytest.fixture(scope="module")
def memorized_audit(memorized):
    from sani.audit import run
    from sani.config import AuditConfig
    from sani.models import loading as models
    from sani.spans import data

    loaded = models.load(memorized["original"])
    records = data.read_corpus(memorized["train"])
    records.insert(3, data.Record("A record with no value in it at all."))  # the index must survive it
    enc = data.encode_corpus(loaded.tokenizer, records)
    cfg = AuditConfig(contexts="full", samples=0, extraction=False, exposure_spans=60, exposure_candidates=200)
    return records, run(loaded.model, loaded.tokenizer, enc, cfg=cfg, kind=loaded.kind, progress=False)


@pytest.mark.model
def test_a_memorizing_model_reads_near_the_cap_and_fails_the_rule(memorized_audit):
    from sani.audit import AuditResult

    records, result = memorized_audit
    a = AuditResult(result)
    ve = a.value_exposure
    assert ve["spans"] == 60 and ve["n"] == 200 and ve["cap"] == pytest.approx(math.log2(201), abs=1e-3)
    assert ve["mean"] > ve["cap"] - 1.0 and ve["at_cap"] > 0.7  # far above the chance level (1.43)
    assert set(ve["by_label"]) == {s.label for r in records for s in r.spans}
    rule = a.membership_rule
    assert rule["test"] == "paired" and rule["members"] == sum(1 for r in records if r.spans)
    assert rule["verdict"] == "fail" and rule["auc"] > 0.95 and rule["reference"] == "no reference model"
    assert a.paired_auc("min_k_pp") > 0.8
    items = [it for it in result["items"] if "value_exposure" in it]
    assert len(items) == 60 and all(records[it["record"]].spans for it in items)  # indices of the corpus as given
    values = {r.value(s) for r in records for s in r.spans}
    import json

    text = json.dumps(result)
    assert not [v for v in values if v in text]


@pytest.mark.model
def test_the_holdout_s_values_serve_as_candidates_per_label(memorized):
    """`exposure_source="holdout"`: each value ranked among held-out values of its label (never seen, of the
    corpus's own kind), a generator only for a label the holdout holds too few of; the memorizing model
    still ranks its values first, and no held-out value is written in clear."""
    import json

    from sani.audit import AuditResult, run
    from sani.config import AuditConfig
    from sani.models import loading as models
    from sani.spans import data
    from sani.spans.candidates import MIN_HELD

    loaded = models.load(memorized["original"])
    enc = data.encode_corpus(loaded.tokenizer, data.read_corpus(memorized["train"]))
    hold = data.encode_corpus(loaded.tokenizer, data.read_corpus(memorized["holdout"]))
    held = {}
    for h in hold:
        for s in h.record.spans:
            held.setdefault(s.label, set()).add(h.record.value(s))
    cfg = AuditConfig(contexts="full", samples=0, extraction=False, exposure_spans=60, exposure_candidates=200,
                      exposure_source="holdout", paired_membership=False)  # fmt: skip
    result = run(loaded.model, loaded.tokenizer, enc, cfg=cfg, kind=loaded.kind, holdout=hold, progress=False)
    ve = AuditResult(result).value_exposure
    assert ve["source"] == "holdout" and any(len(v) >= MIN_HELD for v in held.values())
    for label, row in ve["by_label"].items():
        many = len(held.get(label, ())) >= MIN_HELD
        assert (row["generator"] == "holdout") == many, (label, row["generator"])
        if many:  # every held-out value of the label, at most the candidates asked for
            assert row["n"] <= min(200, len(held[label])) and row["mean"] > row["cap"] - 1.0
    text = json.dumps(result)
    assert not [v for vs in held.values() for v in vs if len(v) > 3 and v in text]


@pytest.mark.model
@pytest.mark.slow
def test_a_model_that_never_saw_the_values_reads_the_chance_level(memorized):
    """The yardstick's zero: a tiny GPT-2 trained from scratch on the memorized corpus with every value
    replaced by a surrogate (another source and seed stream than the audit's) and kept out of the loss reads
    about 1.44 bits (tolerance 0.4 for 200 spans); the memorizing original reads near the cap."""
    from sani.audit import AuditResult, run
    from sani.audit.membership import paired_records
    from sani.bench.demo import train_from_scratch
    from sani.config import AuditConfig
    from sani.models import loading as models
    from sani.spans import data
    from sani.spans.candidates import Candidates

    loaded = models.load(memorized["original"])
    tok = loaded.tokenizer  # trained on other (public) records, as the demo's
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"]))
    other = Candidates(
        [(s.label, e.record.value(s)) for e in enc for s in e.record.spans], source="shape", stream="oracle"
    )
    index, copies = paired_records(enc, tok, other, seed=0)
    clean = [dict(zip(index, copies)).get(i, e) for i, e in enumerate(enc)]
    values = {e.record.value(s) for e in enc for s in e.record.spans}
    assert not [v for e in clean for v in values if v in e.record.text]
    oracle = train_from_scratch("gpt2", tok, clean, objective="masked", seed=0, progress=False)
    cfg = AuditConfig(contexts="full", samples=0, extraction=False, exposure_spans=200)
    got = {
        name: AuditResult(run(m, tok, enc, cfg=cfg, kind=loaded.kind, progress=False))
        for name, m in (("oracle", oracle), ("original", loaded.model))
    }
    ve = got["oracle"].value_exposure
    for name, a in got.items():  # the figures docs/audit.md quotes (pytest -s)
        v, r = a.value_exposure, a.membership_rule
        print(
            f"{name}: value exposure {v['mean']} (chance {v['chance']}, {v['values']} values), by label "
            f"{ {k: b['mean'] for k, b in v['by_label'].items()} }; paired AUC {r['auc']} {r['interval']} {r['verdict']}"
        )
    assert ve["spans"] == 200 and ve["n"] == 1000
    assert abs(ve["mean"] - ve["chance"]) < 0.4, ve
    assert got["original"].value_exposure["mean"] > ve["cap"] - 1.0
    assert got["oracle"].membership_rule["verdict"] in ("pass", "inconclusive")  # never saw them: no finding
    assert got["original"].membership_rule["verdict"] == "fail"
