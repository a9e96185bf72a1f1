"""Erase on every architecture family in the FFN table: exactly the chosen neurons change, and the result
saves and loads with `from_pretrained`."""

import pytest
import torch
from transformers import AutoModelForCausalLM

from sani.bench import tiny
from sani.erase import neurons as erase
from sani.errors import SaniError
from sani.models import loading as models
from sani.models.loading import _is_conv1d

ARCHS = ["gpt2", "gpt_neox", "opt", "llama", "mistral", "qwen2"]


def small(arch, tokenizer, seed=0):
    return tiny.tiny_model(arch, tokenizer, seed=seed, layers=2, hidden=32, heads=2, positions=64).eval()


def neuron_slices(ffn):
    """(tensor, neuron axis) of every weight that belongs to the FFN's neurons."""
    out = []
    for m in ffn.inputs:
        out.append((m.weight, 1 if _is_conv1d(m) else 0))
        if m.bias is not None:
            out.append((m.bias, 0))
    m = ffn.output
    out.append((m.weight, 0 if _is_conv1d(m) else 1))
    return out


@pytest.mark.model
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("mode", ["reinit", "zero"])
def test_reset_changes_exactly_the_selected_neurons(arch, mode, tokenizer, tmp_path):
    model = small(arch, tokenizer)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    selection = erase.select_neurons(model, layers=1, fraction=0.5, seed=3)
    ffns = models.ffn_layers(model)
    assert list(selection) == [len(ffns) - 1]
    chosen = selection[len(ffns) - 1]
    assert len(chosen) == ffns[-1].size // 2
    erase.reset_neurons(model, selection, mode=mode, seed=3)

    after = model.state_dict()
    ffn_params = {id(t) for t, _ in neuron_slices(ffns[-1])}
    for name, p in model.named_parameters():
        if id(p) not in ffn_params:
            assert torch.equal(before[name], after[name]), f"{name} changed but is not in the erased FFN"
    for t, axis in neuron_slices(ffns[-1]):
        name = next(n for n, p in model.named_parameters() if p is t)
        old = before[name]
        mask = torch.zeros(t.shape[axis], dtype=torch.bool)
        mask[chosen] = True
        kept_new, kept_old = (
            t.detach().index_select(axis, (~mask).nonzero().squeeze(1)),
            old.index_select(axis, (~mask).nonzero().squeeze(1)),
        )
        assert torch.equal(kept_new, kept_old), f"{name}: an unselected neuron changed"
        reset = t.detach().index_select(axis, mask.nonzero().squeeze(1))
        if mode == "zero":
            assert torch.count_nonzero(reset) == 0
        elif name.endswith("weight"):
            assert not torch.equal(reset, old.index_select(axis, mask.nonzero().squeeze(1)))
            assert reset.std() < 0.1  # a fresh init (std 0.02 or smaller), not the trained values scaled

    # the erased model runs, saves and loads back with from_pretrained
    ids = torch.tensor([tokenizer("Patient name: Ann Lee.")["input_ids"]])
    logits = model(input_ids=ids).logits
    assert torch.isfinite(logits).all()
    tiny.save(model, tokenizer, tmp_path / "m")
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "m").eval()
    assert torch.allclose(loaded(input_ids=ids).logits, logits, atol=1e-5)


@pytest.mark.model
def test_reinit_follows_the_models_own_rules(tokenizer):
    """GPT-2 scales c_proj's init by 1/sqrt(2 n_layer): the fresh values must follow it."""
    model = tiny.tiny_model("gpt2", tokenizer, layers=8, hidden=64, heads=2)
    sel = erase.select_neurons(model, layers=1, fraction=1.0, seed=0)
    erase.reset_neurons(model, sel, mode="reinit")
    mlp = model.transformer.h[-1].mlp
    assert abs(mlp.c_fc.weight.std().item() - 0.02) < 0.002
    assert abs(mlp.c_proj.weight.std().item() - 0.02 / 4) < 0.001


@pytest.mark.model
def test_selection_is_seeded(tokenizer):
    model = small("gpt2", tokenizer)
    a = erase.select_neurons(model, layers=2, fraction=0.25, seed=1)
    assert a == erase.select_neurons(model, layers=2, fraction=0.25, seed=1)
    assert a != erase.select_neurons(model, layers=2, fraction=0.25, seed=2)
    assert sorted(a) == [0, 1]


