"""The end-to-end promise: a model that really memorized stops regurgitating, keeps its utility, and the
output loads with `from_pretrained`; the input is never touched and no value is written in clear text."""

import json
from pathlib import Path

import pytest
import transformers
from conftest import tree_digest
from transformers import AutoModelForCausalLM, AutoTokenizer

import sani
from sani.audit import regurgitation, utility
from sani.config import SanitizeConfig
from sani.models.kinds import CausalLM
from sani.repair import level
from sani.repair.parts import assign
from sani.spans import data


@pytest.mark.model
def test_default_sanitize_stops_regurgitation_and_keeps_utility(sanitize_run):
    out, report, _ = sanitize_run
    before, after = report["audit_before"], report["audit_after"]
    assert before["regurgitation"]["greedy"]["rate"] >= 0.5
    assert after["regurgitation"]["greedy"]["rate"] <= 0.05
    ratio = after["utility"]["holdout"]["perplexity"] / before["utility"]["holdout"]["perplexity"]
    assert ratio <= 1.25
    # forgotten, not hidden, and not pushed below either: the level correction runs by default given a holdout.
    # Measured on 5 fixtures (tests/BOUNDS.md): holdout AUC 0.50-0.62, paired 0.45-0.55, 1.5-2.1 bits,
    # perplexity x0.81-0.97; the fixed level (the default before): paired 0.69-0.86, and the unlikelihood
    # default 1.0 / 1.0 / 5.0 bits, both fail these. An AUC's bound is on its distance from 0.5, both sides.
    assert before["membership"]["sensitive"]["loss"]["auc"] == 1.0
    assert abs(after["membership"]["sensitive"]["loss"]["auc"] - 0.5) < 0.2
    assert abs(after["paired_membership"]["sensitive"]["loss"]["auc"] - 0.5) < 0.15
    assert after["value_exposure"]["mean"] < 2.7 < before["value_exposure"]["mean"]
    assert report["config"]["objective"] == "masked+calibrated" and report["config"]["anchors"] == 1
    assert report["config"]["level"] == "holdout" and report["repair"]["level"]["checks"]
    # what served each label's surrogates: Faker's kinds by whole words, the value's shape for the rest
    served = report["repair"]["surrogates"]
    assert served["source"] == "faker" and served["by_label"]["DOB"] == "faker:date"
    assert served["by_label"]["NAME"] == "faker:name" and served["by_label"]["MRN"] == "shape"


@pytest.mark.model
def test_output_loads_and_matches_the_report(sanitize_run, memorized):
    out, report, _ = sanitize_run
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert (out / "model.safetensors").is_file()
    # a tokenizer without a pad token and a model with tied embeddings come out as they went in
    assert tok.pad_token is None and model.config.tie_word_embeddings
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    assert sani.models.loading.fingerprint(model) == report["output_fingerprint"] != report["input_fingerprint"]
    # regurgitation measured again on the reloaded model agrees with the report
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"]))
    again = regurgitation.regurgitation(model.eval(), tok, enc, progress=False)["greedy"]
    assert again["hits"] == report["audit_after"]["regurgitation"]["greedy"]["hits"]
    saved = json.loads((out / "sanitization.json").read_text())
    assert saved["config"]["objective"] == "masked+calibrated"
    layers = saved["erase"]["layers"]
    assert len(layers) == 1 and layers[0]["count"] == layers[0]["of"] // 2 == len(layers[0]["neurons"])
    assert saved["repair"]["steps"] > 0 and "repair" in saved["timings"]


@pytest.mark.model
def test_input_untouched_and_no_values_in_clear_text(sanitize_run, memorized):
    out, report, digest = sanitize_run
    assert tree_digest(memorized["original"]) == digest
    values = {r.value(s) for r in data.read_corpus(memorized["train"]) for s in r.spans}
    text = (out / "sanitization.json").read_text()
    assert not [v for v in values if v in text]
    assert not list(out.parent.glob(".sanitized.tmp-*"))  # no temporary directory left behind


@pytest.mark.model
def test_audit_api_writes_json_without_values(memorized, tmp_path):
    result = sani.audit(
        memorized["original"],
        memorized["train"],
        tmp_path / "audit.json",
        contexts=(None,),
        samples=2,
        el_spans=10,
        exposure_spans=20,
        exposure_candidates=100,
        progress=False,
    )
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert saved["regurgitation"]["greedy"]["rate"] == result["regurgitation"]["greedy"]["rate"] >= 0.5
    assert sum("greedy_full" in it for it in saved["items"]) == saved["regurgitation"]["greedy"]["total"]
    assert saved["model_fingerprint"]
    values = {r.value(s) for r in data.read_corpus(memorized["train"]) for s in r.spans}
    text = (tmp_path / "audit.json").read_text()
    assert not [v for v in values if v in text]


