"""Golden rows: the default preset's sampled rows for fixed seeds, pinned across refactorings.

Three small tables (numeric multi-class, mixed with missing values, regression) go through the default preset's whole fit (codec, closed-form copula and its
mixture choice on held-out rows, the adversarial stage with the auxiliary classifier, checkpoint
selection, the final copula refit), shortened to a few epochs; the rows sampled with one seed
are compared with ``tests/data/golden_rows.json``, from torch and from ONNX Runtime after export.

A change that alters sampled rows on purpose regenerates the file in a commit of its own that
says why: ``GANAUG_REGEN_GOLDEN=1 python -m pytest tests/test_golden_rows.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

from ganaug.gan.export import export_onnx
from ganaug.gan.presets import PRESETS
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime.generator import OnnxGenerator

GOLDEN = Path(__file__).parent / "data" / "golden_rows.json"
REGEN = os.environ.get("GANAUG_REGEN_GOLDEN") == "1"
N_ROWS, SEED = 12, 7
# float32 networks: the same machine gives the same bits; another CPU may differ in the last
# bits of a reduction, which a relative 1e-4 absorbs (a changed row moves by far more)
RTOL = 1e-4


def _iris() -> tuple[Any, Any, str]:
    X, y = load_iris(return_X_y=True)
    return X.astype(np.float32), y, "classification"


def _mixed() -> tuple[Any, Any, str]:
    rng = np.random.default_rng(3)
    n = 160
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(np.float64),
            "income": np.exp(rng.normal(10, 1, n)),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "member": rng.choice(["yes", "no"], n, p=[0.3, 0.7]),
        }
    )
    X.loc[X.index % 9 == 0, "income"] = np.nan
    X.loc[X.index % 13 == 0, "city"] = None
    y = np.where(X["age"].to_numpy() + rng.normal(0, 10, n) > 50, "old", "young")
    return X, y, "classification"


def _regression() -> tuple[Any, Any, str]:
    data = load_diabetes(as_frame=True)
    X = data.frame.iloc[:150, [0, 2, 3, 8]].copy()
    X["__target__"] = data.target.iloc[:150].to_numpy()
    return X, None, "regression"


TABLES = {"iris": _iris, "mixed": _mixed, "diabetes": _regression}


def _fit(table: str) -> tuple[ConditionalGAN, str]:
    X, y, task = TABLES[table]()
    # the default preset's path, a few epochs long (checkpoints every few steps), with the
    # adversarial stage run in full: on tables this small the default skips it (its held-out
    # rows cannot validate it) and keeps the copula's rows, which step 0 pins here as well
    preset = PRESETS["default"].with_overrides(adversarial_gate=False)
    gan = ConditionalGAN(preset, epochs=6, device="cpu", random_state=0).fit(X, y)
    return gan, task


def _record(X: Any, labels: np.ndarray, gan: ConditionalGAN) -> dict[str, Any]:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            columns[str(name)] = [
                None if np.isnan(v) else float(v) for v in values.to_numpy(np.float64)
            ]
        else:
            columns[str(name)] = [None if pd.isna(v) else str(v) for v in values]
    history = gan.history_
    return {
        "columns": columns,
        "labels": [None if v is None else str(v) for v in labels],
        "selected_step": int(history["selected_step"]),
        "validation_steps": [int(s) for s in history["validation_steps"]],
        "copula_mixture": bool(history.get("copula_mixture", False)),
        "n_steps": int(gan.n_steps_),
        # the adversarial stage's trace: the rows are the copula's when no checkpoint beats it,
        # so the losses and held-out scores pin what the fine-tuning did
        "trace": {
            k: [float(v) for v in history[k]] for k in ("generator", "discriminator", "validation")
        },
    }


def _compare(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    assert got["labels"] == want["labels"], where
    assert list(got["columns"]) == list(want["columns"]), where
    for name, values in want["columns"].items():
        mine = got["columns"][name]
        if any(isinstance(v, str) for v in values + mine):
            assert mine == values, f"{where}: column {name}"
        else:
            a = np.array([np.nan if v is None else v for v in mine], dtype=np.float64)
            b = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            np.testing.assert_allclose(
                a, b, rtol=RTOL, atol=1e-6, equal_nan=True, err_msg=f"{where}: column {name}"
            )


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    if REGEN:
        return {}
    return json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def regenerated(golden):
    new: dict[str, Any] = {}
    yield new
    if REGEN:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(dict(sorted(new.items())), indent=1) + "\n")


@pytest.mark.parametrize("table", sorted(TABLES))
def test_golden_rows_torch_and_onnx(table, golden, regenerated, tmp_path):
    gan, task = _fit(table)
    X_t, y_t = gan.sample(N_ROWS, random_state=SEED)
    torch_rows = _record(X_t, y_t, gan)
    # the path ran through the default preset's stages: selection checkpoints after step 0
    assert torch_rows["validation_steps"][0] == 0 and len(torch_rows["validation_steps"]) > 2
    path = export_onnx(
        gan, tmp_path / f"{table}.onnx", task=task, exporter="torchscript", verify=False
    )
    X_o, y_o = OnnxGenerator(path).sample(N_ROWS, random_state=SEED)
    if task == "regression":  # ONNX Runtime splits the jointly modelled target off
        X_o, y_o = X_o.assign(__target__=y_o), np.array([None] * N_ROWS, dtype=object)
    onnx_rows = _record(X_o, y_o, gan)
    _compare(onnx_rows, torch_rows, f"{table}: ONNX Runtime vs torch")
    if REGEN:
        regenerated[table] = torch_rows
        return
    want = golden[table]
    for key in ("selected_step", "validation_steps", "copula_mixture", "n_steps"):
        assert torch_rows[key] == want[key], f"{table}: {key}"
    for key, values in want["trace"].items():
        np.testing.assert_allclose(
            torch_rows["trace"][key], values, rtol=RTOL, atol=1e-5, err_msg=f"{table}: {key}"
        )
    _compare(torch_rows, want, f"{table}: torch vs golden")
    _compare(onnx_rows, want, f"{table}: ONNX Runtime vs golden")
