"""Human-readable summaries of audits: a before/after table per identifier type, never a value."""

from __future__ import annotations

from typing import Any


def _pct(r: dict[str, Any] | None) -> str:
    if not r or r.get("rate") is None:
        return "-"
    return f"{100 * r['rate']:5.1f}% ({r['hits']}/{r['total']})"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def before_after_table(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Regurgitation per label and utility, before vs after."""
    rb, ra = before["regurgitation"], after["regurgitation"]
    labels = sorted(set(rb["by_label"]) | set(ra["by_label"]))
    rows = [("identifier type", "before", "after")]
    rows += [(lab, _pct(rb["by_label"].get(lab)), _pct(ra["by_label"].get(lab))) for lab in labels]
    rows.append(("all (greedy regurgitation)", _pct(rb), _pct(ra)))
    for split in ("holdout", "train"):
        ub, ua = before["utility"].get(split), after["utility"].get(split)
        if ub and ua:
            ratio = (ua["perplexity"] / ub["perplexity"]) if ub["perplexity"] and ua["perplexity"] else None
            rows.append((f"{split} perplexity (non-sensitive)", _num(ub["perplexity"]),
                         _num(ua["perplexity"]) + (f"  (x{ratio:.3f})" if ratio else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def audit_summary(result: dict[str, Any]) -> str:
    """One audit: regurgitation per label and utility."""
    reg = result["regurgitation"]
    lines = [f"greedy regurgitation: {_pct(reg)}"]
    lines += [f"  {lab}: {_pct(r)}" for lab, r in reg["by_label"].items()]
    for split, u in result["utility"].items():
        lines.append(f"{split} perplexity (non-sensitive tokens): {_num(u['perplexity'])}, next-token accuracy {_num(u['accuracy'])}")
    return "\n".join(lines)
