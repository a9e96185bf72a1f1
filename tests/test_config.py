"""Settings: one dataclass per stage is the single source for the Python API, the YAML file and the flags;
later sources override earlier ones (preset < YAML < flag), and "not given" stays visible so that the
masked-LM defaults and the LoRA learning rate apply only where the user said nothing."""

import json
from pathlib import Path

import pytest

from sani import cli
from sani.config import SanitizeConfig
from sani.errors import SaniError
from sani.models.kinds import MaskedLM
from sani.presets import LORA_LR, PRESETS, make_config

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "data"


def given(*argv):
    """The sanitize flags a command line gave, as `sanitize` receives them."""
    ns = cli.build_parser().parse_args(["sanitize", "--model", "m", "--corpus", "c", "--out", "o", *argv])
    return ns, cli._given(ns)


def test_flags_not_given_stay_absent_and_defaults_come_from_the_dataclass():
    ns, values = given()
    assert values == {}
    assert ns.region == "US" and ns.audit is True and ns.save_steps == 200  # inputs keep their own defaults
    ns, values = given("--epochs", "3", "--packing", "--no-audit", "--base-model", "b")
    assert values == {"epochs": 3.0, "packing": True, "base_model": "b"} and ns.audit is False
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["sanitize"].format_help()
    assert "(default: 0.002)" in help_text and "--weight-decay" in help_text  # every field has its flag
    assert "--weight_decay" not in help_text  # one spelling a flag, so abbreviations stay unambiguous
    audit = cli.build_parser().parse_args(["audit", "--model", "m", "--corpus", "c", "--top", "5", "--no-extraction"])
    assert audit.top_k == 5 and audit.extraction is False and audit.samples == 5 and audit.contexts == "full,32,8"


