"""Dataset adapters: named datasets and data URIs, provided by plugins.

A dataset is named on the command line by a data URI:

* a registered name such as ``breast_cancer``, or ``sklearn:NAME``;
* ``csv:PATH`` / ``parquet:PATH`` (with ``target=``), ``npz:PATH`` (arrays ``X`` and ``y``);
* a bare path ending in ``.csv``, ``.parquet`` or ``.npz``.

Named datasets come from the ``register_datasets`` hook, URI schemes from
``register_dataset_schemes``.  Nothing here touches the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ganaug.core.errors import (  # noqa: F401 (re-exported)
    DatasetFileNotFoundError,
    MissingTargetError,
)
from ganaug.core.tasks import (  # noqa: F401 (re-exported)
    MAX_CLASSES_FOR_INFERENCE,
    TASKS,
    infer_task,
)
from ganaug.registry.manager import call_register_hook

MODALITIES: tuple[str, ...] = ("table", "image")
#: integer-valued float targets with at most this many distinct values are class labels


def _check_choice(kind: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {kind} {value!r}; expected one of: {', '.join(choices)}")


@dataclass(frozen=True)
class DatasetAdapter:
    """A loadable dataset.

    Parameters
    ----------
    name : str
        Registered name or data URI.
    description : str
        One-line human description.
    task : {"classification", "regression"}
        Learning task of the target.
    modality : {"table", "image"}
        ``"table"`` loads as ``(pd.DataFrame, pd.Series)``; ``"image"`` as NumPy arrays.
    target : str
        Name of the target column (the name of the loaded ``y`` Series for tables).
    loader : callable
        ``loader() -> (X, y)``; should return fresh objects on each call.
    plugin : str, optional
        Name of the plugin that registered the adapter (filled in on registration).
    """

    name: str
    description: str
    task: str
    modality: str
    target: str
    loader: Callable[[], tuple[Any, Any]] = field(repr=False, compare=False)
    plugin: str = ""

    def __post_init__(self) -> None:
        _check_choice("task", self.task, TASKS)
        _check_choice("modality", self.modality, MODALITIES)

    def load(self) -> tuple[Any, Any]:
        """Load the data.

        Returns
        -------
        X : pandas.DataFrame or numpy.ndarray
            Features.
        y : pandas.Series or numpy.ndarray
            Target.
        """
        return self.loader()


@dataclass(frozen=True)
class DatasetScheme:
    """A data URI scheme such as ``csv:PATH``.

    Parameters
    ----------
    name : str
        Scheme, matched case-insensitively before the first ``:`` of a URI.
    description : str
        One-line human description.
    factory : callable
        ``factory(path, target) -> DatasetAdapter``; ``target`` may be None.
    extensions : tuple of str, optional
        Lower-case file suffixes (``".csv"``) that select this scheme for a bare path.
    plugin : str, optional
        Name of the plugin that registered the scheme (filled in on registration).
    """

    name: str
    description: str
    factory: Callable[[str, str | None], DatasetAdapter] = field(repr=False, compare=False)
    extensions: tuple[str, ...] = ()
    plugin: str = ""


def _collect(hook_name: str, cls: type, what: str) -> dict[str, Any]:
    """Run a register hook and return name -> registered object, checking duplicates."""
    found: dict[str, Any] = {}

    def register_for(plugin_name: str) -> Callable[[Any], None]:
        def register(obj: Any) -> None:
            if not isinstance(obj, cls):
                raise TypeError(
                    f"plugin {plugin_name!r} registered {obj!r}; expected a {cls.__name__}"
                )
            key = obj.name.lower() if cls is DatasetScheme else obj.name
            previous = found.get(key)
            if previous is not None:
                raise ValueError(
                    f"{what} {obj.name!r} from plugin {plugin_name!r} is already registered "
                    f"by plugin {previous.plugin!r}"
                )
            found[key] = replace(obj, plugin=plugin_name)

        return register

    call_register_hook(hook_name, register_for)
    return found


def list_datasets() -> list[DatasetAdapter]:
    """Named datasets registered by plugins, built-ins first.

    Returns
    -------
    list of DatasetAdapter
    """
    return list(_collect("register_datasets", DatasetAdapter, "dataset").values())


def list_dataset_schemes() -> list[DatasetScheme]:
    """Data URI schemes registered by plugins, built-ins first.

    Returns
    -------
    list of DatasetScheme
    """
    return list(_collect("register_dataset_schemes", DatasetScheme, "dataset scheme").values())


_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def _looks_like_path(uri: str) -> bool:
    """Whether an unregistered name is meant as a file: a separator, a suffix, or an existing path."""
    return "/" in uri or os.sep in uri or bool(_SUFFIX.search(uri)) or os.path.exists(uri)


def _resolve_scheme(
    uri: str, schemes: dict[str, DatasetScheme]
) -> tuple[DatasetScheme, str] | None:
    """The scheme of a data URI and its rest (``csv:x.csv`` or a bare ``x.csv``), or None."""
    prefix, sep, rest = uri.partition(":")
    scheme = schemes.get(prefix.lower()) if sep else None
    if scheme is not None:
        return scheme, rest
    lowered = uri.lower()
    for candidate in schemes.values():
        if any(lowered.endswith(e) for e in candidate.extensions):
            return candidate, uri
    return None


def file_stem(uri: str | os.PathLike[str]) -> str | None:
    """The file name without its data suffix for a file URI (``churn`` for
    ``parquet:../data/churn.parquet``); None for a registered dataset or a non-file scheme."""
    uri = os.fspath(uri)
    schemes = _collect("register_dataset_schemes", DatasetScheme, "dataset scheme")
    found = _resolve_scheme(uri, schemes)
    if found is None or not found[0].extensions or not found[1]:
        return None
    scheme, path = found
    name = os.path.basename(path.rstrip("/\\")) or path
    for ext in sorted(scheme.extensions, key=len, reverse=True):
        if name.lower().endswith(ext):
            return name[: -len(ext)] or name
    return name


def get_dataset(
    uri: str | os.PathLike[str], *, target: str | None = None, task: str | None = None
) -> DatasetAdapter:
    """Resolve a data URI to a dataset adapter.

    Parameters
    ----------
    uri : str or path-like
        Registered name (``"breast_cancer"``), ``"SCHEME:REST"`` (``"sklearn:iris"``,
        ``"csv:data.csv"``, ``"parquet:data.parquet"``, ``"npz:data.npz"``) or a bare path
        whose suffix belongs to a scheme (``"data.csv"``).
    target : str, optional
        Target column.  Required for CSV and Parquet files; for other datasets it must match
        the dataset's own target if given.
    task : {"classification", "regression"}, optional
        Overrides the registered or inferred task.

    Returns
    -------
    DatasetAdapter

    Raises
    ------
    ValueError
        Unknown dataset (the message lists the known names and schemes), unknown target
        column, or unreadable file.  A missing file raises
        :class:`DatasetFileNotFoundError`, which is also a ValueError.
    """
    if task is not None:
        _check_choice("task", task, TASKS)
    uri = os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError(f"a dataset name or data URI is required, got {uri!r}")
    datasets = _collect("register_datasets", DatasetAdapter, "dataset")
    adapter = datasets.get(uri)
    if adapter is None:
        schemes = _collect("register_dataset_schemes", DatasetScheme, "dataset scheme")
        found = _resolve_scheme(uri, schemes)
        if found is None:
            known = ", ".join(datasets) or "none"
            forms = ", ".join(f"{s.name}:..." for s in schemes.values())
            if _looks_like_path(uri):  # a typo in a file name is not an unknown dataset
                suffixes = ", ".join(sorted({e for s in schemes.values() for e in s.extensions}))
                if not os.path.exists(os.path.expanduser(uri)):
                    raise DatasetFileNotFoundError(
                        f"file not found: {uri} (data files end in {suffixes}; "
                        f"datasets: {known})"
                    )
                raise ValueError(
                    f"{uri}: unknown file type; data files end in {suffixes}, or name the "
                    f"format with one of: {forms} (e.g. csv:{uri})"
                )
            raise ValueError(
                f"unknown dataset {uri!r}; known datasets: {known}; URI forms: {forms}"
            )
        scheme, path = found
        adapter = scheme.factory(path, target)
        if not isinstance(adapter, DatasetAdapter):
            raise TypeError(f"dataset scheme {scheme.name!r} returned {adapter!r}")
        if not adapter.plugin:
            adapter = replace(adapter, plugin=scheme.plugin)
    if target is not None and target != adapter.target:
        raise ValueError(
            f"dataset {adapter.name!r} has target column {adapter.target!r}; "
            f"target {target!r} is not available"
        )
    if task is not None and task != adapter.task:
        adapter = replace(adapter, task=task)
    return adapter


def store_key(uri: str) -> str:
    """The store name of a dataset: a data file's stem (``churn`` for ``../data/churn.parquet``,
    URL- and path-safe), else the registered dataset's name. Never loads the data.
    """
    from ganaug.gan.store import safe_name

    stem = file_stem(uri)
    if stem is not None:
        return safe_name(re.sub(r"\.{2,}", ".", stem))  # never ".." in a served name
    return get_dataset(uri).name