@pytest.mark.model
def test_terms_become_spans(memorized, tmp_path):
    """A corpus without annotations plus a term list: the terms' occurrences are what gets audited."""
    records = data.read_corpus(memorized["train"])
    names = sorted({r.value(s) for r in records for s in r.spans if s.label == "MRN"})[:5]
    (tmp_path / "terms.txt").write_text("\n".join(names) + "\n")
    plain = tmp_path / "plain.txt"
    plain.write_text("\n".join(r.text for r in records) + "\n")
    result = sani.audit(memorized["original"], plain, terms=tmp_path / "terms.txt", exposure_spans=10, progress=False)
    expected = sum(r.text.count(n) for r in records for n in names)
    assert result["regurgitation"]["greedy"]["total"] == expected
    assert set(result["regurgitation"]["greedy"]["by_label"]) == {"TERM"}


@pytest.mark.model
def test_out_inside_the_model_is_refused(memorized):
    with pytest.raises(sani.SaniError, match="would overwrite the input model"):
        sani.sanitize(memorized["original"], memorized["train"], memorized["original"], progress=False)
    with pytest.raises(sani.SaniError, match="would overwrite the input model"):
        sani.sanitize(memorized["original"], memorized["train"], memorized["original"] / "sub", progress=False)


@pytest.mark.model
def test_failure_leaves_nothing_in_out(memorized, tmp_path, monkeypatch):
    def half_written(self, path, **kw):
        (Path(path) / "model.safetensors").write_bytes(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", half_written)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="disk full"):
        sani.sanitize(memorized["original"], memorized["train"], out, run_audit=False, epochs=0.05, progress=False)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [".out.work"]  # kept for --resume, not in --out


@pytest.mark.model
@pytest.mark.parametrize("arch", ["gpt_neox", "opt", "llama", "mistral", "qwen2"])
def test_sanitize_runs_on_each_architecture(arch, tokenizer, tmp_path):
    from sani.bench import synthetic, tiny

    model = tiny.tiny_model(arch, tokenizer, layers=2, hidden=32, heads=2, positions=256)
    tiny.save(model, tokenizer, tmp_path / "in")
    corpus = synthetic.write_jsonl(synthetic.make_corpus(6, seed=3), tmp_path / "c.jsonl")
    report = sani.sanitize(tmp_path / "in", corpus, tmp_path / "out", layers=2, epochs=1, progress=False)
    assert [layer["layer"] for layer in report["erase"]["layers"]] == [0, 1]
    assert report["audit_after"]["regurgitation"]["greedy"]["total"] > 0
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "out")
    assert reloaded.config.model_type == arch
    assert sani.models.loading.fingerprint(reloaded) == report["output_fingerprint"]


