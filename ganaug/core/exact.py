"""What is exact in a table: exact relations between columns, and per-column precision
(:mod:`ganaug.core.precision`) applied with them (numpy only).

Learned when the codec is fitted, stored in the schema (so in artifacts and in exported files'
metadata) and applied by :func:`ganaug.core.schema.assemble` to every decoded row, in torch and
in ONNX sampling alike: the same rules, in float64, on the same decoded outputs.

* **Precision** (:mod:`ganaug.core.precision`): a column on a grid is rounded to it.
* **Linear relations.** A numeric column equal to another, or to a sum or difference of two or
  three others (coefficients +-1), in every training row, within half its grid step.
* **Functional dependencies.** A categorical column whose every level comes with one level of
  another categorical column: that column is derived from it (a store id fixes its name).

Derived columns are computed from the sampled ones; a relation is kept only when it holds in
every training row (missing values included: the derived value is missing exactly when an input
is).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from ganaug.core.precision import grid_tolerance, round_numeric

#: numeric (and categorical) columns considered by the relation search
MAX_RELATION_COLUMNS = 40
#: rows of the exact-fit search (candidates are then verified on every row)
SEARCH_ROWS = 24
#: a categorical column with more levels than this fraction of the rows cannot determine another
#: (an identifier would determine every column)
MAX_LEVEL_FRACTION = 0.5


def learn_relations(frame: Any, columns: list[Any]) -> list[dict[str, Any]]:
    """Exact relations of a fitted table, in the order :func:`apply_relations` applies them.

    Parameters
    ----------
    frame : DataFrame
        The training table (columns in schema order).
    columns : list of Column
        Its fitted columns (precision learned).

    Returns
    -------
    list of dict
        ``{"kind": "linear", "target": name, "terms": [[name, coefficient], ...]}``;
        ``{"kind": "clock", "target": name, "time": name, "minutes": name, "sign": 1 or -1,
        "midnight": 0 or 2400}`` (an HHMM time plus a number of minutes, on a 24-hour clock);
        ``{"kind": "map", "target": name, "source": name, "mapping": [target level per source
        level], "source_values": [...], "target_values": [...]}`` (the value lists for numeric
        columns only).
    """
    taken = _Taken()
    relations = _linear_relations(frame, columns, taken)
    relations += _clock_relations(frame, columns, taken)
    relations += _maps(frame, columns, taken)
    return relations[::-1]  # a relation found later never takes a column derived earlier as input


class _Taken:
    """Columns already derived (never an input again) and already inputs (never derived)."""

    def __init__(self) -> None:
        self.derived: set[Any] = set()
        self.used: set[Any] = set()

    def add(self, target: Any, inputs: list[Any]) -> None:
        self.derived.add(target)
        self.used.update(inputs)


def _varying_numeric(columns: list[Any]) -> list[int]:
    """Positions of the numeric columns that take more than one value (the first
    :data:`MAX_RELATION_COLUMNS`)."""
    return [
        i for i, c in enumerate(columns)
        if c.kind == "numeric" and c.minimum is not None and c.maximum > c.minimum
    ][:MAX_RELATION_COLUMNS]


def _numeric_block(frame: Any, idx: list[int]) -> np.ndarray:
    return np.column_stack([frame.iloc[:, i].to_numpy(dtype=np.float64, na_value=np.nan) for i in idx])


def _linear_relations(frame: Any, columns: list[Any], taken: _Taken) -> list[dict[str, Any]]:
    idx = _varying_numeric(columns)
    if len(idx) < 2:
        return []
    data = _numeric_block(frame, idx)
    missing = np.isnan(data)
    complete = np.flatnonzero(~missing.any(axis=1))
    if len(complete) < SEARCH_ROWS:  # search among the columns without missing values
        keep = ~missing.any(axis=0)
        idx, data, missing = [i for i, k in zip(idx, keep) if k], data[:, keep], missing[:, keep]
        complete = np.arange(len(data))
        if len(idx) < 2 or len(complete) < 4:
            return []
    picks = complete[np.linspace(0, len(complete) - 1, min(SEARCH_ROWS, len(complete))).astype(int)]
    S = data[picks]
    p = len(idx)
    tol = np.array([grid_tolerance(columns[i], data[:, j]) for j, i in enumerate(idx)])
    derived: set[int] = set()
    used: set[int] = set()
    found = []
    for t in range(p - 1, -1, -1):
        if t in used:
            continue
        inputs = [j for j in range(p) if j != t and j not in derived]
        terms = _fit(S, t, inputs, tol[t])
        for cand in terms:
            if _holds(data, missing, t, cand, tol[t]):
                derived.add(t)
                used.update(j for j, _ in cand)
                found.append({
                    "kind": "linear",
                    "target": columns[idx[t]].name,
                    "terms": [[columns[idx[j]].name, int(s)] for j, s in cand],
                })
                taken.add(columns[idx[t]].name, [columns[idx[j]].name for j, _ in cand])
                break
    return found


def _is_clock(values: np.ndarray) -> bool:
    """An HHMM time of day: integers in [0, 2400] whose last two digits are minutes."""
    v = values[~np.isnan(values)]
    return (
        len(v) > 0 and bool(np.all(v == np.round(v))) and v.min() >= 0 and v.max() <= 2400
        and v.max() >= 1000 and bool(np.all(v % 100 < 60)) and len(np.unique(v)) >= 20
    )


def to_minutes(hhmm: np.ndarray) -> np.ndarray:
    """HHMM times as minutes after midnight."""
    return np.floor(hhmm / 100.0) * 60.0 + np.mod(hhmm, 100.0)


def clock_time(time: np.ndarray, minutes: np.ndarray, sign: int, midnight: int) -> np.ndarray:
    """The HHMM time ``minutes`` after (``sign=1``) or before an HHMM ``time``, on a 24-hour
    clock; midnight written ``midnight`` (0 or 2400)."""
    m = np.mod(to_minutes(time) + sign * minutes, 1440.0)
    out = np.floor(m / 60.0) * 100.0 + np.mod(m, 60.0)
    return np.where(out == 0, float(midnight), out)


def _clock_relations(frame: Any, columns: list[Any], taken: _Taken) -> list[dict[str, Any]]:
    """An HHMM column equal to another HHMM column plus an integer column of minutes (a
    departure time = the scheduled time + the delay), in every row."""
    idx = _varying_numeric(columns)
    if len(idx) < 3:
        return []
    data = dict(zip((columns[i].name for i in idx), _numeric_block(frame, idx).T))
    clocks = [name for name, v in data.items() if _is_clock(v)]
    counts = [
        name for name, v in data.items()
        if np.all(np.isnan(v) | (v == np.round(v)))
    ]
    found = []
    for target in reversed(clocks):
        if target in taken.used or target in taken.derived:
            continue
        t = data[target]
        midnight = 2400 if np.nanmax(t) == 2400 or not np.any(t == 0) else 0
        done = False
        for time in clocks:
            if time == target or time in taken.derived or done:
                continue
            for minutes in counts:
                if minutes in (target, time) or minutes in taken.derived:
                    continue
                for sign in (1, -1):
                    inputs = np.isnan(data[time]) | np.isnan(data[minutes])
                    if not np.array_equal(np.isnan(t), inputs):
                        break
                    rows = np.flatnonzero(~inputs)
                    head = rows[:SEARCH_ROWS]  # a cheap look at a few rows first
                    if not np.array_equal(
                        clock_time(data[time][head], data[minutes][head], sign, midnight), t[head]
                    ):
                        continue
                    got = clock_time(data[time][rows], data[minutes][rows], sign, midnight)
                    if np.array_equal(got, t[rows]):
                        found.append({
                            "kind": "clock", "target": target, "time": time, "minutes": minutes,
                            "sign": sign, "midnight": midnight,
                        })
                        taken.add(target, [time, minutes])
                        done = True
                        break
                if done:
                    break
    return found


def _fit(S: np.ndarray, t: int, inputs: list[int], tol: float) -> list[list[tuple[int, int]]]:
    """Candidate terms fitting the target exactly on the search rows, simplest first."""
    target = S[:, t]
    out: list[list[tuple[int, int]]] = []
    X = S[:, inputs]
    # one term: target = +-x
    for sign in (1, -1):
        hit = np.all(np.abs(target[:, None] - sign * X) <= tol, axis=0)
        out += [[(inputs[k], sign)] for k in np.flatnonzero(hit)]
    if out or len(inputs) < 2:
        return out
    pairs = list(combinations(range(len(inputs)), 2))
    a = np.array([i for i, _ in pairs])
    b = np.array([j for _, j in pairs])
    signs = [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    # residuals of every pair and sign: (rows, pairs * 4)
    R = np.concatenate([target[:, None] - (s1 * X[:, a] + s2 * X[:, b]) for s1, s2 in signs], axis=1)
    hit = np.flatnonzero(np.all(np.abs(R) <= tol, axis=0))
    for h in hit:
        s1, s2 = signs[h // len(pairs)]
        i, j = pairs[h % len(pairs)]
        out.append([(inputs[i], s1), (inputs[j], s2)])
    if out or len(inputs) < 3:
        return out
    # three terms: a pair's residual equals +-x for a third column x; candidates from the first
    # search row (sorted look-up), then checked on every search row
    for sign in (1, -1):
        first = sign * X[0]
        order = np.argsort(first)
        lo = np.searchsorted(first[order], R[0] - tol, side="left")
        hi = np.searchsorted(first[order], R[0] + tol, side="right")
        for h in np.flatnonzero(hi > lo):
            s1, s2 = signs[h // len(pairs)]
            i, j = pairs[h % len(pairs)]
            for k in order[lo[h] : hi[h]]:
                if k in (i, j) or not np.all(np.abs(R[:, h] - sign * X[:, k]) <= tol):
                    continue
                out.append([(inputs[i], s1), (inputs[j], s2), (inputs[int(k)], sign)])
                if len(out) >= 8:
                    return out
    return out


def _holds(data: np.ndarray, missing: np.ndarray, t: int, terms: list[tuple[int, int]], tol: float) -> bool:
    """The relation on every training row, missing values included."""
    cols = [j for j, _ in terms]
    if not np.array_equal(missing[:, t], missing[:, cols].any(axis=1)):
        return False
    rows = ~missing[:, t]
    value = sum(s * data[rows, j] for j, s in terms)
    return bool(np.all(np.abs(data[rows, t] - value) <= tol))


#: a numeric column takes part in a level map when it has at most this many values, each held by
#: at least ``COMMON_VALUE_ROWS`` rows (so its values may be stored: see ganaug.gan.codec)
MAX_MAP_LEVELS = 32
COMMON_VALUE_ROWS = 5


def _levels(frame: Any, column: Any, i: int) -> tuple[np.ndarray, list[Any]] | None:
    """``(level index per row, levels)`` of a discrete column; None if it is not one."""
    from ganaug.core.columns import category_key

    series = frame.iloc[:, i]
    missing = series.isna().to_numpy()
    if column.kind == "categorical":
        lookup = {category_key(c): k for k, c in enumerate(column.categories) if c is not None}
        values = series.to_numpy(dtype=object)
        code = np.array(
            [len(column.categories) - 1 if m else lookup[category_key(v)] for v, m in zip(values, missing)],
            dtype=np.int64,
        )
        return code, list(column.categories)
    v = series.to_numpy(dtype=np.float64, na_value=np.nan)
    uniq, counts = np.unique(v[~missing], return_counts=True)
    if len(uniq) > MAX_MAP_LEVELS or counts.min() < COMMON_VALUE_ROWS:
        return None
    code = np.searchsorted(uniq, np.where(missing, uniq[0], v))
    levels: list[Any] = [float(u) for u in uniq]
    if missing.any():
        code = np.where(missing, len(levels), code)
        levels.append(None)
    return code.astype(np.int64), levels


def _maps(frame: Any, columns: list[Any], taken: _Taken) -> list[dict[str, Any]]:
    n = len(frame)
    found_levels = {}
    for i, column in enumerate(columns):
        if column.kind == "numeric" and column.minimum is not None and column.minimum == column.maximum:
            continue
        got = _levels(frame, column, i)
        if got is not None:
            found_levels[i] = got
        if len(found_levels) >= MAX_RELATION_COLUMNS:
            break
    idx = list(found_levels)
    found = []
    for t in reversed(idx):
        name_t = columns[t].name
        code_t, levels_t = found_levels[t]
        n_t = len(levels_t)
        if name_t in taken.used or name_t in taken.derived or n_t < 2 or len(np.unique(code_t)) < 2:
            continue
        for s in idx:
            name_s = columns[s].name
            if s == t or name_s in taken.derived:
                continue
            code_s, levels_s = found_levels[s]
            n_s = len(levels_s)
            if n_s > MAX_LEVEL_FRACTION * n:
                continue
            pair = np.unique(code_s * n_t + code_t)
            if len(pair) != len(np.unique(code_s)):
                continue
            mapping = np.zeros(n_s, dtype=np.int64)
            mapping[pair // n_t] = pair % n_t
            rel: dict[str, Any] = {
                "kind": "map", "target": name_t, "source": name_s, "mapping": mapping.tolist(),
            }
            if columns[s].kind == "numeric":
                rel["source_values"] = levels_s
            if columns[t].kind == "numeric":
                rel["target_values"] = levels_t
            found.append(rel)
            taken.add(name_t, [name_s])
            break
    return found


def apply(schema: Any, numeric: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decoded outputs at the learned precision (:func:`ganaug.core.precision.round_numeric`),
    derived columns recomputed.

    ``numeric`` (float, any dtype) comes back as float64 when anything applies; ``codes`` may be
    changed in place. Rows marked invalid by the graph (code -1) keep -1.
    """
    numeric = round_numeric(schema.numeric_columns, numeric, copy=bool(schema.relations))
    if schema.relations:
        apply_relations(schema, numeric, codes)
    return numeric, codes


