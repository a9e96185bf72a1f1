"""`sani bench`'s tables and chart: one markdown table a model (the mean over seeds, with the range), the per-label
table against the oracle, greedy regurgitation by label and by occurrences, and an HTML page of bars."""

from __future__ import annotations

import statistics
from collections.abc import Collection
from typing import Any

from ..audit.attack_blocks import AttackRate
from ..audit.blocks import Exposures, LabelMembership
from ..audit.results import AuditResult

ORACLE = "oracle"


COLUMNS = (
    ("greedy", "greedy regurg.", "{:.1%}"),
    ("sampled", "sampled / left-to-right", "{:.1%}"),
    ("exposure", "canary exposure (bits)", "{:.1f}"),
    ("value_exposure", "value exposure (bits; causal cap 8.2, masked 5.0)", "{:.2f}"),
    ("paired_auc", "paired AUC (values)", "{:.3f}"),
    ("mia_auc", "holdout AUC (sensitive)", "{:.3f}"),
    ("relearn", "after relearn: greedy", "{:.1%}"),
    ("relearn_exposure", "after relearn: value exposure (cap 6.7, masked 5.0)", "{:.2f}"),
    ("int8", "int8: greedy", "{:.1%}"),
    ("nf4", "nf4: greedy", "{:.1%}"),
    ("privleak", "privleak", "{:.1f}"),
    ("ppl_ratio", "holdout ppl ratio", "{:.3f}"),
    ("probe_accuracy", "probe acc.", "{:.3f}"),
    ("seconds", "seconds", "{:.1f}"),
    ("time_vs_oracle", "time / oracle", "{:.3f}"),
    ("peak_memory_mib", "peak MiB", "{:.0f}"),
)


def columns(a: AuditResult) -> dict[str, Any]:
    """A bench row's figures, read from one audit."""
    at = a.attacks
    relearn, quant, sampled = (at.relearn.settings or [AttackRate({})])[0], at.quantize, a.sampled
    return {
        "greedy": a.greedy_rate,
        "sampled": sampled.rate if sampled else None,
        "exposure": a.mean_exposure,
        "mia_auc": a.membership_auc(),
        "value_exposure": a.mean_value_exposure,
        "paired_auc": a.paired_auc(),
        "privleak": a.privleak(),
        "holdout_ppl": a.perplexity("holdout"),
        "probe_accuracy": a.probe_accuracy,
        "relearn": relearn.rate,
        "relearn_exposure": relearn.value_exposure,
        "int8": (quant.scheme("int8") or AttackRate({})).rate,
        "nf4": (quant.scheme("nf4") or AttackRate({})).rate,
        "greedy_by_label": {k: v.rate for k, v in a.greedy.by_label.items()},
        "by_label": by_label(a),
        "greedy_by_occurrences": {k: v.rate for k, v in a.greedy.by_occurrences.items()},
    }


def by_label(a: AuditResult) -> dict[str, dict[str, Any]]:
    """Per label: value exposure (mean bits, share ranked first, distinct values, what served the candidates)
    and the holdout and paired membership AUCs on that label's tokens, so that labels that miss on opposite
    sides are never averaged together."""
    exposure = a.value_exposure.by_label if a.value_exposure else {}
    membership = a.membership.by_label if a.membership else {}
    paired = a.paired_membership.by_label if a.paired_membership else {}
    out: dict[str, dict[str, Any]] = {}
    for label in sorted(set(exposure) | set(membership)):
        e = exposure.get(label) or Exposures({})
        m, p = membership.get(label) or LabelMembership({}), paired.get(label) or LabelMembership({})
        out[label] = {
            "value_exposure": e.mean,
            "at_cap": e.at_cap,
            "values": e.value_count,
            "candidates": e.generator,
            "holdout_auc": m.auc,
            "holdout_values": m.nonmember_values,
            "paired_auc": p.auc,
        }
    return out


