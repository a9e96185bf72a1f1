"""The benchmark: baselines change the model the way they claim, and `sani bench` writes every column."""

import json

import pytest

from sani import bench, data, models
from sani.audit import regurgitation as metrics
from sani.cli import main


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
