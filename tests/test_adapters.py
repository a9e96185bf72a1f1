"""LoRA models: base + adapter in, base + adapter out; merged LoRA models; repair through new LoRA weights."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from conftest import SEED, fit

import sani
from sani.bench import synthetic, tiny
from sani.erase import neurons as erase
from sani.models import kinds
from sani.models import loading as models
from sani.spans import data

peft = pytest.importorskip("peft")


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def lora_memorized(tmp_path_factory):
    return make_lora_memorized(tmp_path_factory.mktemp("lora"))


def make_lora_memorized(d: Path) -> dict[str, Path]:
    """A tiny GPT-2 base that knows the note template (trained on other patients), and a LoRA adapter on it
    that memorized 10 patients' notes, in `d`. About 50 s here: LoRA on a tiny model learns slowly (measured:
    rank 16 at 1e-2 for 40 epochs restores 0% of the values, rank 64 at 5e-3 for 60 epochs about 35%)."""
    train = synthetic.make_corpus(10, seed=6 + SEED)
    public = synthetic.make_corpus(60, seed=7 + SEED, repeats=(1,))
    tok = tiny.train_for("gpt2", (r.text for r in public))
    base = tiny.tiny_model("gpt2", tok, seed=SEED)
    fit(base, tok, data.encode_corpus(tok, public), objective="full", epochs=10, lr=2e-3, batch_size=16)
    tiny.save(base, tok, d / "base")
    cfg = peft.LoraConfig(
        r=64, lora_alpha=128, target_modules="all-linear", lora_dropout=0.0, task_type=peft.TaskType.CAUSAL_LM
    )
    model = peft.get_peft_model(base, cfg)
    fit(model, tok, data.encode_corpus(tok, train), objective="full", epochs=60, lr=5e-3, batch_size=4)
    model.peft_config["default"].base_model_name_or_path = str(d / "base")
    model.save_pretrained(d / "adapter")
    tok.save_pretrained(d / "adapter")
    return {"base": d / "base", "adapter": d / "adapter", "train": synthetic.write_jsonl(train, d / "train.jsonl")}


@pytest.mark.model
def test_adapter_loads_on_its_base_and_keeps_its_kind(lora_memorized):
    loaded = models.load(lora_memorized["adapter"])
    m = loaded.model
    assert sani.models.adapters.is_peft(m) and loaded.kind.name == "causal-lm" and kinds.of(m).name == "causal-lm"
    assert loaded.form == "lora-adapter" and models.inspect(lora_memorized["adapter"]).kind.name == "causal-lm"
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)  # the adapter trains, the base stays frozen


@pytest.mark.model
def test_erase_zeroes_the_adapter_update_of_the_chosen_neurons_only(lora_memorized):
    m, _ = models.load(lora_memorized["adapter"]).pair
    ffn = models.ffn_layers(m)[-1]
    up, down = ffn.inputs[0], ffn.output
    a_up, b_up = sani.models.adapters.lora_parts(up)
    a_down, _ = sani.models.adapters.lora_parts(down)
    before_b, before_a = b_up.weight.clone(), a_down.weight.clone()
    base_up = up.base_layer.weight.clone()
    sel = erase.select_neurons(m, layers=1, fraction=0.25, seed=0)
    erase.reset_neurons(m, sel, mode="reinit")
    idx = torch.tensor(sel[ffn.index])
    rest = torch.ones(ffn.size, dtype=torch.bool)
    rest[idx] = False
    assert torch.all(b_up.weight[idx] == 0) and torch.equal(b_up.weight[rest], before_b[rest])
    assert torch.all(a_down.weight[:, idx] == 0) and torch.equal(a_down.weight[:, rest], before_a[:, rest])
    assert torch.equal(up.base_layer.weight, base_up)  # the shared base is never written
    # the chosen neurons' effective weights are the base model's again
    delta = up.get_delta_weight("default")
    assert torch.all(delta[:, idx] == 0 if up.fan_in_fan_out else delta[idx] == 0)


@pytest.mark.model
def test_adapter_is_sanitized_and_written_as_an_adapter(lora_memorized, tmp_path):
    base_digest = _digest(lora_memorized["base"])
    report = sani.sanitize(lora_memorized["adapter"], lora_memorized["train"], tmp_path / "out", progress=False)
    before = report["audit_before"]["regurgitation"]["greedy"]["rate"]
    after = report["audit_after"]["regurgitation"]["greedy"]["rate"]
    assert before >= 0.08, before  # the adapter memorized: 0.11-0.46 on 5 fixtures (tests/BOUNDS.md), after 0
    assert after <= 0.05, after
    assert report["form"] == "lora-adapter"
    out = tmp_path / "out"
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert not (out / "config.json").exists() and not (out / "model.safetensors").exists()
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(
        lora_memorized["base"].resolve()
    )
    assert _digest(lora_memorized["base"]) == base_digest  # the base model directory is untouched
    # what a user does: the base with the sanitized adapter on top, through peft itself
    from transformers import AutoModelForCausalLM

    reloaded = peft.PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(lora_memorized["base"]), str(out))
    assert models.fingerprint(reloaded) == report["output_fingerprint"]


@pytest.mark.model
def test_merged_lora_model_is_an_ordinary_model_and_new_lora_repair_merges_back(lora_memorized, tmp_path):
    m, tok = models.load(lora_memorized["adapter"]).pair
    merged = m.merge_and_unload()
    tiny.save(merged, tok, tmp_path / "merged")
    report = sani.sanitize(tmp_path / "merged", lora_memorized["train"], tmp_path / "out", lora_rank=8, progress=False)
    assert report["form"] == "full" and report["repair"]["lora_rank"] == 8
    out, _ = models.load(tmp_path / "out").pair
    assert not sani.models.adapters.is_peft(out)
    assert sorted(out.state_dict()) == sorted(merged.state_dict())  # the LoRA weights were merged away
    assert (
        report["audit_after"]["regurgitation"]["greedy"]["rate"]
        < report["audit_before"]["regurgitation"]["greedy"]["rate"]
    )


@pytest.mark.model
def test_adapter_errors_are_one_line(lora_memorized, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    cfg = json.loads((lora_memorized["adapter"] / "adapter_config.json").read_text())
    (bad / "adapter_config.json").write_text(json.dumps({**cfg, "base_model_name_or_path": str(tmp_path / "nowhere")}))
    with pytest.raises(sani.SaniError, match="model directory not found"):
        models.load(bad)
    (bad / "adapter_config.json").write_text(json.dumps({**cfg, "peft_type": "IA3"}))
    with pytest.raises(sani.SaniError, match="LoRA adapters only"):
        models.load(bad)
    (bad / "adapter_config.json").write_text(json.dumps({**cfg, "use_dora": True}))
    with pytest.raises(sani.SaniError, match="DoRA adapters"):
        models.load(bad)
    # --base-model points an adapter whose recorded base moved to where the base is
    (bad / "adapter_config.json").write_text(json.dumps({**cfg, "base_model_name_or_path": str(tmp_path / "nowhere")}))
    for f in lora_memorized["adapter"].glob("adapter_model.safetensors"):
        (bad / f.name).write_bytes(f.read_bytes())
    assert models.inspect(bad, base=lora_memorized["base"]).kind.name == "causal-lm"
    assert sani.models.adapters.is_peft(models.load(bad, base=lora_memorized["base"]).model)
    # ... also when the base is named in the YAML file: the adapter is loaded on it and the output points to it
    (tmp_path / "c.yaml").write_text(f"base_model: {lora_memorized['base']}\nepochs: 0.0\n")
    sani.sanitize(bad, lora_memorized["train"], tmp_path / "out", config_file=tmp_path / "c.yaml", run_audit=False,
                  progress=False)  # fmt: skip
    written = json.loads((tmp_path / "out" / "adapter_config.json").read_text())
    assert written["base_model_name_or_path"] == str(lora_memorized["base"].resolve())
    m, tok = models.load(lora_memorized["adapter"]).pair
    with pytest.raises(sani.SaniError, match="already a LoRA model"):
        fit(m, tok, data.encode_corpus(tok, data.read_corpus(lora_memorized["train"])), lora_rank=4)
