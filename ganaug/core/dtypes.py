"""The dtype vocabulary of stored schemas: names that do not change with the pandas version.

A schema records each column's dtype so that sampled rows come back in it. ``str(dtype)`` is not
stable: the same text column is ``"object"`` under pandas 2 and ``"str"`` under pandas 3, and
Arrow-backed columns read from Parquet spell themselves ``"int64[pyarrow]"``. Artifacts, ``.onnx``
metadata and their sidecar JSON are read by other pandas versions and by other languages, so
ganaug writes one of these names only (numpy and pandas only):

===========================================  ==============================================
name                                         meaning, and what sampled rows come back as
===========================================  ==============================================
``bool``, ``int8`` ... ``int64``,            numpy dtypes (missing values impossible, except
``uint8`` ... ``uint64``, ``float16``,       an integer column with missing values, which
``float32``, ``float64``                     comes back as ``float64``)
``Int8`` ... ``Int64``, ``UInt8`` ...        pandas nullable dtypes, missing as ``pd.NA``
``UInt64``, ``Float32``, ``Float64``,        (also what Arrow-backed numeric, boolean and
``boolean``, ``string``                      string columns come back as)
``str``                                      text with NaN as missing: pandas' default text
                                             dtype, ``str`` under pandas >= 3 and ``object``
                                             before (a pandas < 3 object column whose values
                                             are all strings is written ``str``)
``object``                                   other Python objects (mixed types)
``category``                                 ``pandas.CategoricalDtype`` of the stored
                                             categories
``Sparse[<numpy name>, <fill>]``             ``pandas.SparseDtype``, as pandas spells it
                                             (``Sparse[float64, 0]``, ``Sparse[float64, nan]``)
===========================================  ==============================================

Older spellings keep loading (:data:`ALIASES`): ``"string[python]"``, ``"string[pyarrow]"``,
``"string[pyarrow_numpy]"``, ``"<type>[pyarrow]"`` and numpy aliases such as ``"float"``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.errors import DataError

NUMPY_NAMES: tuple[str, ...] = (
    "bool",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
)  # fmt: skip
NULLABLE_NAMES: tuple[str, ...] = (
    "Int8", "Int16", "Int32", "Int64",
    "UInt8", "UInt16", "UInt32", "UInt64",
    "Float32", "Float64", "boolean", "string",
)  # fmt: skip
#: every name a schema may hold
DTYPE_NAMES: frozenset[str] = frozenset((*NUMPY_NAMES, *NULLABLE_NAMES, "str", "object", "category"))
#: spellings written by earlier ganaug versions under other pandas versions
ALIASES: dict[str, str] = {
    "string[python]": "string",
    "string[pyarrow]": "string",
    "large_string[pyarrow]": "string",
    "string[pyarrow_numpy]": "str",
    "bool[pyarrow]": "boolean",
    "double[pyarrow]": "Float64",
    "float[pyarrow]": "Float32",
    **{f"{n.lower()}[pyarrow]": n for n in NULLABLE_NAMES if n[-1].isdigit() and "F" not in n},
}


_SPARSE = re.compile(r"Sparse\[(\w+), (.+)\]")


def _sparse(name: str) -> pd.SparseDtype | None:
    """The sparse dtype a ``Sparse[subtype, fill]`` name spells (pandas parses default fills
    only), or None."""
    match = _SPARSE.fullmatch(name)
    if match is None or match[1] not in NUMPY_NAMES:
        return None
    fill: Any = match[2]
    if fill in ("True", "False"):
        fill = fill == "True"
    elif re.fullmatch(r"-?\d+", fill):
        fill = int(fill)
    else:
        try:
            fill = float(fill)
        except ValueError:
            return None
    return pd.SparseDtype(match[1], fill)


def canonical(name: str) -> str:
    """The vocabulary name of a stored dtype spelling (old spellings included).

    Raises
    ------
    DataError
        If ``name`` is no dtype of the vocabulary or a known older spelling.
    """
    if not isinstance(name, str):
        raise DataError(f"dtype must be a string; got {name!r}")
    if name in DTYPE_NAMES:
        return name
    if name in ALIASES:
        return ALIASES[name]
    sparse = _sparse(name)
    if sparse is not None:
        return str(sparse)
    if name.isidentifier():  # numpy aliases such as "float", "int", "double"
        try:
            dtype = np.dtype(name)
        except TypeError:
            dtype = None
        if dtype is not None and dtype.name in NUMPY_NAMES:
            return dtype.name
    raise DataError(f"unknown dtype {name!r}; known: {sorted(DTYPE_NAMES)}")


def _default_text_dtype() -> Any:
    """What pandas makes of a list of strings: ``str`` from pandas 3 (or with
    ``future.infer_string``), ``object`` before. Asked each time: the option can change."""
    return pd.Series(["a"]).dtype


def _text_is_object() -> bool:
    return _default_text_dtype() == np.dtype(object)


def dtype_name(series: pd.Series) -> str:
    """The vocabulary name of a column's dtype.

    Raises
    ------
    DataError
        If the dtype has no name in the vocabulary (the message names the column).
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        return "string" if dtype.na_value is pd.NA else "str"
    if isinstance(dtype, pd.SparseDtype) and dtype.subtype.name in NUMPY_NAMES:
        return canonical(str(dtype))
    if isinstance(dtype, pd.ArrowDtype):
        name = ALIASES.get(str(dtype))
        if name is not None:
            return name
    elif isinstance(dtype, np.dtype):
        if dtype.kind == "f" and dtype.itemsize > 8:  # long double: decoded in float64 anyway
            return "float64"
        if dtype.name in NUMPY_NAMES:
            return dtype.name
        if dtype.kind == "O":
            text = _text_is_object() and pd.api.types.infer_dtype(series, skipna=True) == "string"
            return "str" if text else "object"
    elif str(dtype) in NULLABLE_NAMES:
        return str(dtype)
    raise DataError(
        f"column {series.name!r} has dtype {dtype}, which ganaug cannot model; convert it to one "
        f"of {sorted(DTYPE_NAMES)}"
    )


def pandas_dtype(name: str) -> Any:
    """The dtype sampled rows of a column named ``name`` come back in (not ``category``, whose
    dtype needs the categories)."""
    name = canonical(name)
    if name == "str":
        return _default_text_dtype()
    if name in NULLABLE_NAMES:
        return pd.api.types.pandas_dtype(name)
    if name.startswith("Sparse["):
        return _sparse(name)
    if name == "category":
        raise DataError("a category dtype is built from the column's categories")
    return np.dtype(name)


def holds_missing(name: str) -> bool:
    """Whether a column of this dtype can hold missing values (plain numpy ints and bools cannot)."""
    name = canonical(name)
    if name.startswith("Sparse["):
        return _sparse(name).subtype.kind == "f"
    return name not in NUMPY_NAMES or name.startswith("float")
