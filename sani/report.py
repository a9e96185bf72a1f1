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
    rb, ra = before["regurgitation"]["greedy"], after["regurgitation"]["greedy"]
    labels = sorted(set(rb["by_label"]) | set(ra["by_label"]))
    rows = [("identifier type", "before", "after")]
    rows += [(lab, _pct(rb["by_label"].get(lab)), _pct(ra["by_label"].get(lab))) for lab in labels]
    masked = rb.get("unit") == "tokens"
    rows.append(("all (tokens filled in one at a time)" if masked else "all (greedy regurgitation)", _pct(rb), _pct(ra)))
    for key, name in (("sampled", "all (sampled, any sample)"), ("left_to_right", "all (values filled left to right)"),
                      ("joint", "all (values filled in one pass)")):
        sb, sa = before["regurgitation"].get(key), after["regurgitation"].get(key)
        if sb and sa:
            rows.append((name, _pct(sb), _pct(sa)))
    mb, ma = before.get("membership"), after.get("membership")
    if mb and ma:
        rows.append(("membership AUC, loss on sensitive tokens",
                     _num(mb["sensitive"].get("loss", {}).get("auc")), _num(ma["sensitive"].get("loss", {}).get("auc"))))
    for split in ("holdout", "train"):
        ub, ua = before["utility"].get(split), after["utility"].get(split)
        if ub and ua:
            ratio = (ua["perplexity"] / ub["perplexity"]) if ub["perplexity"] and ua["perplexity"] else None
            what = "masked-token perplexity" if ub.get("measure") == "masked tokens" else "perplexity"
            rows.append((f"{split} {what} (non-sensitive)", _num(ub["perplexity"]),
                         _num(ua["perplexity"]) + (f"  (x{ratio:.3f})" if ratio else "")))
    tb, ta = before["utility"].get("task"), after["utility"].get("task")
    if tb and ta:
        rows.append(("task probe accuracy", _num(tb["accuracy"]), _num(ta["accuracy"]) + f"  ({ta['accuracy'] - tb['accuracy']:+.3f})"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def audit_summary(result: dict[str, Any]) -> str:
    """One audit, as text: regurgitation per label and mode, extraction, membership, exposure, utility."""
    reg = result["regurgitation"]
    lines = [f"greedy regurgitation: {_pct(reg['greedy'])}, partial {_num(reg['greedy'].get('partial_rate'))}"]
    lines += [f"  {lab}: {_pct(r)}" for lab, r in reg["greedy"]["by_label"].items()]
    for mode, r in reg.items():
        if mode != "greedy" and isinstance(r, dict):
            lines.append(f"{mode.replace('_', ' ')} regurgitation: {_pct(r)}, partial {_num(r.get('partial_rate'))}")
    ext = result.get("extraction")
    if ext:
        el = next(k for k in ext if k.startswith("el_") and k != "el_n" and k != "el_spans")
        lines.append(f"extraction: MA {_num(ext['ma'])}, EM {_num(ext['em'])}, ES {_num(ext['es'])}, "
                     f"{el.upper()} {_num(ext[el])} ({ext['el_spans']} spans)")
    mem = result.get("membership")
    if mem:
        for scope in ("record", "sensitive"):
            aucs = ", ".join(f"{k} {_num(v['auc'])}" for k, v in mem[scope].items())
            lines.append(f"membership AUC ({scope}, {mem['members']} vs {mem['nonmembers']} records): {aucs}")
    exp = result.get("exposure")
    if exp:
        reps = ", ".join(f"{k}x: {v}" for k, v in exp["by_repeats"].items())
        lines.append(f"canary exposure (max {exp['log2_space']} bits, {exp['method']}): mean {exp['mean_exposure']}; by repeats {reps}")
    for split, u in result["utility"].items():
        if split == "task":
            lines.append(f"task probe accuracy: {_num(u['accuracy'])} (majority baseline {_num(u['majority_baseline'])}, {u['test']} test examples)")
        else:
            what = "masked-token" if u.get("measure") == "masked tokens" else "next-token"
            lines.append(f"{split} {what} perplexity (non-sensitive tokens): {_num(u['perplexity'])}, {what} accuracy {_num(u['accuracy'])}")
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
COLORS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1", "#edc948", "#9c755f"]


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


def _esc(x: Any) -> str:
    import html

    return html.escape(str(x))


def _svg_bars(groups: list[str], series: dict[str, list[float | None]], *, ymax: float = 1.0, pct: bool = True) -> str:
    w, h, left, bottom = max(420, 90 * len(groups) + 80), 260, 50, 40
    gw = (w - left - 10) / max(1, len(groups))
    bw = gw * 0.8 / max(1, len(series))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">']
    for t in range(0, 5):
        y = h - bottom - (h - bottom - 10) * t / 4
        label = f"{100 * ymax * t / 4:.0f}%" if pct else f"{ymax * t / 4:.2g}"
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - 10}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{label}</text>')
    for gi, g in enumerate(groups):
        for si, (name, vals) in enumerate(series.items()):
            v = vals[gi]
            if v is None:
                continue
            bh = (h - bottom - 10) * min(v, ymax) / ymax
            x = left + gi * gw + gw * 0.1 + si * bw
            parts.append(f'<rect x="{x:.1f}" y="{h - bottom - bh:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" '
                         f'fill="{COLORS[si % len(COLORS)]}"><title>{_esc(name)} {_esc(g)}: {100 * v:.1f}%</title></rect>')
        parts.append(f'<text x="{left + gi * gw + gw / 2:.1f}" y="{h - bottom + 16}" font-size="11" text-anchor="middle">{_esc(g)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_roc(curves: dict[str, list]) -> str:
    s, pad = 260, 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{s + pad + 10}" height="{s + pad + 10}" role="img">',
             f'<rect x="{pad}" y="10" width="{s}" height="{s}" fill="none" stroke="#999"/>',
             f'<line x1="{pad}" y1="{s + 10}" x2="{pad + s}" y2="10" stroke="#bbb" stroke-dasharray="4"/>',
             f'<text x="{pad + s / 2}" y="{s + 35}" font-size="11" text-anchor="middle">false positive rate</text>',
             f'<text x="12" y="{10 + s / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {10 + s / 2})">true positive rate</text>']
    for i, (name, pts) in enumerate(curves.items()):
        if pts:
            path = " ".join(f"{pad + x * s:.1f},{10 + s - y * s:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{COLORS[i % len(COLORS)]}" stroke-width="2"><title>{_esc(name)}</title></polyline>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_strip(series: dict[str, list[float]], xmax: float) -> str:
    w, row, left = 520, 28, 150
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{row * len(series) + 40}" role="img">']
    for i, (name, vals) in enumerate(series.items()):
        y = 20 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 4}" font-size="11" text-anchor="end">{_esc(name)[:22]}</text>'
                     f'<line x1="{left}" y1="{y}" x2="{w - 10}" y2="{y}" stroke="#eee"/>')
        for v in vals:
            x = left + (w - left - 10) * max(0.0, min(v, xmax)) / xmax
            parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="5" fill="{COLORS[i % len(COLORS)]}" fill-opacity="0.6"><title>{v:.2f} bits</title></circle>')
    y = 20 + len(series) * row
    for t in range(0, 5):
        x = left + (w - left - 10) * t / 4
        parts.append(f'<text x="{x:.1f}" y="{y + 4}" font-size="11" text-anchor="middle">{xmax * t / 4:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _metric_values(a: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    reg = a["regurgitation"]
    u, ub = a["utility"], base["utility"]
    split = "holdout" if "holdout" in u and "holdout" in ub else "train"
    ratio = None
    if u.get(split, {}).get("perplexity") and ub.get(split, {}).get("perplexity"):
        ratio = u[split]["perplexity"] / ub[split]["perplexity"]
    mem = a.get("membership", {}).get("sensitive", {}).get("loss", {}).get("auc")
    return {
        "greedy_regurgitation": reg["greedy"]["rate"],
        "sampled_regurgitation": (reg.get("sampled") or {}).get("rate"),
        "partial_regurgitation": reg["greedy"].get("partial_rate"),
        "mean_exposure": (a.get("exposure") or {}).get("mean_exposure"),
        "membership_auc": mem,
        "perplexity_ratio": ratio,
    }


def render_html(audits: list[tuple[str, dict[str, Any]]], thresholds: dict[str, float] | None = None) -> str:
    """A self-contained page (inline SVG, no scripts, no external files) comparing audits side by side."""
    import datetime

    th = {**THRESHOLDS, **(thresholds or {})}
    names = [n for n, _ in audits]
    base = audits[0][1]
    css = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}"
           "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}"
           ".ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}.legend span{display:inline-block;margin-right:1em}"
           ".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}h2{margin-top:1.6em}")
    legend = '<p class="legend">' + "".join(
        f'<span><i class="sw" style="background:{COLORS[i % len(COLORS)]}"></i>{_esc(n)}</span>' for i, n in enumerate(names)) + "</p>"
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>sani privacy audit</title><style>{css}</style></head><body>",
           "<h1>Privacy audit of sanitized language models</h1>",
           f"<p>Generated by sani on {datetime.date.today().isoformat()}. No sensitive value appears on this page: "
           "values are counted, never shown.</p>"]
    # verdicts
    out.append("<h2>Verdicts</h2><table><tr><th>metric (threshold)</th>" + "".join(f"<th>{_esc(n)}</th>" for n in names) + "</tr>")
    vals = [_metric_values(a, base) for _, a in audits]
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
        out.append(f"<tr><td>{_esc(key.replace('_', ' '))} ({rule})</td>{''.join(cells)}</tr>")
    out.append("</table>")
    # regurgitation per identifier type
    labels = sorted({lab for _, a in audits for lab in a["regurgitation"]["greedy"]["by_label"]})
    series = {n: [a["regurgitation"]["greedy"]["by_label"].get(lab, {}).get("rate") for lab in labels] for n, a in audits}
    out.append("<h2>Greedy regurgitation per identifier type</h2>" + legend + _svg_bars(labels, series))
    modes = sorted({m for _, a in audits for m in a["regurgitation"]})
    out.append("<table><tr><th>decoding and prompt</th>" + "".join(f"<th>{_esc(n)}</th>" for n in names) + "</tr>")
    for m in modes:
        cells = "".join(f"<td>{_pct(a['regurgitation'].get(m))}</td>" for _, a in audits)
        out.append(f"<tr><td>{_esc(m.replace('_', ' '))}</td>{cells}</tr>")
    out.append("</table>")
    # exposure
    exp = {n: [i["exposure"] for i in a["exposure"]["items"]] for n, a in audits if a.get("exposure")}
    if exp:
        xmax = max(a["exposure"]["log2_space"] for _, a in audits if a.get("exposure"))
        out.append(f"<h2>Canary exposure (bits, maximum {xmax:.1f})</h2>" + _svg_strip(exp, xmax))
    # membership
    curves = {n: a["membership"]["sensitive"].get("loss", {}).get("roc", []) for n, a in audits if a.get("membership")}
    if curves:
        out.append("<h2>Membership inference (loss on sensitive tokens): ROC</h2>" + legend + _svg_roc(curves))
        out.append("<table><tr><th>attack (scope)</th>" + "".join(f"<th>{_esc(n)}</th>" for n in names) + "</tr>")
        attacks = sorted({(scope, k) for _, a in audits if a.get("membership") for scope in ("record", "sensitive") for k in a["membership"][scope]})
        for scope, k in attacks:
            cells = "".join(f"<td>{_num((a.get('membership') or {}).get(scope, {}).get(k, {}).get('auc'))}</td>" for _, a in audits)
            out.append(f"<tr><td>{_esc(k)} ({scope})</td>{cells}</tr>")
        out.append("</table>")
    # extraction and utility
    out.append("<h2>Extraction and utility (change against the first audit)</h2><table><tr><th>metric</th>" + "".join(f"<th>{_esc(n)}</th>" for n in names) + "</tr>")
    rows = [("memorization accuracy MA", lambda a: (a.get("extraction") or {}).get("ma")),
            ("exact memorization EM", lambda a: (a.get("extraction") or {}).get("em")),
            ("extraction strength ES", lambda a: (a.get("extraction") or {}).get("es"))]
    for split in ("holdout", "train"):
        rows.append((f"{split} perplexity (non-sensitive)", lambda a, s=split: a["utility"].get(s, {}).get("perplexity")))
        rows.append((f"{split} next-token accuracy", lambda a, s=split: a["utility"].get(s, {}).get("accuracy")))
    rows.append(("task probe accuracy", lambda a: a["utility"].get("task", {}).get("accuracy")))
    for title, get in rows:
        first = get(base)

        def cell(a: dict[str, Any]) -> str:
            v = get(a)
            delta = "" if v is None or first is None or a is base else f" <small>({v - first:+.3f})</small>"
            return f"<td>{_num(v)}{delta}</td>"

        out.append(f"<tr><td>{title}</td>" + "".join(cell(a) for _, a in audits) + "</tr>")
    out.append("</table>")
    out.append("<h2>Models</h2><table><tr><th>name</th><th>model</th><th>weights fingerprint (SHA-256)</th></tr>")
    for n, a in audits:
        fp = a.get("model_fingerprint") or "-"
        out.append(f"<tr><td>{_esc(n)}</td><td>{_esc(a.get('model', '-'))}</td><td>{_esc(fp[:16])}</td></tr>")
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
    from .data import atomic_open

    page = render_html(load_audits(paths, names), th)
    with atomic_open(out) as f:
        f.write(page)
