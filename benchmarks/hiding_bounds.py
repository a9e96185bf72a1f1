"""The figures behind tests/test_attacks.py::test_relearning_brings_back_what_unlikelihood_hid, per fixture seed.

For each `SANI_TEST_SEED` offset: the suite's memorizing GPT-2 (`memorized`, 30 patients, seed 5 + offset) is
repaired with the test's hiding objective (unlikelihood) and with its control (the calibrated default), then
attacked as the test attacks it. Prints greedy regurgitation before the attack and the share given back after
it, for both, so the test's bounds can be set at least 25% away from the worst seed (tests/BOUNDS.md).

    OMP_NUM_THREADS=1 python benchmarks/hiding_bounds.py --offsets 0,1,2,3,4
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import fit  # noqa: E402
from test_attacks import HIDING, HIDING_ATTACK  # noqa: E402

from sani import data, kinds, machine, models  # noqa: E402
from sani.audit.common import Context, measure  # noqa: E402
from sani.config import AuditConfig  # noqa: E402
from sani.demo import build_demo_model  # noqa: E402

METHODS = {"unlikelihood (the test)": HIDING, "calibrated default (control)": {}}


def rows(offset: int, workdir: Path) -> list[dict]:
    paths = build_demo_model(workdir / str(offset), patients=30, seed=5 + offset, progress=False)
    out = []
    for name, settings in METHODS.items():
        model, tok = models.load(paths["original"]).pair
        enc = data.encode_corpus(tok, data.read_corpus(paths["train"]))
        fit(model, tok, enc, **settings)
        cfg = AuditConfig(**HIDING_ATTACK)
        greedy = AuditConfig(**HIDING_ATTACK, contexts="full", samples=0)
        before = measure("regurgitation", Context(model.eval(), tok, kinds.of(model), enc, greedy, progress=False))
        before = before.summary["greedy"]["rate"]
        ctx = Context(model, tok, kinds.of(model), enc, cfg, progress=False)
        after = measure("relearn", ctx).summary["attack"]["rate"]
        out.append({"offset": offset, "method": name, "greedy before": round(before, 4), "back after": round(after, 4)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offsets", default="0,1,2,3,4", help="SANI_TEST_SEED offsets to run")
    parser.add_argument("--out", help="also write the rows to this JSON file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found = [r for o in args.offsets.split(",") for r in rows(int(o), Path(tmp))]
    print(
        f"machine: {machine.describe()}\n\n| offset | method | greedy before | back after |\n| --- | --- | --- | --- |"
    )
    for r in found:
        print(f"| {r['offset']} | {r['method']} | {r['greedy before']:.1%} | {r['back after']:.1%} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"machine": machine.record(), "rows": found}, indent=1) + "\n")


if __name__ == "__main__":
    torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    main()
