import math

import pytest
import torch
from conftest import fit

from sani.bench import tiny
from sani.models.collators import IGNORE, SpanCollator
from sani.models.kinds import CausalLM
from sani.repair import losses
from sani.repair import training as repair
from sani.repair.objectives import OBJECTIVES
from sani.spans import data
from sani.spans.data import Record, Span

NAN = float("nan")


@pytest.mark.unit
def test_lm_loss_ignores_masked_positions():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 7)
    labels = torch.tensor([[1, 2, IGNORE, 4, 5], [IGNORE, 3, 3, IGNORE, IGNORE]])
    got = losses.lm_loss(logits, labels)
    terms = []
    for b in range(2):
        for t in range(1, 5):
            if labels[b, t] != IGNORE:
                terms.append(-torch.log_softmax(logits[b, t - 1], -1)[labels[b, t]])
    assert torch.allclose(got, torch.stack(terms).mean())
    assert losses.lm_loss(logits, torch.full((2, 5), IGNORE)).item() == 0.0


@pytest.mark.unit
def test_unlikelihood_is_minus_log_one_minus_p():
    torch.manual_seed(1)
    logits = torch.randn(1, 4, 6)
    forget = torch.tensor([[IGNORE, 2, IGNORE, 5]])
    p1 = torch.softmax(logits[0, 0], -1)[2]
    p3 = torch.softmax(logits[0, 2], -1)[5]
    want = -(torch.log(1 - p1) + torch.log(1 - p3)) / 2
    assert torch.allclose(losses.unlikelihood_loss(logits, forget), want, atol=1e-6)
    # a token the model is sure of gets a large but finite loss
    sure = torch.zeros(1, 2, 3)
    sure[0, 0, 1] = 50.0
    val = losses.unlikelihood_loss(sure, torch.tensor([[IGNORE, 1]]))
    assert math.isfinite(val.item()) and val.item() > 10


@pytest.mark.unit
@pytest.mark.parametrize("objective", sorted(n for n, o in OBJECTIVES.items() if o.forgets))
def test_repair_loss_is_the_two_terms_from_one_log_softmax(objective):
    """The trainer's loss shares one log-softmax between its terms: the same value and gradient as the two
    terms computed apart, for every forget term and both kinds; where a token is learnt and forgotten too."""
    torch.manual_seed(2)
    goal = OBJECTIVES[objective]
    forget_loss, base = goal.forget_loss, torch.randn(2, 6, 9)
    labels = torch.tensor([[1, 2, IGNORE, IGNORE, 5, 6], [IGNORE, 3, 3, IGNORE, IGNORE, IGNORE]])
    forget = torch.tensor([[IGNORE, IGNORE, 7, 8, IGNORE, IGNORE], [IGNORE, IGNORE, IGNORE, 4, 2, IGNORE]])
    kw = {"value_ids": torch.tensor([[-1, -1, 0, 0, -1, -1], [-1, -1, -1, 0, 1, -1]]),
          "value_targets": torch.tensor([[-3.0, NAN], [-2.0, -9.0]])}  # fmt: skip
    kw = kw if goal.calibrated else {"ref_logits": base + 0.5} if goal.needs_reference else {}
    same, other = forget.clone(), forget.clone()
    same[:, 1], other[:, 1] = labels[:, 1], labels[:, 1] + 1  # a learnt token forgotten too; another one there
    for shift in (True, False):
        for fl in (forget, same, other):
            grads = []
            for joint in (True, False):
                logits = base.clone().requires_grad_()
                if joint:
                    loss = losses.repair_loss(logits, labels, fl, shift, forget_loss=forget_loss, weight=0.7, **kw)
                else:
                    loss = losses.lm_loss(logits, labels, shift) + 0.7 * forget_loss(logits, fl, shift, **kw)
                loss.backward()
                grads.append((loss.detach(), logits.grad))
            assert torch.allclose(grads[0][0], grads[1][0], atol=1e-5)
            assert torch.allclose(grads[0][1], grads[1][1], atol=1e-6)


@pytest.mark.unit
def test_examples_mask_sensitive_tokens(tokenizer):
    text = "SSN: 123-45-6789. Follow up in two weeks."
    rec = Record(text, [Span(5, 16, "SSN")])
    (enc,) = data.encode_corpus(tokenizer, [rec])
    (masked,) = repair.build_examples([enc], CausalLM(), "masked", 512)
    (full,) = repair.build_examples([enc], CausalLM(), "full", 512)
    assert full["labels"] == enc.input_ids
    for tid, sens, lab, fg in zip(enc.input_ids, enc.sensitive, masked["labels"], masked["forget_labels"]):
        assert lab == (IGNORE if sens else tid)
        assert fg == (tid if sens else IGNORE)
    assert any(enc.sensitive) and not all(enc.sensitive)


@pytest.mark.unit
def test_collator_pads_right_with_ignored_labels():
    batch = SpanCollator(pad_token_id=0)(
        [
            {"input_ids": [5, 6, 7], "labels": [5, IGNORE, 7], "forget_labels": [IGNORE, 6, IGNORE]},
            {"input_ids": [8], "labels": [8], "forget_labels": [IGNORE]},
        ]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[5, IGNORE, 7], [8, IGNORE, IGNORE]]
    assert batch["forget_labels"].tolist() == [[IGNORE, 6, IGNORE], [IGNORE, IGNORE, IGNORE]]


