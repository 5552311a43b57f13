"""The table schema: what a table looked like, and how to rebuild it from decoded network outputs.

This module needs only numpy and pandas. It is shared by the codec (which builds a schema when it
fits), the torch sampler and the ONNX runtime (which both rebuild rows with :func:`assemble`), so a
row sampled with torch and one sampled with ONNX Runtime go through exactly the same last step.

Decoded network outputs come as two arrays:

* ``numeric``: float array of shape (n, n_numeric), values already on the original scale, NaN where
  the value is missing;
* ``codes``: int array of shape (n, n_categorical), an index into each categorical column's labels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ganaug.core import exact
from ganaug.core.dtypes import canonical, holds_missing, pandas_dtype
from ganaug.core.errors import ArtifactError, DataError

SCHEMA_VERSION = 2
#: schema versions this version reads (1: no precision, no relations)
READABLE_SCHEMA_VERSIONS = (1, 2)


#: the quantile table of a numeric column has at most MAX_KNOTS knots, and at most one per
#: ROWS_PER_KNOT observed values (:func:`ganaug.gan.codec.quantile_knots`); a streamed table's
#: tables come from a sample of at most KNOT_SAMPLE_ROWS rows (:mod:`ganaug.gan.stream`)
MAX_KNOTS = 1000
ROWS_PER_KNOT = 4
KNOT_SAMPLE_ROWS = 100_000


@dataclass
class Column:
    """One column of a modelled table.

    Attributes
    ----------
    name : str or int
        Column label (an int position for numpy input).
    kind : {"numeric", "categorical"}
        How the column is modelled.
    dtype : str
        The input dtype, restored on decode: a name of the stable vocabulary of
        :mod:`ganaug.core.dtypes` (older spellings are read and normalised).
    integer : bool
        Numeric only: values are rounded to integers on decode.
    minimum, maximum : float or None
        Numeric only: observed range; decoded values stay inside it.
    quantiles : list of float
        Numeric only: the column's quantiles at evenly spaced probabilities (the codec's
        normalisation table, also used to decode).
    categories : list
        Categorical only: the labels in code order (str, int, bool or finite float, so that
        they can be stored as JSON); ``None`` stands for a missing value.
    missing_rate : float
        Fraction of missing values seen in training.
    decimals, multiple : int or None, int
        Numeric only: decoded values are rounded to the grid ``multiple / 10**decimals`` learned
        from the training values (None: no grid; see :mod:`ganaug.core.exact`).
    significant : int or None
        Numeric only, without a grid: decoded values are rounded to this many significant
        digits (float64 columns; None: not rounded).
    """

    name: str | int
    kind: Literal["numeric", "categorical"]
    dtype: str
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    quantiles: list[float] = field(default_factory=list)
    categories: list[Any] = field(default_factory=list)
    missing_rate: float = 0.0
    decimals: int | None = None
    multiple: int = 1
    significant: int | None = None

    def __post_init__(self) -> None:
        try:
            self.dtype = canonical(self.dtype)
        except DataError as exc:
            raise DataError(f"column {self.name!r}: field 'dtype': {exc}") from None
        for value in self.categories:
            if value is None or isinstance(value, (str, int)):  # bool is an int
                continue
            if not isinstance(value, float) or not math.isfinite(value):
                raise DataError(
                    f"column {self.name!r} holds the category {value!r}, which cannot be stored "
                    "(categories must be strings, integers, booleans or finite numbers): replace "
                    "it or drop the column"
                )

    @property
    def has_missing(self) -> bool:
        """Whether the column had missing values in training (and so may produce them)."""
        return self.missing_rate > 0.0


@dataclass
class Schema:
    """Everything needed to turn decoded outputs back into the user's table.

    Attributes
    ----------
    columns : list of Column
        Columns in input order.
    container : {"pandas", "numpy"}
        Input container type, restored on decode.
    numpy_dtype : str or None
        For numpy input: the array dtype.
    relations : list of dict
        Exact relations learned from the training rows, in the order they are applied
        (:func:`ganaug.core.exact.learn_relations`): derived columns are computed, not sampled.
    constraints : list of dict
        User constraints every sampled row obeys (:mod:`ganaug.core.conditions`).
    """

    columns: list[Column]
    container: Literal["pandas", "numpy"] = "pandas"
    numpy_dtype: str | None = None
    relations: list[dict[str, Any]] = field(default_factory=list)
    constraints: list[dict[str, Any]] = field(default_factory=list)

    @property
    def numeric_columns(self) -> list[Column]:
        """Numeric columns, in the order of the ``numeric`` output."""
        return [c for c in self.columns if c.kind == "numeric"]

    @property
    def categorical_columns(self) -> list[Column]:
        """Categorical columns, in the order of the ``codes`` output."""
        return [c for c in self.columns if c.kind == "categorical"]

    @property
    def names(self) -> list[str | int]:
        """Column labels in input order."""
        return [c.name for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Inverse of :meth:`to_dict`."""
        if data.get("version") not in READABLE_SCHEMA_VERSIONS:
            raise ValueError(f"unsupported schema version {data.get('version')!r}")
        try:
            columns = [Column(**c) for c in data["columns"]]
        except DataError as exc:  # a stored schema: the file is at fault, not the caller's data
            raise ArtifactError(f"invalid schema: {exc}") from None
        schema = cls(
            columns=columns, container=data["container"], numpy_dtype=data["numpy_dtype"],
            relations=list(data.get("relations", [])),
            constraints=list(data.get("constraints", [])),
        )
        check_relations(schema)
        return schema


