"""The calibrated repair's pieces: the loss on hand-computed cases, its targets and windows, the collators."""

import math

import pytest
import torch

from sani.models.collators import IGNORE, MLMCollator, SpanCollator
from sani.models.kinds import CausalLM
from sani.repair import calibrate, losses
from sani.repair import training as repair
from sani.spans import data
from sani.spans.data import Record, Span

NAN = float("nan")


@pytest.mark.unit
def test_calibrated_loss_pulls_each_value_to_its_target_from_both_sides():
    torch.manual_seed(0)
    logits = torch.randn(1, 6, 5, requires_grad=True)
    forget = torch.tensor([[IGNORE, 3, 4, IGNORE, 2, 1]])
    vid = torch.tensor([[-1, 0, 0, -1, 1, -1]])  # the last sensitive token belongs to no value with a target
    lp = torch.log_softmax(logits[0, :-1].detach(), -1)  # causal: position t-1 predicts token t
    total0, total1 = lp[0, 3] + lp[1, 4], lp[3, 2]
    got_total, got_count = losses.value_logliks(logits, forget, vid, 2)
    assert torch.allclose(got_total.detach(), torch.tensor([[total0, total1]])) and got_count.tolist() == [[2, 1]]
    # one value 1 nat a token above its target, the other 1 nat below: the same loss, either side
    targets = torch.tensor([[float(total0) - 2.0, float(total1) + 1.0]])
    loss = losses.calibrated_loss(logits, forget, value_ids=vid, value_targets=targets, beta=0.1)
    assert loss.item() == pytest.approx(1.0 - 0.05, abs=1e-5)  # smooth-L1: |gap| - beta/2
    loss.backward()
    g = logits.grad[0, :-1]
    assert g[0, 3] > 0 and g[1, 4] > 0  # value above its target: pushed down (gradient descent lowers it)
    assert g[3, 2] < 0  # value below its target: pulled up
    assert logits.grad[0, 4].abs().sum() == 0  # the sensitive token with no target: untouched
    # at the target, no pull; no target at all: zero, not NaN
    at = losses.calibrated_loss(logits, forget, value_ids=vid, value_targets=torch.tensor([[float(total0), NAN]]))
    assert at.item() == pytest.approx(0.0, abs=1e-6)
    none = losses.calibrated_loss(logits, forget, value_ids=vid, value_targets=torch.tensor([[NAN, NAN]]))
    assert none.item() == 0.0


@pytest.mark.unit
def test_a_level_offset_shifts_each_target_per_token():
    torch.manual_seed(0)
    logits = torch.randn(1, 6, 5, requires_grad=True)
    forget, vid = torch.tensor([[IGNORE, 3, 4, IGNORE, 2, IGNORE]]), torch.tensor([[-1, 0, 0, -1, 1, -1]])
    total, _ = losses.value_logliks(logits.detach(), forget, vid, 2)
    at = total.clone()  # both values exactly at their targets
    # value 0 (2 tokens) aimed half a nat a token higher: 0.5 below its new level; value 1 left where it is
    offsets = torch.tensor([[0.5, 0.0]])
    loss = losses.calibrated_loss(logits, forget, value_ids=vid, value_targets=at, value_offsets=offsets, beta=0.1)
    assert loss.item() == pytest.approx((0.5 - 0.05) / 2, abs=1e-5)  # the mean over the two values
    loss.backward()
    assert logits.grad[0, 0, 3] < 0 and logits.grad[0, 1, 4] < 0  # value 0 pulled up towards its new level
    assert logits.grad[0, 3].abs().sum() < 1e-6  # value 1, at its level: no pull
    # a negative offset by as much, from the value's own level: the same loss, the other way
    down = losses.calibrated_loss(logits, forget, value_ids=vid, value_targets=at, value_offsets=-offsets, beta=0.1)
    assert down.item() == pytest.approx(loss.item(), abs=1e-6)


@pytest.mark.unit
def test_calibrated_unlikelihood_adds_unlikelihood_on_the_tokens_outside_whole_values():
    torch.manual_seed(0)
    logits = torch.randn(1, 5, 7)
    forget, vid = torch.tensor([[IGNORE, 3, 4, 2, IGNORE]]), torch.tensor([[-1, 0, 0, -1, -1]])
    tgt = torch.tensor([[-3.0]])
    alone = torch.tensor([[IGNORE, IGNORE, IGNORE, 2, IGNORE]])
    for shift in (False, True):
        got = losses.calibrated_unlikelihood_loss(logits, forget, shift, value_ids=vid, value_targets=tgt)
        want = losses.calibrated_loss(logits, forget, shift, value_ids=vid, value_targets=tgt)
        assert torch.isclose(got, want + losses.unlikelihood_loss(logits, alone, shift))


