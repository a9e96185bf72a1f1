"""The several-process path on CPU: two processes over gloo, started by torchrun, as on a multi-GPU machine."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

import sani
from sani import data, dist, models


def _launch(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "sani.cli", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_one_process_is_a_no_op():
    assert (dist.rank(), dist.world(), dist.is_main()) == (0, 1, True)
    assert dist.map_shards(lambda xs: [x * 2 for x in xs], [1, 2, 3]) == [2, 4, 6]
    assert dist.sum_all([1.0, 2.0]) == [1.0, 2.0]
    with dist.main_first() as main:
        assert main


def test_two_processes_repair_data_parallel_audit_sharded_and_write_once(memorized, tmp_path):
    out = tmp_path / "out"
    done = _launch("sanitize", "-q", "--model", str(memorized["original"]), "--corpus", str(memorized["train"]),
                   "--out", str(out), "--no-audit")
    assert done.stdout.count("sanitized model written to") == 1  # only the main process prints
    report = json.loads((out / "sanitization.json").read_text())
    # data parallel: each process took half of the records per epoch, batches of 8 on each
    records = len(data.read_corpus(memorized["train"]))
    assert report["repair"]["steps"] == math.ceil(math.ceil(records / 2) / 8) * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary or work directory left
    # the audit, sharded over two processes and gathered, gives what one process gives
    _launch("audit", "-q", "--model", str(out), "--corpus", str(memorized["train"]), "--holdout", str(memorized["holdout"]),
            "--contexts", "full", "--samples", "2", "--no-extraction", "--out", str(tmp_path / "audit.json"))
    two = json.loads((tmp_path / "audit.json").read_text())
    one = sani.audit(out, memorized["train"], holdout=memorized["holdout"], contexts=(None,), samples=2, extraction=False,
                     progress=False)
    assert two["regurgitation"]["greedy"] == one["regurgitation"]["greedy"]
    assert two["regurgitation"]["greedy"]["rate"] <= 0.05  # the data-parallel repair forgot (the model regurgitates >= 50%)
    assert two["regurgitation"]["sampled"]["rate"] is not None
    assert two["membership"]["sensitive"]["loss"]["auc"] == pytest.approx(one["membership"]["sensitive"]["loss"]["auc"], abs=1e-6)
    assert two["utility"]["holdout"]["perplexity"] == pytest.approx(one["utility"]["holdout"]["perplexity"], rel=1e-4)
    assert models.fingerprint(models.load(out)[0]) == report["output_fingerprint"]


def test_example_accelerate_configs_are_valid():
    from pathlib import Path

    from accelerate.commands.config.config_args import ClusterConfig

    found = sorted((Path(__file__).parent.parent / "examples" / "accelerate").glob("*.yaml"))
    assert {f.stem for f in found} >= {"ddp", "deepspeed-zero2"}
    for f in found:
        cfg = ClusterConfig.from_yaml_file(str(f))  # refuses unknown keys
        assert cfg.num_processes >= 2 and not cfg.use_cpu


def test_sharded_weights_are_refused_in_one_line(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    with pytest.raises(sani.SaniError, match="FSDP is not supported yet"):
        dist.init()
    monkeypatch.delenv("ACCELERATE_USE_FSDP")
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "3")
    with pytest.raises(sani.SaniError, match="ZeRO-3 is not supported yet"):
        dist.init()


def test_an_error_in_one_process_share_reaches_the_others_without_its_text(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text(
        "from sani import dist\n"
        "dist.init()\n"
        "def work(xs):\n"
        "    if dist.rank() == 1:\n"
        "        raise ValueError('the value 123-45-6789')\n"
        "    return xs\n"
        "try:\n"
        "    dist.map_shards(work, list(range(5)))\n"
        "except Exception as e:\n"
        "    print(f'rank {dist.rank()}: {type(e).__name__}: {e}', flush=True)\n"
        "dist.shutdown()\n"
    )
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rank 0: SaniError: process 1 failed in its share of the work (ValueError)" in done.stdout
    assert "rank 1: ValueError" in done.stdout  # the failing process raises its own error
