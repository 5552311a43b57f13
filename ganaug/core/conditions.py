"""Conditions on sampled rows and user constraints, shared by torch and ONNX sampling (numpy and
pandas only).

A *condition* asks for rows with given values (``{"region": "north"}``), in a range
(``{"age": (30, 40)}``, both ends included, None for an open end) or missing
(``{"income": None}``). A *constraint* is a rule every sampled row obeys, declared at fit:
``"end >= start"`` (a comparison between two columns, or a column and a number),
``"amount in [0, limit]"`` (two comparisons), ``"fixed city, zip"`` (only the combinations of
these columns seen in training). Constraints are checked on the training rows at fit (a row that
breaks one is a :class:`ConstraintError` naming it) and stored in the schema.

Rows that meet them are drawn by rejection: for each class, candidates come from the noise
stream in blocks of doubling size (rows ``[offset, offset + block)``, so the blocks do not
depend on how many candidates were accepted before), until the class has its rows; the accepted
rows follow the model's distribution given the condition. A condition that accepts too few
candidates within :data:`MAX_CANDIDATES` is a :class:`ConditionError`: never fewer rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.columns import category_key
from ganaug.core.errors import ConditionError, ConstraintError

#: candidate rows tried per class before a condition is declared too rare
MAX_CANDIDATES = 1_000_000
#: first block of candidates per class (then doubling)
FIRST_BLOCK = 1024
_OPS = (">=", "<=", "==", "!=", ">", "<", "=")
#: how a missing value is written in ``--where`` and constraint text
MISSING_WORDS = ("NA", "null", "None", "NaN", "nan")


# ------------------------------------------------------------------------------ conditions
def parse_where(texts: Sequence[str]) -> dict[str, Any]:
    """``--where`` expressions (``age>=30``, ``region=north``, ``income=NA``) as a conditions dict.

    Several bounds on one column combine into one range.
    """
    out: dict[str, Any] = {}
    for text in texts:
        match = re.match(r"^\s*(.+?)\s*(>=|<=|==|>|<|=)\s*(.*?)\s*$", text)
        if not match:
            raise ConditionError(f"cannot read the condition {text!r}: use COLUMN=VALUE, COLUMN>=VALUE, ...")
        column, op, raw = match.groups()
        value: Any = _literal(raw)
        if op in ("=", "=="):
            out[column] = None if raw in MISSING_WORDS else value
            continue
        if not isinstance(value, (int, float)):
            raise ConditionError(f"condition {text!r}: {op} needs a number")
        low, high = out.get(column, (None, None)) if isinstance(out.get(column), tuple) else (None, None)
        if op in (">=", ">"):
            low = value if op == ">=" else math.nextafter(float(value), math.inf)
        else:
            high = value if op == "<=" else math.nextafter(float(value), -math.inf)
        out[column] = (low, high)
    return out


def _literal(raw: str) -> Any:
    """A number where the text is one, else the text."""
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def _column_of(schema: Any, name: Any, what: str, error: type[ValueError]) -> Any:
    for column in schema.columns:
        if column.name == name or str(column.name) == str(name):
            return column
    raise error(f"{what} names the column {name!r}, which the model does not have; columns: {schema.names}")


def condition_mask(schema: Any, frame: pd.DataFrame, conditions: Mapping[Any, Any]) -> np.ndarray:
    """Rows of ``frame`` (generated rows as a DataFrame) that meet every condition."""
    keep = np.ones(len(frame), dtype=bool)
    for name, value in conditions.items():
        column = _column_of(schema, name, "a condition", ConditionError)
        series = frame[column.name]
        missing = series.isna().to_numpy()
        if _is_missing(value):
            if not column.has_missing:
                raise ConditionError(
                    f"condition on {name!r}: the column had no missing values in training, so the "
                    "model never generates one"
                )
            keep &= missing
        elif isinstance(value, tuple):
            if len(value) != 2 or column.kind != "numeric":
                raise ConditionError(
                    f"condition on {name!r}: a range (low, high) needs a numeric column and two bounds"
                )
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            low, high = value
            with np.errstate(invalid="ignore"):
                if low is not None:
                    keep &= values >= float(low)
                if high is not None:
                    keep &= values <= float(high)
        elif isinstance(value, (list, set, frozenset)):
            keep &= _in_levels(column, series, missing, list(value), name)
        else:
            keep &= _in_levels(column, series, missing, [value], name)
    return keep


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _in_levels(column: Any, series: pd.Series, missing: np.ndarray, values: list[Any], name: Any) -> np.ndarray:
    if column.kind == "numeric":
        try:
            wanted = np.array([float(v) for v in values])
        except (TypeError, ValueError):
            raise ConditionError(f"condition on {name!r}: the column is numeric; got {values!r}") from None
        return np.isin(series.to_numpy(dtype=np.float64, na_value=np.nan), wanted)
    known = {category_key(c): c for c in column.categories if c is not None}
    for v in values:
        if category_key(v) not in known and not (isinstance(v, str) and v in map(str, known.values())):
            raise ConditionError(
                f"condition on {name!r}: {v!r} is not a level of the column; levels: "
                f"{[c for c in column.categories if c is not None][:20]}"
            )
    texts = {str(v) for v in values}
    keys = {category_key(v) for v in values}
    cells = series.astype(object).to_numpy()
    return np.array(
        [not m and (category_key(c) in keys or str(c) in texts) for c, m in zip(cells, missing)], dtype=bool
    )


def split_class_condition(
    conditions: Mapping[Any, Any] | None, y: Any, target: Any
) -> tuple[Any, dict[Any, Any] | None]:
    """``(y, other conditions)``: a condition on the class column ``target`` becomes ``y`` (rows
    of that class are generated by construction, not by rejection)."""
    if not conditions:
        return y, None
    if not isinstance(conditions, Mapping):
        raise ConditionError(f"conditions must be a dict of column -> value; got {conditions!r}")
    where = dict(conditions)
    if target is not None and target in where:
        label = where.pop(target)
        if y is not None:
            raise ConditionError(f"give the class either as y or as a condition on {target!r}, not both")
        if isinstance(label, (tuple, list, set)):
            raise ConditionError(f"condition on the class column {target!r}: give one label")
        y = label
    return y, where or None


def check_conditions_for(schema: Any, conditions: Mapping[Any, Any]) -> None:
    """Refuse unknown columns and levels before any sampling (a :class:`ConditionError`)."""
    from ganaug.core.schema import assemble

    if not conditions:
        return
    empty = assemble(schema, np.empty((0, len(schema.numeric_columns))),
                     np.empty((0, len(schema.categorical_columns)), dtype=np.int64))
    condition_mask(schema, _as_frame(empty, schema), conditions)


# ------------------------------------------------------------------------------ constraints
def parse_constraint(spec: Any) -> list[dict[str, Any]]:
    """A user constraint (text or dict) as stored rules.

    ``"a >= b"`` / ``"a > b"`` / ``"a <= 3"``: a comparison of a column with a column or a
    number; ``"a in [lo, hi]"``: two comparisons; ``"fixed a, b"``: only the combinations of
    ``a`` and ``b`` seen in training. Dicts are the stored form (``{"kind": "compare", "left",
    "op", "right"}``, ``{"kind": "fixed", "columns"}``).
    """
    if isinstance(spec, Mapping):
        return [dict(spec)]
    if not isinstance(spec, str):
        raise ConstraintError(f"a constraint is a text such as 'end >= start'; got {spec!r}")
    text = spec.strip()
    fixed = re.match(r"^fixed\s*\(?\s*(.+?)\s*\)?$", text)
    if fixed:
        columns = [c.strip() for c in fixed.group(1).split(",") if c.strip()]
        if len(columns) < 2:
            raise ConstraintError(f"constraint {spec!r}: 'fixed' needs two columns or more")
        return [{"kind": "fixed", "columns": columns, "text": text}]
    ranged = re.match(r"^(.+?)\s+in\s+\[\s*(.+?)\s*,\s*(.+?)\s*\]$", text)
    if ranged:
        col, low, high = ranged.groups()
        return [
            {"kind": "compare", "left": col.strip(), "op": ">=", "right": _literal(low), "text": text},
            {"kind": "compare", "left": col.strip(), "op": "<=", "right": _literal(high), "text": text},
        ]
    cmp = re.match(r"^(.+?)\s*(>=|<=|>|<)\s*(.+)$", text)
    if not cmp:
        raise ConstraintError(
            f"cannot read the constraint {spec!r}: use 'a >= b', 'a in [0, b]' or 'fixed a, b'"
        )
    left, op, right = cmp.groups()
    return [{"kind": "compare", "left": left.strip(), "op": op, "right": _literal(right.strip()), "text": text}]


def compile_constraints(schema: Any, frame: pd.DataFrame, specs: Sequence[Any]) -> list[dict[str, Any]]:
    """The stored rules of ``specs``, checked against the schema and the training rows.

    ``fixed`` rules learn their allowed combinations from ``frame``. Raises
    :class:`ConstraintError` naming the constraint when a column is unknown or not numeric where
    a comparison needs it, or when a training row breaks it.
    """
    rules: list[dict[str, Any]] = []
    for spec in specs or ():
        for rule in parse_constraint(spec):
            rule.setdefault("text", str(spec))
            if rule["kind"] == "compare":
                for side in ("left", "right"):
                    operand = rule[side]
                    if isinstance(operand, str):
                        column = _column_of(schema, operand, f"constraint {rule['text']!r}", ConstraintError)
                        if column.kind != "numeric":
                            raise ConstraintError(
                                f"constraint {rule['text']!r}: column {operand!r} is not numeric"
                            )
                        rule[side] = column.name
                if rule["op"] not in (">=", "<=", ">", "<"):
                    raise ConstraintError(f"constraint {rule['text']!r}: unknown operator {rule['op']!r}")
            elif rule["kind"] == "fixed":
                rule["columns"] = [
                    _column_of(schema, c, f"constraint {rule['text']!r}", ConstraintError).name
                    for c in rule["columns"]
                ]
                rows = frame[rule["columns"]].drop_duplicates()
                rule["allowed"] = [
                    [_json_value(v) for v in row] for row in rows.itertuples(index=False, name=None)
                ]
            else:
                raise ConstraintError(f"unknown constraint kind {rule.get('kind')!r}")
            broken = ~constraint_mask([rule], frame)
            if broken.any():
                row = int(np.argmax(broken))
                raise ConstraintError(
                    f"the training rows break the constraint {rule['text']!r} ({int(broken.sum())} "
                    f"rows, the first at position {row}): fix the data or drop the constraint"
                )
            rules.append(rule)
    return rules


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _operand(frame: pd.DataFrame, operand: Any) -> np.ndarray | float:
    if isinstance(operand, str):
        return frame[operand].to_numpy(dtype=np.float64, na_value=np.nan)
    return float(operand)


def constraint_mask(rules: Sequence[Mapping[str, Any]], frame: pd.DataFrame) -> np.ndarray:
    """Rows of ``frame`` that obey every rule (a comparison with a missing value is not broken)."""
    keep = np.ones(len(frame), dtype=bool)
    for rule in rules:
        if rule["kind"] == "compare":
            left, right = _operand(frame, rule["left"]), _operand(frame, rule["right"])
            with np.errstate(invalid="ignore"):
                ok = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}[
                    rule["op"]
                ](left, right)
                ok = ok | np.isnan(left) | np.isnan(right)
            keep &= np.broadcast_to(ok, keep.shape)
        else:
            allowed = {tuple(_key(v) for v in row) for row in rule["allowed"]}
            cells = frame[list(rule["columns"])].astype(object).itertuples(index=False, name=None)
            keep &= np.fromiter(
                (tuple(_key(_json_value(v)) for v in row) in allowed for row in cells),
                dtype=bool, count=len(frame),
            )
    return keep


def _key(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return float(value)
    return category_key(value)


def describe_constraints(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """The constraints' texts, each once."""
    return list(dict.fromkeys(str(r.get("text", r)) for r in rules))


