"""Reading an audit's result: the one place that knows where each figure sits in the audit JSON, for the
report, the benchmark, the audit-driven stop and the demo; each metric's block is read by its typed class
(`blocks`, `attack_blocks`), registered under the metric's name. It reads files written by earlier versions
too (the JSON keeps its keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models.kinds import KINDS, Kind, by_name
from .attack_blocks import Attacks, Erasure
from .blocks import (
    Block,
    Exposure,
    Extraction,
    Membership,
    Rate,
    Regurgitation,
    Rule,
    Split,
    TokenizerScan,
    Utility,
    ValueExposure,
    figure,
    reads,
    required,
    result,
)


class Check(Block):
    """One check of the gate: its figure, threshold and verdict."""

    verdict = required("verdict")
    value = required("value")
    threshold = figure("threshold")


@result("verdict")
class Verdict(Block):
    """The gate's verdict (`sani.audit.gate.judge`): overall, each check, the thresholds it was judged with."""

    overall = required("overall")
    thresholds = property(lambda self: self.data.get("thresholds") or {})

    @property
    def checks(self) -> dict[str, Check]:
        return self._blocks("checks", Check)

    @property
    def failing(self) -> list[str]:
        """The checks that did not pass, in order."""
        return [k for k, c in self.checks.items() if c.verdict != "pass"]


@result("scope")
class Scope(Block):
    """What the audit looked at and what it did not (`sani.audit.gate.scope`)."""

    spans = required("spans")  # how the spans were found (`SpanFinder.describe`)
    records = required("records")
    corpus_records = required("corpus_records")
    exposure_spans = required("exposure_spans")
    exposure_candidates = required("exposure_candidates")
    paired_records = required("paired_records")
    attacks_run = required("attacks_run")
    attacks_not_run = required("attacks_not_run")


@dataclass(frozen=True)
class AuditResult:
    """An audit's JSON (from `sani audit`, or one side of a sanitization.json), read by name."""

    data: dict[str, Any]

    def block(self, name: str) -> Block | None:
        """A metric's block, read by the class registered under its name; None when the audit has none."""
        return reads(name, self.data.get(name))

    @property
    def kind(self) -> Kind:
        """The audited model's kind: recorded by the audit ("task"); an audit that did not record it is a
        masked LM's when its regurgitation counts value *tokens* filled in one at a time."""
        if self.data.get("task") in KINDS:
            return by_name(self.data["task"])
        tokens = self.greedy.unit == "tokens"
        return next(k for k in KINDS.values() if k.fills_in == tokens)

    @property
    def masked_lm(self) -> bool:
        """A masked LM's regurgitation counts value *tokens* filled in one at a time."""
        return self.kind.fills_in

    @property
    def model(self) -> str | None:
        return self.data.get("model")

    @property
    def fingerprint(self) -> str | None:
        """The audited weights' SHA-256 (`sani.models.loading.fingerprint`)."""
        return self.data.get("model_fingerprint")

    @property
    def verdict(self) -> Verdict | None:
        return Verdict.of(self.data.get("verdict"))

    @property
    def scope(self) -> Scope | None:
        return Scope.of(self.data.get("scope"))

    @property
    def regurgitation(self) -> Regurgitation:
        """Every decoding mode and prompt context, by name (greedy, sampled, greedy_last32, joint...)."""
        return Regurgitation(self.data["regurgitation"])

    @property
    def greedy(self) -> Rate:
        """Greedy regurgitation from the full prefix (a masked LM: tokens filled in one at a time)."""
        return self.regurgitation.greedy

    @property
    def greedy_rate(self) -> float | None:
        return self.greedy.rate

    @property
    def sampled(self) -> Rate | None:
        """The second decoding: sampled continuations (causal), values filled in left to right (masked)."""
        return self.regurgitation.sampled

    def mode(self, name: str) -> Rate | None:
        return self.regurgitation.mode(name)

    @property
    def membership(self) -> Membership | None:
        """The holdout test: members against records never trained on."""
        return Membership.of(self.data.get("membership"))

    def membership_auc(self, scope: str = "sensitive", score: str = "loss") -> float | None:
        return self.membership.score(scope, score).auc if self.membership else None

    def privleak(self, scope: str = "sensitive", score: str = "loss") -> float | None:
        return self.membership.score(scope, score).privleak if self.membership else None

    def roc(self, scope: str = "sensitive", score: str = "loss") -> list:
        return self.membership.score(scope, score).roc if self.membership else []

    @property
    def paired_membership(self) -> Membership | None:
        """Members against their own records with the values replaced by candidates (no holdout needed)."""
        return Membership.of(self.data.get("paired_membership"))

    def paired_auc(self, score: str = "loss") -> float | None:
        return self.paired_membership.score("sensitive", score).auc if self.paired_membership else None

    @property
    def membership_rule(self) -> Rule | None:
        """The one membership verdict: the paired test's, else the holdout test's (`sani.audit.rule`)."""
        rules = self.membership_rules()
        return rules.get("paired") or rules.get("holdout")

    def membership_rules(self) -> dict[str, Rule]:
        """Every membership test's rule block, by test ("paired", "holdout")."""
        tests = (self.paired_membership, self.membership)
        return {t.rule.test: t.rule for t in tests if t and t.rule}

    @property
    def value_exposure(self) -> ValueExposure | None:
        """Exposure of the corpus's own values among candidates (`sani.audit.values`)."""
        return ValueExposure.of(self.data.get("value_exposure"))

    @property
    def mean_value_exposure(self) -> float | None:
        return self.value_exposure.mean if self.value_exposure else None

    @property
    def erasure(self) -> Erasure | None:
        """An erasure request's answer, value by value (`sani.audit.erasure`); None when none was asked."""
        return Erasure.of(self.data.get("erasure"))

    @property
    def attacks(self) -> Attacks:
        """What each attack on a copy gave back, by attack (relearn, quantize, extract, lens); empty when none ran."""
        return Attacks(self.data.get("attacks") or {})

    @property
    def tokenizer_scan(self) -> TokenizerScan | None:
        """The corpus's values among the tokenizer's entries (`sani.audit.tokscan`)."""
        return TokenizerScan.of(self.data.get("tokenizer"))

    @property
    def exposure(self) -> Exposure | None:
        """Canary exposure (`sani.audit.exposure`)."""
        return Exposure.of(self.data.get("exposure"))

    @property
    def mean_exposure(self) -> float | None:
        return self.exposure.mean_exposure if self.exposure else None

    @property
    def extraction(self) -> Extraction | None:
        return Extraction.of(self.data.get("extraction"))

    @property
    def utilities(self) -> Utility:
        """Every split's utility ("train", "holdout", "task"), in the order the audit wrote them."""
        return Utility(self.data["utility"])

    def utility(self, split: str) -> Split | None:
        """ "train" or "holdout" perplexity and accuracy, or "task" (the linear probe)."""
        return self.utilities.split(split)

    def perplexity(self, split: str) -> float | None:
        return (self.utility(split) or Split({})).perplexity

    @property
    def probe_accuracy(self) -> float | None:
        return (self.utility("task") or Split({})).accuracy

    def perplexity_ratio(self, base: AuditResult) -> float | None:
        """Perplexity against `base`'s: on the holdout when both have one, else on the corpus."""
        split = "holdout" if self.utility("holdout") and base.utility("holdout") else "train"
        a, b = self.perplexity(split), base.perplexity(split)
        return a / b if a and b else None
