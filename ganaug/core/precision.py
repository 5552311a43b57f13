"""Per-column precision (numpy only): a numeric column whose values all lie on a grid
``multiple / 10**decimals`` (prices in cents, integers in steps of 5) is rounded to that grid; a
float64 column without one is rounded to 7 significant digits, the precision of the float32
network outputs, so values print cleanly instead of carrying float32 noise digits. Learned when
the codec is fitted, applied to every decoded row with the exact relations (:mod:`ganaug.core.exact`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: most decimals a learned grid may have
MAX_DECIMALS = 6
#: significant digits kept where no grid is learned (float32's)
SIGNIFICANT_DIGITS = 7


def learn_grid(values: np.ndarray, float32: bool = False) -> tuple[int, int] | None:
    """``(decimals, multiple)``: the coarsest grid ``multiple / 10**decimals`` holding every value.

    Parameters
    ----------
    values : ndarray of float64
        The column's observed values (finite).
    float32 : bool
        The column was stored in float32 (its values carry float32 rounding).

    Returns
    -------
    (int, int) or None
        None when no grid of at most :data:`MAX_DECIMALS` decimals holds them.
    """
    v = np.asarray(values, dtype=np.float64)
    if not len(v):
        return None
    rel = 2e-7 if float32 else 1e-9
    for d in range(MAX_DECIMALS + 1):
        scaled = v * 10.0**d
        if np.abs(scaled).max() >= 2.0**52:
            return None
        k = np.round(scaled)
        if np.all(np.abs(scaled - k) <= rel * np.maximum(1.0, np.abs(scaled))):
            g = int(np.gcd.reduce(np.abs(k).astype(np.int64)))
            return d, max(g, 1)
    return None


def significant(x: np.ndarray, digits: Any) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits (NaN and 0 kept); ``digits`` may be one
    number per column of a 2-D ``x``. Computed in place on a copy (this bounds sampling speed)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(x)
        np.log10(d, out=d)
        np.floor(d, out=d)
        np.subtract(np.asarray(digits, dtype=np.float64) - 1.0, d, out=d)
    d[~np.isfinite(d)] = 0.0  # 0 and NaN
    up = d >= 0
    np.abs(d, out=d)
    scale = np.power(10.0, d, out=d)
    # a power of ten is exact only for non-negative exponents: divide by it, never multiply by
    # its inexact inverse, so the result is the nearest double to the decimal
    out = np.where(up, x * scale, x / scale)
    np.rint(out, out=out)
    np.divide(out, scale, out=out, where=up)
    np.multiply(out, scale, out=out, where=~up)
    return out


def round_grid(block: np.ndarray, columns: list[Any]) -> np.ndarray:
    """Columns rounded to their grids, kept inside the grid points of ``[minimum, maximum]``
    (when there are any: not in a tiny column whose knots hold no grid point)."""
    scale = np.array([10.0**c.decimals for c in columns])
    m = np.array([float(c.multiple) for c in columns])
    out = block * (scale / m)
    np.rint(out, out=out)
    np.multiply(out, m, out=out)
    np.divide(out, scale, out=out)
    lo = np.full(len(columns), -np.inf)
    hi = np.full(len(columns), np.inf)
    for k, c in enumerate(columns):
        if c.minimum is None or c.maximum is None:
            continue
        a = np.ceil(c.minimum * scale[k] / m[k] - 1e-9) * m[k] / scale[k]
        b = np.floor(c.maximum * scale[k] / m[k] + 1e-9) * m[k] / scale[k]
        if a <= b:
            lo[k], hi[k] = a, b
    return np.clip(out, lo, hi, out=out)


def grid_tolerance(column: Any, values: np.ndarray) -> float:
    """How far a value of ``column`` may be from an exact relation's value: just under half its
    grid step, or a float64 hair where it has no grid."""
    if column.decimals is not None:
        return 0.49 * column.multiple / 10.0**column.decimals
    return 1e-9 * (1.0 + float(np.nanmax(np.abs(values))))


def round_numeric(columns: list[Any], numeric: np.ndarray, copy: bool = False) -> np.ndarray:
    """Decoded numeric outputs (one column per entry of ``columns``) at the learned precision,
    as float64; unchanged (not copied, unless ``copy``) when no column has one."""
    grid = [
        j for j, c in enumerate(columns)
        if c.decimals is not None and not (c.integer and c.decimals == 0 and c.multiple == 1)
    ]
    sig = [j for j, c in enumerate(columns) if c.decimals is None and c.significant is not None]
    if not grid and not sig and not copy:
        return numeric
    numeric = np.array(numeric, dtype=np.float64)
    if grid:  # every grid column at once (a column at a time costs 10x on wide tables)
        numeric[:, grid] = round_grid(numeric[:, grid], [columns[j] for j in grid])
    if sig:
        digits = np.array([columns[j].significant for j in sig], dtype=np.float64)
        numeric[:, sig] = significant(numeric[:, sig], digits)
    return numeric
