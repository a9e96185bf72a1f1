"""Shared fixtures: a tokenizer, and a tiny GPT-2 that really memorized a small synthetic corpus."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The same suite on every machine: a tagger built by `sani tagger` on this one is not read (tests that need
# one build it and point SANI_TAGGER at it), so `--detect all` skips it here as on a clean clone.
os.environ["SANI_TAGGER"] = os.path.join(os.path.dirname(__file__), "no-tagger-here.crfsuite")


# Shifts the seeds of the shared model fixtures (corpora, tokenizers, initialisations): `SANI_TEST_SEED=3 make
# test` runs the suite on other models that memorized, which is how its bounds are checked (tests/BOUNDS.md).
SEED = int(os.environ.get("SANI_TEST_SEED", "0"))

COST_MARKERS = ("unit", "model", "e2e")  # pytest -m unit: seconds; the default run takes all three, not slow


def pytest_collection_modifyitems(items):
    """Every test says what it costs: exactly one of the cost markers."""
    unmarked = [i.nodeid for i in items if sum(i.get_closest_marker(m) is not None for m in COST_MARKERS) != 1]
    if unmarked:
        raise pytest.UsageError(f"tests need exactly one of the markers {', '.join(COST_MARKERS)}: {unmarked[:5]}")
    if "PYTEST_XDIST_WORKER" in os.environ:
        _memorized_first(items)


def _memorized_first(items) -> None:
    """Under pytest-xdist (`make test`: `--dist loadfile --no-loadscope-reorder`, files handed out in this
    order): one file that needs the `memorized` model first, so that one worker builds it while the others
    run the files that never need it, then the rest. The first minute is then spent by every worker."""
    needs = {item.path for item in items if "memorized" in item.fixturenames}
    first = next((item.path for item in items if item.path in needs), None)
    items.sort(key=lambda item: 0 if item.path == first else 2 if item.path in needs else 1)


@pytest.fixture(scope="session")
def tokenizer():
    from sani.bench import synthetic, tiny

    public = synthetic.make_corpus(120, seed=99 + SEED, repeats=(1,))
    return tiny.train_tokenizer(r.text for r in public)


def once_per_run(tmp_path_factory, name: str, build):
    """A session fixture built once however many pytest-xdist workers run the suite (`make test` runs two):
    the first worker to need it builds it in the run's shared temporary directory under a lock, the others
    wait for it and read what it returned. `build(directory)` returns something picklable."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build(tmp_path_factory.mktemp(name))
    import pickle

    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the same for every worker of this run
    with FileLock(shared / f"{name}.lock"):
        built = shared / f"{name}.pickle"
        if built.is_file():
            return pickle.loads(built.read_bytes())
        (shared / name).mkdir()
        value = build(shared / name)
        built.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture(scope="session")
def memorized(tmp_path_factory):
    """Paths of `train.jsonl`, `holdout.jsonl` and a model directory `original/` that regurgitates them."""
    from sani.bench.demo import build_demo_model

    return once_per_run(
        tmp_path_factory, "memorized", lambda d: build_demo_model(d, patients=30, seed=5 + SEED, progress=False)
    )


def fit(model, tokenizer, encoded, **settings):
    """Train `model` in place with `repair.train` on `encoded`; `settings` are `RepairConfig` fields. The
    default objective here is `masked` (learn everything but the sensitive tokens), as tests build models."""
    from sani.config import RepairConfig
    from sani.models.kinds import of
    from sani.repair import training as repair

    settings.setdefault("objective", "masked")
    cfg = RepairConfig(**settings)
    kind = of(model)
    examples = repair.examples_for(model, tokenizer, encoded, cfg, kind)
    return repair.train(model, tokenizer, examples, cfg, kind=kind, progress=False)


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
    likely than unseen ones. An erasure request rides along: every value of the first record holding three
    labels (`requested_record`)."""
    from sani.pipeline import sanitize

    def build(directory):
        digest = tree_digest(memorized["original"])
        out = directory / "sanitized"
        report = sanitize(memorized["original"], memorized["train"], out, holdout=memorized["holdout"],
                          record=requested_record(memorized), progress=False)  # fmt: skip
        return out, report, digest

    return once_per_run(tmp_path_factory, "san", build)


def requested_record(memorized) -> int:
    """The 1-based number of the first training record holding three labels or more."""
    from sani.spans import data

    records = data.read_corpus(memorized["train"])
    return next(i for i, r in enumerate(records, 1) if len({s.label for s in r.spans}) >= 3)


@pytest.fixture(scope="session")
def sanitized(sanitize_run):
    """The directory of `sanitize_run`."""
    return sanitize_run[0]
