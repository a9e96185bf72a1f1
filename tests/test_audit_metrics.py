"""Each audit metric on cases whose answer is known: a model that memorized (a canary, its corpus) and one
that never saw it, checked against quantities computed independently here."""

import math
import random

import pytest
import torch
from conftest import SEED, fit

from sani.audit import exposure, extraction, probe, scores
from sani.audit import membership as mia
from sani.bench import synthetic, tiny
from sani.models import batching
from sani.models import loading as models
from sani.models.kinds import CausalLM
from sani.spans import canaries, data
from sani.spans.data import Record


@pytest.fixture(scope="module")
def canary_models(tokenizer):
    """A tiny GPT-2 trained on notes plus canaries (one repeated 10 times), and one trained without them."""
    notes = synthetic.make_corpus(10, seed=11 + SEED)
    with_c, definition = canaries.insert_canaries(notes, space="digits:4", repeats=(10, 1), per_repeat=1, seed=3 + SEED)
    trained = {}
    for name, corpus in (("memorized", with_c), ("unseen", notes)):
        model = tiny.tiny_model("gpt2", tokenizer, seed=SEED, layers=2, hidden=64, heads=2)
        fit(model, tokenizer, data.encode_corpus(tokenizer, corpus), objective="full", epochs=30, lr=3e-3, batch_size=8)
        trained[name] = model.eval()
    return trained, definition


def nll(model, tokenizer, text):
    ids = torch.tensor([tokenizer(text)["input_ids"]])
    with torch.no_grad():
        return model(input_ids=ids, labels=ids).loss.item() * (ids.shape[1] - 1)


@pytest.mark.model
def test_exposure_of_a_memorized_and_an_unseen_canary(canary_models, tokenizer):
    trained, definition = canary_models
    fmt = definition["format"]
    ten = next(c for c in definition["canaries"] if c["repeats"] == 10)
    results = {
        name: exposure.exposure(m, tokenizer, CausalLM(), definition, progress=False) for name, m in trained.items()
    }
    for r in results.values():
        assert (
            r["method"] == "exact"
            and r["candidates"] == 10_000
            and r["log2_space"] == pytest.approx(math.log2(1e4), abs=1e-3)
        )
    mem = next(i for i in results["memorized"]["items"] if i["id"] == ten["id"])
    unseen = next(i for i in results["unseen"]["items"] if i["id"] == ten["id"])
    assert mem["exposure"] > 9  # rank 1..20 of 10,000
    assert unseen["exposure"] < 6
    # independently: the memorized secret beats 300 random candidates, scored one by one here
    rng = random.Random(0)
    others = [f"{rng.randrange(10_000):04d}" for _ in range(300)]
    true_nll = nll(trained["memorized"], tokenizer, fmt.replace("{secret}", ten["secret"]))
    worse = sum(
        nll(trained["memorized"], tokenizer, fmt.replace("{secret}", o)) > true_nll
        for o in others
        if o != ten["secret"]
    )
    assert worse >= 0.97 * len([o for o in others if o != ten["secret"]])
    # the estimate from a fitted normal agrees on which canary is exposed
    est = {
        name: exposure.exposure(m, tokenizer, CausalLM(), definition, exact_limit=0, samples=500, progress=False)
        for name, m in trained.items()
    }
    e_mem = next(i for i in est["memorized"]["items"] if i["id"] == ten["id"])["exposure"]
    e_unseen = next(i for i in est["unseen"]["items"] if i["id"] == ten["id"])["exposure"]
    assert est["memorized"]["method"] == "normal fit" and e_mem > 7 and e_unseen < 6


@pytest.mark.unit
def test_canary_insertion_and_definition(tmp_path):
    recs = [Record("a note"), Record("another note")]
    out, definition = canaries.insert_canaries(
        recs, fmt="PIN {secret}!", space="hex:3", repeats=(1, 3), per_repeat=2, seed=1
    )
    assert len(out) == 2 + 2 * 1 + 2 * 3
    texts = [r.text for r in out if r.spans]
    for c in definition["canaries"]:
        assert texts.count(f"PIN {c['secret']}!") == c["repeats"]
        assert len(c["secret"]) == 3 and set(c["secret"]) <= set("0123456789abcdef")
    span = next(r for r in out if r.spans).spans[0]
    assert (span.start, span.end, span.label) == (4, 7, "CANARY")


@pytest.mark.unit
def test_auc_matches_pairwise_counting():
    rng = random.Random(0)
    m = [rng.gauss(1, 1) for _ in range(40)] + [0.5, 0.5]
    n = [rng.gauss(0, 1) for _ in range(30)] + [0.5]
    pairs = sum((a > b) + 0.5 * (a == b) for a in m for b in n) / (len(m) * len(n))
    assert mia.auc(m, n) == pytest.approx(pairs)
    assert mia.privleak(0.5) == 0 and mia.privleak(1.0) == -100


