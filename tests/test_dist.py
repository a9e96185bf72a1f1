"""The several-process path on CPU: two processes over gloo, started by torchrun, as on a multi-GPU machine.

Every launch sets a short process-group timeout (SANI_DIST_TIMEOUT), so a process that hangs fails its test
in seconds instead of stalling the suite."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time

import pytest

import sani
from sani import data, dist, models
from sani.audit import utility
from sani.target import Target, split

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
PG_TIMEOUT = 60  # seconds


def _run(cmd: list[str], timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "SANI_DIST_TIMEOUT": str(PG_TIMEOUT), **env}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _launch(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    done = _run([*TORCHRUN, "-m", "sani.cli", *args], timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _exit_codes(stderr: str) -> list[int]:
    """The exit code of each failed process, from the table torchrun prints at the end."""
    return sorted(int(c) for c in re.findall(r"^\s*exitcode\s*:\s*(-?\d+)", stderr, flags=re.M))


@pytest.mark.unit
def test_one_process_is_a_no_op():
    assert (dist.rank(), dist.world(), dist.is_main()) == (0, 1, True)
    assert dist.map_shards(lambda xs: [x * 2 for x in xs], [1, 2, 3]) == [2, 4, 6]
    assert dist.sum_all([1.0, 2.0]) == [1.0, 2.0]
    with dist.main_first() as main:
        assert main


@pytest.mark.e2e
def test_two_processes_repair_data_parallel_audit_sharded_and_write_once(memorized, tmp_path):
    """Data-parallel repair with --target: every process measures its share of each check and restores the
    kept weights; one writes; the sharded audit of the result equals a one-process audit."""
    out = tmp_path / "out"
    done = _launch(
        "sanitize",
        "-q",
        "--model",
        str(memorized["original"]),
        "--corpus",
        str(memorized["train"]),
        "--holdout",
        str(memorized["holdout"]),
        "--out",
        str(out),
        "--no-audit",
        "--objective",  # the quicker repair: the data-parallel bookkeeping is under test, not the objective
        "masked+unlikelihood",
        "--target",
        "regurgitation<=0.05",
        "--max-epochs",
        "2",
        "--target-patience",
        "2",
    )
    assert done.stdout.count("sanitized model written to") == 1  # only the main process prints
    report = json.loads((out / "sanitization.json").read_text())
    # data parallel: each process took half of the records per epoch, batches of 8 on each (patience 2: both epochs)
    records = len(data.read_corpus(memorized["train"]))
    assert report["repair"]["steps"] == math.ceil(math.ceil(records / 2) / 8) * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary or work directory left
    assert report["processes"] == 2  # and they held the same weights after the repair (else nothing is written)
    rep = report["repair"]
    met = [p for p in rep["trajectory"] if "perplexity" in p]
    assert rep["target_met"] is True and [p["epoch"] for p in rep["trajectory"]] == [1.0, 2.0]
    best = min(met, key=lambda p: p["perplexity"])
    assert [p["step"] for p in rep["trajectory"] if p["kept"]] == [best["step"]] and rep["kept"]["step"] == best["step"]
    # the audit, sharded over two processes and gathered, gives what one process gives
    _launch(
        "audit",
        "-q",
        "--model",
        str(out),
        "--corpus",
        str(memorized["train"]),
        "--holdout",
        str(memorized["holdout"]),
        "--contexts",
        "full",
        "--samples",
        "2",
        "--no-extraction",
        "--exposure-spans",
        "30",
        "--exposure-candidates",
        "100",
        "--out",
        str(tmp_path / "audit.json"),
    )
    two = json.loads((tmp_path / "audit.json").read_text())
    one = sani.audit(
        out,
        memorized["train"],
        holdout=memorized["holdout"],
        contexts=(None,),
        samples=2,
        extraction=False,
        exposure_spans=30,
        exposure_candidates=100,
        progress=False,
    )
    assert two["regurgitation"]["greedy"] == one["regurgitation"]["greedy"]
    assert (
        two["regurgitation"]["greedy"]["rate"] <= 0.05
    )  # the data-parallel repair forgot (the model regurgitates >= 50%)
    assert two["regurgitation"]["sampled"]["rate"] is not None
    assert two["membership"]["sensitive"]["loss"]["auc"] == pytest.approx(
        one["membership"]["sensitive"]["loss"]["auc"], abs=1e-6
    )
    assert two["utility"]["holdout"]["perplexity"] == pytest.approx(one["utility"]["holdout"]["perplexity"], rel=1e-4)
    by_label = {k: v["mean"] for k, v in one["value_exposure"]["by_label"].items()}
    assert {k: v["mean"] for k, v in two["value_exposure"]["by_label"].items()} == pytest.approx(by_label, abs=1e-3)
    assert two["paired_membership"]["rule"]["auc"] == pytest.approx(one["paired_membership"]["rule"]["auc"], abs=1e-6)
    # what was written is the kept point's weights (restored in every process), chosen on the stop's half of the
    # holdout (the audit above reads all of it)
    model, tok = models.load(out).pair
    hold = data.encode_corpus(tok, data.read_corpus(memorized["holdout"]))
    stop_half = split([], hold, Target.parse("regurgitation<=0.05"), seed=0)[2]
    assert utility.utility(model, tok, stop_half, progress=False)["perplexity"] == pytest.approx(
        best["perplexity"], rel=1e-4
    )
    assert models.fingerprint(models.load(out).model) == report["output_fingerprint"]


@pytest.mark.unit
def test_example_accelerate_configs_are_valid():
    from pathlib import Path

    from accelerate.commands.config.config_args import ClusterConfig

    found = sorted((Path(__file__).parent.parent / "examples" / "accelerate").glob("*.yaml"))
    assert {f.stem for f in found} >= {"ddp", "deepspeed-zero2"}
    for f in found:
        cfg = ClusterConfig.from_yaml_file(str(f))  # refuses unknown keys
        assert cfg.num_processes >= 2 and not cfg.use_cpu


@pytest.mark.unit
def test_sharded_weights_are_refused_in_one_line(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    with pytest.raises(sani.SaniError, match="FSDP is not supported yet"):
        dist.init()
    monkeypatch.delenv("ACCELERATE_USE_FSDP")
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "3")
    with pytest.raises(sani.SaniError, match="ZeRO-3 is not supported yet"):
        dist.init()


@pytest.mark.e2e
def test_an_error_in_one_process_share_reaches_the_others_and_the_processes_end_without_finalization(tmp_path):
    """map_shards: a failing share's error reaches the others by its type only. Then the exit that cannot
    abort: output flushed, no interpreter finalization (where a gloo worker thread freeing a collective's
    tensor would need the GIL), right after DDP and broadcast_object_list."""
    script = tmp_path / "fail.py"
    script.write_text(
        "import atexit, sys\n"
        "import torch\n"
        "from sani import dist\n"
        "dist.init()\n"
        "atexit.register(lambda: print('finalized', flush=True))\n"
        "def work(xs):\n"
        "    if dist.rank() == 1:\n"
        "        raise ValueError('the value 123-45-6789')\n"
        "    return xs\n"
        "try:\n"
        "    dist.map_shards(work, list(range(5)))\n"
        "except Exception as e:\n"
        "    print(f'rank {dist.rank()}: {type(e).__name__}: {e}', flush=True)\n"
        "model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 4))\n"
        "model(torch.ones(2, 4)).sum().backward()\n"
        "obj = [{'from': dist.rank()}]\n"
        "torch.distributed.broadcast_object_list(obj, src=0)\n"
        "print(f'rank {dist.rank()} got {obj[0]}', flush=True)\n"
        "sys.exit(dist.leave(0))\n"
    )
    done = _run([*TORCHRUN, str(script)], 300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rank 0 got {'from': 0}" in done.stdout and "rank 1 got {'from': 0}" in done.stdout
    assert "finalized" not in done.stdout
    assert dist.leave(3) == 3  # one process: an ordinary return
    assert "rank 0: SaniError: process 1 failed in its share of the work (ValueError)" in done.stdout
    assert "rank 1: ValueError" in done.stdout  # the failing process raises its own error


@pytest.mark.e2e
def test_an_error_in_one_process_during_the_repair_ends_every_process_with_its_line(memorized, tmp_path):
    """Process 1 raises at repair step 2 while process 0 is in the gradient all-reduce: both end at once (not
    at the timeout), each with the failing process's one-line error and exit code 2, and nothing is written."""
    start = time.monotonic()
    done = _run(
        [
            *TORCHRUN,
            "-m",
            "sani.cli",
            "sanitize",
            "-q",
            "--model",
            str(memorized["original"]),
            "--corpus",
            str(memorized["train"]),
            "--out",
            str(tmp_path / "out"),
            "--no-audit",
        ],
        300,
        SANI_FAIL_AT="1:2",
    )
    assert time.monotonic() - start < PG_TIMEOUT, "a process waited for the timeout"
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("sani: error:")]
    assert sorted(lines) == [
        "sani: error: injected failure at repair step 2 (SANI_FAIL_AT)",
        "sani: error: process 1 failed: injected failure at repair step 2 (SANI_FAIL_AT)",
    ], done.stderr[-3000:]
    assert _exit_codes(done.stderr) == [2, 2]  # both ended on their own, none killed by the launcher
    assert not re.search(r'File "[^"]*/sani/[a-z_]+\.py"', done.stderr)  # no traceback from sani's code
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_a_process_that_stops_answering_ends_the_run_at_the_timeout(memorized, tmp_path):
    """Process 1 hangs at repair step 2: process 0's collective times out after SANI_DIST_TIMEOUT and its
    error (type only: its text is not sani's) ends process 1 too."""
    start = time.monotonic()
    done = _run(
        [
            *TORCHRUN,
            "-m",
            "sani.cli",
            "sanitize",
            "-q",
            "--model",
            str(memorized["original"]),
            "--corpus",
            str(memorized["train"]),
            "--out",
            str(tmp_path / "out"),
            "--no-audit",
        ],
        300,
        SANI_FAIL_AT="1:2:hang",
        SANI_DIST_TIMEOUT="5",
    )
    assert time.monotonic() - start < PG_TIMEOUT
    assert "sani: error: process 0 failed: RuntimeError" in done.stderr, done.stderr[-3000:]
    assert _exit_codes(done.stderr) == [1, 1]
