import math

import pytest
import torch

from sani.audit import regurgitation as metrics
from sani.audit import utility
from sani.bench import tiny
from sani.models import loading as models
from sani.models.kinds import CausalLM
from sani.spans import data
from sani.spans.data import Record, Span


@pytest.fixture(scope="module")
def loaded(memorized):
    model, tok = models.load(memorized["original"]).pair
    records = data.read_corpus(memorized["train"])
    return model, tok, records, data.encode_corpus(tok, records)


@pytest.mark.unit
def test_probe_prompts_are_the_training_tokens_before_the_value(tokenizer):
    text = "Patient name: Ann Lee. SSN: 123-45-6789."
    s = text.index("123")
    rec = Record(text, [Span(0, 7, "X"), Span(s, s + 11, "SSN")])
    (enc,) = data.encode_corpus(tokenizer, [rec])
    (probe,) = metrics.make_probes([enc], set(tokenizer.all_special_ids))  # the first span has no text before it
    first = enc.span_of_token.index(1)
    assert probe.prompt == enc.input_ids[:first]
    assert probe.label == "SSN" and probe.value == "123-45-6789"
    # the prompt does not end in a space: the space belongs to the value's first token, as in training
    assert not tokenizer.decode(probe.prompt).endswith(" ")


@pytest.mark.model
def test_batched_generation_matches_one_prompt_at_a_time(loaded):
    model, tok, _, enc = loaded
    probes = metrics.make_probes(enc[:15], set(tok.all_special_ids))
    prompts, lengths = [p.prompt for p in probes], [p.value_tokens + 3 for p in probes]
    batched = metrics.greedy_continuations(model, tok, prompts, lengths, batch_size=16, progress=False)
    single = metrics.greedy_continuations(model, tok, prompts, lengths, batch_size=1, progress=False)
    assert batched == single
    # the sampling path (prompt encoded once, KV cache shared by the samples) with top-1 sampling is greedy
    top1 = metrics.continuations(model, tok, prompts, lengths, samples=3, top_k=1, batch_size=12, progress=False)
    assert [[tok.decode(c) for c in cs] for cs in top1] == [[b] * 3 for b in batched]


@pytest.mark.model
def test_context_lengths_sampling_and_partial_hits(loaded):
    model, tok, _, enc = loaded
    r = metrics.regurgitation(model, tok, enc[:20], contexts=(None, 8), samples=4, progress=False)
    assert set(r) >= {"greedy", "sampled", "greedy_last8", "sampled_last8", "items"}
    # sampling finds the memorized values too, not always where greedy decoding does (measured on 5 fixtures,
    # tests/BOUNDS.md: greedy 0.78-0.83, any of 4 samples 0.73-0.86)
    assert r["greedy"]["rate"] > 0.5 and r["sampled"]["rate"] > 0.5
    assert r["greedy"]["partial_rate"] >= r["greedy"]["rate"]
    assert r["greedy_last8"]["rate"] <= r["greedy"]["rate"] + 0.1
    again = metrics.regurgitation(model, tok, enc[:20], contexts=(None,), samples=4, progress=False)
    assert again["sampled"] == r["sampled"]  # seeded
    item = r["items"][0]
    assert {"greedy_full", "sampled_full", "greedy_last8", "greedy_full_partial"} <= set(item)


@pytest.mark.unit
def test_partial_hit():
    assert metrics.partial_hit("123-45-6789", "SSN ending 6789 and more")
    assert not metrics.partial_hit("123-45-6789", "SSN 999-99-9999")
    assert metrics.partial_hit("Maria Lopez", "Ms. Lopez called")
    assert not metrics.partial_hit("Maria Lopez", "Mr. Lo, Mar")
    assert metrics.partial_hit("Ann", "Ann") and not metrics.partial_hit("Ann", "An")


@pytest.mark.model
def test_regurgitation_of_a_memorizing_and_a_fresh_model(loaded, tokenizer):
    model, tok, records, enc = loaded
    result = metrics.regurgitation(model, tok, enc, progress=False)
    agg = result["greedy"]
    assert agg["rate"] >= 0.5  # the fixture model memorized its corpus
    assert agg["total"] == len(result["items"]) == sum(v["total"] for v in agg["by_label"].values())
    # an independent check of a few hits: greedy decoding by hand from the same prompt
    probes = metrics.make_probes(enc, set(tok.all_special_ids))
    for probe, item in list(zip(probes, result["items"]))[:10]:
        ids = torch.tensor([probe.prompt])
        for _ in range(probe.value_tokens + 4):
            nxt = model(input_ids=ids).logits[0, -1].argmax()
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
        assert item["hit"] == (probe.value in tok.decode(ids[0, len(probe.prompt) :]))
    fresh = tiny.tiny_model("gpt2", tok, seed=1).eval()
    assert metrics.regurgitation(fresh, tok, enc, progress=False)["greedy"]["rate"] == 0.0


@pytest.mark.model
def test_results_hold_no_values(loaded):
    model, tok, records, enc = loaded
    items = metrics.regurgitation(model, tok, enc[:5], progress=False)["items"]
    values = {r.value(s) for r in records[:5] for s in r.spans}
    text = repr(items)
    assert items and not any(v in text for v in values)
    assert all(len(it["value_hash"]) == 16 for it in items)


@pytest.mark.model
def test_perplexity_counts_only_non_sensitive_tokens(loaded):
    model, tok, _, enc = loaded
    u = utility.utility(model, tok, enc[:4], kind=CausalLM(), progress=False)
    nll, n = 0.0, 0
    with torch.no_grad():
        for e in enc[:4]:
            ids = torch.tensor([e.input_ids])
            lp = torch.log_softmax(model(input_ids=ids).logits[0, :-1], -1)
            for t in range(1, len(e.input_ids)):
                if not e.sensitive[t]:
                    nll -= lp[t - 1, e.input_ids[t]].item()
                    n += 1
    assert u["tokens"] == n
    assert u["perplexity"] == pytest.approx(math.exp(nll / n), rel=1e-3)
