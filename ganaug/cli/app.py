"""The ``ganaug`` command line.

Every command runs under :class:`GanaugGroup`, which turns the library's user-facing errors
(ValueError, TypeError, OSError, ImportError and the :mod:`ganaug.core.errors` classes, which
are ValueErrors) into one ``Error: ...`` line and exit status 1, without a traceback.  Set
``GANAUG_DEBUG=1`` to get the traceback instead.  Heavy libraries are imported inside the
commands so that ``ganaug --help`` stays fast.

Plugins add commands through the ``register_commands(cli)`` hook; they are collected
lazily when the group lists or resolves its commands, so built-in commands take precedence.

This module holds the plumbing: the :func:`main` group, its error handling and the options the
commands share.  The commands live in :mod:`ganaug.cli.catalog`, :mod:`ganaug.cli.flow` and
:mod:`ganaug.cli.evaluate`, registered on :func:`main` when :mod:`ganaug.cli` is imported.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import click

from ganaug._version import __version__
from ganaug.gan.presets import PRESETS  # plain data: no torch at start-up

#: exception types reported as one clean line (ganaug.core.errors.* subclass ValueError)
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
    # errors that know the command line's spelling of their fix (``--target``, not ``target=``)
    text = getattr(exc, "cli_message", None) or str(exc)
    message = " ".join(text.split()) or type(exc).__name__
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
        from ganaug.registry.manager import load_plugins

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_plugins()
        for w in caught:
            click.echo(f"Warning: {w.message}", err=True)
        return super().main(*args, **kwargs)

    def _plugin_commands(self) -> dict[str, click.Command]:
        """Plugin commands, harvested once per set of registered plugins (not on every lookup)."""
        from ganaug.registry.manager import plugins_key

        key = plugins_key()
        cached = getattr(self, "_plugin_cache", None)
        if cached is None or cached[0] != key:
            self._plugin_cache = (key, self._harvest_plugin_commands())
        return self._plugin_cache[1]

    def _harvest_plugin_commands(self) -> dict[str, click.Command]:
        from ganaug.registry.manager import PluginWarning, collect_commands

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
@click.option("--progress", type=click.Choice(["auto", "bar", "log", "off"]), default=None,
              help="Progress display: a bar on a terminal and a log line every 10 s otherwise "
                   "(auto, the default), always a bar, always log lines, or nothing. "
                   "Environment: GANAUG_PROGRESS, GANAUG_PROGRESS_INTERVAL (seconds).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output (--progress off).")
@click.pass_context
def main(ctx: click.Context, progress: str | None, quiet: bool) -> None:
    """ganaug: generative pretraining for better training sets.

    \b
    A first session:
      ganaug datasets                          # what can be used
      ganaug pretrain churn.csv --target churn # train a GAN on a table, store it
      ganaug export churn                      # the generator as ONNX (the name is the file stem)
      ganaug sample churn -n 1000 -o rows.csv  # rows from ONNX Runtime, no torch
      ganaug augment churn.csv --target churn -o augmented.csv
      ganaug serve ~/.cache/ganaug/onnx        # HTTP, OpenAPI page at /docs

    Run `ganaug COMMAND --help` for a command's options and examples.
    """
    from ganaug.runtime.progress import ENV_MODE

    mode = "off" if quiet else progress
    if mode is not None:  # in the environment, so torchrun and Dask workers see it too
        previous = os.environ.get(ENV_MODE)
        os.environ[ENV_MODE] = mode

        def restore() -> None:
            if previous is None:
                os.environ.pop(ENV_MODE, None)
            else:
                os.environ[ENV_MODE] = previous

        ctx.call_on_close(restore)


# options shared by the commands
PRESET_CHOICE = click.Choice(sorted(PRESETS))
DEVICE_CHOICE = click.Choice(["auto", "cpu", "cuda"])
DEFAULT_DATASET = "sklearn:breast_cancer"
PRESET_HELP = ("Training recipe: default (a Gaussian copula fitted in closed form, then "
               "adversarial fine-tuning; for tables), classic (the original MLP GAN) or conv "
               "(images stored as one column per pixel).")
SEED_HELP = "Random seed: the same seed gives the same model and rows."
EPOCHS_HELP = "Training epochs (default: the preset's own length)."
THREADS_HELP = "Sampling threads (default: the CPUs available, at most 8); rows do not depend on it."