@pytest.mark.unit
def test_counterfactual_replaces_every_span_and_moves_the_spans():
    rec = Record("Name: Ann Lee, SSN 123-45-6789, ok", [Span(6, 13, "NAME"), Span(19, 30, "SSN")])
    cf = calibrate.counterfactual(rec, ["Robert Brown", "987-65-4321"])
    assert cf.text == "Name: Robert Brown, SSN 987-65-4321, ok"
    assert [cf.value(s) for s in cf.spans] == ["Robert Brown", "987-65-4321"]
    assert [s.label for s in cf.spans] == ["NAME", "SSN"]
    made = calibrate.copies([rec, Record("no values")], 3, seed=1)
    assert len(made[0]) == 3 and made[1] == []
    values = {rec.value(s) for s in rec.spans}
    for c in made[0]:
        assert not values & {c.value(s) for s in c.spans}  # never a corpus value
    assert made == calibrate.copies([rec, Record("no values")], 3, seed=1)  # seeded
    assert made != calibrate.copies([rec, Record("no values")], 3, seed=2)
    assert made[0] != calibrate.copies([rec], 3, seed=1, offset=5)[0]  # a streamed part: the corpus's index
    twice = Record("Ann Lee met Bob. Ann Lee left.", [Span(0, 7, "NAME"), Span(12, 15, "NAME"), Span(17, 24, "NAME")])
    for c in calibrate.copies([twice], 3, seed=0)[0]:
        first, other, again = (c.value(s) for s in c.spans)
        assert first == again != other  # a repeated value: the same surrogate at each occurrence


@pytest.mark.unit
def test_calibrated_windows_number_whole_values_and_carry_their_targets(tokenizer):
    recs = [
        Record("SSN: 123-45-6789. Follow up in two weeks.", [Span(5, 16, "SSN")]),
        Record("Call 555-0100 or 555-0199 now", [Span(5, 13, "PHONE"), Span(17, 25, "PHONE")]),
    ]
    enc = data.encode_corpus(tokenizer, recs)
    targets = [[-20.0], [-9.0, NAN]]
    windows = repair.build_examples(enc, CausalLM(), "masked+calibrated", 512, targets=targets)
    assert windows[0]["value_targets"] == [-20.0] and windows[1]["value_targets"] == [-9.0]  # NaN: left out
    for w, e in zip(windows, enc):
        want = [0 if s == 0 else -1 for s in e.span_of_token]
        assert w["value_ids"] == want
    # a value cut by the window is left out of it (its target is for the whole value)
    first, size = enc[0].span_of_token.index(0), enc[0].span_of_token.count(0)
    assert size >= 2
    cut = repair.build_examples(enc[:1], CausalLM(), "masked+calibrated", first + 1, targets=targets[:1])
    assert len(cut) >= 2 and all(v == -1 for w in cut for v in w["value_ids"])
    assert all(w["value_targets"] == [] for w in cut)
    # a value that starts a window: nothing before it predicts its first token, so it is left out there
    from collections import Counter

    own, sizes = [0, 0, 0, -1, 1, 1], Counter({0: 3, 1: 2})
    assert repair.value_columns(own, [-5.0, -4.0], sizes, shift=True) == {
        "value_ids": [-1, -1, -1, -1, 0, 0], "value_targets": [-4.0]}  # fmt: skip
    assert repair.value_columns(own, [-5.0, -4.0], sizes, shift=False)["value_targets"] == [-5.0, -4.0]  # masked
    silent = repair.build_examples(enc, CausalLM(), "masked+calibrated", 512, targets=targets, learn=False)
    assert all(lab == IGNORE for w in silent for lab in w["labels"])
    assert silent[0]["forget_labels"] == windows[0]["forget_labels"]
    # an anchor pushes nothing down: its forget labels only at the values it holds at their targets
    assert [lab != IGNORE for lab in silent[1]["forget_labels"]] == [v >= 0 for v in silent[1]["value_ids"]]
    assert sum(lab != IGNORE for lab in windows[1]["forget_labels"]) > sum(v >= 0 for v in windows[1]["value_ids"])


