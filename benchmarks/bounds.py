"""The figures behind the suite's bounds on model-derived numbers, per fixture (tests/BOUNDS.md).

On the fixtures of one `SANI_TEST_SEED` offset (read as the suite reads it), each named check runs the setup of
its test as the test runs it and prints its figures, so that each bound can be set at least 25% away from the
worst fixture:

- hiding: test_attacks.py::test_relearning_brings_back_what_unlikelihood_hid, with its control (the calibrated
  default, repaired and attacked the same way): greedy before the attack, share given back after it;
- sampling: test_metrics.py::test_context_lengths_sampling_and_partial_hits: greedy and any-of-4 sampled rates;
- default: test_pipeline.py::test_default_sanitize_stops_regurgitation_and_keeps_utility: the default
  sanitize's audit figures the test bounds;
- lora: test_adapters.py::test_adapter_is_sanitized_and_written_as_an_adapter: the adapter's regurgitation
  before and after;
- bert: test_mlm.py's tiny BERT: its fill-in rates against a fresh BERT's, and the masked-LM default's audit.

    for k in 0 1 2 3 4; do SANI_TEST_SEED=$k OMP_NUM_THREADS=1 python benchmarks/bounds.py --out b$k.json; done
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import conftest  # noqa: E402
from test_attacks import HIDING, hide_and_attack  # noqa: E402

from sani import machine
from sani.audit import regurgitation  # noqa: E402
from sani.bench.demo import build_demo_model  # noqa: E402
from sani.models import loading as models  # noqa: E402
from sani.spans import data


def hiding(paths: dict, offset: int, workdir: Path) -> dict:
    out = {}
    for name, settings in {"unlikelihood (the test)": HIDING, "calibrated default (control)": {}}.items():
        before, got = hide_and_attack(paths, settings)
        out[name] = {"greedy before": before, "back after": got["settings"][0]["rate"]}
    return out


def sampling(paths: dict, offset: int, workdir: Path) -> dict:
    model, tok = models.load(paths["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(paths["train"]))
    r = regurgitation.regurgitation(model.eval(), tok, enc[:20], contexts=(None, 8), samples=4, progress=False)
    return {k: r[k]["rate"] for k in ("greedy", "sampled", "greedy_last8")} | {"partial": r["greedy"]["partial_rate"]}


def default(paths: dict, offset: int, workdir: Path) -> dict:
    from sani.pipeline import sanitize

    report = sanitize(paths["original"], paths["train"], workdir / f"san{offset}", holdout=paths["holdout"],
                      progress=False)  # fmt: skip
    before, after = report["audit_before"], report["audit_after"]
    return {
        "greedy before": before["regurgitation"]["greedy"]["rate"],
        "greedy after": after["regurgitation"]["greedy"]["rate"],
        "perplexity ratio": after["utility"]["holdout"]["perplexity"] / before["utility"]["holdout"]["perplexity"],
        "holdout AUC before": before["membership"]["sensitive"]["loss"]["auc"],
        "holdout AUC after": after["membership"]["sensitive"]["loss"]["auc"],
        "paired AUC after": after["paired_membership"]["sensitive"]["loss"]["auc"],
        "value exposure before": before["value_exposure"]["mean"],
        "value exposure after": after["value_exposure"]["mean"],
    }


def lora(paths: dict, offset: int, workdir: Path) -> dict:
    from test_adapters import make_lora_memorized

    import sani

    made = make_lora_memorized(workdir / f"lora{offset}")
    report = sani.sanitize(made["adapter"], made["train"], workdir / f"lora-out{offset}", progress=False)
    return {k: report[f"audit_{k}"]["regurgitation"]["greedy"]["rate"] for k in ("before", "after")}


def bert(paths: dict, offset: int, workdir: Path) -> dict:
    from test_mlm import make_memorized_bert

    import sani
    from sani.audit import fillin
    from sani.bench import tiny

    made = make_memorized_bert(workdir / f"bert{offset}")
    model, tok = models.load(made["original"]).pair
    encoded = data.encode_corpus(tok, data.read_corpus(made["train"]))
    got = fillin.regurgitation(model, tok, encoded, progress=False)
    fresh = fillin.regurgitation(tiny.tiny_model("bert", tok, layers=2).eval(), tok, encoded, progress=False)
    report = sani.sanitize(made["original"], made["train"], workdir / f"bert-out{offset}", holdout=made["holdout"],
                           progress=False)  # fmt: skip
    before, after = report["audit_before"], report["audit_after"]
    lens = sani.audit(workdir / f"bert-out{offset}", made["train"], samples=0, exposure_spans=0, progress=False,
                      paired_membership=False, attacks="lens", lens_spans=20)["attacks"]["lens"]  # fmt: skip
    return {
        "lens top layer": lens["layers"][-1]["rate"],
        "greedy": got["greedy"]["rate"],
        "left to right": got["left_to_right"]["rate"],
        "joint": got["joint"]["rate"],
        "fresh greedy": fresh["greedy"]["rate"],
        "fresh left to right": fresh["left_to_right"]["rate"],
        "value pll gain": got["greedy"]["mean_value_pll"] - fresh["greedy"]["mean_value_pll"],
        "sanitized greedy before": before["regurgitation"]["greedy"]["rate"],
        "sanitized greedy after": after["regurgitation"]["greedy"]["rate"],
        "sanitized left to right after": after["regurgitation"]["left_to_right"]["rate"],
        "perplexity ratio": after["utility"]["holdout"]["perplexity"] / before["utility"]["holdout"]["perplexity"],
    }


CHECKS = {"hiding": hiding, "sampling": sampling, "default": default, "lora": lora, "bert": bert}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", default=",".join(CHECKS), help=f"which of {', '.join(CHECKS)}")
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args()
    offset, rows = conftest.SEED, []
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_demo_model(Path(tmp) / "memorized", patients=30, seed=5 + offset, progress=False)
        for check in args.checks.split(","):
            rows.append({"offset": offset, "check": check, "figures": CHECKS[check](paths, offset, Path(tmp))})
            print(json.dumps(rows[-1]), flush=True)
    print(f"machine: {machine.describe()}")
    if args.out:
        Path(args.out).write_text(json.dumps({"machine": machine.record(), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