def test_preset_then_yaml_then_flag(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: paper\nepochs: 3\nlr: 0.001\nforget-weight: 0.5\n")
    _, values = given("--config", str(path), "--epochs", "4")
    cfg = make_config(None, path, **values)
    assert cfg.preset == "paper" and cfg.objective == PRESETS["paper"]["objective"]  # the file's preset
    assert cfg.lr == 0.001 and cfg.forget_weight == 0.5  # the file over the preset and the defaults
    assert cfg.epochs == 4.0  # the flag over the file
    assert make_config("default", path).objective == SanitizeConfig().objective  # an explicit preset over the file's
    (tmp_path / "bad.yaml").write_text("epoch: 3\n")
    with pytest.raises(SaniError, match="unknown option 'epoch'"):
        make_config(None, tmp_path / "bad.yaml")


def test_masked_lm_defaults_apply_only_to_what_was_not_given():
    cfg = make_config(task="masked-lm")
    assert {k: getattr(cfg, k) for k in MaskedLM.preset_defaults} == MaskedLM.preset_defaults
    _, values = given("--epochs", "3")
    cfg = make_config(task="masked-lm", **values)
    assert cfg.epochs == 3.0 and cfg.forget_weight == MaskedLM.preset_defaults["forget_weight"]
    assert make_config("paper", task="masked-lm").epochs == PRESETS["paper"]["epochs"]  # presets are literal
    assert make_config(task="causal-lm").epochs == SanitizeConfig().epochs


def test_lora_learning_rate_unless_one_is_given():
    assert make_config(lora=True).lr == LORA_LR  # an adapter in
    _, values = given("--lora-rank", "4")
    assert make_config(**values).lr == LORA_LR  # fresh LoRA weights on a full model
    _, values = given("--lora-rank", "4", "--lr", "1e-3")
    assert make_config(**values).lr == 1e-3
    assert make_config().lr == SanitizeConfig().lr


def test_bad_values_name_the_field():
    with pytest.raises(SaniError, match="fraction=1.5: must be between 0 and 1"):
        make_config(fraction=1.5)
    with pytest.raises(SaniError, match="epochs='2': must be float"):
        SanitizeConfig(epochs="2").validate()
    with pytest.raises(SaniError, match="target='regurgitation<2'"):
        make_config(target="regurgitation<2")
    from sani.config import parse_target

    want = {"regurgitation": 0.01, "membership": 0.05, "value_exposure": 2.0}
    assert parse_target("regurgitation<=0.01, membership<=0.05,value_exposure<=2") == want
    for bad in ("membership<=0.7", "regurgitation<=0.01,", "exposure<=2", "value_exposure>=2"):
        with pytest.raises(SaniError, match="expected METRIC<=LIMIT"):
            make_config(target=bad)


def test_an_audit_written_before_the_refactor_renders_the_same_figures():
    """A sanitization.json of sani 0.1.0 (before the audit package) read by today's report: the same
    tables and verdict values as that version printed."""
    from sani.audit import AuditResult
    from sani.audit.gate import judge
    from sani.report.text import audit_summary, before_after_table

    old = json.loads((FIXTURES / "sanitization-0.1.0.json").read_text())
    want = json.loads((FIXTURES / "sanitization-0.1.0.expected.json").read_text())
    before, after = old["audit_before"], old["audit_after"]
    assert before_after_table(before, after) == want["before_after_table"]
    assert audit_summary(after) == want["audit_summary_after"]
    checks = judge(AuditResult(after), base=AuditResult(before))["checks"]
    got = {k: c["value"] for k, c in checks.items()}
    auc = want["verdict_values_after"].pop("membership_auc")
    old = dict(want["verdict_values_after"], membership_margin=auc - 0.5)
    measured = {k: v for k, v in old.items() if v is not None}
    assert {k: got[k] for k in measured} == pytest.approx(measured, abs=1e-4)  # membership: AUC - 0.5, the old band
    assert not set(old) - set(measured) & set(got)  # what 0.1.0 did not measure is not judged
    assert "value_exposure" not in checks  # not measured by 0.1.0


def test_the_defaults_the_docs_state_are_the_settings_defaults():
    """Every "`--flag` ... (default X)" in the README and docs/ is the default of the field behind the flag,
    so that the prose cannot drift from the settings dataclasses."""
    import dataclasses
    import re

    from sani.config import AuditConfig, EraseConfig, RepairConfig, TargetConfig
    from sani.options import SanitizeRun
    from sani.spans.finder import SpanFinder

    defaults = {
        f.name.replace("_", "-"): f.default
        for dc in (EraseConfig, RepairConfig, TargetConfig, AuditConfig, SanitizeRun, SpanFinder)
        for f in dataclasses.fields(dc)
    }
    root = Path(__file__).resolve().parent.parent
    stated = re.compile(r"`--([a-z-]+)`[^`(]{0,40}\(default[: ]\s*([^,;) ]+)")
    found = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        for flag, value in stated.findall(doc.read_text()):
            default = defaults[flag]
            if default is None:  # a default the kind decides (e.g. candidates: 1000 for a causal LM)
                continue
            same = float(value) == default if isinstance(default, (int, float)) else value == str(default)
            found.append((doc.name, flag, value, same))
    assert len(found) >= 6 and all(same for *_, same in found), found


def test_one_membership_margin_sets_the_rule_and_the_gate():
    """The thresholds file's `membership_margin` is the membership rule's margin too; a different
    `--membership-margin` beside it is refused in one line."""
    from sani.audit import gate
    from sani.config import AuditConfig

    cfg = AuditConfig()
    assert gate.one_margin(cfg, {"membership_margin": 0.1}).membership_margin == 0.1
    assert cfg.membership_margin == 0.05  # the caller's settings are not changed
    assert gate.one_margin(AuditConfig(membership_margin=0.2), None).membership_margin == 0.2
    with pytest.raises(SaniError, match="give one of them"):
        gate.one_margin(AuditConfig(membership_margin=0.2), {"membership_margin": 0.1})
    with pytest.raises(SaniError, match="membership_margin must be between"):
        gate.one_margin(AuditConfig(), {"membership_margin": 0.6})


def test_the_docs_name_the_package_and_count_the_quick_methods():
    """The docs install extras of the package that exists (`sani-llm`), and `--quick`'s method count is the
    bench's."""
    import re

    from sani.bench.rows import QUICK_METHODS

    root = Path(__file__).resolve().parent.parent
    docs = "\n".join(p.read_text() for p in [root / "README.md", *(root / "docs").glob("*.md")])
    assert "install 'sani[" not in docs and "install sani[" not in docs
    words = {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
    counts = re.findall(r"--quick`?:? ?#? ?(four|five|six|seven|eight) methods", docs)
    assert counts and all(words[c] == len(QUICK_METHODS) for c in counts), counts


def test_a_field_the_command_line_spells_otherwise_keeps_its_api_name():
    """`SpanFinder(patterns=...)` and `BenchSettings(models=...)` in the API; `--pattern` and `--model`, one
    value each time, on the command line (and no second spelling)."""
    from sani.bench.rows import BenchSettings
    from sani.options import BenchRun
    from sani.spans.finder import SpanFinder

    parser = cli.build_parser()
    ns = parser.parse_args(["spans", "--corpus", "c", "--pattern", "A=a", "--pattern", "B=b", "--rare", "CITY:2"])
    finder = cli._parts(ns, SpanFinder)
    assert finder == SpanFinder(patterns=["A=a", "B=b"], rare={"CITY": 2}) and finder.describe()["patterns"] == 2
    ns = parser.parse_args(["bench", "--model", "m1", "--model", "m2", "--seeds", "0,3", "--quick"])
    run = cli._parts(ns, BenchRun)
    assert run.models == ["m1", "m2"] and run.seeds == [0, 3] and run.patients == 30
    record = BenchSettings(models="m1", methods=[]).record()
    assert record["models"] == ["m1"] and record["methods"] == []  # an empty list of methods stays empty
    with pytest.raises(SystemExit):
        parser.parse_args(["spans", "--corpus", "c", "--patterns", "A=a"])