@pytest.mark.model
def test_membership_auc_near_1_for_training_records_and_near_half_for_unseen(memorized, tokenizer):
    model, tok = models.load(memorized["original"]).pair
    members = data.encode_corpus(tok, data.read_corpus(memorized["train"]))
    holdout = data.encode_corpus(tok, data.read_corpus(memorized["holdout"]))
    seen = mia.membership(model, tok, CausalLM(), members, holdout, progress=False)
    assert seen["sensitive"]["loss"]["auc"] > 0.95 and seen["record"]["loss"]["auc"] > 0.9
    assert seen["sensitive"]["loss"]["privleak"] < -80
    # two sets of records the model never saw: no attack should separate them
    a = data.encode_corpus(tok, synthetic.make_corpus(40, seed=101, repeats=(1,)))
    b = data.encode_corpus(tok, synthetic.make_corpus(40, seed=202, repeats=(1,)))
    unseen = mia.membership(model, tok, CausalLM(), a, b, progress=False)
    for scope in ("record", "sensitive"):
        for name, v in unseen[scope].items():
            assert abs(v["auc"] - 0.5) < 0.2, (scope, name, v)
    # with a reference model the difference attack is reported too
    ref = tiny.tiny_model("gpt2", tok, seed=3).eval()
    with_ref = mia.membership(model, tok, CausalLM(), members[:20], holdout[:20], reference=ref, progress=False)
    assert with_ref["record"]["ref"]["auc"] > 0.9


@pytest.mark.model
def test_extraction_metrics_on_memorized_and_fresh_models(memorized):
    model, tok = models.load(memorized["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"]))[:25]
    mem = extraction.extraction(model, tok, enc, kind=CausalLM(), el_spans=20, progress=False)
    untrained = tiny.tiny_model("gpt2", tok, seed=1).eval()
    fresh = extraction.extraction(untrained, tok, enc, kind=CausalLM(), el_spans=20, progress=False)
    assert mem["em"] > 0.7 and mem["es"] > 0.6 and mem["el_2"] > 0.6 and mem["ma"] > 0.9
    assert fresh["em"] < 0.05 and fresh["es"] < 0.05 and fresh["el_2"] < 0.05 and fresh["ma"] < 0.05
    # ES checked independently for a few spans: greedy decoding from prefix + the first k value tokens
    tf = extraction.teacher_forced(model, tok, enc, kind=CausalLM(), progress=False)
    (correct, _) = tf[0]
    ts = [t for t, s in enumerate(enc[0].span_of_token) if s == 0 and t > 0]
    ids = enc[0].input_ids
    for k in range(len(ts)):
        x = torch.tensor([ids[: ts[0] + k]])
        out = model.generate(
            input_ids=x,
            attention_mask=torch.ones_like(x),
            max_new_tokens=len(ts) - k,
            do_sample=False,
            pad_token_id=0,
            eos_token_id=None,
        )[0, x.shape[1] :].tolist()
        assert (out == ids[ts[0] + k : ts[-1] + 1]) == all(correct[t] for t in ts[k:])


@pytest.mark.model
def test_linear_probe_reads_the_task_from_a_trained_model(memorized, tmp_path):
    import json

    from sani.errors import SaniError

    rows = synthetic.make_task(120, seed=1)
    path = tmp_path / "task.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = probe.read_probe(path)
    model, tok = models.load(memorized["original"]).pair
    trained = probe.linear_probe(model, tok, task)
    assert trained["labels"] == 4 and trained["test"] == 36
    assert trained["accuracy"] > trained["majority_baseline"] + 0.2  # the notes' condition is linearly readable
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "label": 1}\n' * 12)
    with pytest.raises(SaniError, match="at least 10 examples and 2 labels"):
        probe.read_probe(tmp_path / "bad.jsonl")
    (tmp_path / "bad2.jsonl").write_text('{"text": "a"}\n')
    with pytest.raises(SaniError, match="line 1: needs a 'label'"):
        probe.read_probe(tmp_path / "bad2.jsonl")


