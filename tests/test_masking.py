"""Masked copies and their scores: the head at the masked positions only gives what the full forward pass gives,
on every masked-LM architecture the library builds here; a head that mixes positions falls back; batches keep to
their token budget."""

import pytest
import torch
from transformers import AutoConfig, AutoModelForMaskedLM

from sani.models import masking

pytestmark = pytest.mark.model

SIZES = dict(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48,
             max_position_embeddings=64, embedding_size=16, dim=32, hidden_dim=48, n_layers=2, n_heads=2)  # fmt: skip


ARCHS = ["bert", "roberta", "distilbert", "albert", "electra", "deberta-v2", "xlm", "mobilebert", "modernbert", "mpnet"]
EXTRA = {"modernbert": dict(pad_token_id=0, bos_token_id=1, eos_token_id=2, cls_token_id=1, sep_token_id=2)}


def _model(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return AutoModelForMaskedLM.from_config(AutoConfig.for_model(arch, **SIZES, **EXTRA.get(arch, {}))).eval()


def _items(seed: int = 0) -> list[masking.Copy]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for n in (7, 12, 20, 31):
        ids = torch.randint(5, 97, (n,), generator=g).tolist()
        out += masking.copies(ids, [[1], [n - 2], [2, 3, n // 2]], mid=4)
    return out


def _naive(model: torch.nn.Module, items: list[masking.Copy]) -> list[float]:
    """One copy at a time, the whole forward pass: log p(true token) at each masked position."""
    out = []
    with torch.no_grad():
        for c in items:
            lp = torch.log_softmax(model(input_ids=torch.tensor([c.ids])).logits[0].float(), -1)
            out += [float(lp[p, t]) for p, t in zip(c.positions, c.truth)]
    return out


@pytest.mark.parametrize("arch", ARCHS)
def test_the_head_at_the_masked_positions_gives_the_full_passes_scores(arch):
    model, items = _model(arch), _items()
    got = masking.score(model, items, pad=0, top_k=3, budget=64)
    assert masking._SPARSE[model] is True  # the hook's path was checked and taken
    assert got.logp.tolist() == pytest.approx(_naive(model, items), abs=1e-4)
    assert got.start[-1] == sum(len(c.positions) for c in items) == len(got.logp)
    assert all(got.top[i, 0] != got.top[i, 1] for i in range(len(got.logp)))
    assert (got.sigma > 0).all() and (got.mu < 0).all()


class _Mixing(torch.nn.Module):
    """A masked LM whose output at each position depends on every position's hidden state."""

    def __init__(self):
        super().__init__()
        self.inner = _model("bert")
        self.config = self.inner.config

    @property
    def base_model(self):
        return self.inner.bert

    def forward(self, input_ids, attention_mask=None):
        h = self.inner.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
        out = self.inner.cls(h + h.mean(1, keepdim=True))
        return type("Out", (), {"logits": out})()


def test_a_head_that_reads_every_position_is_scored_in_full():
    model, items = _Mixing().eval(), _items(1)
    got = masking.score(model, items, pad=0)
    assert masking._SPARSE[model] is False
    # the padding of a batch changes this model's mean, so compare copy by copy within one batch each
    one = [float(masking.score(model, [c], pad=0).logp[j]) for c in items for j in range(len(c.positions))]
    assert one == pytest.approx(_naive(model, items), abs=1e-4)
    assert len(got.logp) == len(one)


def test_copies_are_batched_within_the_token_budget():
    model, items = _model("bert"), _items(2)
    seen = []
    model.register_forward_hook(lambda m, a, k, o: seen.append(k["input_ids"].shape), with_kwargs=True)
    masking.score(model, items, pad=0, budget=70)
    assert all(rows * width <= 70 or rows == 1 for rows, width in seen[2:])  # seen[:2]: the one-copy check
    assert sum(rows for rows, _ in seen[2:]) == len(items)
    assert len(seen) - 2 > len(items) * 20 // 70  # more than one batch: the budget cut them


def test_inside_shared_a_copy_is_scored_once():
    model, items = _model("bert"), _items(3)
    alone = masking.score(model, items, pad=0, top_k=4)
    seen = []
    model.register_forward_hook(lambda m, a, k, o: seen.append(k["input_ids"].shape[0]), with_kwargs=True)
    with masking.shared():
        first = masking.score(model, items[:5], pad=0)
        again = masking.score(model, items, pad=0, top_k=4)
    assert sum(seen) == len(items)  # the first five were not scored again
    assert again.logp.tolist() == pytest.approx(alone.logp.tolist(), abs=1e-5)
    assert again.top.tolist() == alone.top.tolist() and first.top.shape[1] == 1
    masking.score(model, items[:5], pad=0)
    assert sum(seen) == len(items) + 5  # outside, nothing is kept
