"""Shared fixtures: a tokenizer, and a tiny GPT-2 that really memorized a small synthetic corpus."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


# Shifts the seeds of the shared model fixtures (corpora, tokenizers, initialisations): `SANI_TEST_SEED=3 make
# test` runs the suite on other models that memorized, which is how its bounds are checked (tests/BOUNDS.md).
SEED = int(os.environ.get("SANI_TEST_SEED", "0"))

COST_MARKERS = ("unit", "model", "e2e")  # pytest -m unit: seconds; the default run takes all three, not slow


def pytest_collection_modifyitems(items):
    """Every test says what it costs: exactly one of the cost markers."""
    unmarked = [i.nodeid for i in items if sum(i.get_closest_marker(m) is not None for m in COST_MARKERS) != 1]
    if unmarked:
        raise pytest.UsageError(f"tests need exactly one of the markers {', '.join(COST_MARKERS)}: {unmarked[:5]}")


@pytest.fixture(scope="session")
def tokenizer():
    from sani import synthetic, tiny

    public = synthetic.make_corpus(120, seed=99 + SEED, repeats=(1,))
    return tiny.train_tokenizer(r.text for r in public)


@pytest.fixture(scope="session")
def memorized(tmp_path_factory):
    """Paths of `train.jsonl`, `holdout.jsonl` and a model directory `original/` that regurgitates them."""
    from sani.demo import build_demo_model

    workdir = tmp_path_factory.mktemp("memorized")
    return build_demo_model(workdir, patients=30, seed=5 + SEED, progress=False)


def fit(model, tokenizer, encoded, **settings):
    """Train `model` in place with `repair.train` on `encoded`; `settings` are `RepairConfig` fields. The
    default objective here is `masked` (learn everything but the sensitive tokens), as tests build models."""
    from sani import repair
    from sani.config import RepairConfig

    settings.setdefault("objective", "masked")
    cfg = RepairConfig(**settings)
    return repair.train(model, tokenizer, repair.examples_for(model, tokenizer, encoded, cfg), cfg, progress=False)


def tree_digest(path) -> str:
    """A digest of every file name and byte under `path`: whether a directory was written to."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        h.update(str(f.relative_to(path)).encode())
        if f.is_file():
            h.update(f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def sanitize_run(memorized, tmp_path_factory):
    """`memorized`'s model sanitized with the defaults: (the directory `sani sanitize` writes, its report, the
    digest of the input directory taken before). Greedy regurgitation is gone, the values stay far more
    likely than unseen ones."""
    from sani.pipeline import sanitize

    out = tmp_path_factory.mktemp("san") / "sanitized"
    digest = tree_digest(memorized["original"])
    report = sanitize(memorized["original"], memorized["train"], out, holdout=memorized["holdout"], progress=False)
    return out, report, digest


@pytest.fixture(scope="session")
def sanitized(sanitize_run):
    """The directory of `sanitize_run`."""
    return sanitize_run[0]
