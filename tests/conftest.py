"""Shared fixtures: a tokenizer, and a tiny GPT-2 that really memorized a small synthetic corpus."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


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
