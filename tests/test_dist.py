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
from pathlib import Path

import pytest

import sani
from sani.audit import utility
from sani.config import SanitizeConfig
from sani.models import loading as models
from sani.models.kinds import CausalLM, MaskedLM
from sani.repair.parts import assign
from sani.scale import dist, sharded
from sani.spans import data

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
PG_TIMEOUT = 60  # seconds
EXAMPLES = Path(__file__).parent.parent / "examples" / "accelerate"


def _run(cmd: list[str], timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "SANI_DIST_TIMEOUT": str(PG_TIMEOUT), **env}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _launch(*args: str, timeout: int = 600, launcher: list[str] = TORCHRUN, **env: str) -> subprocess.CompletedProcess:
    done = _run([*launcher, "-m", "sani.cli", *args], timeout, **env)
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
    done = _launch(
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
    assert done.stderr.count("sani: warning: the tokenizer holds") == 1  # said once, by the main process
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
    stop_half = assign([], hold, SanitizeConfig(**report["config"])).stop_holdout
    assert utility.utility(model, tok, stop_half, kind=CausalLM(), progress=False)["perplexity"] == pytest.approx(
        best["perplexity"], rel=1e-4
    )
    assert models.fingerprint(models.load(out).model) == report["output_fingerprint"]


FSDP_ON_CPU = {  # what `accelerate launch --config_file examples/accelerate/fsdp.yaml` sets, and the CPU switch
    "ACCELERATE_USE_FSDP": "true",
    "FSDP_VERSION": "2",
    "FSDP_AUTO_WRAP_POLICY": "TRANSFORMER_BASED_WRAP",
    "FSDP_RESHARD_AFTER_FORWARD": "true",
    "FSDP_STATE_DICT_TYPE": "SHARDED_STATE_DICT",
    sharded.CPU_TEST_ENV: "1",
}


def _accelerate_launch(config: str, *args: str) -> subprocess.CompletedProcess:
    """`accelerate launch` with an example config, on 2 CPU processes in fp32 and a free port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = str(EXAMPLES / config)
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", config, "--num_processes", "2",
              "--mixed_precision", "no", "--main_process_port", str(port)]  # fmt: skip
    return _launch(*args, launcher=launch)


@pytest.mark.e2e
def test_fsdp_and_zero3_repairs_give_the_weights_of_ddp_gathered_whole(memorized, tmp_path):
    """FSDP2 and DeepSpeed ZeRO-3 on two CPU processes over gloo: the weights trained sharded, gathered,
    loaded whole by each process and written once; the same weights as DDP with the same global batch and
    seed. (Accelerate enables FSDP on GPUs only; the tests' switch turns the Trainer's CPU state into FSDP,
    `sani.scale.sharded`. DeepSpeed runs on CPU as it is. Without the audits, for the suite's time: they read the
    whole model each process loads, as under DDP.)"""
    from safetensors.torch import load_file

    # the quicker objective (no calibration scoring before the repair, 3 s a launch): the sharding is under
    # test; the calibrated default under FSDP and ZeRO-3 was run by hand with its audits (docs/scale.md)
    args = ["sanitize", "-q", "--model", str(memorized["original"]), "--corpus", str(memorized["train"]),
            "--epochs", "1", "--no-audit", "--objective", "masked+unlikelihood"]  # fmt: skip
    _launch(*args, "--out", str(tmp_path / "ddp"))
    runs = {
        "FSDP": _launch(*args, "--out", str(tmp_path / "FSDP"), **FSDP_ON_CPU),
        "DeepSpeed ZeRO-3": _accelerate_launch("deepspeed-zero3.yaml", *args, "--out", str(tmp_path / "ZeRO-3")),
    }
    ddp = load_file(tmp_path / "ddp" / "model.safetensors")
    original = load_file(memorized["original"] / "model.safetensors")
    for how, done in runs.items():
        out = tmp_path / how.split()[-1]
        assert done.stdout.count("sanitized model written to") == 1
        report = json.loads((out / "sanitization.json").read_text())
        assert report["repair"]["sharded"] == how and report["processes"] == 2
        weights = load_file(out / "model.safetensors")
        assert ddp.keys() == weights.keys(), how
        for name, w in ddp.items():
            # the same to float rounding, which Adam magnifies where a gradient is ~0 (the attention's key
            # bias, which the softmax ignores: up to 1e-4 there, 1% of its change): within 2% of the change
            moved = (w - original[name]).abs().max().item()
            assert (w - weights[name]).abs().max().item() <= max(1e-5, 0.02 * moved), (how, name)
        assert max((w - original[n]).abs().max().item() for n, w in weights.items()) > 1e-3  # trained
        assert models.fingerprint(models.load(out).model) == report["output_fingerprint"]
        # the model's generation settings kept, not rebuilt from its config (which turned the KV cache off)
        generation = (json.loads((d / "generation_config.json").read_text()) for d in (tmp_path / "ddp", out))
        assert next(generation) == next(generation)


@pytest.mark.unit
def test_gathered_weights_that_do_not_fit_are_refused_in_one_line(tmp_path, monkeypatch):
    """Sized as they will load: ZeRO-3 writes its 16-bit copy, which loads in the model's own dtype."""
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1000, 1000, dtype=torch.bfloat16)}, str(tmp_path / "model.safetensors"))
    need = 4 * 1000 * 1000  # float32: twice the file
    monkeypatch.setattr(sharded, "available_bytes", lambda device: need - 1)
    with pytest.raises(
        sani.SaniError, match=rf"\(0\.0 GiB, kept in {tmp_path}\) do not fit in one process's cpu memory"
    ):
        sharded.load_whole(tmp_path, torch.nn.Module, torch.float32)