@pytest.mark.model
def test_target_stops_the_repair_at_the_first_check_that_meets_it_measured_apart(memorized, tmp_path):
    """`--target regurgitation<=R,membership<=M,value_exposure<=B`: checked after each epoch, the stop at the
    first point that meets all three; membership and value exposure on the stop's own seeded part of the
    records, the kept point's perplexity on half of the holdout; the audit after reports on the rest, and
    sanitization.json says which. With `--surrogate-source holdout` a third of the holdout's records give
    the repair's surrogates first, whole value groups, and neither the stop nor the audit reads them. With
    `--level holdout` the level correction measures the stop's part: each check's per-label gaps move the
    labels' targets by an integral step."""
    report = sani.sanitize(
        memorized["original"],
        memorized["train"],
        tmp_path / "t",
        holdout=memorized["holdout"],
        target="regurgitation<=0.02,membership<=0.45,value_exposure<=8",  # loose: every check is reached
        max_epochs=6,
        target_patience=0,
        surrogate_source="holdout",
        level="holdout",
        level_warmup=0.0,  # from the first quarter epoch: the stop may come at the first epoch's end
        progress=False,
    )
    rep = report["repair"]
    assert rep["target"] == "regurgitation<=0.02,membership<=0.45,value_exposure<=8" and rep["target_met"] is True
    last = rep["trajectory"][-1]
    assert {"regurgitation", "membership", "value_exposure", "perplexity"} <= set(last)
    assert last["regurgitation"] <= 0.02 and 0 <= last["membership"] <= 0.45 and last["perplexity"] > 0
    assert last["epoch"] < 6  # stopped before max_epochs
    assert all("perplexity" not in p for p in rep["trajectory"][:-1])  # no earlier point met every metric
    assert report["audit_after"]["regurgitation"]["greedy"]["rate"] <= 0.02
    assert rep["kept"]["step"] == last["step"] and last["kept"]
    records = sani.spans.data.read_corpus(memorized["train"])
    split = rep["stop_split"]
    with_values = sum(1 for r in records if r.spans)  # the stop's quarter of them, in whole value groups
    assert 0.2 * with_values <= split["checked_records"] <= 0.35 * with_values
    assert split["checked_records"] + split["reported_records"] == len(records)
    assert report["audit_after"]["scope"]["records"] == split["reported_records"]
    assert report["audit_after"]["membership"]["nonmembers"] == split["reported_holdout"]
    held = len(sani.spans.data.read_corpus(memorized["holdout"]))
    assert split["checked_holdout"] + split["reported_holdout"] + split["surrogate_holdout"] == held
    surrogates = rep["surrogates"]
    assert surrogates["source"] == "holdout" and surrogates["held_out_records"] == split["surrogate_holdout"] > 0
    assert "holdout" in surrogates["by_label"].values() and surrogates["held_out_values"] >= 5
    corr = rep["level"]
    assert corr["records"] == split["checked_records"] and corr["copies"] >= corr["records"]
    checks = corr["checks"]
    assert len(checks) >= 2 and set(checks[-1]["gap"]) == set(surrogates["by_label"])  # every label measured
    for label, shift in checks[-1]["shift"].items():  # an integral step per check, within the bound
        if all(abs(c["shift"][label]) < level.MAX_SHIFT for c in checks):
            assert shift == pytest.approx(-level.GAIN * sum(c["gap"].get(label, 0) for c in checks), abs=0.01)
    with pytest.raises(sani.SaniError, match="expected METRIC<=LIMIT"):
        sani.sanitize(memorized["original"], memorized["train"], tmp_path / "u", target="ppl<3", progress=False)
    with pytest.raises(sani.SaniError, match="level='holdout': needs --holdout"):  # before any model loads
        sani.sanitize(memorized["original"], memorized["train"], tmp_path / "v", level="holdout", progress=False)
    assert not (tmp_path / "v").exists()


@pytest.mark.model
def test_target_restores_the_best_weights_that_met_it(memorized, tmp_path):
    """With patience, the repair goes on after meeting the target; what is written is the checked point with
    the best holdout perplexity among those that met it, not the last one."""
    report = sani.sanitize(
        memorized["original"],
        memorized["train"],
        tmp_path / "t",
        holdout=memorized["holdout"],
        target="regurgitation<=0.05",
        max_epochs=3,
        target_patience=2,
        level="fixed",  # the target alone (the test above runs it with the level correction, which takes records)
        run_audit=False,
        progress=False,
    )
    traj = report["repair"]["trajectory"]
    met = [p for p in traj if "perplexity" in p]
    assert len(met) >= 2, traj  # it went on after the first point that met the target
    best = min(met, key=lambda p: p["perplexity"])
    assert [p["step"] for p in traj if p["kept"]] == [best["step"]]
    model, tok = sani.models.loading.load(tmp_path / "t").pair
    hold = sani.spans.data.encode_corpus(tok, sani.spans.data.read_corpus(memorized["holdout"]))
    # the kept point was chosen on the stop's half of the holdout; the report measures the other half
    parts = assign([], hold, SanitizeConfig(**report["config"]))
    stop_half, reported_half = parts.stop_holdout, parts.audited_holdout
    assert len(stop_half) + len(reported_half) + parts.held_records == len(hold) and len(stop_half) >= 1
    assert utility.utility(model, tok, stop_half, kind=CausalLM(), progress=False)["perplexity"] == pytest.approx(
        best["perplexity"], rel=1e-4
    )
    records = len(sani.spans.data.read_corpus(memorized["train"]))  # a perplexity target leaves every record reported
    assert report["repair"]["stop_split"] == {
        "checked_records": 0,
        "checked_holdout": len(stop_half),
        "reported_records": records,
        "reported_holdout": len(reported_half),
        "surrogate_holdout": parts.held_records,
    }
