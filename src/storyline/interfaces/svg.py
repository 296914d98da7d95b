"""The coverage chart: articles per outlet over time, as SVG built on the server.

One lane per outlet, one column per day (or week, or month for long
stories), a dot whose area grows with the number of articles.  Outlet names
come from articles, so every text and attribute is escaped here; the result
is safe to embed in a page.  Colours are presentation attributes, not
inline styles, so the page's Content-Security-Policy holds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from html import escape

from storyline.records import as_datetime

# Same order as the .badge-cN colours in static/style.css.
PALETTE = (
    "#1d4ed8",
    "#b91c1c",
    "#047857",
    "#7c3aed",
    "#c2410c",
    "#0e7490",
    "#be185d",
    "#4d7c0f",
)
LABEL_WIDTH = 96
PLOT_WIDTH = 228
LANE_HEIGHT = 34
TOP = 10
AXIS_HEIGHT = 30
MAX_LABEL_CHARS = 13


def _bucket(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _unit_for(span_days: int) -> str:
    if span_days <= 31:
        return "day"
    if span_days <= 26 * 7:
        return "week"
    return "month"


def _next(bucket: date, unit: str) -> date:
    if unit == "day":
        return bucket + timedelta(days=1)
    if unit == "week":
        return bucket + timedelta(days=7)
    return (bucket.replace(day=28) + timedelta(days=4)).replace(day=1)


def _label(bucket: date, unit: str) -> str:
    if unit == "month":
        return bucket.strftime("%b %Y")
    if unit == "week":
        return "wk " + bucket.strftime("%-d %b")
    return bucket.strftime("%-d %b")


def _short(name: str) -> str:
    return name if len(name) <= MAX_LABEL_CHARS else name[: MAX_LABEL_CHARS - 1] + "…"


def coverage_svg(
    points: Sequence[tuple[str, str | None]],
    *,
    colour_index: Mapping[str, int] | None = None,
    title: str = "Articles per outlet over time",
) -> str:
    """SVG for (outlet, published ISO date) pairs; undated articles are counted in a note."""
    dated: list[tuple[str, date]] = []
    undated = 0
    for outlet, published in points:
        parsed = as_datetime(published)
        if parsed is None:
            undated += 1
        else:
            dated.append((outlet, parsed.date()))
    per_outlet = Counter(o for o, _ in points)
    outlets = [o for o, _ in sorted(per_outlet.items(), key=lambda kv: (-kv[1], kv[0]))]
    colour_index = colour_index or {}

    if dated:
        first = min(d for _, d in dated)
        last = max(d for _, d in dated)
        unit = _unit_for((last - first).days)
        buckets = [_bucket(first, unit)]
        while buckets[-1] < _bucket(last, unit):
            buckets.append(_next(buckets[-1], unit))
    else:
        unit, buckets = "day", []
    column = {b: i for i, b in enumerate(buckets)}
    counts = Counter((o, _bucket(d, unit)) for o, d in dated)
    peak = max(counts.values(), default=1)

    n_cols = max(len(buckets), 1)
    col_width = PLOT_WIDTH / n_cols
    max_radius = max(3.0, min(col_width / 2 - 1, LANE_HEIGHT / 2 - 3))
    height = TOP + LANE_HEIGHT * max(len(outlets), 1) + AXIS_HEIGHT + (16 if undated else 0)
    width = LABEL_WIDTH + PLOT_WIDTH + 12

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="coverage-chart" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    plot_bottom = TOP + LANE_HEIGHT * max(len(outlets), 1)
    for lane, outlet in enumerate(outlets):
        y = TOP + lane * LANE_HEIGHT + LANE_HEIGHT / 2
        colour = PALETTE[colour_index.get(outlet, lane) % len(PALETTE)]
        out.append(
            f'<line x1="{LABEL_WIDTH}" y1="{y:.1f}" x2="{LABEL_WIDTH + PLOT_WIDTH}" '
            f'y2="{y:.1f}" stroke="#e2e8f0" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LABEL_WIDTH - 10}" y="{y + 4:.1f}" text-anchor="end" fill="#1e293b">'
            f"{escape(_short(outlet))}<title>{escape(outlet)}</title></text>"
        )
        for bucket in buckets:
            n = counts.get((outlet, bucket), 0)
            if not n:
                continue
            cx = LABEL_WIDTH + (column[bucket] + 0.5) * col_width
            radius = max(3.0, max_radius * math.sqrt(n / peak))
            label = f"{outlet}: {n} article{'s' if n != 1 else ''}, {_label(bucket, unit)}"
            out.append(
                f'<circle cx="{cx:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{colour}" '
                f'fill-opacity="0.85"><title>{escape(label)}</title></circle>'
            )
            if radius >= 8:
                out.append(
                    f'<text x="{cx:.1f}" y="{y + 4:.1f}" text-anchor="middle" fill="#ffffff" '
                    f'font-weight="600">{n}</text>'
                )
    out.append(
        f'<line x1="{LABEL_WIDTH}" y1="{plot_bottom}" x2="{LABEL_WIDTH + PLOT_WIDTH}" '
        f'y2="{plot_bottom}" stroke="#94a3b8" stroke-width="1"/>'
    )
    step = max(1, math.ceil(len(buckets) / 6))
    for i in range(0, len(buckets), step):
        cx = LABEL_WIDTH + (i + 0.5) * col_width
        out.append(
            f'<text x="{cx:.1f}" y="{plot_bottom + 18}" text-anchor="middle" fill="#475569">'
            f"{escape(_label(buckets[i], unit))}</text>"
        )
    if not buckets:
        out.append(
            f'<text x="{LABEL_WIDTH + PLOT_WIDTH / 2}" y="{plot_bottom + 18}" '
            'text-anchor="middle" fill="#475569">no publication dates</text>'
        )
    if undated:
        out.append(
            f'<text x="{LABEL_WIDTH}" y="{height - 4}" fill="#64748b">'
            f"{undated} article{'s' if undated != 1 else ''} without a publication date</text>"
        )
    out.append("</svg>")
    return "".join(out)