def markdown_table(results: dict[str, Any], masked_targets: Collection[str] = ()) -> str:
    """One table a model: the mean over seeds, with the range when there are several; `masked_targets`, the
    masked LMs, get a note on what their regurgitation columns mean."""
    out = []
    for target, seeds in results["runs"].items():
        runs = list(seeds.values())
        masked = target in masked_targets
        out += [f"### {target} ({len(runs)} seed{'s' if len(runs) > 1 else ''})", ""]
        if masked:
            out += [
                "Masked LM: greedy = share of value *tokens* filled in one at a time (top-1); the sampled column "
                "= share of values filled in whole, left to right.",
                "",
            ]
        out += ["| method | " + " | ".join(c[1] for c in COLUMNS) + " |", "| --- " * (len(COLUMNS) + 1) + "|"]
        for name in runs[0]:
            cells = []
            for key, _, fmt in COLUMNS:
                vals = [r[name].get(key) for r in runs if r[name].get(key) is not None]
                if not vals:
                    cells.append("-")
                    continue
                cell = fmt.format(statistics.mean(vals))
                if len(vals) > 1:
                    cell += f" ({fmt.format(min(vals))}-{fmt.format(max(vals))})"
                cells.append(cell)
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
        out += label_table(runs)
        for key, what in (
            ("greedy_by_label", "identifier type"),
            ("greedy_by_occurrences", "occurrences in the corpus"),
        ):
            groups = sorted({g for r in runs for row in r.values() for g in row.get(key, {})}, key=_group_order)
            out += [
                f"Greedy regurgitation by {what}:",
                "",
                "| method | " + " | ".join(groups) + " |",
                "| --- " * (len(groups) + 1) + "|",
            ]
            for name in runs[0]:
                cells = []
                for g in groups:
                    vals = [r[name][key][g] for r in runs if r[name].get(key, {}).get(g) is not None]
                    cells.append(f"{statistics.mean(vals):.1%}" if vals else "-")
                out.append(f"| {name} | " + " | ".join(cells) + " |")
            out.append("")
    m = results["machine"]
    out.append(
        f"Machine: {m['machine']}, {m['device']}, {m['threads']} torch threads, torch {m['torch']}, "
        f"transformers {m['transformers']}."
    )
    return "\n".join(out)


KEYS, DIGITS = ("holdout_auc", "paired_auc", "value_exposure"), (3, 3, 2)  # the per-label cell, in order


def label_table(runs: list[dict[str, dict[str, Any]]]) -> list[str]:
    """Per label and method: holdout and paired membership AUC on the label's tokens and value exposure in
    bits, the mean over seeds, each with its difference from the oracle's (both sides count: below the oracle
    leaks which values were removed as surely as above it leaks which were learnt)."""
    labels = sorted({g for r in runs for row in r.values() for g in row.get("by_label", {})})
    if not labels:
        return []

    def mean(name: str, label: str, key: str) -> float | None:
        vals = [x for r in runs if (x := r.get(name, {}).get("by_label", {}).get(label, {}).get(key)) is not None]
        return statistics.mean(vals) if vals else None

    out = [
        "Per label: holdout membership AUC on the label's tokens / paired AUC (each record against its copy "
        "with the values replaced by candidates) / value exposure (bits), and the differences from the "
        "oracle's in brackets:",
        "",
        "| method | " + " | ".join(labels) + " |",
        "| --- " * (len(labels) + 1) + "|",
    ]
    for name in runs[0]:
        cells = []
        for label in labels:
            got = [mean(name, label, k) for k in KEYS]
            ref = [mean(ORACLE, label, k) for k in KEYS]
            cell = " / ".join("-" if x is None else f"{x:.{d}f}" for x, d in zip(got, DIGITS))
            if name != ORACLE and name in runs[0] and ORACLE in runs[0]:
                cell += (
                    " ("
                    + " / ".join("-" if None in (x, o) else f"{x - o:+.{d}f}" for x, o, d in zip(got, ref, DIGITS))
                    + ")"
                )
            cells.append(cell)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    values = {label: mean("original", label, "values") for label in labels}
    served = {
        label: runs[0].get("original", {}).get("by_label", {}).get(label, {}).get("candidates") for label in labels
    }
    out += [
        "",
        "Distinct values audited per label (value exposure), and what served their candidates (a "
        "generator's figure is indicative): "
        + ", ".join(f"{k} {v:.0f} ({served[k] or '-'})" for k, v in values.items() if v is not None),
        "",
    ]
    return out


def _group_order(g: str) -> tuple[int, str]:
    digits = "".join(c for c in g.split("-")[0] if c.isdigit())
    return (int(digits) if digits else 10**6, g)


def plot(results: dict[str, Any]) -> str:
    """An HTML page: regurgitation and holdout perplexity ratio per method, one chart a model (inline SVG)."""
    from ..report.charts import esc, svg_bars

    parts = ["<!doctype html><meta charset='utf-8'><title>sani bench</title><body style='font-family:sans-serif'>"]
    for target, seeds in results["runs"].items():
        runs = list(seeds.values())
        names = list(runs[0])
        mean = {
            key: [statistics.mean([r[n][key] for r in runs if r[n].get(key) is not None] or [0.0]) for n in names]
            for key in ("greedy", "ppl_ratio")
        }
        parts.append(f"<h2>{esc(target)}: greedy regurgitation, and holdout perplexity ratio / 2</h2>")
        bars = {"greedy regurgitation": mean["greedy"], "ppl ratio / 2": [x / 2 for x in mean["ppl_ratio"]]}
        parts.append(svg_bars(names, bars))
    return "".join(parts) + "</body>"
