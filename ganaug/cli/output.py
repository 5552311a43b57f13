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


def _print_scores(name: str, scores: Any, summary: Any) -> None:
    metrics = [c for c in ("balanced_accuracy", "f1_macro", "roc_auc", "r2", "mae") if c in scores]
    rows = []
    for _, r in scores.iterrows():
        rows.append([r["model"], r["method"], *[_fmt(r[m]) for m in metrics], r.get("note") or ""])
    click.echo(f"\n{name}: test scores per model and training set\n")
    click.echo(_table(rows, ["model", "method", *metrics, "note"]))
    lift = [c for c in summary.columns if c.endswith("_lift")]
    rows = [[m, *[_fmt(summary.loc[m, c], signed=True) for c in lift]] for m in summary.index]
    click.echo("\nmean lift over no augmentation\n")
    click.echo(_table(rows, ["method", *lift]))


def _fmt(value: Any, signed: bool = False) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "-"
    return f"{v:+.4f}" if signed else f"{v:.4f}"
