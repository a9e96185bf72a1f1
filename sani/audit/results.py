"""Reading an audit's result: the one place that knows where each figure sits in the audit JSON, for the
report, the benchmark, the audit-driven stop and the demo. It reads files written by earlier versions too
(the JSON keeps its keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditResult:
    """An audit's JSON (from `sani audit`, or one side of a sanitization.json), read by name."""

    data: dict[str, Any]

    @property
    def masked_lm(self) -> bool:
        """A masked LM's regurgitation counts value *tokens* filled in one at a time."""
        return self.greedy.get("unit") == "tokens"

    @property
    def regurgitation(self) -> dict[str, Any]:
        """Every decoding mode and prompt context, by name (greedy, sampled, greedy_last32, joint...)."""
        return self.data["regurgitation"]

    @property
    def greedy(self) -> dict[str, Any]:
        """Greedy regurgitation from the full prefix (a masked LM: tokens filled in one at a time)."""
        return self.data["regurgitation"]["greedy"]

    @property
    def greedy_rate(self) -> float | None:
        return self.greedy["rate"]

    @property
    def sampled(self) -> dict[str, Any] | None:
        """The second decoding: sampled continuations (causal), values filled in left to right (masked)."""
        reg = self.data["regurgitation"]
        return reg.get("sampled") or reg.get("left_to_right")

    def mode(self, name: str) -> dict[str, Any] | None:
        return self.data["regurgitation"].get(name)

    @property
    def membership(self) -> dict[str, Any] | None:
        return self.data.get("membership")

    def membership_auc(self, scope: str = "sensitive", score: str = "loss") -> float | None:
        return ((self.membership or {}).get(scope) or {}).get(score, {}).get("auc")

    def privleak(self, scope: str = "sensitive", score: str = "loss") -> float | None:
        return ((self.membership or {}).get(scope) or {}).get(score, {}).get("privleak")

    def roc(self, scope: str = "sensitive", score: str = "loss") -> list:
        return ((self.membership or {}).get(scope) or {}).get(score, {}).get("roc", [])

    @property
    def paired_membership(self) -> dict[str, Any] | None:
        """Members against their own records with the values replaced by candidates (no holdout needed)."""
        return self.data.get("paired_membership")

    def paired_auc(self, score: str = "loss") -> float | None:
        return ((self.paired_membership or {}).get("sensitive") or {}).get(score, {}).get("auc")

    @property
    def membership_rule(self) -> dict[str, Any] | None:
        """The one membership verdict: the paired test's, else the holdout test's (`sani.audit.rule`)."""
        return (self.paired_membership or {}).get("rule") or (self.membership or {}).get("rule")

    def membership_rules(self) -> dict[str, dict[str, Any]]:
        """Every membership test's rule block, by test ("paired", "holdout")."""
        out = {}
        for block in (self.paired_membership, self.membership):
            if block and block.get("rule"):
                out[block["rule"]["test"]] = block["rule"]
        return out

    @property
    def value_exposure(self) -> dict[str, Any] | None:
        """Exposure of the corpus's own values among candidates (`sani.audit.values`)."""
        return self.data.get("value_exposure")

    @property
    def mean_value_exposure(self) -> float | None:
        return (self.value_exposure or {}).get("mean")

    @property
    def erasure(self) -> dict[str, Any] | None:
        """An erasure request's answer, value by value (`sani.audit.erasure`); None when none was asked."""
        return self.data.get("erasure")

    @property
    def attacks(self) -> dict[str, Any]:
        """What each attack on a copy gave back, by attack (relearn, quantize, extract, lens); {} when none ran."""
        return self.data.get("attacks") or {}

    @property
    def tokenizer_scan(self) -> dict[str, Any] | None:
        """The corpus's values among the tokenizer's entries (`sani.audit.tokscan`)."""
        return self.data.get("tokenizer")

    @property
    def exposure(self) -> dict[str, Any] | None:
        return self.data.get("exposure")

    @property
    def mean_exposure(self) -> float | None:
        return (self.exposure or {}).get("mean_exposure")

    @property
    def extraction(self) -> dict[str, Any] | None:
        return self.data.get("extraction")

    def utility(self, split: str) -> dict[str, Any] | None:
        """ "train" or "holdout" perplexity and accuracy, or "task" (the linear probe)."""
        return self.data["utility"].get(split)

    def perplexity(self, split: str) -> float | None:
        return (self.utility(split) or {}).get("perplexity")

    @property
    def probe_accuracy(self) -> float | None:
        return (self.utility("task") or {}).get("accuracy")

    def perplexity_ratio(self, base: AuditResult) -> float | None:
        """Perplexity against `base`'s: on the holdout when both have one, else on the corpus."""
        split = "holdout" if self.utility("holdout") and base.utility("holdout") else "train"
        a, b = self.perplexity(split), base.perplexity(split)
        return a / b if a and b else None
