"""Audit speed, this tree against a baseline commit: the full `sani audit` (holdout and canaries given), one
run after the other in fresh processes, and the same numbers to 1e-4.

    python benchmarks/audit_passes.py --kind masked [--records 50] [--model DIR] [--before 1fcdfb1]
    python benchmarks/audit_passes.py --kind causal

- masked: all-MiniLM-L6-v2 (the `minilm` extra) with a seeded new MLM head (timing does not depend on what
  the model memorized; --model for another masked LM) on the first --records records of the bench corpus.
  Target (issue "speed and scale"): at least 2x faster end to end on a 2-core CPU.
- causal: the demo's memorizing GPT-2 (built first, about 2 minutes) on the demo corpus.

Each run also says where its time went, from forward hooks: the encoder (the model's base), the prediction
head (the rest of the model's forward) and everything else (Python, and generation's own work between
forward calls). Run it alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(args: argparse.Namespace) -> None:
    """One audit in this process, with the `sani` on PYTHONPATH; its result, seconds and time split to --child."""
    import torch
    import transformers

    from sani import api
    from sani.models import loading as models

    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    spent = {"model": 0.0, "encoder": 0.0}
    load = models.load

    def timed_load(*a, **k):  # hooks on the model the audit loads: its whole forward, and its base's
        loaded = load(*a, **k)
        for name, mod in (("model", loaded.model), ("encoder", loaded.model.base_model)):
            mod.register_forward_pre_hook(lambda *_, n=name: spent.__setitem__(n + "0", time.perf_counter()))
            mod.register_forward_hook(
                lambda *_, n=name: spent.__setitem__(n, spent[n] + time.perf_counter() - spent[n + "0"])
            )
        return loaded

    models.load = timed_load
    d = Path(args.data)
    start = time.perf_counter()
    result = api.audit(args.model, d / "train.jsonl", holdout=d / "holdout.jsonl", canaries=d / "canaries.json",
                       progress=False)  # fmt: skip
    wall = time.perf_counter() - start
    split = {"encoder": spent["encoder"], "head": spent["model"] - spent["encoder"], "rest": wall - spent["model"]}
    Path(args.child).write_text(json.dumps({"result": result, "seconds": wall, "split": split}))


def numbers(x, path="") -> dict[str, float]:
    """Every number in a result, by its path (timings and environment left out)."""
    if isinstance(x, dict):
        skip = ("seconds", "environment", "model", "sani_version", "model_fingerprint")
        return {k: v for key, val in x.items() if key not in skip for k, v in numbers(val, f"{path}/{key}").items()}
    if isinstance(x, list):
        return {k: v for i, val in enumerate(x) for k, v in numbers(val, f"{path}/{i}").items()}
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return {path: float(x)}
    return {}


def prepare(d: Path, kind: str, n: int, model: str | None) -> str:
    """The corpus files in `d` (train, holdout, canaries) and the model directory."""
    import shutil

    from sani.bench import pretrained, synthetic
    from sani.bench.demo import build_demo_model
    from sani.spans import data
    from sani.spans.canaries import insert_canaries

    if kind == "causal":
        paths = build_demo_model(d / "demo", with_canaries=True, progress=False)
        for name in ("train", "holdout", "canaries"):
            shutil.copy(paths[name], d / Path(paths[name]).name)
        return model or str(paths["original"])
    train, _ = synthetic.make_bench_corpus(60, seed=1)
    train, definition = insert_canaries(train, seed=0)
    data.write_records(train[:n], d / "train.jsonl")
    data.write_records(synthetic.make_corpus(20, seed=2, repeats=(1,)), d / "holdout.jsonl")
    (d / "canaries.json").write_text(json.dumps(definition))
    return model or str(pretrained.masked_lm_dir(d / "minilm"))


def run(tree: Path, model: str, d: Path, tag: str) -> dict:
    out = d / f"{tag}.json"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(out), "--data", str(d), "--model", model]
    subprocess.run(cmd, env=env, check=True, cwd=d)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=["masked", "causal"], default="masked")
    ap.add_argument("--before", default="1fcdfb1", help="the baseline commit")
    ap.add_argument("--records", type=int, default=50)
    ap.add_argument("--model", help="a masked-LM directory (default: MiniLM with a seeded MLM head)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory() as tmp:
        d, old = Path(tmp), Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.before], check=True,
                       capture_output=True)  # fmt: skip
        try:
            model = prepare(d, args.kind, args.records, args.model)
            runs = {"before": run(old, model, d, "before"), "after": run(ROOT, model, d, "after")}
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    from sani import machine

    a, b = numbers(runs["before"]["result"]), numbers(runs["after"]["result"])
    diff = [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
            if k not in a or k not in b or not math.isclose(a[k], b[k], rel_tol=1e-4, abs_tol=1e-4)]  # fmt: skip
    print(f"# {args.kind} audit, {args.records if args.kind == 'masked' else 'demo'} records, {os.cpu_count()} CPUs, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'default')}; {machine.describe()}")  # fmt: skip
    print("| run | seconds | encoder | head | rest |\n| --- | --- | --- | --- | --- |")
    for tag, r in runs.items():
        s = r["split"]
        print(f"| {tag} | {r['seconds']:.1f} | {s['encoder']:.1f} | {s['head']:.1f} | {s['rest']:.1f} |")
    target = " (target >= 2)" if args.kind == "masked" else ""
    print(f"speed-up: x{runs['before']['seconds'] / runs['after']['seconds']:.2f}{target}")
    print(f"numbers compared: {len(a)}; differing beyond 1e-4 (absolute or relative): {len(diff)}")
    for k, x, y in diff[:20]:
        print(f"  {k}: {x} -> {y}")


if __name__ == "__main__":
    main()
