"""Surrogates learnt from the corpus (`sani.spans.lookalike`): the corpus's own layouts, pieces and prefixes, never
one of its values, never an echo of the value they stand for; and what serves each label."""

import random
import string

import pytest
from faker import Faker

from sani.repair.calibrate import sources
from sani.spans import lookalike
from sani.spans.candidates import Candidates, label_kind
from sani.spans.data import Record, Span

pytestmark = pytest.mark.unit


def _values(n: int = 60) -> dict[str, list[str]]:
    """Values in formats sani's generators do not write: British mobiles, custom ids, Polish order numbers."""
    rng = random.Random(7)
    f = Faker("en_GB")
    f.seed_instance(7)
    return {
        "MOBILE": [f"07{rng.randint(100, 999)} {rng.randint(0, 999999):06d}" for _ in range(n)],
        "STAFF_ID": [
            f"{rng.choice('ABCD')}{rng.choice(string.ascii_uppercase)}{rng.randint(0, 10**7 - 1):07d}" for _ in range(n)
        ],  # fmt: skip
        "ORDER": [f"ZAM/{rng.randint(2019, 2025)}/{rng.randint(0, 99999):05d}" for _ in range(n)],
        "PERSON": [f.name() for _ in range(n)],
    }


def test_surrogates_keep_the_corpus_layouts_and_prefixes_and_are_none_of_its_values():
    values = _values()
    pairs = [(label, v) for label, vs in values.items() for v in vs]
    cands = Candidates(pairs, source="corpus", stream="repair")
    corpus = {v for _, v in pairs}
    for label, vs in values.items():
        assert cands.served(label) == "corpus"
        for i, v in enumerate(vs[:20]):
            got, generator = cands.for_value(label, v, 8, seed=str(i))
            assert generator == "corpus" and len(got) == 8 and not set(got) & corpus
            assert all(lookalike.layout(s) == lookalike.layout(v) for s in got), (label, got)
    mobiles = cands.for_value("MOBILE", values["MOBILE"][0], 50, seed="x")[0]
    assert sum(s.startswith("07") for s in mobiles) >= 45  # the prefix all the values share
    ids = [s for i, v in enumerate(values["STAFF_ID"]) for s in cands.for_value("STAFF_ID", v, 4, seed=str(i))[0]]
    assert sum(s[0] in "ABCD" for s in ids) >= 0.9 * len(ids)  # letters drawn from those at that place
    names = cands.for_value("PERSON", values["PERSON"][0], 20, seed="n")[0]
    words = {w for v in values["PERSON"] for w in v.split()}
    assert sum(all(w in words for w in s.split()) for s in names) >= 18  # the corpus's own words


def test_a_surrogate_never_echoes_the_value_it_stands_for():
    """A value alone in its layout: its own digits and letter runs are left out of what it is drawn from."""
    others = [f"07{d:03d} {d * 7919 % 10**6:06d}" for d in range(100, 140)]
    lonely = "5-123456-XQ"
    cands = Candidates([("ID", v) for v in [*others, lonely]], source="corpus")
    got = cands.for_value("ID", lonely, 40, seed="s")[0]
    same = sum(a == b for s in got for a, b in zip(s, lonely) if b.isdigit())
    assert same <= 0.25 * sum(c.isdigit() for c in lonely) * len(got)  # chance: 0.1
    assert all("XQ" not in s for s in got)


def test_labels_with_few_values_fall_back_and_kinds_go_by_whole_words():
    pairs = [("EMAIL", f"user{i}@example.org") for i in range(3)] + [("USERNAME", f"jdoe{i}") for i in range(3)]
    cands = Candidates(pairs, source="corpus")
    assert cands.served("EMAIL") == "faker:email" and cands.served("USERNAME") == "shape"
    assert cands.for_value("USERNAME", "jdoe0", 5, seed="u")[1] == "shape"
    assert label_kind("USERNAME") is None and label_kind("IP_ADDRESS") is None  # not a name, not a street
    assert label_kind("PATIENT_NAME") == "name" and label_kind("DATE_OF_BIRTH") == "date"
    assert label_kind("LASTNAME") == "name" and label_kind("EMAIL_ADDRESS") == "email"
    records = [Record(f"id {v}", [Span(3, 3 + len(v), "ORDER")]) for v in _values()["ORDER"]]
    records += [Record("call j.doe", [Span(5, 10, "USERNAME")])]
    assert sources(records, "corpus") == {"ORDER": "corpus", "USERNAME": "shape"}
    assert sources(records, "faker") == {"ORDER": "shape", "USERNAME": "shape"}


def test_with_the_tokenizer_surrogate_digits_come_in_the_values_tokens():
    """A tokenizer learnt on the corpus merges its ids' digits: per-digit draws would take more tokens than
    the values do (and be less likely for that alone); drawn from the values' digit tokens they take as many."""
    from sani.bench import tiny

    ids = _values(80)["STAFF_ID"]
    texts = [f"staff number {v} on file" for v in ids for _ in range(3)]
    tok = tiny.train_tokenizer(texts, vocab_size=600)

    def tokens(s: str) -> int:
        return len(tok(" " + s, add_special_tokens=False)["input_ids"])

    pairs = [("STAFF_ID", v) for v in ids]
    by_tokens = Candidates(pairs, source="corpus", tokenizer=tok)
    by_digits = Candidates(pairs, source="corpus")
    own = sum(tokens(v) for v in ids[:20]) / 20
    mean = {}
    for name, cands in (("tokens", by_tokens), ("digits", by_digits)):
        got = [s for i, v in enumerate(ids[:20]) for s in cands.for_value("STAFF_ID", v, 5, seed=str(i))[0]]
        mean[name] = sum(map(tokens, got)) / len(got)
    assert abs(mean["tokens"] - own) <= 0.15 * own < mean["digits"] - own, (own, mean)
