"""Server-side SVG charts for the board: no chart library, no script, colours from the stylesheet.

Charts are drawn in viewBox units and scale with their container, so they stay sharp on a wall screen.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import Markup, escape

from app.matching.scenarios import LEVELS


def _svg(width: int, height: int, label: str, body: list[str], cls: str) -> Markup:
    return Markup(
        f'<svg class="{cls}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{"".join(body)}</svg>')


def trend_bars(counts: list[int], end: datetime, *, recent_days: int = 7, width: int = 300, height: int = 60) -> Markup:
    """Hits per day as bars, the last `recent_days` days (the 'tripped' window) shaded behind them."""
    days = len(counts)
    peak = max(counts, default=0)
    slot = width / max(days, 1)
    top = 14  # room for the peak label
    body = [f'<line class="axis" x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}"/>']
    if recent_days:
        edge = width - recent_days * slot
        body.append(f'<line class="recent" x1="{edge:.1f}" y1="{top}" x2="{edge:.1f}" y2="{height}"/>')
    for i, n in enumerate(counts):
        if n:
            h = max(3.0, (height - top - 1) * n / peak)
            body.append(f'<rect class="bar" x="{i * slot + 1:.1f}" y="{height - 1 - h:.1f}" '
                        f'width="{max(slot - 2, 1):.1f}" height="{h:.1f}"/>')
    summary = f"{sum(counts)} in {days} days, peak {peak}/day" if peak else "no hits"
    body.append(f'<text class="peak" x="2" y="11">{summary}</text>')
    start = (end - timedelta(days=days - 1)).date()
    label = f"{sum(counts)} hits from {start} to {end.date()}, at most {peak} a day"
    return _svg(width, height, label, body, "chart trend")


def level_steps(history: list[tuple[datetime, str]], end: datetime, *, width: int = 1200, height: int = 150) -> Markup:
    """A scenario's warning level over time as a step chart on level bands (low at the bottom)."""
    left, bottom, top = 70, 20, 4
    plot_w, plot_h = width - left - 4, height - bottom - top
    band = plot_h / len(LEVELS)
    start = history[0][0] if history else end - timedelta(days=90)
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return left + plot_w * min(max((at - start).total_seconds() / span, 0.0), 1.0)

    def y(level: str) -> float:
        return top + plot_h - band * (LEVELS.index(level) + 0.5)

    body = []
    for i, name in enumerate(LEVELS):
        y0 = top + plot_h - band * (i + 1)
        body.append(f'<rect class="band band-{name}" x="{left}" y="{y0:.1f}" width="{plot_w}" height="{band:.1f}"/>')
        body.append(f'<text class="tick" x="{left - 6}" y="{y0 + band / 2 + 4:.1f}" text-anchor="end">{name}</text>')
    points = []
    for i, (at, level) in enumerate(history):
        nxt = history[i + 1][0] if i + 1 < len(history) else end
        points += [f"{x(at):.1f},{y(level):.1f}", f"{x(nxt):.1f},{y(level):.1f}"]
        if nxt > at:
            body.append(f'<line class="seg seg-{level}" x1="{x(at):.1f}" y1="{y(level):.1f}" x2="{x(nxt):.1f}" '
                        f'y2="{y(level):.1f}"/>')
    if points:
        body.insert(len(LEVELS) * 2, f'<polyline class="steps" points="{" ".join(points)}"/>')
    for frac, anchor in ((0, "start"), (0.5, "middle"), (1, "end")):
        at = start + timedelta(seconds=span * frac)
        body.append(f'<text class="tick" x="{left + plot_w * frac:.1f}" y="{height - 4}" '
                    f'text-anchor="{anchor}">{at:%Y-%m-%d}</text>')
    now_level = history[-1][1] if history else "low"
    label = f"warning level from {start:%Y-%m-%d} to {end:%Y-%m-%d}, now {now_level}"
    return _svg(width, height, label, body, "chart levels")


def daily_bars(counts: list[int], end: datetime, *, width: int = 200, height: int = 36) -> Markup:
    """Items per day for the feed health table (no shaded window)."""
    return trend_bars(counts, end, recent_days=0, width=width, height=height)