@pytest.mark.model
def test_masked_training_never_learns_the_sensitive_tokens(tokenizer):
    """With the masked objective the sensitive tokens' probability gets no gradient towards them: a value
    seen 80 times in training gains little probability, while the text around it is learned."""
    text = "Contact phone: (555) 867-5309. Follow up in two weeks."
    start = text.index("(555)")
    rec = Record(text, [Span(start, start + 14, "PHONE")])
    (enc,) = data.encode_corpus(tokenizer, [rec])

    def logprobs(model):
        ids = torch.tensor([enc.input_ids])
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=ids).logits[0, :-1], -1)
        picked = lp.gather(-1, ids[0, 1:, None]).squeeze(-1)
        sens = torch.tensor(enc.sensitive[1:])
        return picked[sens].mean().item(), picked[~sens].mean().item()

    results = {}
    for objective in ("full", "masked"):
        model = tiny.tiny_model("gpt2", tokenizer, seed=0, layers=2, hidden=64, heads=2).eval()
        sens0, rest0 = logprobs(model)
        fit(model, tokenizer, [enc] * 40, objective=objective, epochs=2, lr=3e-3, batch_size=8)
        sens1, rest1 = logprobs(model)
        results[objective] = (sens1 - sens0, rest1 - rest0)
    assert results["full"][0] > 1.5 and results["full"][1] > 1.5
    assert results["masked"][1] > 1.5  # the rest is learned as well as with the full objective
    assert results["masked"][0] < 0.3 * results["full"][0]  # the value is not


@pytest.mark.unit
def test_maxent_is_zero_for_a_uniform_prediction_and_positive_otherwise():
    forget = torch.tensor([[IGNORE, 3, IGNORE]])
    assert losses.maxent_loss(torch.zeros(1, 3, 8), forget).abs().item() < 1e-6
    peaked = torch.zeros(1, 3, 8)
    peaked[0, 0, 3] = 10.0
    logp = torch.log_softmax(peaked[0, 0], -1)
    want = -logp.mean() - math.log(8)  # KL(uniform || p)
    assert torch.allclose(losses.maxent_loss(peaked, forget), want)
    assert losses.maxent_loss(peaked, torch.full((1, 3), IGNORE)).item() == 0.0
    both = losses.unlikelihood_maxent_loss(peaked, forget)
    assert torch.allclose(both, losses.unlikelihood_loss(peaked, forget) + losses.maxent_loss(peaked, forget))


@pytest.mark.unit
def test_npo_is_log_two_scaled_at_the_reference_and_falls_as_p_drops():
    torch.manual_seed(2)
    logits = torch.randn(1, 4, 9)
    forget = torch.tensor([[IGNORE, 3, 5, IGNORE]])
    beta = 0.1
    at_ref = losses.npo_loss(logits, forget, ref_logits=logits, beta=beta)
    assert torch.allclose(at_ref, torch.tensor(2 / beta * math.log(2)))
    lower = logits.clone()
    lower[0, 0, 3] -= 5.0  # the model now gives the forget tokens less probability than the reference
    lower[0, 1, 5] -= 5.0
    assert losses.npo_loss(lower, forget, ref_logits=logits, beta=beta) < at_ref
    assert torch.allclose(losses.ascent_loss(logits, forget), -losses.lm_loss(logits, forget))


@pytest.mark.unit
def test_ascent_examples_learn_nothing_but_the_forget_term():
    tok = tiny.train_tokenizer(["Patient John Smith, MRN 1234567, seen today."] * 20, vocab_size=300)
    rec = Record("Patient John Smith, MRN 1234567, seen today.", [Span(8, 18, "NAME")])
    ex = repair.build_examples(data.encode_corpus(tok, [rec]), CausalLM(), "ascent", 64)[0]
    assert all(x == IGNORE for x in ex["labels"])
    assert any(x != IGNORE for x in ex["forget_labels"])


@pytest.mark.unit
def test_half_precision_needs_a_gpu():
    from sani.errors import SaniError
    from sani.presets import make_config

    if torch.cuda.is_available():
        assert make_config(precision="bf16").precision == "bf16"
    else:
        with pytest.raises(SaniError, match="precision='bf16': bf16/fp16 need a GPU"):
            make_config(precision="bf16")


@pytest.mark.model
def test_packing_fills_windows_and_keeps_every_sensitive_flag_on_its_token(tokenizer):
    from sani.bench import synthetic

    records = synthetic.make_corpus(6, seed=3)
    enc = data.encode_corpus(tokenizer, records)
    eos = tokenizer.eos_token_id
    stream_ids, stream_sens = [], []
    for e in enc:
        stream_ids += e.input_ids + [eos]
        stream_sens += e.sensitive + [False]
    windows = repair.build_examples(enc, CausalLM(), "masked", 64, packing=True, separator=eos)
    assert all(len(w["input_ids"]) == 64 for w in windows[:-1]) and len(windows[-1]["input_ids"]) <= 64
    assert len(windows) < sum(len(list(data.windows(e, 64))) for e in enc)  # fewer, fuller windows than one record each
    assert [t for w in windows for t in w["input_ids"]] == stream_ids[: sum(len(w["input_ids"]) for w in windows)]
    for pos, (tid, sens) in enumerate(zip(stream_ids, stream_sens)):
        w, i = divmod(pos, 64)
        if w == len(windows):
            break
        assert windows[w]["labels"][i] == (IGNORE if sens else tid)
        assert windows[w]["forget_labels"][i] == (tid if sens else IGNORE)
    assert any(stream_sens)
    # and training runs on packed windows
    model = tiny.tiny_model("gpt2", tokenizer, layers=1, hidden=32, heads=2)
    stats = fit(model, tokenizer, enc, epochs=1, batch_size=4, max_length=64, packing=True)
    assert stats["steps"] == math.ceil(len(windows) / 4)
