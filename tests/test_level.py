"""The level correction's arithmetic (`sani.repair.level`): per-record, per-label log-likelihood per token, the gap
between trained-on and held-out records, and the bounded integral step; the windows' label columns."""

import math
from collections import Counter

import pytest

from sani.models.kinds import KINDS
from sani.repair import level
from sani.repair import training as repair
from sani.spans.data import Encoded, Record, Span

pytestmark = pytest.mark.unit


class _Scores:
    """A kind whose span log-likelihoods are given: the arithmetic on top of them is what is tested."""

    def __init__(self, rows):
        self.rows = rows

    def span_logliks(self, model, tokenizer, encoded, progress=False):
        return [self.rows[e.record.text.strip()] for e in encoded]


def _rec(text: str, labels: list[str], tokens: list[int]) -> Encoded:
    spans = [Span(i, i + 1, label) for i, label in enumerate(labels)]
    span_of_token = [-1] + [j for j, n in enumerate(tokens) for _ in range(n)]
    return Encoded(list(range(len(span_of_token))), span_of_token, Record(text + " " * len(labels), spans))


def test_per_token_pools_a_records_spans_of_one_label_and_skips_the_unscored():
    a = _rec("a", ["NAME", "NAME", "ID"], [2, 1, 4])  # NAME: 3 tokens, -6 nats; ID: 4 tokens, -2
    b = _rec("b", ["ID", "NAME"], [2, 2])  # NAME not scored (past the window): no NAME number for b
    kind = _Scores({"a": [-4.0, -2.0, -2.0], "b": [-3.0, math.nan]})
    got = level.per_token(kind, None, None, [a, b])
    assert got == [{"NAME": pytest.approx(-2.0), "ID": pytest.approx(-0.5)}, {"ID": pytest.approx(-1.5)}]
    assert level.per_token(kind, None, None, []) == []


def test_gaps_pair_each_record_with_its_copies_and_take_the_median_per_label():
    n = level.MIN_RECORDS
    members = [_rec(f"s{i}", ["NAME", "ID"], [1, 1]) for i in range(n + 1)]
    copies = [[_rec(f"c{i}-{k}", ["NAME", "ID"], [1, 1]) for k in range(2)] for i in range(n)] + [[]]
    rows = {}
    for i in range(n):  # record i's own context sets its level: -i for every value in it and its copies
        rows[f"s{i}"] = [-i + 1.0, -i - 2.0]  # NAME 1 nat above its copies; ID 2 below, paired
        rows[f"c{i}-0"], rows[f"c{i}-1"] = [-i - 0.5, -i + 0.5], [-i + 0.5, -i - 0.5]
    rows[f"s{n}"] = [50.0, 50.0]  # no copies: not compared
    rows["s0"] = [40.0, -2.0]  # one odd record: the median does not follow it
    got = level.gaps(_Scores(rows), None, None, members, copies)
    assert got == {"NAME": pytest.approx(1.0), "ID": pytest.approx(-2.0)}
    assert level.gaps(_Scores(rows), None, None, members[: n - 1], copies[: n - 1]) == {}  # too few: not measured


def test_a_correction_takes_a_share_of_the_gap_within_bounds():
    assert level.corrected(0.0, 1.0) == pytest.approx(-level.GAIN)  # trained-on above: the target goes down
    assert level.corrected(-0.2, -1.0) == pytest.approx(-0.2 + level.GAIN)  # below: it comes back up
    assert level.corrected(0.0, 100.0) == -level.MAX_SHIFT and level.corrected(0.0, -100.0) == level.MAX_SHIFT


def test_windows_carry_their_values_labels_and_anchors_none():
    own = [3, 3, -1, 4, 4, 4, -1]
    targets, labels = [math.nan, math.nan, math.nan, -5.0, -7.0], [0, 0, 1, 1, 0]
    got = repair.value_columns(own, targets, Counter(own), shift=True, labels=labels)
    assert got["value_targets"] == [-7.0] and got["value_labels"] == [0]  # value 3 starts the window: left out
    assert "value_labels" not in repair.value_columns(own, targets, Counter(own))
    assert repair.label_names([_rec("x", ["ID", "NAME", "ID"], [1, 1, 1])]) == ["ID", "NAME"]


def test_copies_take_all_their_values_from_one_held_out_record_that_holds_every_label():
    rec = Record("Ann Lee <ann@x.uk>, Ann Lee, Bo", [Span(0, 7, "NAME"), Span(9, 17, "EMAIL"), Span(20, 27, "NAME"),
                                                    Span(29, 31, "NAME")])  # fmt: skip
    donor = Record("Cy Dee cy@y.uk Ed", [Span(0, 6, "NAME"), Span(7, 14, "EMAIL"), Span(15, 17, "NAME")])
    assert level.transplant(rec, donor) == ["Cy Dee", "cy@y.uk", "Cy Dee", "Ed"]  # a repeated value: the same
    short = Record("Fay cy@z", [Span(0, 3, "NAME"), Span(4, 8, "EMAIL")])
    assert level.transplant(rec, short) == ["Fay", "cy@z", "Fay", "Fay"]  # fewer names: its last, again

    class _Tok:  # what `encode` asks of a tokenizer: offsets of word-sized tokens
        def __call__(self, text, return_offsets_mapping=True, add_special_tokens=True, **kw):
            import re

            spans = [m.span() for m in re.finditer(r"\S+", text)]
            return {"input_ids": list(range(len(spans))), "offset_mapping": spans}

    members = [Encoded([], [], rec), Encoded([], [], Record("no values"))]
    holdout = [Encoded([], [], r) for r in (donor, short, Record("Gil", [Span(0, 3, "NAME")]))]
    got = level.paired(_Tok(), members, holdout, seed=0)
    assert [len(cs) for cs in got] == [2, 0]  # the record with only a NAME is no donor while others hold both
    assert {c.record.text for c in got[0]} == {"Cy Dee <cy@y.uk>, Cy Dee, Ed", "Fay <cy@z>, Fay, Fay"}
    # no held-out record holds EMAIL: the NAME-only one serves, the e-mail stays the record's own, unscored
    (copy,) = level.paired(_Tok(), members[:1], holdout[2:], seed=0)[0]
    assert copy.record.text == "Gil <ann@x.uk>, Gil, Gil" and {s.label for s in copy.record.spans} == {"NAME"}
    assert level.paired(_Tok(), members[:1], [Encoded([], [], Record("Zed", [Span(0, 3, "CITY")]))], 0) == [[]]


def test_auto_corrects_a_causal_lms_calibrated_repair_given_a_holdout_read_whole():
    from sani.presets import make_config

    causal, masked = make_config(task="causal-lm"), make_config(task="masked-lm")
    assert causal.level == "auto"
    assert level.resolve(causal, True, KINDS["causal-lm"]).level == "holdout"
    assert level.resolve(causal, False, KINDS["causal-lm"]).level == "fixed"  # no holdout, or streamed
    assert level.resolve(masked, True, KINDS["masked-lm"]).level == "fixed"  # not measured on masked LMs yet
    assert (
        level.resolve(make_config(task="causal-lm", objective="masked+unlikelihood"), True, KINDS["causal-lm"]).level
        == "fixed"
    )
    assert level.resolve(make_config(task="causal-lm", level="fixed"), True, KINDS["causal-lm"]).level == "fixed"
    given = make_config(task="causal-lm", level="holdout")
    assert level.resolve(given, False, KINDS["causal-lm"]) is given  # asked for: the pipeline says what it lacks
