"""Catalog commands: ``ganaug datasets``, ``ganaug models`` and ``ganaug plugins``.
"""

from __future__ import annotations

from typing import Any

import click

from ganaug.cli.app import TASK_CHOICE, main
from ganaug.cli.output import _echo_json, _table


def _describe(uri: str, target: str | None, task: str | None) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from ganaug.registry.datasets import get_dataset

    ds = get_dataset(uri, target=target, task=task)
    X, y = ds.load()
    info: dict[str, Any] = {
        "name": ds.name,
        "description": ds.description,
        "task": ds.task,
        "modality": ds.modality,
        "target": ds.target,
        "plugin": ds.plugin,
        "n_samples": len(y),
        "feature_shape": list(np.shape(X)[1:]),
    }
    if isinstance(X, pd.DataFrame):
        info["columns"] = {str(c): str(t) for c, t in X.dtypes.items()}
        info["n_missing"] = int(X.isna().sum().sum())
    if ds.task == "classification":
        counts = pd.Series(np.asarray(y)).value_counts(sort=False).sort_index()
        info["class_counts"] = {str(k): int(v) for k, v in counts.items()}
    else:
        values = np.asarray(y, dtype=float)
        info["target_stats"] = {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
        }
    return info


@main.command("datasets")
@click.argument("data", required=False)
@click.option("--target", help="Target column (required for CSV and Parquet files).")
@click.option("--task", type=TASK_CHOICE, help="Override the inferred task.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def datasets_command(data: str | None, target: str | None, task: str | None, as_json: bool):
    """List datasets and data URI forms, or describe DATA.

    DATA is a dataset name (breast_cancer), sklearn:NAME, csv:PATH, parquet:PATH, npz:PATH
    or a path ending in .csv, .parquet or .npz.
    """
    from ganaug.registry.datasets import list_dataset_schemes, list_datasets

    if data is not None:
        info = _describe(data, target, task)
        if as_json:
            _echo_json(info)
            return
        for key, value in info.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            click.echo(f"{key}: {value}")
        return
    if target is not None or task is not None:
        raise click.UsageError("--target and --task need a DATA argument")
    datasets, schemes = list_datasets(), list_dataset_schemes()
    if as_json:
        _echo_json(
            {
                "datasets": [
                    {
                        "name": d.name,
                        "task": d.task,
                        "modality": d.modality,
                        "target": d.target,
                        "description": d.description,
                        "plugin": d.plugin,
                    }
                    for d in datasets
                ],
                "schemes": [
                    {
                        "name": s.name,
                        "extensions": list(s.extensions),
                        "description": s.description,
                        "plugin": s.plugin,
                    }
                    for s in schemes
                ],
            }
        )
        return
    rows = [(d.name, d.task, d.modality, d.description) for d in datasets]
    click.echo(_table(rows, ["name", "task", "modality", "description"]))
    click.echo("\nData URIs:")
    rows = [(f"{s.name}:", " ".join(s.extensions), s.description) for s in schemes]
    click.echo(_table(rows, ["scheme", "extensions", "description"]))


@main.command("models")
@click.argument("name", required=False)
@click.option("--task", type=TASK_CHOICE, help="Only models for this task.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def models_command(name: str | None, task: str | None, as_json: bool) -> None:
    """List downstream models, or only those called NAME."""
    from ganaug.registry.models import get_model, list_models

    specs = list_models(task)
    if name is not None:
        specs = [s for s in specs if s.name == name]
        if not specs:
            get_model(name, task)  # raises the "unknown model" error listing known names
    if as_json:
        _echo_json(
            [
                {"name": s.name, "task": s.task, "description": s.description, "plugin": s.plugin}
                for s in specs
            ]
        )
        return
    rows = [(s.name, s.task, s.description, s.plugin) for s in specs]
    click.echo(_table(rows, ["name", "task", "description", "plugin"]))


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def plugins_command(as_json: bool) -> None:
    """List plugins and what each one registered."""
    from ganaug.registry.info import get_plugins

    infos = get_plugins()
    if as_json:
        _echo_json([info.to_dict() for info in infos])
        return
    for info in infos:
        origin = "built-in" if info.builtin else f"{info.package or '?'} {info.version or ''}"
        click.echo(f"{info.name} ({origin.strip()})")
        click.echo(f"  hooks: {', '.join(info.hooks) or '-'}")
        for label, names in (
            ("datasets", info.datasets),
            ("dataset schemes", info.dataset_schemes),
            ("models", [f"{n} ({t})" for n, t in info.models]),
            ("commands", info.commands),
        ):
            if names:
                click.echo(f"  {label}: {', '.join(names)}")
