"""The table codec: encode a mixed table into a float matrix for the networks.

Kept apart from the networks (as CTGAN keeps its DataTransformer apart from the synthesizer): it
knows nothing of torch. One list of output spans drives both the generator's output heads and the
decoding, which happens in one place only: the torch :class:`ganaug.gan.decode.DecodeHead` (run by
torch sampling and exported into the ONNX graph), which inverts the numeric maps below and samples
categories and missing indicators.

Numeric columns use a quantile normalisation: each value is mapped through the column's empirical
CDF, then through the inverse normal CDF. It captures any marginal, multi-modal or skewed, exactly,
is fitted in milliseconds (CTGAN's per-column Bayesian GMM takes seconds), and its inverse is a
table look-up with linear interpolation that fits in an ONNX graph. The table's knots are
midpoints of adjacent sorted values, never a rare training value (:func:`quantile_knots`), since
the table is stored in artifacts and exported files. Decoded values are always inside the
outermost knots (so inside the observed range); integer columns decode to integers.

Categorical columns (the one rule of :mod:`ganaug.core.columns`: object, category, bool and
string dtypes, or columns the user names) are one-hot encoded. A column with missing values gets a two-way indicator span, so missingness is modelled and
reproduced at the observed rate (for categoricals, missing is one more category).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from ganaug.core.columns import (
    category_key,
    factorize_categories,
    is_categorical,
    named_columns,
)
from ganaug.core.dtypes import dtype_name
from ganaug.core.errors import DataError, IdentifierColumnWarning
from ganaug.core.exact import learn_relations
from ganaug.core.labels import to_python as _to_python
from ganaug.core.precision import SIGNIFICANT_DIGITS, learn_grid
from ganaug.core.schema import MAX_KNOTS, ROWS_PER_KNOT, Column, Schema
from ganaug.gan.encoder import Span, TableEncoder

#: largest magnitude of a numeric value that is modelled: float32 ends near 3.4e38, and the decode
#: adds a knot to a knot gap (up to twice the magnitude), which must stay finite
MAX_MAGNITUDE = 1e38
#: a value held by at least this many training rows of a column (or by all of them) is common:
#: it may be stored as a knot; rarer values never are
COMMON_VALUE_ROWS = 5


def quantile_knots(values: np.ndarray, n_knots: int) -> np.ndarray:
    """The quantile table of a numeric column, built so that it holds no rare training value.

    Knot ``i`` of ``k`` lies at position ``j + 1/2`` of the sorted column, where
    ``j = min(floor(i (n - 1) / (k - 1)), n - 2)``: the midpoint of two adjacent sorted values,
    within half a row of the ``i / (k - 1)`` quantile. Such a midpoint is a training value only
    when the two are equal (a tie). A tie on a rare value (held by fewer than
    :data:`COMMON_VALUE_ROWS` rows) is moved to the midpoint between that value and its nearest
    distinct neighbour on the knot's side of the run, so rare values (outliers, the extremes, any
    value of a continuous column) are never stored; common values keep their plateau of knots,
    so spikes (many zeros) and small integer codes are reproduced exactly. The table has
    ``k = max(2, min(n_knots, n // ROWS_PER_KNOT))`` knots, so each interval between knots spans
    about :data:`ROWS_PER_KNOT` rows or more. The outermost knots are the midpoints of the two
    smallest and of the two largest values: decoded values stay inside them.

    Parameters
    ----------
    values : ndarray of float64
        The column's observed (non-missing) values, at least 2.
    n_knots : int
        Most knots (``TableCodec(n_quantiles=...)``).

    Returns
    -------
    ndarray of float64, non-decreasing
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    k = max(2, min(int(n_knots), n // ROWS_PER_KNOT))
    j = np.minimum(np.arange(k) * (n - 1) // (k - 1), n - 2)
    knots = 0.5 * (x[j] + x[j + 1])
    ties = np.flatnonzero(x[j] == x[j + 1])
    if not len(ties):
        return knots
    value = x[j[ties]]
    first = np.searchsorted(x, value, side="left")  # the run of the tied value: [first, last]
    last = np.searchsorted(x, value, side="right") - 1
    rare = (last - first + 1) < min(COMMON_VALUE_ROWS, n)
    ties, value, first, last = ties[rare], value[rare], first[rare], last[rare]
    # the lower half of a run (and a run at the top) moves down, the rest up; a run cannot touch
    # both ends, since then every row would hold the value and it would be common
    down = ((j[ties] + 0.5 <= 0.5 * (first + last)) & (first > 0)) | (last == n - 1)
    below = x[np.maximum(first - 1, 0)]
    above = x[np.minimum(last + 1, n - 1)]
    knots[ties] = np.where(down, 0.5 * (below + value), 0.5 * (value + above))
    return knots


def _as_frame(X: Any) -> tuple[pd.DataFrame, Literal["pandas", "numpy"], str | None]:
    if isinstance(X, pd.DataFrame):
        return X, "pandas", None
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("sparse input is not supported: pass a dense array or a DataFrame")
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_samples, n_features); got shape {arr.shape}")
    if arr.dtype.kind == "c":
        raise TypeError("complex data is not supported")
    frame = pd.DataFrame(arr if arr.dtype.kind != "O" else arr.astype(object))
    return frame, "numpy", arr.dtype.str if arr.dtype.kind != "O" else "object"


#: an integer column with this many values or more, all distinct and packed into a range at most
#: ID_DENSITY times their number, is taken for a row identifier
ID_MIN_ROWS = 20
ID_DENSITY = 2


def _looks_like_identifier(values: np.ndarray) -> bool:
    """Integers, one per row and densely packed (a sequential id, with gaps)."""
    n = len(values)
    if n < ID_MIN_ROWS:
        return False
    span = float(values.max()) - float(values.min()) + 1
    return span <= ID_DENSITY * n and len(np.unique(values)) == n


def _numbers(column: Column, series: pd.Series) -> np.ndarray:
    """A numeric column's values as float64 (NaN where missing), or a DataError naming the
    column and the first value that is not a number."""
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        pass
    bad = pd.to_numeric(series, errors="coerce").isna() & series.notna()
    i = int(np.argmax(bad.to_numpy()))
    raise DataError(
        f"column {column.name!r} holds {series.iloc[i]!r} (row {i}), which is not a number: the "
        "column was numeric when the model was fitted"
    )


@dataclass(eq=False, repr=False)
class TableCodec:
    """Encode a table to a float32 matrix (decoded by :class:`ganaug.gan.decode.DecodeHead`).

    Parameters
    ----------
    categorical_features : sequence of str or int, or bool mask, optional
        Extra columns to treat as categorical (object, category, bool and string columns always
        are). Names for DataFrames, positions for arrays.
    numeric_encoding : {"quantile", "minmax"}, default="quantile"
        ``quantile``: empirical CDF then inverse normal CDF (unbounded values). ``minmax``: scale
        to [0, 1] (for sigmoid outputs, as in the classic GAN).
    n_quantiles : int, default=1000
        Most knots of the quantile table per numeric column; a column of ``n`` observed values
        gets at most ``n // 4``. Knots are midpoints of adjacent sorted values and never a value
        held by fewer than 5 rows (see :func:`quantile_knots`), so an exported file does not
        carry the training column.
    max_categories : int, default=1000
        A categorical column with more distinct values is refused (one-hot would explode).
    exact : bool, default=False
        Learn each numeric column's precision and the exact relations between columns
        (:mod:`ganaug.core.exact`); sampling then rounds to that precision and derives the
        dependent columns.

    Attributes
    ----------
    schema_ : Schema
        Column descriptions, also used to decode.
    spans_ : list of Span
        Layout of the encoded matrix.
    """

    # Parameters, declared once: the dataclass's __init__ stores exactly these, as scikit-learn
    # estimators do. eq/repr=False: a fitted model compares, hashes and prints as an object.
    categorical_features: Sequence[str | int] | np.ndarray | None = None
    numeric_encoding: Literal["quantile", "minmax"] = "quantile"
    n_quantiles: int = MAX_KNOTS
    max_categories: int = 1000
    exact: bool = False

    # ----------------------------------------------------------------------------- fitting
    def fit(self, X: Any) -> TableCodec:
        """Learn the schema and the per-column normalisation.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table. Must have at least 2 rows and 1 column.

        Returns
        -------
        self : TableCodec
        """
        if self.numeric_encoding not in ("quantile", "minmax"):
            raise ValueError(
                f"numeric_encoding must be 'quantile' or 'minmax'; got {self.numeric_encoding!r}"
            )
        frame, container, numpy_dtype = _as_frame(X)
        if frame.shape[1] == 0:
            raise ValueError("X has no columns: at least one feature is required")
        if frame.shape[0] == 0:
            raise ValueError("X is empty: at least 2 rows are required")
        if frame.shape[0] < 2:
            raise ValueError("X has a single row: at least 2 rows are required to fit a GAN")
        if container == "pandas" and frame.columns.duplicated().any():
            dup = frame.columns[frame.columns.duplicated()].tolist()
            raise ValueError(f"X has duplicated column names: {dup}")
        user_cats = named_columns(frame, self.categorical_features)
        columns = []
        for name in frame.columns:
            series = frame[name]
            label = name if container == "pandas" else int(name)
            columns.append(self._fit_column(label, series, name in user_cats))
        relations = learn_relations(frame, columns) if self.exact else []
        self.schema_ = Schema(
            columns=columns, container=container, numpy_dtype=numpy_dtype, relations=relations
        )
        self.spans_ = self._make_spans(self.schema_)
        return self

    def _fit_column(self, name: Any, series: pd.Series, force_categorical: bool) -> Column:
        dtype = series.dtype
        dtype_str = str(dtype)
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            raise TypeError(
                f"column {name!r} has dtype {dtype_str}, which cannot be modelled: convert it to "
                "numbers (e.g. seconds) or to categories first"
            )
        if pd.api.types.is_complex_dtype(dtype):
            raise TypeError(f"column {name!r} has complex dtype {dtype_str}, which cannot be modelled")
        dtype_str = dtype_name(series)
        missing = series.isna().to_numpy()
        if missing.all():
            raise ValueError(f"column {name!r} has only missing values (all NaN)")
        if is_categorical(series, named=force_categorical):
            return self._fit_categorical(name, series, dtype_str, missing)
        return self._fit_numeric(name, series, dtype_str, missing)

    def _fit_categorical(
        self, name: Any, series: pd.Series, dtype_str: str, missing: np.ndarray
    ) -> Column:
        present = series[~missing]
        try:
            _, uniques = factorize_categories(present.to_numpy(dtype=object))
        except TypeError as exc:  # unhashable cells such as dicts or lists
            raise TypeError(
                f"column {name!r} holds values that cannot be modelled as categories ({exc}): "
                "each argument must be a string or a number"
            ) from None
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = [c for c in series.cat.categories if c in set(uniques)]
        else:
            try:
                cats = sorted(uniques)
            except TypeError:  # mixed types: keep first-seen order
                cats = list(uniques)
        if len(cats) > self.max_categories:
            raise ValueError(
                f"column {name!r} has {len(cats)} distinct values, more than max_categories="
                f"{self.max_categories}; drop it (an identifier?) or raise max_categories"
            )
        categories = [_to_python(c) for c in cats]
        for c in categories:
            if not isinstance(c, (str, int, float, bool)):
                raise TypeError(
                    f"column {name!r} holds a value of type {type(c).__name__}, which cannot be "
                    "modelled as a category"
                )
        if missing.any():
            categories.append(None)
        return Column(
            name=name,
            kind="categorical",
            dtype=dtype_str,
            categories=categories,
            missing_rate=float(missing.mean()),
        )

    def _fit_numeric(
        self, name: Any, series: pd.Series, dtype_str: str, missing: np.ndarray
    ) -> Column:
        try:
            values = series[~missing].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"column {name!r} (dtype {dtype_str}) cannot be converted to numbers") from None
        if not np.isfinite(values).all():
            raise DataError(f"column {name!r} contains infinite values")
        largest = float(np.abs(values).max()) if len(values) else 0.0
        if largest > MAX_MAGNITUDE:
            # the networks and the decode (torch and the exported graph) compute in float32,
            # whose range ends near 3.4e38: such values would come back as inf or NaN
            raise DataError(
                f"column {name!r} holds values up to {largest:.3g} in magnitude, past the "
                f"{MAX_MAGNITUDE:.0e} that ganaug models (it computes in float32, whose range ends "
                "near 3.4e38): rescale the column (divide it by a power of ten, or take its "
                "logarithm) before fitting"
            )
        integer = bool(np.all(values == np.round(values)))
        if integer and _looks_like_identifier(values):
            warnings.warn(
                f"column {name!r} looks like a row identifier ({len(values)} distinct integers, "
                f"one per row, from {values.min():.0f} to {values.max():.0f}): its quantile knots, "
                "midpoints of neighbouring ids, reveal which ids the training table holds, and "
                "ids carry nothing to learn; drop the column before fitting",
                IdentifierColumnWarning,
                stacklevel=4,
            )
        knots = quantile_knots(values, self.n_quantiles)
        # a sparse column is rounded as its values' dtype is ("Sparse[float64, 0]" -> float64)
        base = dtype_str[7:].split(",")[0].rstrip("]") if dtype_str.startswith("Sparse[") else dtype_str
        grid = learn_grid(values, float32=base in ("float32", "Float32")) if self.exact else None
        significant = None
        if self.exact and grid is None and base in ("float64", "Float64"):
            significant = SIGNIFICANT_DIGITS
        return Column(
            name=name,
            kind="numeric",
            dtype=dtype_str,
            integer=integer,
            # the outermost knots, not the training extremes (see quantile_knots)
            minimum=float(knots[0]),
            maximum=float(knots[-1]),
            quantiles=knots.tolist(),
            missing_rate=float(missing.mean()),
            decimals=None if grid is None else grid[0],
            multiple=1 if grid is None else grid[1],
            significant=significant,
        )

    @staticmethod
    def _make_spans(schema: Schema) -> list[Span]:
        spans = []
        for i, column in enumerate(schema.columns):
            if column.kind == "numeric":
                spans.append(Span("numeric", 1, i))
                if column.has_missing:
                    spans.append(Span("missing", 2, i))
            else:
                spans.append(Span("categorical", len(column.categories), i))
        return spans

    @classmethod
    def from_schema(cls, schema: Schema, numeric_encoding: str = "quantile") -> TableCodec:
        """Rebuild a fitted codec from a stored schema."""
        codec = cls(numeric_encoding=numeric_encoding)  # type: ignore[arg-type]
        codec.schema_ = schema
        codec.spans_ = cls._make_spans(schema)
        return codec

    # ---------------------------------------------------------------------------- encoding
    @property
    def output_dim(self) -> int:
        """Width of the encoded matrix."""
        return sum(s.dim for s in self.spans_)

    def check_columns(self, X: Any) -> pd.DataFrame:
        """Return X as a DataFrame after checking it has the fitted columns.

        Raises
        ------
        ValueError
            If columns are missing, extra or out of order.
        """
        frame, container, _ = _as_frame(X)
        expected = self.schema_.names
        got = list(frame.columns) if container == "pandas" else list(range(frame.shape[1]))
        if self.schema_.container == "numpy" and container == "pandas":
            got = list(range(frame.shape[1]))
            frame = frame.set_axis(got, axis=1)
        if got != expected:
            raise ValueError(
                f"X does not match the fitted schema: expected columns {expected[:10]}"
                f"{'...' if len(expected) > 10 else ''} ({len(expected)}), got {got[:10]}"
                f"{'...' if len(got) > 10 else ''} ({len(got)})"
            )
        return frame

    def encode(self, X: Any) -> np.ndarray:
        """Encode rows into a float32 matrix laid out by :attr:`spans_`.

        Parameters
        ----------
        X : DataFrame or array-like
            Rows with the fitted columns.

        Returns
        -------
        ndarray of shape (n_samples, output_dim), float32
        """
        frame = self.check_columns(X)
        numeric = np.empty((len(frame), len(self.schema_.numeric_columns)), dtype=np.float64)
        codes = np.empty((len(frame), len(self.schema_.categorical_columns)), dtype=np.int64)
        i = j = 0
        for position, column in enumerate(self.schema_.columns):
            series = frame.iloc[:, position]
            if column.kind == "numeric":
                numeric[:, i] = _numbers(column, series)
                i += 1
            else:
                codes[:, j] = self._category_codes(column, series, series.isna().to_numpy())
                j += 1
        # float64 values: the encoder's exact kernels (see ganaug.gan.encoder)
        with torch.no_grad():
            return TableEncoder(self)(torch.from_numpy(numeric), torch.from_numpy(codes)).numpy()

    def _category_codes(self, column: Column, series: pd.Series, missing: np.ndarray) -> np.ndarray:
        """Each row's index into ``column.categories`` (the one-hot position)."""
        # Factorize once, then look up each distinct value (not each cell) in the categories.
        row_codes, uniques = factorize_categories(series)
        lookup = {category_key(c): i for i, c in enumerate(column.categories) if c is not None}
        n_levels = len(column.categories)
        mapped = np.empty(len(uniques), dtype=np.int64)
        unseen = None  # the first unseen value in row order (uniques come in first-seen order)
        for j, value in enumerate(uniques):
            code = lookup.get(category_key(value))
            if code is None:
                unseen = j
                break
            mapped[j] = code
        # the first offending row decides the message, as a row-by-row loop would
        if missing.any() and column.categories[-1] is not None and (
            unseen is None or int(np.argmax(missing)) < int(np.argmax(row_codes == unseen))
        ):
            raise ValueError(f"column {column.name!r} has missing values unseen in fit")
        if unseen is not None:
            raise ValueError(
                f"column {column.name!r} has category {_to_python(uniques[unseen])!r} unseen in fit"
            )
        if not len(mapped):  # every value missing
            return np.full(len(series), n_levels - 1, dtype=np.int64)
        return np.where(missing, n_levels - 1, mapped[row_codes])
