"""Small inline-SVG charts for the HTML report: no plotting library, no network, crisp at any
zoom. Each function returns one ``<svg>`` element as a string.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

REAL = "#1f77b4"
SYNTHETIC = "#ff7f0e"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(text: object, limit: int = 18) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def histogram(real: np.ndarray, synthetic: np.ndarray, title: str, *, bins: int = 20,
              width: int = 220, height: int = 140) -> str:
    """Overlaid density histograms of two numeric samples (missing values dropped)."""
    real = real[~np.isnan(real)]
    synthetic = synthetic[~np.isnan(synthetic)]
    both = np.concatenate([real, synthetic])
    if both.size == 0:
        return _empty(title, width, height)
    lo, hi = float(both.min()), float(both.max())
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    top, left, bottom = 22, 6, 18
    plot_w, plot_h = width - 2 * left, height - top - bottom
    densities = [np.histogram(x, edges)[0] / max(len(x), 1) for x in (real, synthetic)]
    peak = max(float(d.max()) for d in densities) or 1.0
    bar_w = plot_w / bins
    parts = [_frame(title, width, height)]
    for dens, colour, opacity in ((densities[0], REAL, 0.55), (densities[1], SYNTHETIC, 0.45)):
        for i, d in enumerate(dens):
            h = plot_h * d / peak
            if h > 0:
                parts.append(
                    f'<rect x="{left + i * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}" fill-opacity="{opacity}"/>'
                )
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>')
    parts.append(_text(left, height - 4, f"{lo:.3g}", anchor="start"))
    parts.append(_text(left + plot_w, height - 4, f"{hi:.3g}", anchor="end"))
    parts.append("</svg>")
    return "".join(parts)


def bars(levels: Sequence[object], real: Sequence[float], synthetic: Sequence[float], title: str,
         *, width: int = 220, height: int = 140) -> str:
    """Paired bars of level frequencies (real, synthetic) of a categorical column."""
    if not len(levels):
        return _empty(title, width, height)
    top, left, bottom = 22, 6, 18
    plot_w, plot_h = width - 2 * left, height - top - bottom
    peak = max(max(real, default=0), max(synthetic, default=0)) or 1.0
    group = plot_w / len(levels)
    bar_w = group * 0.4
    parts = [_frame(title, width, height)]
    for i, level in enumerate(levels):
        for j, (value, colour) in enumerate(((real[i], REAL), (synthetic[i], SYNTHETIC))):
            h = plot_h * value / peak
            x = left + i * group + group * 0.1 + j * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}" fill-opacity="0.75"><title>{_esc(level)}: {value:.3f}</title></rect>'
            )
        if len(levels) <= 6:
            parts.append(_text(left + (i + 0.5) * group, height - 4, _short(level, 8)))
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap(matrix: np.ndarray, labels: Sequence[object], title: str, *, cell: int = 0,
            limit: float = 1.0) -> str:
    """A diverging heatmap (blue negative, white zero, red positive) of a square matrix."""
    n = len(labels)
    if n == 0:
        return _empty(title, 220, 60)
    cell = cell or max(8, min(26, 520 // n))
    label_w = 110 if n <= 40 else 0
    top = 26
    size = n * cell
    width, height = label_w + size + 70, top + size + 10
    parts = [_frame(title, width, height)]
    for i in range(n):
        for j in range(n):
            v = float(matrix[i, j])
            parts.append(
                f'<rect x="{label_w + j * cell}" y="{top + i * cell}" width="{cell}" height="{cell}" '
                f'fill="{_diverging(v / limit)}"><title>{_esc(labels[i])} × {_esc(labels[j])}: '
                f'{v:+.2f}</title></rect>'
            )
        if label_w:
            parts.append(_text(label_w - 4, top + (i + 0.7) * cell, _short(labels[i]), anchor="end"))
    # colour scale
    x0 = label_w + size + 14
    for k in range(21):
        v = 1 - k / 10
        parts.append(f'<rect x="{x0}" y="{top + k * size / 21:.1f}" width="12" height="{size / 21 + 0.5:.1f}" '
                     f'fill="{_diverging(v)}"/>')
    parts.append(_text(x0 + 16, top + 8, f"+{limit:g}", anchor="start"))
    parts.append(_text(x0 + 16, top + size / 2 + 4, "0", anchor="start"))
    parts.append(_text(x0 + 16, top + size, f"-{limit:g}", anchor="start"))
    parts.append("</svg>")
    return "".join(parts)


def _diverging(v: float) -> str:
    """White at 0, red towards +1, blue towards -1."""
    v = max(-1.0, min(1.0, v))
    if v >= 0:
        r, g, b = 255, round(255 * (1 - v * 0.85)), round(255 * (1 - v * 0.85))
    else:
        r, g, b = round(255 * (1 + v * 0.85)), round(255 * (1 + v * 0.6)), 255
    return f"rgb({r},{g},{b})"


def _frame(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}">'
        f'<title>{_esc(title)}</title>'
        f'<text x="{width / 2:.0f}" y="14" text-anchor="middle" font-size="11" '
        f'font-weight="600">{_esc(_short(title, max(20, width // 6)))}</text>'
    )


def _text(x: float, y: float, text: str, *, anchor: str = "middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="9" '
            f'fill="#555">{_esc(text)}</text>')


def _empty(title: str, width: int, height: int) -> str:
    return _frame(title, width, height) + _text(width / 2, height / 2, "no values") + "</svg>"


def legend() -> str:
    """The real / synthetic colour key."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="230" height="16" role="img" '
        'aria-label="legend"><rect x="0" y="3" width="12" height="10" '
        f'fill="{REAL}" fill-opacity="0.6"/><text x="16" y="12" font-size="11">real rows</text>'
        f'<rect x="100" y="3" width="12" height="10" fill="{SYNTHETIC}" fill-opacity="0.6"/>'
        '<text x="116" y="12" font-size="11">synthetic rows</text></svg>'
    )