def check_relations(schema: Schema) -> None:
    """A stored schema's relations name its columns, of the right kinds (ArtifactError if not)."""
    by_name = {c.name: c for c in schema.columns}

    def kind(name: Any) -> str | None:
        column = by_name.get(name)
        return None if column is None else column.kind

    for rel in schema.relations:
        try:
            if rel["kind"] == "linear":
                names = [rel["target"], *(t[0] for t in rel["terms"])]
                ok = all(isinstance(t[1], int) for t in rel["terms"])
                ok = ok and all(kind(name) == "numeric" for name in names)
            elif rel["kind"] == "clock":
                names = [rel["target"], rel["time"], rel["minutes"]]
                ok = all(kind(name) == "numeric" for name in names)
                ok = ok and rel["sign"] in (1, -1) and rel["midnight"] in (0, 2400)
            elif rel["kind"] == "map":
                source, target = rel["source"], rel["target"]
                n_source = len(rel["source_values"]) if "source_values" in rel else len(by_name[source].categories)
                n_target = len(rel["target_values"]) if "target_values" in rel else len(by_name[target].categories)
                ok = len(rel["mapping"]) == n_source and all(
                    isinstance(m, int) and 0 <= m < n_target for m in rel["mapping"]
                )
                ok = ok and kind(source) == ("numeric" if "source_values" in rel else "categorical")
                ok = ok and kind(target) == ("numeric" if "target_values" in rel else "categorical")
            else:
                ok = False
        except (KeyError, TypeError, IndexError):
            ok = False
        if not ok:
            raise ArtifactError(f"invalid schema: relation {rel!r} does not fit the columns")
    for rule in schema.constraints:
        if not isinstance(rule, dict) or rule.get("kind") not in ("compare", "fixed"):
            raise ArtifactError(f"invalid schema: constraint {rule!r} is not a known kind")
        names = rule.get("columns", []) if rule["kind"] == "fixed" else [
            rule.get(side) for side in ("left", "right") if isinstance(rule.get(side), str)
        ]
        if not all(name in by_name for name in names):
            raise ArtifactError(f"invalid schema: constraint {rule!r} names an unknown column")


def _labels_array(column: Column, codes: np.ndarray) -> np.ndarray:
    labels = np.empty(len(column.categories), dtype=object)
    labels[:] = [np.nan if c is None else c for c in column.categories]
    return labels[np.clip(codes, 0, len(labels) - 1)]


