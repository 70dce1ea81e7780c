"""Charts drawn on the server as SVG: no script, no library, nothing fetched from a CDN.

Every label passes through :func:`html.escape`; colours are SVG presentation attributes (not
``style``), which the dashboard's Content-Security-Policy allows.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from html import escape
from typing import Any

from markupsafe import Markup

from awsir.readiness.reports import _bars, _color, _trend

PALETTE = (
    "#0969da",
    "#cf222e",
    "#1a7f37",
    "#9a6700",
    "#8250df",
    "#bf3989",
    "#0a7ea4",
    "#953800",
    "#57606a",
    "#116329",
    "#6e7781",
    "#a40e26",
)


def colour(source: str) -> str:
    """A stable colour per source, the same on every page and every run."""
    return PALETTE[int(hashlib.sha256(source.encode()).hexdigest(), 16) % len(PALETTE)]


def heat_class(value: int | None) -> str:
    """CSS class of a heat-map cell: h0 (0-9) ... h10 (100), none when nothing applied."""
    return "none" if value is None else f"h{value // 10}"


def bars(scores: dict[str, int | None]) -> Markup:
    return Markup(_bars(scores))  # labels escaped by the readiness report's own code


def trend(points: list[dict[str, Any]]) -> Markup:
    return Markup(_trend(points))


def score_colour(value: int | None) -> str:
    return _color(value)


def histogram(hist: dict[str, Any] | None, width: int = 900, height: int = 140) -> Markup:
    """Stacked bars of events per time bucket, one colour per source, with a legend."""
    if not hist:
        return Markup("")
    buckets = hist["buckets"]
    peak = max((sum(b.values()) for b in buckets), default=1) or 1
    step = width / len(buckets)
    parts = [
        f'<svg role="img" aria-label="activity over time" width="{width}" '
        f'height="{height + 40}" class="histogram">'
    ]
    for k, bucket in enumerate(buckets):
        y = height
        for source in hist["sources"]:
            n = bucket.get(source, 0)
            if not n:
                continue
            h = max(n / peak * (height - 10), 1)
            y -= h
            parts.append(
                f'<rect x="{k * step:.1f}" y="{y:.1f}" width="{max(step - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour(source)}">'
                f"<title>{escape(source)}: {n}</title></rect>"
            )
    start = datetime.fromisoformat(hist["start"]).strftime("%Y-%m-%d %H:%M")
    end = datetime.fromisoformat(hist["end"]).strftime("%Y-%m-%d %H:%M")
    parts.append(
        f'<text x="0" y="{height + 14}" font-size="11">{escape(start)}</text>'
        f'<text x="{width}" y="{height + 14}" font-size="11" text-anchor="end">'
        f"{escape(end)}</text>"
    )
    x = 0
    for source in hist["sources"]:
        parts.append(
            f'<rect x="{x}" y="{height + 24}" width="10" height="10" '
            f'fill="{colour(source)}"/><text x="{x + 14}" y="{height + 33}" '
            f'font-size="11">{escape(source)}</text>'
        )
        x += 24 + 7 * len(source)
    return Markup("".join(parts) + "</svg>")