@pytest.mark.unit
def test_collators_pad_values_and_mask_whole_values(tokenizer):
    batch = SpanCollator(0)(
        [
            {"input_ids": [5, 6, 7], "labels": [5, IGNORE, 7], "forget_labels": [IGNORE, 6, IGNORE],
             "value_ids": [-1, 0, -1], "value_targets": [-3.0]},
            {"input_ids": [8], "labels": [8], "forget_labels": [IGNORE], "value_ids": [-1], "value_targets": []},
        ]
    )  # fmt: skip
    assert batch["value_ids"].tolist() == [[-1, 0, -1], [-1, -1, -1]]
    assert batch["value_targets"][0].tolist() == [-3.0] and math.isnan(batch["value_targets"][1, 0])
    from transformers import BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghij"]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        (open(f"{d}/vocab.txt", "w")).write("\n".join(vocab))
        bert = BertTokenizerFast(f"{d}/vocab.txt")
    ids = [2, 5, 6, 7, 8, 9, 10, 3]
    row = {"input_ids": ids, "sensitive": [0, 0, 1, 1, 0, 1, 0, 0], "value_ids": [-1, -1, 0, 0, -1, 1, -1, -1],
           "value_targets": [-4.0, -2.0]}  # fmt: skip
    torch.manual_seed(0)
    seen = set()
    for _ in range(40):
        out = MLMCollator(bert, forget_probability=0.5)([row, {**row, "learn": 0}])
        masked = out["forget_labels"] != IGNORE
        for r in range(2):
            got = tuple(masked[r].tolist())
            assert got[2] == got[3]  # a value's tokens are masked together, never apart
            seen.add(got[2:6])
            assert (out["value_ids"][r] >= 0).tolist() == masked[r].tolist()
            assert all(out["input_ids"][r, masked[r]] == bert.mask_token_id)
        assert (out["labels"][1] == IGNORE).all()  # a window that teaches nothing
    assert len(seen) == 4  # each value chosen on its own
    apart = set()
    for _ in range(40):  # +unlikelihood: the values not masked whole have tokens masked alone, as the probe asks
        out = MLMCollator(bert, forget_probability=0.5, alone=True)([row, {**row, "learn": 0}])
        masked, whole = out["forget_labels"] != IGNORE, out["value_ids"] >= 0
        assert not (masked[0] & ~torch.tensor(row["sensitive"], dtype=torch.bool)).any()
        apart.add(tuple((masked[0] & ~whole[0]).tolist()[2:4]))
        assert masked[1].tolist() == whole[1].tolist()  # never in an anchor, which holds its surrogates' level
    assert {(True, False), (False, True)} <= apart


@pytest.mark.model
@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_span_logliks_score_each_value_as_the_repair_does(arch):
    """A span's log-likelihood: causal, the sum of log p(token | before) over its tokens; masked, the span
    masked whole (what the calibrated repair's collator masks). Targets come out per record and span."""
    from sani.bench import synthetic, tiny
    from sani.models.kinds import of

    records = synthetic.make_corpus(4, seed=1)
    tok = tiny.train_for(arch, [r.text for r in synthetic.make_corpus(40, seed=2)])
    model = tiny.tiny_model(arch, tok, layers=1, hidden=32, heads=2).eval()
    enc = data.encode_corpus(tok, records[:2])
    kind = of(model)
    got = kind.span_logliks(model, tok, enc, progress=False)
    e = enc[0]
    j = max(range(len(e.record.spans)), key=lambda j: e.span_of_token.count(j))  # the longest value
    pos = [p for p, s in enumerate(e.span_of_token) if s == j]
    ids = torch.tensor([e.input_ids])
    with torch.no_grad():
        if kind.shift:
            lp = torch.log_softmax(model(ids).logits[0], -1)
            want = sum(float(lp[p - 1, e.input_ids[p]]) for p in pos)
        else:
            hidden = ids.clone()
            hidden[0, pos] = tok.mask_token_id
            lp = torch.log_softmax(model(hidden).logits[0], -1)
            want = sum(float(lp[p, e.input_ids[p]]) for p in pos)
    assert got[0][j] == pytest.approx(want, abs=1e-4)
    assert [len(r) for r in got] == [len(x.record.spans) for x in enc]
    cal = calibrate.calibration(model, tok, kind, enc, k=3, anchors=1, progress=False)
    assert [len(t) for t in cal.targets] == [len(x.record.spans) for x in enc]
    assert len(cal.anchors) == sum(1 for x in enc if x.record.spans)
    assert all(not math.isnan(t) for ts in cal.targets for t in ts)
