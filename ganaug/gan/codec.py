"""The table codec: encode a mixed table into a float matrix for the networks, and decode it back.

Kept apart from the networks (as CTGAN keeps its DataTransformer apart from the synthesizer): it
knows nothing of torch. One list of output spans drives both the generator's output heads and the
decoding.

Numeric columns use a quantile normalisation: each value is mapped through the column's empirical
CDF, then through the inverse normal CDF. It captures any marginal, multi-modal or skewed, exactly,
is fitted in milliseconds (CTGAN's per-column Bayesian GMM takes seconds), and its inverse is a
table look-up with linear interpolation that fits in an ONNX graph. Decoded values are always
inside the observed range; integer columns decode to integers.

Categorical columns (object, category, bool, string, or columns the user names) are one-hot
encoded. A column with missing values gets a two-way indicator span, so missingness is modelled and
reproduced at the observed rate (for categoricals, missing is one more category).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import erf, ndtri

from ganaug.core.schema import Column, Schema, assemble

#: a value at the very edge of the CDF would map to +-inf; clip probabilities to this margin.
_P_EPS = 1e-7
_SQRT2 = float(np.sqrt(2.0))


@dataclass(frozen=True)
class Span:
    """One block of the encoded matrix.

    Attributes
    ----------
    kind : {"numeric", "categorical", "missing"}
        ``numeric``: one unbounded (quantile) or [0, 1] (min-max) value; ``categorical``: one-hot over
        the column's categories; ``missing``: one-hot [observed, missing] for a numeric column.
    dim : int
        Width of the block.
    column : int
        Index of the source column in the schema.
    """

    kind: Literal["numeric", "categorical", "missing"]
    dim: int
    column: int


def _is_categorical_dtype(dtype: Any) -> bool:
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def _to_python(value: Any) -> Any:
    """A JSON-ready scalar (numpy scalars to Python ones, missing to None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


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


def _object_is_numeric(series: pd.Series) -> bool:
    """An object column holding only real numbers (numpy object arrays of floats)."""
    values = series.dropna()
    return len(values) > 0 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
        for v in values
    )


