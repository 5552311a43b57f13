"""Terminal output for the commands: a rich table, JSON, and the score report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A left-aligned ``rich`` table as plain text (no colour codes, never wrapped)."""
    table = Table(*[str(h) for h in headers], box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for row in rows:
        table.add_row(*[str(c) for c in row])
    console = Console(width=10_000, no_color=True, color_system=None, highlight=False)
    with console.capture() as capture:
        console.print(table, markup=False)
    return "\n".join(line.rstrip() for line in capture.get().splitlines() if line.strip())


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _print_intervals(name: str, scores: Any, intervals: Any) -> None:
    """Mean test scores per model and training set, then the lift over no augmentation with its
    95% interval over the splits."""
    from ganaug.evaluation.repeated import METHOD_NAMES

    metrics = [c for c in ("balanced_accuracy", "f1_macro", "roc_auc", "r2", "mae") if c in scores]
    n_splits = scores["split"].nunique()
    means = scores.groupby(["model", "method"], sort=False)[metrics].mean().reset_index()
    notes = scores.groupby(["model", "method"], sort=False)["note"].first().reset_index(drop=True)
    rows = [[r["model"], r["method"], *[_fmt(r[m]) for m in metrics], notes.iloc[i] or ""]
            for i, (_, r) in enumerate(means.iterrows())]
    click.echo(f"\n{name}: mean test scores over {n_splits} splits, per model and training set\n")
    click.echo(_table(rows, ["model", "method", *metrics, "note"]))
    mean = intervals[intervals["model"] == "mean"]
    rows = []
    for method in dict.fromkeys(mean["method"]):
        cells = []
        for m in metrics:
            r = mean[(mean["method"] == method) & (mean["metric"] == m)]
            cells.append("-" if r.empty or math.isnan(r["lift"].iloc[0]) else
                         f"{r['lift'].iloc[0]:+.3f} [{r['low'].iloc[0]:+.3f}, {r['high'].iloc[0]:+.3f}]")
        rows.append([METHOD_NAMES.get(method, method), *cells])
    click.echo(f"\nlift over no augmentation, mean of the models [95% interval over {n_splits} splits]\n")
    click.echo(_table(rows, ["method", *metrics]))


def _fmt(value: Any, signed: bool = False) -> str:
    from ganaug.evaluation.report_html import number_text

    return number_text(value, signed, digits=4)