@pytest.mark.unit
def test_example_accelerate_configs_are_valid():
    from accelerate.commands.config.config_args import ClusterConfig
    from accelerate.commands.launch import launch_command_parser

    found = sorted(EXAMPLES.glob("*.yaml"))
    assert {f.stem for f in found} >= {"ddp", "deepspeed-zero2", "deepspeed-zero3", "fsdp"}
    flags = {a.dest for a in launch_command_parser()._actions}
    for f in found:
        cfg = ClusterConfig.from_yaml_file(str(f))  # refuses unknown keys, not those in fsdp/deepspeed_config
        assert cfg.num_processes >= 2 and not cfg.use_cpu
        assert set(cfg.fsdp_config) | set(cfg.deepspeed_config) <= flags, f.name  # each becomes a launch flag


@pytest.mark.unit
def test_what_a_sharded_repair_cannot_do_is_refused_in_one_line(monkeypatch, tmp_path):
    sharded.check(target="regurgitation<=0.01", lora=True)  # whole weights: all allowed
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    assert sharded.mode() == "FSDP"
    sharded.check()
    with pytest.raises(sani.SaniError, match="--target with FSDP"):
        sharded.check(target="regurgitation<=0.01")
    with pytest.raises(sani.SaniError, match="LoRA with FSDP"):
        sharded.check(lora=True)
    sharded.check(kind=CausalLM())
    with pytest.raises(sani.SaniError, match="FSDP with a masked-lm: .* use DeepSpeed ZeRO-3"):
        sharded.check(kind=MaskedLM())
    monkeypatch.delenv("ACCELERATE_USE_FSDP")
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "2")
    assert sharded.mode() is None  # ZeRO-2: whole weights in every process
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "3")
    sharded.check(kind=MaskedLM())  # ZeRO-3 shards BERT's tied head
    with pytest.raises(sani.SaniError, match="--target with DeepSpeed ZeRO-3"):
        sharded.check(target="regurgitation<=0.01")
    ds = tmp_path / "ds_config.json"  # accelerate's `deepspeed_config_file`: the stage is read from it
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_CONFIG_FILE", str(ds))
    ds.write_text(json.dumps({"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": "auto"}))
    with pytest.raises(sani.SaniError, match="LoRA with DeepSpeed ZeRO-3"):
        sharded.check(lora=True)
    ds.write_text(json.dumps({"zero_optimization": {"stage": 2}}))
    assert sharded.mode() is None
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")  # the launch's, written into DeepSpeed's config
    with pytest.raises(sani.SaniError, match="trains in bf16 under DeepSpeed: pass --precision bf16"):
        sharded.check()
    sharded.check(precision="bf16")
    ds.write_text("{not json")
    with pytest.raises(sani.SaniError, match="ds_config.json: not a readable DeepSpeed config"):
        sharded.mode()


@pytest.mark.e2e
def test_an_error_in_one_process_share_reaches_the_others_and_the_processes_end_without_finalization(tmp_path):
    """map_shards: a failing share's error reaches the others by its type only. Then the exit that cannot
    abort: output flushed, no interpreter finalization (where a gloo worker thread freeing a collective's
    tensor would need the GIL), right after DDP and broadcast_object_list."""
    script = tmp_path / "fail.py"
    script.write_text(
        "import atexit, sys\n"
        "import torch\n"
        "from sani.scale import dist\n"
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
    assert not re.search(r'File "[^"]*/sani/(?:[a-z_]+/)*[a-z_]+\.py"', done.stderr)  # no traceback from sani's code
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
