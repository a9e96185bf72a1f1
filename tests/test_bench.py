"""The benchmark: baselines change the model the way they claim, and `sani bench` writes every column."""

import json

import pytest

from sani.audit import regurgitation as metrics
from sani.bench import rows as bench
from sani.cli import main
from sani.models import loading as models
from sani.spans import data


@pytest.mark.model
@pytest.mark.parametrize("method", ["gradient-difference", "npo"])
def test_baselines_really_forget_on_a_memorizing_model(memorized, method):
    model, tok = models.load(memorized["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"]))
    before = metrics.regurgitation(model, tok, enc, progress=False)["greedy"]["rate"]
    run = bench.apply_method(model, tok, enc, bench.METHODS[method])
    after = metrics.regurgitation(model, tok, enc, progress=False)["greedy"]["rate"]
    assert before > 0.5 and after < before / 2
    assert run["config"]["fraction"] == 0.0 and run["seconds"] > 0


@pytest.mark.model
def test_depn_zeroes_neurons_without_training(memorized):
    model, tok = models.load(memorized["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"]))[:8]  # one batch of attributions
    run = bench.apply_method(model, tok, enc, bench.METHODS["depn"])
    zeroed = sum(
        int((f.output.weight == 0).all(dim=1 if f.output.weight.shape[0] == f.size else 0).sum())
        for f in models.ffn_layers(model)
    )
    budget = round(0.05 * models.ffn_layers(model)[-1].size)
    assert zeroed == budget and run["config"]["epochs"] == 0.0


@pytest.mark.model
@pytest.mark.slow  # a whole benchmark: memorizing model, oracle, two methods, five audits (about 50 s)
def test_bench_writes_every_column(tmp_path, capsys):
    settings = bench.BenchSettings(
        archs=["gpt2"],
        methods=["sani", "erase-only"],
        patients=4,
        memorize={"epochs": 8},
        exposure={"causal-lm": (10, 20)},
    )
    results = bench.run(settings, tmp_path, progress=False)
    table = results["table"]
    assert "| oracle |" in table and "| sani |" in table and "time / oracle" in table
    (result,) = tmp_path.glob("bench-*.json")
    rows = json.loads(result.read_text())["runs"]["gpt2"]["0"]
    assert set(rows) == {"original", "oracle", "sani", "erase-only"}
    for name, row in rows.items():
        for key in ("greedy", "sampled", "exposure", "value_exposure", "paired_auc", "mia_auc", "privleak", "ppl_ratio",
                    "probe_accuracy", "seconds", "relearn", "relearn_exposure", "int8", "nf4"):  # fmt: skip
            assert row[key] is not None, (name, key)
    assert rows["sani"]["time_vs_oracle"] > 0
    assert (tmp_path / result.name.replace(".json", ".html")).read_text().count("<svg") == 1


@pytest.mark.e2e
def test_bench_rejects_unknown_methods(tmp_path, capsys):
    assert main(["bench", "--methods", "magic", "--out-dir", str(tmp_path)]) == 2
    assert "unknown method(s) magic" in capsys.readouterr().err


@pytest.mark.e2e
def test_gpu_check_script_runs_small_on_cpu():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.main(["--small", "--steps", "3", "--patients", "6", "--batch-size", "4", "--repeats", "1"])
    assert [r["model"] for r in rows] == ["gpt2-tiny", "llama-tiny"]
    for r in rows:
        assert r["plain Trainer tokens/s"] > 0 and r["sani repair tokens/s"] > 0 and r["audit prompts/s"] > 0
        assert r["sani calibrated tokens/s"] > 0 and r["calibration s"] > 0


@pytest.mark.unit
def test_the_machine_record_names_every_library_that_moves_a_figure():
    import faker
    import numpy
    import tokenizers
    import torch

    from sani import machine

    got = machine.record()
    assert got["cpu_capability"] == torch.backends.cpu.get_cpu_capability() and got["threads"] >= 1
    assert (got["tokenizers"], got["numpy"], got["faker"]) == (tokenizers.__version__, numpy.__version__, faker.VERSION)
    assert {"accelerate", "datasets", "transformers", "torch", "sani", "python"} <= set(got)
    assert machine.versions()["torch"] == torch.__version__ and f"numpy {numpy.__version__}" in machine.describe()


@pytest.mark.unit
def test_the_holdout_split_keeps_every_value_on_one_side():
    """`sani bench --corpus` holds out whole groups of records that share a value, never half a person."""
    recs = []
    for person in range(40):
        name, phone = f"Person{person}", f"0{person:04d}"
        for n in range(1 + person % 3):
            text = f"{name} called" if n == 0 else f"{name} at {phone}"
            spans = [data.Span(0, len(name), "PERSON")] + ([data.Span(len(name) + 4, len(text), "PHONE")] if n else [])
            recs.append(data.Record(text, spans))
    train, held = bench.split_holdout(recs, 0.25, seed=3)
    values = [{r.value(s) for r in side for s in r.spans} for side in (train, held)]
    assert not values[0] & values[1] and len(train) + len(held) == len(recs)
    assert 0.2 * len(recs) <= len(held) <= 0.35 * len(recs)


