"""Shared fixtures: a tokenizer, and a tiny GPT-2 that really memorized a small synthetic corpus."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


COST_MARKERS = ("unit", "model", "e2e")  # pytest -m unit: seconds; the default run takes all three, not slow


def pytest_collection_modifyitems(items):
    """Every test says what it costs: exactly one of the cost markers."""
    unmarked = [i.nodeid for i in items if sum(i.get_closest_marker(m) is not None for m in COST_MARKERS) != 1]
    if unmarked:
        raise pytest.UsageError(f"tests need exactly one of the markers {', '.join(COST_MARKERS)}: {unmarked[:5]}")


@pytest.fixture(scope="session")
def tokenizer():
    from sani import synthetic, tiny

    public = synthetic.make_corpus(120, seed=99, repeats=(1,))
    return tiny.train_tokenizer(r.text for r in public)


@pytest.fixture(scope="session")
def memorized(tmp_path_factory):
    """Paths of `train.jsonl`, `holdout.jsonl` and a model directory `original/` that regurgitates them."""
    from sani.demo import build_demo_model

    workdir = tmp_path_factory.mktemp("memorized")
    return build_demo_model(workdir, patients=30, seed=5, progress=False)


def fit(model, tokenizer, encoded, **settings):
    """Train `model` in place with `repair.train` on `encoded`; `settings` are `RepairConfig` fields. The
    default objective here is `masked` (learn everything but the sensitive tokens), as tests build models."""
    from sani import repair
    from sani.config import RepairConfig

    settings.setdefault("objective", "masked")
    cfg = RepairConfig(**settings)
    return repair.train(model, tokenizer, repair.examples_for(model, tokenizer, encoded, cfg), cfg, progress=False)


@pytest.fixture(scope="session")
def sanitized(memorized, tmp_path_factory):
    """`memorized`'s model sanitized with the defaults: the directory `sani sanitize` writes (greedy
    regurgitation gone, the values still far more likely than unseen ones)."""
    from sani.pipeline import sanitize

    out = tmp_path_factory.mktemp("sanitized") / "model"
    sanitize(memorized["original"], memorized["train"], out, holdout=memorized["holdout"], progress=False)
    return out
