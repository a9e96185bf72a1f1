"""Human-readable summaries of audits: a before/after table per identifier type, never a value."""

from __future__ import annotations

from typing import Any

from .audit.results import AuditResult
from .charts import COLORS, esc, svg_bars, svg_roc, svg_strip


def _pct(r: dict[str, Any] | None) -> str:
    if not r or r.get("rate") is None:
        return "-"
    return f"{100 * r['rate']:5.1f}% ({r['hits']}/{r['total']})"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def before_after_table(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Regurgitation per label and utility, before vs after."""
    b, a = AuditResult(before), AuditResult(after)
    rb, ra = b.greedy, a.greedy
    labels = sorted(set(rb["by_label"]) | set(ra["by_label"]))
    rows = [("identifier type", "before", "after")]
    rows += [(lab, _pct(rb["by_label"].get(lab)), _pct(ra["by_label"].get(lab))) for lab in labels]
    rows.append(
        ("all (tokens filled in one at a time)" if b.masked_lm else "all (greedy regurgitation)", _pct(rb), _pct(ra))
    )
    for key, name in (
        ("sampled", "all (sampled, any sample)"),
        ("left_to_right", "all (values filled left to right)"),
        ("joint", "all (values filled in one pass)"),
    ):
        sb, sa = b.mode(key), a.mode(key)
        if sb and sa:
            rows.append((name, _pct(sb), _pct(sa)))
    if b.membership and a.membership:
        rows.append(("membership AUC, loss on sensitive tokens", _num(b.membership_auc()), _num(a.membership_auc())))
    for split in ("holdout", "train"):
        ub, ua = b.utility(split), a.utility(split)
        if ub and ua:
            ratio = (ua["perplexity"] / ub["perplexity"]) if ub["perplexity"] and ua["perplexity"] else None
            what = "masked-token perplexity" if ub.get("measure") == "masked tokens" else "perplexity"
            rows.append(
                (
                    f"{split} {what} (non-sensitive)",
                    _num(ub["perplexity"]),
                    _num(ua["perplexity"]) + (f"  (x{ratio:.3f})" if ratio else ""),
                )
            )
    tb, ta = b.utility("task"), a.utility("task")
    if tb and ta:
        rows.append(
            (
                "task probe accuracy",
                _num(tb["accuracy"]),
                _num(ta["accuracy"]) + f"  ({ta['accuracy'] - tb['accuracy']:+.3f})",
            )
        )
    return _table(rows)


def _table(rows: list[tuple[str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def audit_summary(result: dict[str, Any]) -> str:
    """One audit, as text: regurgitation per label and mode, extraction, membership, exposure, utility."""
    a = AuditResult(result)
    lines = [f"greedy regurgitation: {_pct(a.greedy)}, partial {_num(a.greedy.get('partial_rate'))}"]
    lines += [f"  {lab}: {_pct(r)}" for lab, r in a.greedy["by_label"].items()]
    for mode, r in a.regurgitation.items():
        if mode != "greedy" and isinstance(r, dict):
            lines.append(f"{mode.replace('_', ' ')} regurgitation: {_pct(r)}, partial {_num(r.get('partial_rate'))}")
    ext = a.extraction
    if ext:
        el = next(k for k in ext if k.startswith("el_") and k != "el_n" and k != "el_spans")
        lines.append(
            f"extraction: MA {_num(ext['ma'])}, EM {_num(ext['em'])}, ES {_num(ext['es'])}, "
            f"{el.upper()} {_num(ext[el])} ({ext['el_spans']} spans)"
        )
    mem = a.membership
    if mem:
        for scope in ("record", "sensitive"):
            aucs = ", ".join(f"{k} {_num(v['auc'])}" for k, v in mem[scope].items())
            lines.append(f"membership AUC ({scope}, {mem['members']} vs {mem['nonmembers']} records): {aucs}")
    exp = a.exposure
    if exp:
        reps = ", ".join(f"{k}x: {v}" for k, v in exp["by_repeats"].items())
        lines.append(
            f"canary exposure (max {exp['log2_space']} bits, {exp['method']}): mean {exp['mean_exposure']}; by repeats {reps}"
        )
    for split, u in result["utility"].items():
        if split == "task":
            lines.append(
                f"task probe accuracy: {_num(u['accuracy'])} (majority baseline {_num(u['majority_baseline'])}, {u['test']} test examples)"
            )
        else:
            what = "masked-token" if u.get("measure") == "masked tokens" else "next-token"
            lines.append(
                f"{split} {what} perplexity (non-sensitive tokens): {_num(u['perplexity'])}, {what} accuracy {_num(u['accuracy'])}"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML report

THRESHOLDS = {
    "greedy_regurgitation": 0.01,  # share of values regurgitated with greedy decoding
    "sampled_regurgitation": 0.05,  # share regurgitated by any of the samples
    "partial_regurgitation": 0.10,
    "mean_exposure": 2.0,  # bits
    "membership_auc": 0.60,  # loss attack on the sensitive tokens; an AUC of 0.3 leaks as much as 0.7
    "perplexity_ratio": 1.10,  # holdout perplexity against the first audit
}


def load_audits(paths: list[str], names: list[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Audits by name; a sanitization.json gives two, before and after."""
    import json
    from pathlib import Path

    from .errors import SaniError

    out = []
    for i, p in enumerate(paths):
        try:
            obj = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SaniError(f"{p}: cannot read it as JSON") from None
        name = names[i] if names and i < len(names) else Path(p).stem
        if "audit_before" in obj and obj.get("audit_before"):
            out += [(f"{name} (before)", obj["audit_before"]), (f"{name} (after)", obj["audit_after"])]
        elif "regurgitation" in obj:
            out.append((name, obj))
        else:
            raise SaniError(f"{p}: not an audit or a sanitization report")
    return out


def _metric_values(a: AuditResult, base: AuditResult) -> dict[str, float | None]:
    return {
        "greedy_regurgitation": a.greedy_rate,
        "sampled_regurgitation": (a.mode("sampled") or {}).get("rate"),
        "partial_regurgitation": a.greedy.get("partial_rate"),
        "mean_exposure": a.mean_exposure,
        "membership_auc": a.membership_auc(),
        "perplexity_ratio": a.perplexity_ratio(base),
    }


def render_html(audits: list[tuple[str, dict[str, Any]]], thresholds: dict[str, float] | None = None) -> str:
    """A self-contained page (inline SVG, no scripts, no external files) comparing audits side by side."""
    import datetime

    th = {**THRESHOLDS, **(thresholds or {})}
    names = [n for n, _ in audits]
    base = audits[0][1]
    css = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}"
        ".ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}.legend span{display:inline-block;margin-right:1em}"
        ".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}h2{margin-top:1.6em}"
    )
    legend = (
        '<p class="legend">'
        + "".join(
            f'<span><i class="sw" style="background:{COLORS[i % len(COLORS)]}"></i>{esc(n)}</span>'
            for i, n in enumerate(names)
        )
        + "</p>"
    )
    out = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>sani privacy audit</title><style>{css}</style></head><body>",
        "<h1>Privacy audit of sanitized language models</h1>",
        f"<p>Generated by sani on {datetime.date.today().isoformat()}. No sensitive value appears on this page: "
        "values are counted, never shown.</p>",
    ]
    # verdicts
    out.append(
        "<h2>Verdicts</h2><table><tr><th>metric (threshold)</th>"
        + "".join(f"<th>{esc(n)}</th>" for n in names)
        + "</tr>"
    )
    vals = [_metric_values(AuditResult(a), AuditResult(base)) for _, a in audits]
    fmt = {"mean_exposure": "{:.2f} bits", "membership_auc": "{:.3f}", "perplexity_ratio": "{:.3f}x"}
    for key, limit in th.items():
        cells = []
        for v in vals:
            x = v.get(key)
            if x is None:
                cells.append("<td>-</td>")
                continue
            shown = fmt.get(key, "{:.1%}").format(x)
            ok = (max(x, 1 - x) if key == "membership_auc" else x) <= limit
            cells.append(f'<td><span class="{"ok" if ok else "bad"}">{"pass" if ok else "fail"}</span> {shown}</td>')
        limit_s = fmt.get(key, "{:.1%}").format(limit)
        rule = f"between {1 - limit:.2f} and {limit:.2f}" if key == "membership_auc" else f"&le; {limit_s}"
        out.append(f"<tr><td>{esc(key.replace('_', ' '))} ({rule})</td>{''.join(cells)}</tr>")
    out.append("</table>")
    # regurgitation per identifier type
    views = [(n, AuditResult(a)) for n, a in audits]
    labels = sorted({lab for _, a in views for lab in a.greedy["by_label"]})
    series = {n: [a.greedy["by_label"].get(lab, {}).get("rate") for lab in labels] for n, a in views}
    out.append("<h2>Greedy regurgitation per identifier type</h2>" + legend + svg_bars(labels, series))
    modes = sorted({m for _, a in views for m in a.regurgitation})
    out.append("<table><tr><th>decoding and prompt</th>" + "".join(f"<th>{esc(n)}</th>" for n in names) + "</tr>")
    for m in modes:
        cells = "".join(f"<td>{_pct(a.mode(m))}</td>" for _, a in views)
        out.append(f"<tr><td>{esc(m.replace('_', ' '))}</td>{cells}</tr>")
    out.append("</table>")
    # exposure
    exp = {n: [i["exposure"] for i in a.exposure["items"]] for n, a in views if a.exposure}
    if exp:
        xmax = max(a.exposure["log2_space"] for _, a in views if a.exposure)
        out.append(f"<h2>Canary exposure (bits, maximum {xmax:.1f})</h2>" + svg_strip(exp, xmax))
    # membership
    curves = {n: a.roc() for n, a in views if a.membership}
    if curves:
        out.append("<h2>Membership inference (loss on sensitive tokens): ROC</h2>" + legend + svg_roc(curves))
        out.append("<table><tr><th>attack (scope)</th>" + "".join(f"<th>{esc(n)}</th>" for n in names) + "</tr>")
        attacks = sorted(
            {
                (scope, k)
                for _, a in views
                if a.membership
                for scope in ("record", "sensitive")
                for k in a.membership[scope]
            }
        )
        for scope, k in attacks:
            cells = "".join(f"<td>{_num(a.membership_auc(scope, k))}</td>" for _, a in views)
            out.append(f"<tr><td>{esc(k)} ({scope})</td>{cells}</tr>")
        out.append("</table>")
    # extraction and utility
    out.append(
        "<h2>Extraction and utility (change against the first audit)</h2><table><tr><th>metric</th>"
        + "".join(f"<th>{esc(n)}</th>" for n in names)
        + "</tr>"
    )
    rows = [
        ("memorization accuracy MA", lambda a: (a.extraction or {}).get("ma")),
        ("exact memorization EM", lambda a: (a.extraction or {}).get("em")),
        ("extraction strength ES", lambda a: (a.extraction or {}).get("es")),
    ]
    for split in ("holdout", "train"):
        rows.append((f"{split} perplexity (non-sensitive)", lambda a, s=split: a.perplexity(s)))
        rows.append((f"{split} next-token accuracy", lambda a, s=split: (a.utility(s) or {}).get("accuracy")))
    rows.append(("task probe accuracy", lambda a: a.probe_accuracy))
    base_view = views[0][1]
    for title, get in rows:
        first = get(base_view)

        def cell(a: AuditResult, get: Any = get, first: Any = first) -> str:
            v = get(a)
            delta = "" if v is None or first is None or a is base_view else f" <small>({v - first:+.3f})</small>"
            return f"<td>{_num(v)}{delta}</td>"

        out.append(f"<tr><td>{title}</td>" + "".join(cell(a) for _, a in views) + "</tr>")
    out.append("</table>")
    out.append("<h2>Models</h2><table><tr><th>name</th><th>model</th><th>weights fingerprint (SHA-256)</th></tr>")
    for n, a in audits:
        fp = a.get("model_fingerprint") or "-"
        out.append(f"<tr><td>{esc(n)}</td><td>{esc(a.get('model', '-'))}</td><td>{esc(fp[:16])}</td></tr>")
    out.append("</table></body></html>")
    return "\n".join(out)


def write_html(paths: list[str], out: str, *, names: list[str] | None = None, thresholds: str | None = None) -> None:
    from pathlib import Path

    import yaml

    from .errors import SaniError

    th = None
    if thresholds:
        try:
            th = yaml.safe_load(Path(thresholds).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            raise SaniError(f"{thresholds}: cannot read the thresholds") from None
        unknown = [k for k in th if k not in THRESHOLDS]
        if unknown:
            raise SaniError(f"{thresholds}: unknown threshold '{unknown[0]}' (known: {', '.join(THRESHOLDS)})")
    from .files import atomic_open

    page = render_html(load_audits(paths, names), th)
    with atomic_open(out) as f:
        f.write(page)