def _restore_dtype(column: Column, values: np.ndarray) -> pd.Series:
    series = pd.Series(values)
    if column.dtype == "category":
        cats = [c for c in column.categories if c is not None]
        return series.astype(pd.CategoricalDtype(categories=cats))
    if column.kind == "numeric" and column.has_missing and not holds_missing(column.dtype):
        # A plain int column cannot hold NaN; keep floats rather than lose the missing values.
        return series.astype("float64")
    dtype = pandas_dtype(column.dtype)
    try:
        return series.astype(dtype)
    except (TypeError, ValueError) as exc:  # only a damaged schema gets here (values it did not
        # produce at fit): say which column, never return it in another dtype
        raise ArtifactError(
            f"column {column.name!r}: sampled values cannot be restored as dtype {column.dtype} "
            f"({exc}); is the model file damaged?"
        ) from None


def assemble(
    schema: Schema, numeric: np.ndarray, codes: np.ndarray, finish: bool = True
) -> pd.DataFrame | np.ndarray:
    """Rebuild rows in the original container, column order, names and dtypes.

    The learned precision and exact relations (:func:`ganaug.core.exact.apply`) are applied
    first, unless ``finish=False`` (the outputs went through it already).

    Parameters
    ----------
    schema : Schema
        The schema of the table the outputs were trained on.
    numeric : ndarray of shape (n, n_numeric)
        Decoded numeric values on the original scale (NaN where missing).
    codes : ndarray of shape (n, n_categorical)
        Category codes.

    Returns
    -------
    DataFrame or ndarray
        Same container, columns and dtypes as the training input.
    """
    n = len(numeric)
    num_cols, cat_cols = schema.numeric_columns, schema.categorical_columns
    numeric = np.asarray(numeric).reshape(n, len(num_cols))
    codes = np.asarray(codes, dtype=np.int64).reshape(n, len(cat_cols))
    if finish:
        numeric, codes = exact.apply(schema, numeric, codes)
    if schema.container == "numpy":
        return _assemble_numpy(schema, numeric, codes)
    # One float64 block for every numeric column (one copy, no per-column Series), then only the
    # columns whose dtype differs are converted: this step bounds sampling throughput.
    frame = pd.DataFrame(
        np.asarray(numeric, dtype=np.float64), columns=[c.name for c in num_cols], copy=False
    )
    for column in num_cols:
        if column.dtype != "float64":
            frame[column.name] = _restore_dtype(column, frame[column.name].to_numpy())
    for i, column in enumerate(cat_cols):
        frame[column.name] = _restore_dtype(column, _labels_array(column, codes[:, i]))
    if list(frame.columns) != schema.names:
        frame = frame[schema.names]
    return frame


def _assemble_numpy(schema: Schema, numeric: np.ndarray, codes: np.ndarray) -> np.ndarray:
    dtype = np.dtype(schema.numpy_dtype or "float64")
    if not schema.categorical_columns:  # all-numeric arrays (images): one conversion
        if dtype.kind in "iu" and np.isnan(numeric).any():
            return numeric.astype(np.float64)
        return numeric.astype(dtype, copy=False)  # no copy when the sampler wrote this dtype
    values: list[np.ndarray] = []
    i_num = i_cat = 0
    for column in schema.columns:
        if column.kind == "numeric":
            values.append(numeric[:, i_num].astype(np.float64))
            i_num += 1
        else:
            values.append(_labels_array(column, codes[:, i_cat]))
            i_cat += 1
    stacked = np.column_stack(values)
    if dtype.kind in "iu" and np.isnan(numeric).any():
        return stacked.astype(np.float64)
    return stacked.astype(dtype)


def split_target(joint: pd.DataFrame | np.ndarray, name: Any) -> tuple[Any, np.ndarray]:
    """Split a regression model's joint table into ``(X, y)``.

    The target is column ``name`` of a DataFrame, or the last column of an array (where it was
    appended when the model was trained).
    """
    if isinstance(joint, pd.DataFrame):
        column = name if name is not None else joint.columns[-1]
        return joint.drop(columns=[column]), joint[column].to_numpy()
    joint = np.asarray(joint)
    return joint[:, :-1], joint[:, -1]
