"""The ``ganaug`` command line.

Every command runs under :class:`GanaugGroup`, which turns the library's user-facing errors
(ValueError, TypeError, OSError, ImportError and the :mod:`ganaug.errors` classes, which
are ValueErrors) into one ``Error: ...`` line and exit status 1, without a traceback.  Set
``GANAUG_DEBUG=1`` to get the traceback instead.  Heavy libraries are imported inside the
commands so that ``ganaug --help`` stays fast.

Plugins add commands through the ``register_commands(cli)`` hook; they are collected
lazily when the group lists or resolves its commands, so built-in commands defined
anywhere in this module take precedence.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from typing import Any

import click

from ganaug._version import __version__

#: exception types reported as one clean line (ganaug.errors.* subclass ValueError)
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OSError, ImportError)
DEBUG_ENV_VAR = "GANAUG_DEBUG"
TASK_CHOICE = click.Choice(["classification", "regression"])


def error_message(exc: BaseException) -> str:
    """One-line message for an exception raised by a command.

    Parameters
    ----------
    exc : BaseException
        The error.

    Returns
    -------
    str
        Its message on one line (the type name if the message is empty).
    """
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ImportError):
        message = f"missing dependency: {message}"
    return message


class GanaugGroup(click.Group):
    """Click group with plugin-provided commands and one-line error reporting."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if os.environ.get(DEBUG_ENV_VAR):
                raise
            raise click.ClickException(error_message(exc)) from exc

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # load plugins up front so that load warnings print as tidy lines
        from ganaug.plugins import load_plugins

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_plugins()
        for w in caught:
            click.echo(f"Warning: {w.message}", err=True)
        return super().main(*args, **kwargs)

    def _plugin_commands(self) -> dict[str, click.Command]:
        from ganaug.plugins import PluginWarning, collect_commands

        commands = {}
        for name, (command, plugin) in collect_commands().items():
            if name in self.commands:
                warnings.warn(
                    f"command {name!r} from plugin {plugin!r} clashes with a built-in "
                    "command; ignoring it",
                    PluginWarning,
                    stacklevel=2,
                )
            else:
                commands[name] = command
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            command = self._plugin_commands().get(cmd_name)
        return command


@click.group(cls=GanaugGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="ganaug")
def main() -> None:
    """ganaug: generative pretraining for better training sets."""


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """Plain-text table with left-aligned columns."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _describe(uri: str, target: str | None, task: str | None) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from ganaug.datasets import get_dataset

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
    from ganaug.datasets import list_dataset_schemes, list_datasets

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
    from ganaug.models import get_model, list_models

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
    from ganaug.plugins import get_plugins

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
