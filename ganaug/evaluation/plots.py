"""Diagnostic plots for synthetic data (needs the optional ``ganaug[plot]`` extra).

Every function renders with matplotlib's Agg canvas on a standalone
:class:`matplotlib.figure.Figure` (pyplot and the global backend are never touched, so this
is safe in notebooks, servers and threads), writes a PNG file and returns its path.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_correlations", "plot_image_grid", "plot_loss", "plot_marginals"]

_REAL, _SYN = "#1f77b4", "#ff7f0e"


def _figure(width: float, height: float) -> Any:
    """A new Agg-backed Figure; ImportError naming the extra when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "ganaug.evaluation.plots needs matplotlib; install it with: pip install 'ganaug[plot]'"
        ) from exc
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = max(1, min(max_cols, n))
    return -(-n // cols), cols


def plot_marginals(
    real: Any, synthetic: Any, path: str | Path, max_columns: int = 16, title: str | None = None
) -> Path:
    """Per-column marginal distributions, real vs synthetic.

    Numeric columns are drawn as overlaid density histograms on shared bins, categorical
    columns as side-by-side bars of category frequencies (missing values as ``NaN``).

    Parameters
    ----------
    real, synthetic : array-like or pandas.DataFrame
        Tables with the same columns.
    path : str or Path
        PNG file to write (parent folders are created).
    max_columns : int, default=16
        Plot at most this many columns (the first ones).
    title : str, optional
        A title above the panels. Each panel's title carries the column's distance
        (Kolmogorov-Smirnov statistic or total variation distance, 0 = identical).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from ganaug.core.columns import column_kinds
    from ganaug.evaluation.fidelity import column_fidelity
    from ganaug.evaluation.frames import _NAN_TOKEN, _align, _as_float, _as_tokens

    r, s = _align(real, synthetic)
    kinds = column_kinds(r, s)
    cols = list(kinds)[: max(1, int(max_columns))]
    distances = column_fidelity(r, s)["columns"] if len(r) and len(s) else {}
    nrows, ncols = _grid(len(cols))
    fig = _figure(3.2 * ncols, 2.6 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, col in zip(axes, cols, strict=False):
        if kinds[col] == "numeric":
            a, b = _as_float(r[col]), _as_float(s[col])
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
            both = np.concatenate([a, b])
            bins = np.histogram_bin_edges(both, bins=30) if both.size else 10
            ax.hist(a, bins=bins, density=True, alpha=0.5, color=_REAL, label="real")
            ax.hist(b, bins=bins, density=True, alpha=0.5, color=_SYN, label="synthetic")
        else:
            a, b = _as_tokens(r[col]), _as_tokens(s[col])
            levels = np.unique(np.concatenate([a, b]))[:30]
            fa = np.array([np.mean(a == lv) for lv in levels])
            fb = np.array([np.mean(b == lv) for lv in levels])
            x = np.arange(len(levels))
            ax.bar(x - 0.2, fa, width=0.4, color=_REAL, label="real")
            ax.bar(x + 0.2, fb, width=0.4, color=_SYN, label="synthetic")
            names = ["NaN" if lv == _NAN_TOKEN else str(lv)[:12] for lv in levels]
            ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
        info = distances.get(col, {})
        score = f"KS {info['ks']:.2f}" if "ks" in info else f"TVD {info['tvd']:.2f}" if "tvd" in info else ""
        ax.set_title(f"{col}  ({score})" if score else str(col), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(cols) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def plot_correlations(real: Any, synthetic: Any, path: str | Path, title: str | None = None) -> Path:
    """Pearson correlation heatmaps of the numeric columns: real, synthetic and their gap.

    Parameters
    ----------
    real, synthetic : array-like or pandas.DataFrame
        Tables with the same columns (categorical columns are left out).
    path : str or Path
        PNG file to write.
    title : str, optional
        A title above the panels (the mean absolute correlation gap is appended).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If there are no numeric columns.
    """
    from ganaug.evaluation.fidelity import _correlations
    from ganaug.evaluation.frames import _align

    r, s = _align(real, synthetic)
    corr_r, corr_s = _correlations(r, s)
    if corr_r.shape[0] == 0:
        raise ValueError("plot_correlations needs at least one numeric column")
    labels = [str(c)[:12] for c in corr_r.columns]
    panels = [
        ("real", corr_r.to_numpy(), "coolwarm", -1.0),
        ("synthetic", corr_s.to_numpy(), "coolwarm", -1.0),
        ("|real - synthetic|", np.abs(corr_r.to_numpy() - corr_s.to_numpy()), "viridis", 0.0),
    ]
    size = min(0.35 * len(labels) + 2.5, 9.0)
    fig = _figure(3 * size, size)
    axes = fig.subplots(1, 3)
    ticks = np.arange(len(labels))
    show = len(labels) <= 30
    for ax, (panel, mat, cmap, vmin) in zip(axes, panels, strict=True):
        im = ax.imshow(mat, cmap=cmap, vmin=vmin, vmax=1.0)
        ax.set_title(panel, fontsize=10)
        if show:
            ax.set_xticks(ticks, labels, rotation=90, fontsize=7)
            ax.set_yticks(ticks, labels, fontsize=7)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.8)
    gap = np.abs(corr_r.to_numpy() - corr_s.to_numpy())[np.triu_indices(len(labels), k=1)]
    if title or gap.size:
        text = f"mean |real - synthetic| correlation {gap.mean():.3f}" if gap.size else ""
        fig.suptitle("\n".join(t for t in (title, text) if t), fontsize=11)
    return _save(fig, path)


def _history_of(history: Any) -> Mapping[str, Sequence[float]]:
    """Accept a history dict, or an object carrying one (model ``history_``, ``model_``)."""
    if isinstance(history, Mapping):
        return history
    for obj in (history, getattr(history, "model_", None)):
        found = getattr(obj, "history_", None)
        if isinstance(found, Mapping):
            return found
    raise TypeError(
        "plot_loss expects {'generator': [...], 'discriminator': [...]} or a fitted "
        "GANAugmenter / ConditionalGAN with a history_"
    )


def plot_loss(history: Any, path: str | Path) -> Path:
    """Training loss curves per epoch.

    Parameters
    ----------
    history : dict or fitted model
        ``{"generator": [float per epoch], "discriminator": [float per epoch]}`` (extra
        per-epoch series are drawn too; the hold-out ``validation*`` entries, which are per
        checkpoint, and scalars such as ``selected_step`` are not), or an object with such a
        ``history_`` (``ConditionalGAN``) or with a ``model_`` that has one (``GANAugmenter``).
    path : str or Path
        PNG file to write.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    hist = _history_of(history)
    series = {
        k: np.asarray(v, dtype=float).ravel()
        for k, v in hist.items()
        if not str(k).startswith(("validation", "selected")) and np.ndim(v) == 1 and len(v)
    }
    if not series and not hist.get("stage_reason"):
        raise ValueError("history has no loss values to plot")
    fig = _figure(6.0, 3.5)
    ax = fig.subplots()
    if not series:
        # the default preset skipped the adversarial stage (or stopped it within an epoch): why
        ax.set_axis_off()
        ax.text(0.5, 0.5, textwrap.fill("no training loss: " + str(hist["stage_reason"]), 60),
                ha="center", va="center")
        return _save(fig, path)
    for name, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=str(name))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_image_grid(
    images: Any,
    labels: Any,
    path: str | Path,
    image_shape: tuple[int, int] = (8, 8),
    per_class: int = 8,
) -> Path:
    """A grid with one row per class and up to ``per_class`` images per row.

    Parameters
    ----------
    images : array-like of shape (n, h * w) or (n, h, w)
        Grey-scale images (e.g. rows of the digits table, real or synthetic).
    labels : array-like of shape (n,)
        Class of each image.
    path : str or Path
        PNG file to write.
    image_shape : (int, int), default=(8, 8)
        Height and width used to reshape flat rows.
    per_class : int, default=8
        Images shown per class (the first ones of that class).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    imgs = np.asarray(images, dtype=float)
    labels = np.asarray(labels).ravel()
    if len(imgs) != len(labels):
        raise ValueError(f"{len(imgs)} images but {len(labels)} labels")
    h, w = image_shape
    if imgs.ndim == 2:
        if imgs.shape[1] != h * w:
            raise ValueError(f"rows of {imgs.shape[1]} values cannot be reshaped to {h}x{w}")
        imgs = imgs.reshape(-1, h, w)
    elif imgs.ndim != 3:
        raise ValueError(f"expected images of shape (n, h*w) or (n, h, w), got {imgs.shape}")
    classes = list(np.unique(labels)) if len(labels) else []
    if not classes:
        raise ValueError("no images to plot")
    per_class = max(1, int(per_class))
    vmin, vmax = float(np.nanmin(imgs)), float(np.nanmax(imgs))
    fig = _figure(0.9 * per_class + 0.6, 0.9 * len(classes) + 0.3)
    axes = fig.subplots(len(classes), per_class, squeeze=False)
    for row, cls in enumerate(classes):
        idx = np.flatnonzero(labels == cls)[:per_class]
        for col in range(per_class):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(idx):
                ax.imshow(imgs[idx[col]], cmap="gray_r", vmin=vmin, vmax=vmax)
            else:
                ax.set_axis_off()
        axes[row, 0].set_ylabel(str(cls), rotation=0, labelpad=12, fontsize=9)
    return _save(fig, path)
