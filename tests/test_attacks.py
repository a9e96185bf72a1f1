"""Attacks on copies of the model (relearn, quantize, extract, lens), the tokenizer scan and the release gate."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from conftest import SEED

from sani.audit import gate
from sani.audit.common import Context
from sani.audit.lens import per_layer
from sani.audit.quantize import NF4, int8_roundtrip, matrices, nf4_roundtrip, quantize
from sani.audit.tokscan import scan
from sani.bench import tiny
from sani.cli import main
from sani.errors import SaniError
from sani.models import kinds
from sani.models import loading as models
from sani.options import VERDICT_EXIT
from sani.spans import data


@pytest.mark.unit
def test_int8_and_nf4_round_weights_onto_their_grids(tokenizer):
    w = torch.tensor([[1.0, -0.5, 0.26], [0.02, 0.01, -0.04]])
    got = int8_roundtrip(w)
    assert torch.allclose(got[0], torch.tensor([127, -64, 33]) / 127)  # one scale per output row
    assert torch.allclose(got[1], torch.round(w[1] / (0.04 / 127)) * (0.04 / 127))
    assert torch.allclose(int8_roundtrip(w.T, out_dim=1), got.T)  # GPT-2's Conv1D: outputs are columns
    x = torch.randn(3, 128)  # 6 blocks of 64
    q = nf4_roundtrip(x).reshape(6, 64)
    codes = q / x.reshape(6, 64).abs().amax(1, keepdim=True)
    assert torch.all((codes.reshape(-1, 1) - NF4[None]).abs().min(1).values < 1e-5)  # each weight: a code x absmax
    assert torch.all(codes.abs().amax(1) == 1) and (q - x.reshape(6, 64)).abs().max() < 0.2 * x.abs().max()

    model = tiny.tiny_model("gpt2", tokenizer, layers=2, hidden=32, heads=2)
    head = model.get_output_embeddings().weight.clone()
    kinds = {type(m).__name__ for m, _ in matrices(model)}
    before = [m.weight.clone() for m, _ in matrices(model)]
    quantize(model, "int8")
    assert kinds == {"Conv1D"} and torch.equal(model.get_output_embeddings().weight, head)
    assert all(not torch.equal(b, m.weight) for b, (m, _) in zip(before, matrices(model)))
    for m, out_dim in matrices(model):  # each output column is a whole multiple of its scale
        steps = m.weight / (m.weight.abs().amax(dim=1 - out_dim, keepdim=True) / 127)
        assert torch.allclose(steps, torch.round(steps), atol=1e-3)
    conv = tiny.tiny_model("gpt2", tokenizer, layers=1, hidden=32, heads=2).transformer.h[0].mlp.c_fc
    w = conv.weight.detach().clone()  # Conv1D: [in, out]; nf4's blocks run along the [out, in] rows
    quantize(_Wrap(conv), "nf4")
    assert torch.equal(conv.weight, nf4_roundtrip(w.T.contiguous()).T)


class _Wrap(torch.nn.Module):
    """One layer as a model (no output head) for `quantize`."""

    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.layer = layer

    def get_output_embeddings(self) -> None:
        return None


@pytest.mark.unit
def test_the_gate_is_the_worst_check_and_attacks_count_above_the_reference():
    audit = {
        "regurgitation": {"greedy": {"rate": 0.0, "partial_rate": 0.0, "by_label": {}}},
        "attacks": {
            "relearn": {"attack": {"rate": 0.30, "reference": {"rate": 0.295}}},
            "quantize": {"int8": {"rate": 0.02}},
            "lens": {"layers": [{"rate": 0.5}, {"rate": 0.0}], "reference": {"layers": [{"rate": 0.495}, {"rate": 0}]}},
            "extract": {"share": 0.0, "unmarked_in_corpus": 2},
        },
        "tokenizer": {"values": 0},
    }
    got = gate.judge(audit)
    checks = {k: c["verdict"] for k, c in got["checks"].items()}
    assert checks == {"greedy_regurgitation": "pass", "partial_regurgitation": "pass", "relearn": "pass",
                      "quantize_int8": "fail", "lens": "pass", "extract": "inconclusive", "tokenizer": "pass"}  # fmt: skip
    assert got["overall"] == "fail" and got["checks"]["relearn"]["value"] == pytest.approx(0.005)
    assert gate.judge(audit, {"attack_regurgitation": 0.05})["overall"] == "inconclusive"
    audit["tokenizer"] = {"values": 3, "distinctive": 0, "shared_with_reference": None}  # single words, no reference
    assert gate.judge(audit, {"attack_regurgitation": 0.05})["checks"]["tokenizer"]["verdict"] == "inconclusive"
    audit["tokenizer"]["distinctive"] = 1  # an SSN or a full name as an entry: no public vocabulary has one
    assert gate.judge(audit, {"attack_regurgitation": 0.05})["checks"]["tokenizer"]["verdict"] == "fail"
    with pytest.raises(SaniError, match="threshold 'lens_rate'"):
        gate.judge(audit, {"lens_rate": 0.1})
    assert gate.judge({"regurgitation": {"greedy": {"rate": 0.0}}})["overall"] == "pass"


@pytest.mark.unit
def test_tokenizer_scan_finds_values_learnt_into_the_vocabulary(tokenizer):
    texts = ["Patient Quillabert Zanderfeld, MRN QZ-448213, seen today."] * 300 + ["Routine visit, no issues."] * 50
    learnt = tiny.train_tokenizer(texts, vocab_size=400)
    pairs = [("NAME", "Quillabert Zanderfeld"), ("NAME", "Quillabert"), ("MRN", "QZ-448213"), ("CITY", "Oslo")]
    got = scan(learnt, pairs)
    assert got["values"] >= 1 and got["by_label"]["NAME"]["values"] == 1  # "Quillabert" is an entry
    assert got["pieces"] >= 1 and got["by_label"]["CITY"] == {"values": 0, "pieces": 0, "total": 1}
    assert "Quillabert" not in json.dumps(got) and "448213" not in json.dumps(got)
    assert scan(learnt, pairs, reference=learnt)["values"] == 0  # shared with the reference: not the corpus's
    public = scan(tokenizer, pairs)  # the tests' tokenizer never saw these names
    assert public["values"] == 0 and public["pieces"] == 0


@pytest.fixture(scope="module")
def fresh(memorized, tmp_path_factory):
    """A model of the same architecture and tokenizer that never trained: a reference that never saw a value."""
    from transformers import AutoModelForCausalLM

    model, tok = models.load(memorized["original"]).pair
    torch.manual_seed(1 + SEED)
    out = tmp_path_factory.mktemp("fresh")
    AutoModelForCausalLM.from_config(model.config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


# The hiding test's repair and attack (benchmarks/bounds.py runs them on other fixtures: tests/BOUNDS.md).
# One epoch of unlikelihood stops greedy regurgitation with the values pushed down only just below the surface,
# and an attack at twice the old default repair's rate brings them back from there on every fixture measured.
HIDING = {"objective": "masked+unlikelihood", "forget_weight": 1.0, "lr": 5e-4, "epochs": 1}
HIDING_ATTACK = {"relearn_lr": 1e-3, "relearn_epochs": 3, "exposure_spans": 20, "exposure_candidates": 30,
                 "contexts": "full", "attack_samples": 0}  # fmt: skip


def hide_and_attack(paths: dict, settings: dict, relearn_corpus=None) -> tuple[float, dict]:
    """`paths`' memorizing model repaired by `fit` with `settings`, then attacked with `HIDING_ATTACK` (and its
    benign variant on `relearn_corpus`, when given): greedy regurgitation before the attack, and the attack's
    summary. The test and benchmarks/bounds.py share it."""
    from conftest import fit

    from sani.audit.common import measure
    from sani.config import AuditConfig

    model, tok = models.load(paths["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(paths["train"]))
    fit(model, tok, enc, **settings)
    ctx = Context(model.eval(), tok, kinds.of(model), enc, AuditConfig(**HIDING_ATTACK), progress=False)
    greedy = AuditConfig(**{**HIDING_ATTACK, "contexts": "full"}, samples=0)
    before = measure("regurgitation", dataclasses.replace(ctx, cfg=greedy)).summary["greedy"]["rate"]
    if relearn_corpus is not None:  # --relearn-corpus
        ctx.relearn_records = data.encode_corpus(tok, data.read_corpus(relearn_corpus))
    return before, measure("relearn", ctx).summary


@pytest.mark.model
def test_relearning_brings_back_what_unlikelihood_hid(memorized):
    """Unlikelihood (sani's default before calibration) stops regurgitation but hides the values: a little
    ordinary fine-tuning on a fifth of the records gives the others back. The calibrated default, repaired and
    attacked the same way, gives back at most 0.25 on the 5 fixtures measured: it fails this test's bound.
    Measured (benchmarks/bounds.py, 5 fixtures): greedy before the attack 0-2.4%, back after 60.6-73.5%."""
    before, got = hide_and_attack(memorized, HIDING, relearn_corpus=memorized["holdout"])
    assert before <= 0.05
    attack, benign = got["settings"]  # a custom setting (--relearn-lr given), and the benign variant beside it
    # value exposure after the attack: at the cap (4.95 bits) on fixtures 0-3, the calibrated default's too:
    # the rate, not the exposure, tells hiding from forgetting here
    assert attack["rate"] > 0.45 and attack["value_exposure"] > 3
    assert attack["back"]["rate"] >= attack["rate"] and attack["interval"][0] > 0.3  # no reference: above 0
    # the benign variant: other people's records of the same kind, every value scored
    holdout = data.read_corpus(memorized["holdout"])
    assert benign["variant"] == "benign" and benign["records"] == len(holdout) and benign["back"]["values"] > 0


@pytest.mark.e2e
def test_attacks_on_the_default_sanitize_and_the_release_gate(memorized, sanitized, fresh, tmp_path, capsys):
    out = tmp_path / "audit.json"
    args = ["audit", "--model", str(sanitized), "--corpus", str(memorized["train"]), "--out", str(out),
            "--reference-model", str(fresh), "--attacks", "all", "--relearn-epochs", "3", "--attack-samples", "0",
            "--quantize-schemes", "nf4", "--extract-samples", "32", "--extract-tokens", "24", "--lens-spans", "30", "--samples", "0",
            "--contexts", "full", "--no-extraction", "--exposure-spans", "20", "--exposure-candidates", "30",
            "--no-paired-membership", "--require-pass", "-q"]  # fmt: skip
    code = main(args)
    printed = capsys.readouterr()
    result = json.loads(out.read_text())
    at, verdict = result["attacks"], result["verdict"]
    assert code == (0 if verdict["overall"] == "pass" else VERDICT_EXIT)
    assert f"overall verdict: {verdict['overall']}" in printed.out and "sani: attack relearn:" in printed.err
    assert (
        result["regurgitation"]["greedy"]["rate"] <= 0.01
        and verdict["checks"]["greedy_regurgitation"]["verdict"] == "pass"
    )
    # the calibrated default removes rather than hides: a regression bound (measured: 0% back, the reference
    # 0%; the unlikelihood default gave back 51%), and value exposure after relearning well below the cap
    (relearn,) = at["relearn"]["settings"]  # --relearn-epochs given: one custom setting, not the grid
    assert relearn["rate"] < 0.1 and relearn["reference"]["rate"] < 0.02
    assert relearn["value_exposure"] < 5.5 and verdict["checks"]["relearn"]["verdict"] == "pass"
    # its rate comes from the model's size, never from the model directory's sanitization.json
    assert relearn["lr"] == 5e-4 != json.loads((sanitized / "sanitization.json").read_text())["config"]["lr"]
    assert relearn["interval"][0] <= relearn["difference"] <= relearn["interval"][1]
    assert at["quantize"]["nf4"]["backend"] == "torch" and at["quantize"]["nf4"]["total"] > 0
    model = models.load(sanitized).model
    assert [row["layer"] for row in at["lens"]["layers"]] == list(range(model.config.n_layer))
    assert at["lens"]["layers"][-1]["rate"] <= 0.05  # the model itself no longer says them
    original, tok = models.load(memorized["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"])[:8])
    ctx = Context(original, tok, kinds.of(original), enc)
    assert per_layer(ctx, original, enc)[-1]["rate"] > 0.5  # the lens reads what the original memorized
    assert at["extract"]["samples"] == 32 and at["extract"]["prompts"] >= 2 and "share" in at["extract"]
    assert (
        result["model_fingerprint"] == json.loads((sanitized / "sanitization.json").read_text())["output_fingerprint"]
    )
    assert result["scope"]["attacks_run"] == ["relearn", "quantize", "extract", "lens"]
    assert "tokenizer" in verdict["checks"] and result["tokenizer"]["shared_with_reference"] > 0
    text = out.read_text()
    values = {r.value(s) for r in data.read_corpus(memorized["train"]) for s in r.spans}
    assert not [v for v in values if v in text]

    page = tmp_path / "report.html"
    assert (
        main(["report", str(out), str(sanitized / "sanitization.json"), "--names", "attacked,run", "--out", str(page)])
        == 0
    )
    html = page.read_text()
    assert html.index("overall verdict") < html.index("Verdicts") < html.index("Scope and limitations")
    assert "Attacks on copies" in html and "Logit lens" in html and "not asked" in html
    assert not [v for v in values if v in html]


@pytest.mark.unit
def test_free_samples_are_searched_for_known_values_and_identifiers_the_spans_missed():
    from sani.audit.generations import Lookup, search

    text = "Patient Ann Lee, SSN 219-09-9999, wrote from ann.lee@example.org; Dr. contact: desk@clinic.org"
    rec = data.Record(text, [data.Span(8, 15, "NAME"), data.Span(21, 32, "SSN")])  # the emails are not marked
    enc = [data.Encoded([], [], rec)]
    samples = [
        "her SSN is 219-09-9999 and",
        "write to desk@clinic.org or",
        "mail zed@nowhere.net",
        "to ann.lee@example.org",
    ]
    got = search(samples, Lookup.of(enc, "US"))
    assert got["values_found"] == 1 and got["by_label"] == {"SSN": 1} and got["share"] == 0.5
    assert got["unknown_hits"]["EMAIL"] == 3 and got["unmarked_in_corpus"] == 2  # the made-up one is not counted
    assert "219-09-9999" not in json.dumps(got) and "desk@clinic.org" not in json.dumps(got)


@pytest.mark.unit
def test_relearn_scores_only_values_the_attack_records_do_not_hold():
    from sani.audit.generations import phone_region
    from sani.audit.relearn import split

    texts = [f"Note {i}: patient Name{i} Lastname, phone 555-010{i}." for i in range(10)]
    texts[9] = "Note 9: patient Name1 Lastname called again, phone 555-0109."
    recs = [data.Record(t, [data.Span(t.index("Name"), t.index(" Lastname"), "NAME")]) for t in texts]
    enc = [data.Encoded([0] * 5, [-1] * 5, r) for r in recs]
    attack, scored = split(enc, 0.2, seed=3)
    held = {e.record.value(s) for e in scored for s in e.record.spans}
    in_attack = "\n".join(texts[i] for i in attack)
    assert len(attack) == 2 and held and not [v for v in held if v in in_attack]
    assert len(scored) + len(attack) <= 10 and all(e.record.text not in in_attack for e in scored)
    assert (phone_region("fr_FR"), phone_region("ar_AA"), phone_region("en")) == ("FR", "US", "US")


@pytest.mark.unit
def test_the_gate_fails_a_label_below_the_reference_as_surely_as_above():
    """Per label, against the reference model: value exposure more than 1 bit from the reference's either
    way fails; a label with fewer than 30 distinct values is not judged; the membership rule of each judged
    label (membership.by_label) gives the worst verdict."""

    def exposure(values: dict[str, tuple[float, int]]) -> dict:
        return {"by_label": {k: {"mean": m, "values": n} for k, (m, n) in values.items()}}

    model = {"EMAIL": (2.1, 40), "IBAN": (1.2, 40), "NOTE": (9.0, 5)}
    reference = {"EMAIL": (2.5, 40), "IBAN": (3.4, 40), "NOTE": (1.0, 5)}
    audit = {"regurgitation": {"greedy": {"rate": 0.0}}, "value_exposure": {"spans": 100, "mean": 2.0, "chance": 1.4, **exposure(model),
                                "reference": {"mean": 2.9, **exposure(reference)}}}  # fmt: skip
    got = gate.judge(audit)["checks"]
    assert got["value_exposure"]["verdict"] == "pass"  # the mean sits below the reference's: one-sided, passes
    assert got["value_exposure_by_label"] == {"verdict": "fail", "value": -2.2, "threshold": 1.0}  # IBAN, below
    model["IBAN"] = (2.6, 40)
    audit["value_exposure"].update(exposure(model))
    assert gate.judge(audit)["checks"]["value_exposure_by_label"]["verdict"] == "pass"  # NOTE: too few values
    rules = {"A": {"difference": 0.02, "verdict": "pass"}, "B": {"difference": -0.3, "verdict": "fail"}}
    audit["membership"] = {"by_label": {k: {"auc": 0.5, "rule": r} for k, r in rules.items()} | {"C": {"auc": 0.9}}}
    assert gate.judge(audit)["checks"]["membership_by_label"] == {"verdict": "fail", "value": -0.3, "threshold": 0.05}


@pytest.mark.unit
def test_the_relearning_grid_is_set_by_the_models_size_and_a_custom_setting_replaces_it():
    from sani.audit.relearn import RATES, grid, rates
    from sani.config import AuditConfig

    small = torch.nn.Linear(10, 10)
    assert rates(small) == RATES["small"] and RATES["large"][1] < RATES["small"][0]
    quick = grid(AuditConfig(), RATES["small"], benign=True, unrelated=True)
    attacks = [(s.lr, s.epochs, s.fraction) for s in quick if s.variant == "attack"]
    assert attacks == [(5e-4, 3, 0.2), (5e-4, 10, 0.2), (2e-3, 3, 0.2), (2e-3, 10, 0.2)]
    assert [(s.variant, s.lr) for s in quick[4:]] == [("benign", 2e-3), ("unrelated", 2e-3)]
    full = grid(AuditConfig(relearn_grid="full"), RATES["small"], benign=False, unrelated=True)
    assert len(full) == 3 * 2 * 2 + 1 and {s.fraction for s in full} == {0.2, 0.5} and full[-1].lr == 5e-3
    (one,) = grid(AuditConfig(relearn_epochs=5), RATES["large"], benign=False, unrelated=True)
    assert (one.variant, one.lr, one.epochs, one.fraction) == ("attack", 5e-5, 5, 0.2)
    with pytest.raises(SaniError, match="relearn_fraction"):
        AuditConfig(relearn_fraction=1.5).validate()


@pytest.mark.unit
def test_an_attack_fails_only_when_its_whole_interval_is_above_the_threshold():
    from sani.audit.rule import exceeds, rate_difference

    assert rate_difference([], None, []) == (0.0, [0.0, 0.0])
    diff, interval = rate_difference([False] * 300, [False] * 300, range(300))
    assert diff == 0 and interval == [0, 0] and exceeds(interval, 0.01) == "pass"
    hits, ref = [True] * 3 + [False] * 97, [False] * 100  # 3% back, against 0: could be noise at a 1% threshold
    diff, (lo, hi) = rate_difference(hits, ref, range(100))
    assert diff == 0.03 and lo <= 0.01 < hi and exceeds((lo, hi), 0.01) == "inconclusive"
    diff, (lo, hi) = rate_difference([True] * 30 + [False] * 70, [True] * 5 + [False] * 95, range(100))
    assert diff == 0.25 and lo > 0.1 and exceeds((lo, hi), 0.01) == "fail"
    # a value's occurrences are resampled together: one value in 10 places is one piece of evidence
    _, wide = rate_difference([True] * 10 + [False] * 90, None, [0] * 10 + list(range(1, 91)))
    _, narrow = rate_difference([True] * 10 + [False] * 90, None, range(100))
    assert wide[1] - wide[0] > narrow[1] - narrow[0]
    # clusters are values' keyed hashes: the same grouping under other ids (another run's key) gives the same interval
    hits = [True] * 3 + [False] * 197
    assert rate_difference(hits, None, [f"a{i % 50:03d}" for i in range(200)]) == rate_difference(
        hits, None, [f"z{49 - i % 50:03d}" for i in range(200)])  # fmt: skip

    grid = {"settings": [{"variant": "attack", "rate": 0.0, "difference": 0.03, "interval": [0.0, 0.07]},
                         {"variant": "unrelated", "rate": 0.0, "difference": 0.0, "interval": [0.0, 0.0]}]}  # fmt: skip
    audit = {"regurgitation": {"greedy": {"rate": 0.0}}, "attacks": {"relearn": grid}}
    assert gate.judge(audit)["checks"]["relearn"] == {"verdict": "inconclusive", "value": 0.03, "threshold": 0.01}
    grid["settings"][1]["interval"] = [0.02, 0.2]
    assert gate.judge(audit)["checks"]["relearn"]["verdict"] == "fail"


@pytest.mark.unit
def test_values_an_attack_lifts_above_where_it_lifts_unseen_ones_fail_against_the_reference():
    def setting(bits, ref_bits):
        return {"rate": 0.0, "difference": 0.0, "interval": [0.0, 0.0], "value_exposure": bits,
                "reference": {"rate": 0.0, "value_exposure": ref_bits}}  # fmt: skip

    grid = {"settings": [setting(2.0, 1.9), setting(5.6, 2.1)]}  # the harsher setting lifts them 3.5 bits more
    audit = {"regurgitation": {"greedy": {"rate": 0.0}}, "attacks": {"relearn": grid, "quantize": {"matrices": 4}}}
    got = gate.judge(audit)["checks"]
    assert got["relearn"]["verdict"] == "pass"  # greedy decoding says none of them
    assert got["attack_exposure"] == {"verdict": "fail", "value": 3.5, "threshold": 1.0}
    audit["attacks"]["quantize"]["int8"] = setting(1.0, 4.0)  # below the reference: the worst is still the most above
    assert gate.judge(audit)["checks"]["attack_exposure"]["value"] == 3.5
    grid["settings"][1] = setting(2.8, 2.1)
    assert gate.judge(audit)["checks"]["attack_exposure"]["verdict"] == "pass"
    for s in grid["settings"] + [audit["attacks"]["quantize"].pop("int8")]:
        s.pop("reference")  # no reference: an attack lifts unseen values too, so chance is no yardstick
    assert "attack_exposure" not in gate.judge(audit)["checks"]


@pytest.mark.unit
def test_int4_groups_and_fp4_blocks_round_onto_their_grids():
    from sani.audit.quantize import FP4, int4_roundtrip, nf4_roundtrip

    torch.manual_seed(0)
    w = torch.randn(4, 300)  # groups of 128, 128 and 44 per row
    q = int4_roundtrip(w)
    for a, b in ((0, 128), (128, 256), (256, 300)):
        g, x = q[:, a:b], w[:, a:b]
        lo, hi = x.amin(1, keepdim=True), x.amax(1, keepdim=True)
        scale = (hi - lo) / 15
        levels = g / scale
        assert torch.allclose(levels, torch.round(levels), atol=1e-3)  # 16 levels a group, offset by its zero
        assert len(torch.unique(torch.round(levels[0]))) <= 16 and (g - x).abs().max() <= scale.max() * 0.51 + 1e-6
    f = nf4_roundtrip(w[:, :256], codebook=FP4).reshape(-1, 64)
    codes = f / w[:, :256].reshape(-1, 64).abs().amax(1, keepdim=True)
    assert torch.all((codes.reshape(-1, 1) - FP4[None]).abs().min(1).values < 1e-5)
    assert set(torch.round(codes.abs() * 6 * 2).unique().tolist()) <= {0, 1, 2, 3, 4, 6, 8, 12}


@pytest.mark.model
def test_the_quick_grid_attacks_under_each_setting_and_the_gate_judges_the_worst(memorized):
    """The quick grid on a small part of the corpus (the reference beside each setting is the e2e test's):
    the unrelated-text variant made of the records' own text with the values cut out, and a value back when
    any greedy context or sample holds it."""
    from sani.audit.common import measure
    from sani.config import AuditConfig

    model, tok = models.load(memorized["original"]).pair
    enc = data.encode_corpus(tok, data.read_corpus(memorized["train"])[:12])
    cfg = AuditConfig(exposure_spans=10, exposure_candidates=10, contexts="full,8", attack_samples=2, batch_size=64)
    got = measure("relearn", Context(model, tok, kinds.of(model), enc, cfg, progress=False))
    settings = got.summary["settings"]
    assert got.summary["grid"] == "quick" and [s["variant"] for s in settings] == ["attack"] * 4 + ["unrelated"]
    assert {s["lr"] for s in settings} == {5e-4, 2e-3} and settings[-1]["source"] == "records with their values cut out"
    for s in settings:
        assert s["back"]["values"] > 0 and s["sampled"]["samples"] == 2 and 0 <= s["ranked_first"] <= 1
        assert s["back"]["rate"] >= s["rate"] and s["interval"][0] <= s["difference"] == s["back"]["rate"]
    # the memorizing model still says its values after the gentlest setting (the harsher ones overwrite a tiny
    # model's memory: measured 0.07-0.46 back, which is why the gate judges the worst setting, not one)
    assert settings[0]["back"]["rate"] > 0.5
    audit = {"regurgitation": {"greedy": {"rate": 0.0}}, "attacks": {"relearn": got.summary}}
    assert gate.judge(audit)["checks"]["relearn"]["verdict"] == "fail"