def apply_relations(schema: Any, numeric: np.ndarray, codes: np.ndarray) -> None:
    """Recompute the derived columns in place (float64 ``numeric``)."""
    num = {c.name: j for j, c in enumerate(schema.numeric_columns)}
    cat = {c.name: j for j, c in enumerate(schema.categorical_columns)}
    by_name = {c.name: c for c in schema.columns}
    for rel in schema.relations:
        kind = rel["kind"]
        if kind == "linear":
            value = sum(s * numeric[:, num[name]] for name, s in rel["terms"])
            decimals = [by_name[name].decimals for name, _ in rel["terms"]] + [by_name[rel["target"]].decimals]
            if all(d is not None for d in decimals):
                value = np.round(value * 10.0 ** max(decimals)) / 10.0 ** max(decimals)
            numeric[:, num[rel["target"]]] = value
        elif kind == "clock":
            numeric[:, num[rel["target"]]] = clock_time(
                numeric[:, num[rel["time"]]], numeric[:, num[rel["minutes"]]], rel["sign"], rel["midnight"]
            )
        else:
            mapping = np.asarray(rel["mapping"], dtype=np.int64)
            source = rel["source"]
            if "source_values" in rel:  # a numeric source: snapped to its levels
                values = rel["source_values"]
                known = np.array([v for v in values if v is not None], dtype=np.float64)
                x = numeric[:, num[source]]
                nearest = np.abs(np.nan_to_num(x)[:, None] - known[None, :]).argmin(axis=1)
                src = np.where(np.isnan(x), len(values) - 1, nearest)
                numeric[:, num[source]] = np.where(np.isnan(x), np.nan, known[nearest])
            else:
                src = codes[:, cat[source]]
            level = np.where(src >= 0, mapping[np.clip(src, 0, None)], -1)
            if "target_values" in rel:
                table = np.array([np.nan if v is None else v for v in rel["target_values"]] + [np.nan])
                numeric[:, num[rel["target"]]] = table[level]  # level -1: the NaN appended last
            else:
                codes[:, cat[rel["target"]]] = level


def describe(schema: Any) -> list[str]:
    """One line per learned rule, for ``history_`` and the CLI."""
    lines = []
    for rel in schema.relations:
        if rel["kind"] == "linear":
            rhs = " ".join(
                f"{'+' if s > 0 else '-'} {name}" for name, s in rel["terms"]
            ).lstrip("+ ")
            lines.append(f"{rel['target']} = {rhs}")
        elif rel["kind"] == "clock":
            op = "+" if rel["sign"] > 0 else "-"
            lines.append(f"{rel['target']} = {rel['time']} {op} {rel['minutes']} minutes (HHMM clock)")
        else:
            lines.append(f"{rel['target']} determined by {rel['source']}")
    return lines