class TableCodec:
    """Encode a table to a float32 matrix and decode network outputs back to the table.

    Parameters
    ----------
    categorical_features : sequence of str or int, or bool mask, optional
        Extra columns to treat as categorical (object, category, bool and string columns always
        are). Names for DataFrames, positions for arrays.
    numeric_encoding : {"quantile", "minmax"}, default="quantile"
        ``quantile``: empirical CDF then inverse normal CDF (unbounded values). ``minmax``: scale
        to [0, 1] (for sigmoid outputs, as in the classic GAN).
    n_quantiles : int, default=1000
        Size of the quantile table per numeric column (capped at the number of observed values).
    max_categories : int, default=1000
        A categorical column with more distinct values is refused (one-hot would explode).

    Attributes
    ----------
    schema_ : Schema
        Column descriptions, also used to decode.
    spans_ : list of Span
        Layout of the encoded matrix.
    """

    def __init__(
        self,
        categorical_features: Sequence[str | int] | np.ndarray | None = None,
        numeric_encoding: Literal["quantile", "minmax"] = "quantile",
        n_quantiles: int = 1000,
        max_categories: int = 1000,
    ) -> None:
        self.categorical_features = categorical_features
        self.numeric_encoding = numeric_encoding
        self.n_quantiles = n_quantiles
        self.max_categories = max_categories

    # ----------------------------------------------------------------------------- fitting
    def _user_categoricals(self, frame: pd.DataFrame) -> set[Any]:
        cf = self.categorical_features
        if cf is None:
            return set()
        cols = list(frame.columns)
        cf_arr = np.asarray(cf)
        if cf_arr.dtype == bool:
            if len(cf_arr) != len(cols):
                raise ValueError(
                    f"categorical_features mask has {len(cf_arr)} entries for {len(cols)} columns"
                )
            return {c for c, m in zip(cols, cf_arr) if m}
        chosen = set()
        for item in cf:
            if item in cols:
                chosen.add(item)
            elif isinstance(item, (int, np.integer)) and 0 <= int(item) < len(cols):
                chosen.add(cols[int(item)])
            else:
                raise ValueError(f"categorical_features names unknown column {item!r}")
        return chosen

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
        user_cats = self._user_categoricals(frame)
        columns = []
        for name in frame.columns:
            series = frame[name]
            label = name if container == "pandas" else int(name)
            columns.append(self._fit_column(label, series, name in user_cats))
        self.schema_ = Schema(columns=columns, container=container, numpy_dtype=numpy_dtype)
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
        missing = series.isna().to_numpy()
        if missing.all():
            raise ValueError(f"column {name!r} has only missing values (all NaN)")
        categorical = force_categorical or (
            _is_categorical_dtype(dtype)
            and not (pd.api.types.is_object_dtype(dtype) and _object_is_numeric(series))
        )
        if categorical:
            return self._fit_categorical(name, series, dtype_str, missing)
        return self._fit_numeric(name, series, dtype_str, missing)

    def _fit_categorical(
        self, name: Any, series: pd.Series, dtype_str: str, missing: np.ndarray
    ) -> Column:
        present = series[~missing]
        try:
            uniques = pd.unique(present.to_numpy(dtype=object))
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
            raise ValueError(f"column {name!r} contains infinite values")
        integer = bool(np.all(values == np.round(values)))
        n_q = int(max(2, min(self.n_quantiles, len(values))))
        quantiles = np.quantile(values, np.linspace(0.0, 1.0, n_q))
        return Column(
            name=name,
            kind="numeric",
            dtype=dtype_str,
            integer=integer,
            minimum=float(values.min()),
            maximum=float(values.max()),
            quantiles=quantiles.tolist(),
            missing_rate=float(missing.mean()),
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
        blocks: list[np.ndarray] = []
        for span in self.spans_:
            column = self.schema_.columns[span.column]
            series = frame.iloc[:, span.column]
            missing = series.isna().to_numpy()
            if span.kind == "numeric":
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
                blocks.append(self._encode_numeric(column, values)[:, None])
            elif span.kind == "missing":
                blocks.append(np.eye(2, dtype=np.float32)[missing.astype(int)])
            else:
                blocks.append(self._encode_categorical(column, series, missing))
        return np.hstack(blocks).astype(np.float32)

    def _encode_numeric(self, column: Column, values: np.ndarray) -> np.ndarray:
        values = np.where(np.isnan(values), np.nan, values)
        if self.numeric_encoding == "minmax":
            span = (column.maximum - column.minimum) or 1.0
            out = (values - column.minimum) / span
            return np.nan_to_num(np.clip(out, 0.0, 1.0), nan=0.5)
        q = np.asarray(column.quantiles)
        refs = np.linspace(0.0, 1.0, len(q))
        # Average the forward and backward interpolation so that ties land in the middle of
        # their plateau (as scikit-learn's QuantileTransformer does); the inverse maps them back.
        p = 0.5 * (np.interp(values, q, refs) - np.interp(-values, -q[::-1], -refs[::-1]))
        u = ndtri(np.clip(p, _P_EPS, 1.0 - _P_EPS))
        return np.nan_to_num(u, nan=0.0)

    def _encode_categorical(
        self, column: Column, series: pd.Series, missing: np.ndarray
    ) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(column.categories) if c is not None}
        codes = np.empty(len(series), dtype=np.int64)
        for i, (value, is_missing) in enumerate(zip(series.to_numpy(dtype=object), missing)):
            if is_missing:
                if column.categories[-1] is not None:
                    raise ValueError(f"column {column.name!r} has missing values unseen in fit")
                codes[i] = len(column.categories) - 1
                continue
            key = _to_python(value)
            if key not in lookup:
                raise ValueError(f"column {column.name!r} has category {value!r} unseen in fit")
            codes[i] = lookup[key]
        return np.eye(len(column.categories), dtype=np.float32)[codes]

    # ---------------------------------------------------------------------------- decoding
    def inverse_numeric(self, column: Column, u: np.ndarray) -> np.ndarray:
        """Map encoded values of one numeric column back to its original scale.

        The torch decode head (:class:`ganaug.gan.networks.DecodeHead`) implements the same map.
        """
        q = np.asarray(column.quantiles, dtype=np.float64)
        if self.numeric_encoding == "minmax":
            value = column.minimum + np.clip(u, 0.0, 1.0) * (column.maximum - column.minimum)
        else:
            p = 0.5 * (1.0 + erf(np.asarray(u, dtype=np.float64) / _SQRT2))
            pos = np.clip(p, 0.0, 1.0) * (len(q) - 1)
            lo = np.clip(np.floor(pos).astype(np.int64), 0, len(q) - 2)
            value = q[lo] + (pos - lo) * (q[lo + 1] - q[lo])
        if column.integer:
            value = np.round(value)
        return np.clip(value, column.minimum, column.maximum)

    def decode_arrays(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode an encoded (or generated) matrix into ``(numeric, codes)`` arrays."""
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.output_dim:
            raise ValueError(f"expected an array of shape (n, {self.output_dim}); got {Z.shape}")
        numeric, codes = [], []
        start = 0
        for span in self.spans_:
            block = Z[:, start : start + span.dim]
            start += span.dim
            column = self.schema_.columns[span.column]
            if span.kind == "numeric":
                numeric.append(self.inverse_numeric(column, block[:, 0]))
            elif span.kind == "missing":
                numeric[-1] = np.where(block.argmax(axis=1) == 1, np.nan, numeric[-1])
            else:
                codes.append(block.argmax(axis=1))
        n = len(Z)
        num = np.column_stack(numeric) if numeric else np.empty((n, 0))
        cat = np.column_stack(codes) if codes else np.empty((n, 0), dtype=np.int64)
        return num, cat

    def decode(self, Z: np.ndarray) -> pd.DataFrame | np.ndarray:
        """Decode an encoded matrix back into the original container, columns and dtypes."""
        numeric, codes = self.decode_arrays(Z)
        return assemble(self.schema_, numeric, codes)
