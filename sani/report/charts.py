"""Charts as inline SVG (no scripts, no external files), for the HTML report and the benchmark's page."""

from __future__ import annotations

from typing import Any

COLORS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1", "#edc948", "#9c755f"]


def esc(x: Any) -> str:
    import html

    return html.escape(str(x))


def svg_bars(groups: list[str], series: dict[str, list[float | None]], *, ymax: float = 1.0, pct: bool = True) -> str:
    w, h, left, bottom = max(420, 90 * len(groups) + 80), 260, 50, 40
    gw = (w - left - 10) / max(1, len(groups))
    bw = gw * 0.8 / max(1, len(series))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">']
    for t in range(0, 5):
        y = h - bottom - (h - bottom - 10) * t / 4
        label = f"{100 * ymax * t / 4:.0f}%" if pct else f"{ymax * t / 4:.2g}"
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{w - 10}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{label}</text>'
        )
    for gi, g in enumerate(groups):
        for si, (name, vals) in enumerate(series.items()):
            v = vals[gi]
            if v is None:
                continue
            bh = (h - bottom - 10) * min(v, ymax) / ymax
            x = left + gi * gw + gw * 0.1 + si * bw
            parts.append(
                f'<rect x="{x:.1f}" y="{h - bottom - bh:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" '
                f'fill="{COLORS[si % len(COLORS)]}"><title>{esc(name)} {esc(g)}: {100 * v:.1f}%</title></rect>'
            )
        parts.append(
            f'<text x="{left + gi * gw + gw / 2:.1f}" y="{h - bottom + 16}" font-size="11" text-anchor="middle">{esc(g)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_roc(curves: dict[str, list]) -> str:
    s, pad = 260, 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{s + pad + 10}" height="{s + pad + 10}" role="img">',
        f'<rect x="{pad}" y="10" width="{s}" height="{s}" fill="none" stroke="#999"/>',
        f'<line x1="{pad}" y1="{s + 10}" x2="{pad + s}" y2="10" stroke="#bbb" stroke-dasharray="4"/>',
        f'<text x="{pad + s / 2}" y="{s + 35}" font-size="11" text-anchor="middle">false positive rate</text>',
        f'<text x="12" y="{10 + s / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {10 + s / 2})">true positive rate</text>',
    ]
    for i, (name, pts) in enumerate(curves.items()):
        if pts:
            path = " ".join(f"{pad + x * s:.1f},{10 + s - y * s:.1f}" for x, y in pts)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{COLORS[i % len(COLORS)]}" stroke-width="2"><title>{esc(name)}</title></polyline>'
            )
    parts.append("</svg>")
    return "".join(parts)


def svg_strip(series: dict[str, list[float]], xmax: float, mark: float | None = None) -> str:
    """One row of dots a series (bits); `mark` draws a dashed line there (the cap)."""
    w, row, left = 520, 28, 150
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{row * len(series) + 40}" role="img">']
    if mark is not None:
        x = left + (w - left - 10) * min(mark, xmax) / xmax
        parts.append(
            f'<line x1="{x:.1f}" y1="8" x2="{x:.1f}" y2="{row * len(series) + 8}" stroke="#888" '
            f'stroke-dasharray="4 3"><title>cap {mark:.2f} bits</title></line>'
        )
    for i, (name, vals) in enumerate(series.items()):
        y = 20 + i * row
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" font-size="11" text-anchor="end">{esc(name[:30])}</text>'
            f'<line x1="{left}" y1="{y}" x2="{w - 10}" y2="{y}" stroke="#eee"/>'
        )
        for v in vals:
            x = left + (w - left - 10) * max(0.0, min(v, xmax)) / xmax
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y}" r="5" fill="{COLORS[i % len(COLORS)]}" fill-opacity="0.6"><title>{v:.2f} bits</title></circle>'
            )
    y = 20 + len(series) * row
    for t in range(0, 5):
        x = left + (w - left - 10) * t / 4
        parts.append(f'<text x="{x:.1f}" y="{y + 4}" font-size="11" text-anchor="middle">{xmax * t / 4:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)