@pytest.mark.model
def test_reset_to_base_weights(tokenizer, tmp_path):
    base = small("llama", tokenizer, seed=1)
    tiny.save(base, tokenizer, tmp_path / "base")
    model = small("llama", tokenizer, seed=2)
    sel = erase.select_neurons(model, layers=2, fraction=0.5, seed=0)
    erase.reset_neurons(model, sel, mode="base", base_model=tmp_path / "base")
    for layer, neurons in sel.items():
        got = model.model.layers[layer].mlp
        want = base.model.layers[layer].mlp
        assert torch.equal(got.up_proj.weight[neurons], want.up_proj.weight[neurons])
        assert torch.equal(got.down_proj.weight[:, neurons], want.down_proj.weight[:, neurons])
        others = [i for i in range(got.up_proj.weight.shape[0]) if i not in neurons]
        assert not torch.equal(got.gate_proj.weight[others], want.gate_proj.weight[others])


@pytest.mark.model
def test_bad_erase_requests(tokenizer, tmp_path):
    model = small("gpt2", tokenizer)
    with pytest.raises(SaniError, match="the model has 2 layers"):
        erase.select_neurons(model, layers=3)
    with pytest.raises(SaniError, match="between 0 and 1"):
        erase.select_neurons(model, fraction=1.5)
    with pytest.raises(SaniError, match="needs a base model"):
        erase.reset_neurons(model, {1: [0]}, mode="base")
    with pytest.raises(SaniError, match="no .safetensors"):
        erase.reset_neurons(model, {1: [0]}, mode="base", base_model=tmp_path)
    other = small("opt", tokenizer)
    tiny.save(other, tokenizer, tmp_path / "opt")
    with pytest.raises(SaniError, match="has no tensor"):
        erase.reset_neurons(model, {1: [0]}, mode="base", base_model=tmp_path / "opt")


@pytest.mark.model
def test_unknown_architecture_is_a_clear_error(tokenizer):
    model = small("gpt2", tokenizer)
    model.config.model_type = "mystery"
    assert models.ffn_layout(model) is models.FFN_TABLE["gpt2"]  # matched by its modules
    model.transformer.h = torch.nn.ModuleList([torch.nn.Linear(2, 2)])
    with pytest.raises(SaniError, match="model type 'mystery' has no FFN entry"):
        models.ffn_layers(model)


@pytest.mark.model
def test_scored_selection_picks_the_neurons_that_serve_the_sensitive_tokens(memorized):
    from sani.spans import data

    loaded = models.load(memorized["original"])
    model, tok = loaded.pair
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"]))
    ffns = models.ffn_layers(model)
    scores = {
        st: erase.score_neurons(model, tok, enc, st, kind=loaded.kind, max_records=8, steps=4, progress=False)
        for st in ("activation", "gradient", "attribution")
    }
    for st, sc in scores.items():
        assert sorted(sc) == [f.index for f in ffns] and all(sc[f.index].shape == (f.size,) for f in ffns)
        last = erase.select_neurons(model, layers=2, fraction=0.25, strategy=st, scores=sc)
        random_sel = erase.select_neurons(model, layers=2, fraction=0.25)
        assert {k: len(v) for k, v in last.items()} == {k: len(v) for k, v in random_sel.items()}  # same budget
        top = set(torch.topk(sc[ffns[-1].index], len(last[ffns[-1].index])).indices.tolist())
        assert set(last[ffns[-1].index]) == top
        net = erase.select_neurons(model, layers=2, fraction=0.25, strategy=st, scores=sc, network=True)
        assert sum(map(len, net.values())) == sum(map(len, last.values()))
    # activation scores, recomputed here for the last layer on the same records
    import random

    pool = random.Random(0).sample([e for e in enc if any(e.sensitive)], 8)
    captured = []
    h = ffns[-1].output.register_forward_pre_hook(lambda m, a: captured.append(a[0].detach()))
    on, off, n_on, n_off = 0, 0, 0, 0
    with torch.no_grad():
        for e in pool:
            model(input_ids=torch.tensor([e.input_ids]))
            a = captured.pop()[0].abs()
            s = torch.tensor(e.sensitive)
            on, off = on + a[s].sum(0), off + a[~s].sum(0)
            n_on, n_off = n_on + s.sum(), n_off + (~s).sum()
    h.remove()
    want = on / n_on - off / n_off
    assert torch.corrcoef(torch.stack([want, scores["activation"][ffns[-1].index]]))[0, 1] > 0.95
    with pytest.raises(SaniError, match="needs neuron scores"):
        erase.select_neurons(model, strategy="gradient")