@pytest.mark.unit
def test_membership_per_label_scores_each_labels_own_tokens():
    """Label A's tokens are likelier in members, label B's in non-members: per label the AUCs are 1 and 0,
    where a mean over the record's sensitive tokens would read about 0.5. With 30 distinct values a side a
    label is judged, from both sides: B fails for being below the reference as A does for being above; under
    a reference that scores the same, both pass. With fewer values: not judged."""
    from sani.audit.membership import by_label

    def enc(i: int) -> data.Encoded:
        rec = data.Record(
            f"a{i} b{i}", [data.Span(0, len(str(i)) + 1, "A"), data.Span(len(str(i)) + 2, 2 * len(str(i)) + 3, "B")]
        )
        return data.Encoded([0, 1, 2], [-1, 0, 1], rec)

    members, nonmembers = [enc(i) for i in range(40)], [enc(i) for i in range(100, 140)]
    member_stats = [{"logp": [-1.0 - i / 100, -5.0 - i / 100]} for i in range(40)]  # A likely, B unlikely
    nonmember_stats = [{"logp": [-3.0 - i / 100, -3.0 - i / 100]} for i in range(40)]
    rule = {"margin": 0.05, "resamples": 200, "seed": 0}
    got = by_label((member_stats, members), (nonmember_stats, nonmembers), **rule)
    assert got["A"]["auc"] == 1.0 and got["B"]["auc"] == 0.0
    assert got["A"]["member_values"] == 40 and got["B"]["nonmember_values"] == 40
    assert got["A"]["rule"]["verdict"] == got["B"]["rule"]["verdict"] == "fail"
    assert got["B"]["rule"]["difference"] == -0.5
    same = by_label((member_stats, members), (nonmember_stats, nonmembers), (member_stats, nonmember_stats), **rule)
    assert same["A"]["rule"]["verdict"] == same["B"]["rule"]["verdict"] == "pass"
    few = by_label((member_stats[:10], members[:10]), (nonmember_stats, nonmembers), **rule)
    assert few["A"]["auc"] == 1.0 and "rule" not in few["A"]
    # the paired test's copies (record i against its own copy): pairs resampled whole, the same verdicts
    paired = by_label((member_stats, members), (nonmember_stats, nonmembers), paired=True, **rule)
    assert paired["A"]["rule"]["test"] == "paired" and paired["B"]["rule"]["difference"] == -0.5
    assert paired["A"]["rule"]["verdict"] == paired["B"]["rule"]["verdict"] == "fail"


def _corpora():
    """benchmarks/corpora.py: corpora sani's own generators did not write."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "benchmarks" / "corpora.py"
    spec = importlib.util.spec_from_file_location("sani_bench_corpora", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.model
@pytest.mark.slow  # a tiny GPT-2 memorizes 90 people's HR records, its oracle learns them masked, 3 repairs (~2 min alone)
def test_held_out_surrogates_land_nearer_the_oracle_label_by_label(tmp_path):
    """British HR records (en_GB names, streets, UK mobiles, IBANs, ids of two letters and 7 digits; a
    tokenizer learnt on them): Faker's generic surrogates pull every label's values below where the oracle
    puts them (membership AUC on that label's tokens, training against held-out people); surrogates drawn
    from a third of the held-out people land nearer and not above, and the default, its level corrected on
    the holdout, nearer still. Bounds from seeds 0-2 (docs/benchmarks.md)."""
    corpus = tmp_path / "hr_gb.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in _corpora().hr_gb(90, seed=0)), encoding="utf-8")
    methods = ["calibrated-fixed", "calibrated-holdout", "sani"]
    settings = bench.BenchSettings(archs=["gpt2"], methods=methods, corpus=str(corpus),
                                   attacks="", exposure={"causal-lm": (100, 100)})  # fmt: skip
    rows = bench.run(settings, tmp_path / "out", workdir=tmp_path, progress=False)["runs"]["gpt2"]["0"]
    labels = sorted(rows["oracle"]["by_label"])
    assert labels == ["EMAIL", "EMPLOYEE_ID", "IBAN", "PERSON", "PHONE", "STREET"]

    def gaps(method: str) -> list[float]:
        auc = {m: rows[m]["by_label"] for m in (method, "oracle")}
        return [auc[method][label]["holdout_auc"] - auc["oracle"][label]["holdout_auc"] for label in labels]

    faker, held = gaps("calibrated-fixed"), gaps("calibrated-holdout")  # both at the fixed level
    assert sum(g < -0.1 for g in faker) >= 5, faker  # below the oracle
    assert sum(map(abs, held)) <= 0.8 * sum(map(abs, faker)), (held, faker)
    assert max(held) < 0.15, held  # not pushed above instead
    # the default corrects its level on the holdout: nearer the oracle from both sides (3 seeds of hr_gb with
    # this tokenizer, docs/benchmarks.md: summed gap 0.98 against the fixed level's 2.24)
    default = gaps("sani")
    assert sum(map(abs, default)) <= 0.7 * sum(map(abs, faker)), (default, faker)
