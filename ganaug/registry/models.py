"""Downstream models: named factories of scikit-learn estimators, provided by plugins.

Models are keyed by ``(name, task)``.  Every built-in factory returns a
:class:`~sklearn.pipeline.Pipeline` ``[("preprocess", ...), ("model", ...)]`` whose
preprocessing (:func:`ganaug.learn.preprocessing.make_preprocessor`, public as
:mod:`ganaug.models`) accepts NumPy arrays and pandas DataFrames with
mixed dtypes and missing values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ganaug.core.tasks import TASKS
from ganaug.registry.manager import call_register_hook


@dataclass(frozen=True)
class ModelSpec:
    """A named downstream model.

    Parameters
    ----------
    name : str
        Short name (``"logreg"``); unique per task.
    task : {"classification", "regression"}
        Task the estimator solves.
    description : str
        One-line human description.
    factory : callable
        ``factory(random_state=None)`` returning a fresh unfitted scikit-learn estimator.
    plugin : str, optional
        Name of the plugin that registered the model (filled in on registration).
    """

    name: str
    task: str
    description: str
    factory: Callable[..., Any] = field(repr=False, compare=False)
    plugin: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of: {', '.join(TASKS)}")

    def make(self, random_state: int | None = None) -> Any:
        """Return a fresh estimator built by :attr:`factory`."""
        return self.factory(random_state=random_state)


def _collect() -> dict[tuple[str, str], ModelSpec]:
    found: dict[tuple[str, str], ModelSpec] = {}

    def register_for(plugin_name: str) -> Callable[[ModelSpec], None]:
        def register(spec: ModelSpec) -> None:
            if not isinstance(spec, ModelSpec):
                raise TypeError(f"plugin {plugin_name!r} registered {spec!r}; expected a ModelSpec")
            previous = found.get((spec.name, spec.task))
            if previous is not None:
                raise ValueError(
                    f"{spec.task} model {spec.name!r} from plugin {plugin_name!r} is already "
                    f"registered by plugin {previous.plugin!r}"
                )
            found[spec.name, spec.task] = replace(spec, plugin=plugin_name)

        return register

    call_register_hook("register_models", register_for)
    return found


def _check_task(task: str | None) -> None:
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of: {', '.join(TASKS)}")


def list_models(task: str | None = None) -> list[ModelSpec]:
    """Registered models, built-ins first.

    Parameters
    ----------
    task : {"classification", "regression"}, optional
        Keep only the models for this task.

    Returns
    -------
    list of ModelSpec
    """
    _check_task(task)
    return [s for s in _collect().values() if task is None or s.task == task]


def get_model(name: str, task: str | None = None) -> ModelSpec:
    """Look a model up by name (and task).

    Parameters
    ----------
    name : str
        Model name, e.g. ``"rf"``.
    task : {"classification", "regression"}, optional
        Required when the name exists for both tasks.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ValueError
        Unknown name (the message lists the known names) or ambiguous name without task.
    """
    _check_task(task)
    matches = [s for s in list_models(task) if s.name == name]
    if not matches:
        known = ", ".join(dict.fromkeys(s.name for s in list_models(task))) or "none"
        kind = f"{task} model" if task else "model"
        raise ValueError(f"unknown {kind} {name!r}; known: {known}")
    if len(matches) > 1:
        tasks = ", ".join(s.task for s in matches)
        raise ValueError(f"model {name!r} exists for several tasks ({tasks}); pass a task")
    return matches[0]


def make_model(name: str, task: str | None = None, random_state: int | None = None) -> Any:
    """Build a fresh, unfitted estimator.

    Parameters
    ----------
    name, task
        As in :func:`get_model`.
    random_state : int, optional
        Seed passed to the estimator.

    Returns
    -------
    sklearn.base.BaseEstimator
    """
    return get_model(name, task).make(random_state=random_state)