# ------------------------------------------------------------------------------ sampling
def _as_frame(rows: Any, schema: Any) -> pd.DataFrame:
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=schema.names)


def generate_where(
    draw: Callable[[np.ndarray, int], Any],
    conditions: np.ndarray,
    schema: Any,
    where: Mapping[Any, Any] | None = None,
) -> Any:
    """One row per class index of ``conditions`` that meets ``where`` and the schema's constraints.

    Parameters
    ----------
    draw : callable
        ``draw(class_indices, offset)``: the generated rows (training container) whose noise is
        rows ``[offset, offset + len(class_indices))`` of the request's stream.
    conditions : ndarray of int64
        Class index per row to return.
    schema : Schema
        The model's schema (its ``constraints`` are enforced).
    where : dict, optional
        Conditions (see the module docstring).

    Raises
    ------
    ConditionError
        When a class's candidates meet the conditions too rarely to fill its rows within
        :data:`MAX_CANDIDATES` candidates.
    """
    rules = schema.constraints
    if not where and not rules:
        return draw(conditions, 0)
    where = dict(where or {})
    check_conditions_for(schema, where)
    n = len(conditions)
    if n == 0:
        return draw(conditions, 0)
    offset = 0
    parts: dict[int, Any] = {}
    for c in np.unique(conditions):
        need = int((conditions == c).sum())
        got: list[Any] = []
        have = tried = 0
        block = max(FIRST_BLOCK, 2 * need)
        while have < need:
            if tried >= max(MAX_CANDIDATES, 4 * need):
                rate = have / max(tried, 1)
                what = "; ".join(
                    [f"{k}={v!r}" for k, v in where.items()] + describe_constraints(rules)
                )
                raise ConditionError(
                    f"only {have} of {need} rows of class index {int(c)} met the conditions "
                    f"({what}) in {tried:,} candidate rows (acceptance {rate:.2e}): the "
                    "condition is too rare for this model; widen it"
                )
            rows = draw(np.full(block, c, dtype=np.int64), offset)
            offset += block
            tried += block
            frame = _as_frame(rows, schema)
            keep = condition_mask(schema, frame, where) & constraint_mask(rules, frame)
            index = np.flatnonzero(keep)[: need - have]
            if len(index):
                got.append(rows.iloc[index] if isinstance(rows, pd.DataFrame) else rows[index])
                have += len(index)
            block = min(2 * block, 1 << 18)
        parts[int(c)] = (
            pd.concat(got, ignore_index=True) if isinstance(got[0], pd.DataFrame) else np.concatenate(got)
        )
    # each class's accepted rows go to that class's positions, in order
    order = np.argsort(conditions, kind="stable")
    stacked = [parts[int(c)] for c in np.unique(conditions)]
    if isinstance(stacked[0], pd.DataFrame):
        joined = pd.concat(stacked, ignore_index=True)
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n)
        return joined.iloc[inverse].reset_index(drop=True)
    joined = np.concatenate(stacked)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return joined[inverse]