def _paper_scores(model, tokenizer, text, k=0.2, window=None):
    """One record alone, from the papers' definitions: LOSS (Yeom et al.), zlib (Carlini et al. 2021: mean NLL
    over the zlib entropy of the text scored), Min-K% (Shi et al.), Min-K%++ (Zhang et al.); a record longer
    than `window` tokens read one window at a time, each window's first token unpredicted."""
    import zlib

    ids = tokenizer(text)["input_ids"]
    window = window or len(ids)
    tok, mu, sigma = [], [], []
    for i in range(0, len(ids), window):
        part = ids[i : i + window]
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=torch.tensor([part])).logits[0, :-1].double(), -1)
        tok.append(lp.gather(-1, torch.tensor(part[1:]).unsqueeze(-1)).squeeze(-1))
        mu.append((lp.exp() * lp).sum(-1))
        sigma.append(((lp.exp() * lp * lp).sum(-1) - mu[-1] * mu[-1]).sqrt())
    tok, mu, sigma = torch.cat(tok), torch.cat(mu), torch.cat(sigma)
    n = max(1, int(len(tok) * k))
    return {
        "loss": tok.mean().item(),
        "zlib": tok.mean().item() / len(zlib.compress(text.encode())),
        "min_k": tok.sort().values[:n].mean().item(),
        "min_k_pp": ((tok - mu) / sigma).sort().values[:n].mean().item(),
    }


@pytest.mark.model
def test_membership_scores_match_the_papers_definitions_and_keep_the_corpus_index(tokenizer):
    """Batched, padded scoring equals the one-record computation; records without spans are not members, and
    each member's scores carry its index in the corpus."""
    model = tiny.tiny_model("gpt2", tokenizer, seed=0, layers=2, hidden=64, heads=2).eval()
    records = synthetic.make_corpus(4, seed=2)
    records.insert(1, data.Record("A record with no sensitive value at all, of some length."))
    enc = data.encode_corpus(tokenizer, records)
    result = mia.membership(model, tokenizer, CausalLM(), enc, enc[2:], progress=False)
    assert [m["index"] for m in result["member_scores"]] == [i for i, r in enumerate(records) if r.spans]
    assert 1 not in [m["index"] for m in result["member_scores"]]
    for m in result["member_scores"]:
        want = _paper_scores(model, tokenizer, records[m["index"]].text)
        # float32 here, float64 there: Min-K%++'s spread (E[lp^2] - mu^2) loses a few digits
        assert m["record"] == pytest.approx({k: round(v, 4) for k, v in want.items()}, rel=1e-3, abs=2e-4)


@pytest.mark.model
def test_a_record_longer_than_the_window_is_scored_whole_in_one_pass_shared_by_the_audit(tokenizer, monkeypatch):
    """A causal LM's record longer than its window: membership scores every window (each one's first token
    unpredicted) and compresses the whole text; inside `one_pass` utility and extraction read the same pass."""
    from sani.audit import utility
    from sani.models import kinds

    model = tiny.tiny_model("gpt2", tokenizer, seed=0, layers=2, hidden=64, heads=2, positions=64).eval()
    limit = batching.max_positions(model)
    text = " ".join(r.text for r in synthetic.make_corpus(3, seed=3))
    enc = data.encode_corpus(tokenizer, [data.Record(text)])[0]
    assert len(enc.input_ids) > 2 * limit
    stats = mia.token_stats(model, tokenizer, CausalLM(), [enc], progress=False)[0]
    assert len(stats["logp"]) == len(enc.input_ids) - 1 and math.isnan(stats["logp"][limit - 1])
    assert scores.scored_text(tokenizer, enc, len(stats["logp"])) == text
    got = scores.record_scores(stats, text, None)
    assert got == pytest.approx(_paper_scores(model, tokenizer, text, window=limit), rel=1e-3, abs=1e-4)
    calls = []
    model.register_forward_hook(lambda *a: calls.append(1))
    with kinds.one_pass():
        u = utility.utility(model, tokenizer, [enc], kind=CausalLM(), progress=False)
        read = len(calls)
        tf = extraction.teacher_forced(model, tokenizer, [enc], kind=CausalLM(), progress=False)
        again = mia.token_stats(model, tokenizer, CausalLM(), [enc], progress=False)[0]
    assert read >= 1 and len(calls) == read  # one pass, read once
    assert again["logp"][: limit - 1] == pytest.approx(stats["logp"][: limit - 1], abs=1e-6)
    assert tf[0][1][1:limit] == pytest.approx(stats["logp"][: limit - 1], abs=1e-6) and tf[0][0][limit] is False
    kept = [lp for t, lp in enumerate(stats["logp"], 1) if not enc.sensitive[t] and lp == lp]
    assert u["tokens"] == len(kept) and u["perplexity"] == pytest.approx(math.exp(-sum(kept) / len(kept)), rel=1e-4)
    mia.token_stats(model, tokenizer, CausalLM(), [enc], progress=False)
    assert len(calls) > read  # outside `one_pass`, nothing is kept
