"""Dataset adapters: built-ins, file URIs, task inference and error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganaug.registry.datasets import (
    DatasetAdapter,
    DatasetFileNotFoundError,
    get_dataset,
    infer_task,
    list_dataset_schemes,
    list_datasets,
)

BUILTINS = {
    # name: (n_samples, n_features, task, modality)
    "breast_cancer": (569, 30, "classification", "table"),
    "wine": (178, 13, "classification", "table"),
    "iris": (150, 4, "classification", "table"),
    "digits": (1797, 64, "classification", "image"),
    "diabetes": (442, 10, "regression", "table"),
}


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 40
    return pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "count": rng.integers(0, 9, n),
            "color": rng.choice(["red", "green"], n),
            "label": rng.choice(["yes", "no"], n),
            "price": rng.normal(100, 10, n),
        }
    )


def test_builtins_are_listed_in_order() -> None:
    assert [d.name for d in list_datasets()] == list(BUILTINS)
    assert [s.name for s in list_dataset_schemes()][:4] == ["sklearn", "csv", "parquet", "npz"]


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtin_dataset_loads(name: str) -> None:
    n, d, task, modality = BUILTINS[name]
    ds = get_dataset(name)
    assert (ds.name, ds.task, ds.modality, ds.target) == (name, task, modality, "target")
    assert ds.description and ds.plugin == "ganaug.default_plugins.sklearn_datasets"
    X, y = ds.load()
    assert X.shape == (n, d) and len(y) == n
    if modality == "table":
        assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series) and y.name == "target"
    else:
        assert isinstance(X, np.ndarray) and X.dtype == np.float64
        assert isinstance(y, np.ndarray) and y.dtype.kind == "i"
    assert infer_task(y) == task  # diabetes: integer-valued floats, but many values
    assert get_dataset(f"sklearn:{name}") == ds


def test_load_returns_fresh_objects(tmp_path, frame) -> None:
    frame.to_csv(tmp_path / "d.csv", index=False)
    ds = get_dataset(tmp_path / "d.csv", target="label")
    X, _ = ds.load()
    X.iloc[:, 0] = 0.0
    assert not (ds.load()[0].iloc[:, 0] == 0.0).all()


def test_csv_round_trip(tmp_path, frame) -> None:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    for uri in (f"csv:{path}", str(path)):
        ds = get_dataset(uri, target="label")
        assert ds.task == "classification" and ds.modality == "table" and ds.target == "label"
        assert ds.name == f"csv:{path}" and ds.plugin == "ganaug.default_plugins.file_datasets"
        X, y = ds.load()
        pd.testing.assert_frame_equal(X, frame.drop(columns="label"), check_dtype=False)
        assert list(y) == list(frame["label"]) and y.name == "label"
    assert get_dataset(path, target="price").task == "regression"
    assert get_dataset(path, target="count").task == "classification"
    assert get_dataset(path, target="label", task="regression").task == "regression"


def test_parquet_round_trip(tmp_path, frame) -> None:
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    for uri in (f"parquet:{path}", str(path)):
        X, y = get_dataset(uri, target="price").load()
        pd.testing.assert_frame_equal(X, frame.drop(columns="price"), check_dtype=False)
        np.testing.assert_allclose(y.to_numpy(), frame["price"].to_numpy())
    assert get_dataset(path, target="price").task == "regression"


def test_npz_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    np.savez(tmp_path / "t.npz", X=X, y=y)
    ds = get_dataset(f"npz:{tmp_path / 't.npz'}")
    assert (ds.task, ds.modality, ds.target) == ("classification", "table", "y")
    X2, y2 = ds.load()
    assert list(X2.columns) == ["x0", "x1", "x2"] and y2.name == "y"
    np.testing.assert_array_equal(X2.to_numpy(), X)
    np.testing.assert_array_equal(y2.to_numpy(), y)

    images = rng.random((12, 4, 4))
    np.savez(tmp_path / "img.npz", X=images, y=rng.normal(size=12), label=np.arange(12) % 3)
    ds = get_dataset(tmp_path / "img.npz")
    assert (ds.task, ds.modality) == ("regression", "image")
    np.testing.assert_array_equal(ds.load()[0], images)
    assert get_dataset(tmp_path / "img.npz", target="label").task == "classification"


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (["a", "b"], "classification"),
        ([True, False], "classification"),
        ([1, 2, 3], "classification"),
        ([0.0, 1.0, 1.0, np.nan], "classification"),
        ([0.5, 1.0], "regression"),
        (np.arange(25, dtype=float), "regression"),
        (pd.Series(["x", "y"], dtype="category"), "classification"),
    ],
)
def test_infer_task(y, task: str) -> None:
    assert infer_task(y) == task


def test_unknown_dataset_lists_known_names() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'nope'.*breast_cancer.*diabetes.*csv:"):
        get_dataset("nope")
    with pytest.raises(ValueError, match=r"unknown scikit-learn dataset 'nope'.*iris"):
        get_dataset("sklearn:nope")
    with pytest.raises(ValueError, match="required"):
        get_dataset("")


def test_missing_file_names_the_path(tmp_path) -> None:
    missing = tmp_path / "missing.csv"
    for uri in (str(missing), f"csv:{missing}", f"npz:{tmp_path / 'x.npz'}"):
        with pytest.raises(DatasetFileNotFoundError, match="data file not found") as info:
            get_dataset(uri, target="y")
        assert isinstance(info.value, ValueError) and isinstance(info.value, FileNotFoundError)
        assert str(tmp_path) in str(info.value)


def test_target_errors(tmp_path, frame) -> None:
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="needs a target column"):
        get_dataset(path)
    with pytest.raises(ValueError, match=r"'nope' not found.*available columns: num, count"):
        get_dataset(path, target="nope")
    with pytest.raises(ValueError, match="target column 'target'; target 'y' is not available"):
        get_dataset("iris", target="y")
    assert get_dataset("iris", target="target").name == "iris"
    frame.loc[3, "label"] = None
    frame.to_csv(path, index=False)
    # an empty target cell stays a missing label (NaN): the estimators refuse it, or take the
    # row as unlabeled (unlabeled_value=NaN); the commands refuse it unless told so
    _, y = get_dataset(path, target="label").load()
    assert int(y.isna().sum()) == 1
    frame[["label"]].dropna().to_csv(path, index=False)
    with pytest.raises(ValueError, match="no feature columns"):
        get_dataset(path, target="label")


def test_bad_files_and_options(tmp_path) -> None:
    np.savez(tmp_path / "a.npz", features=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"no array 'X'; arrays: features"):
        get_dataset(tmp_path / "a.npz")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="cannot read parquet file"):
        get_dataset(tmp_path / "bad.parquet", target="y")
    with pytest.raises(ValueError, match="unknown task 'clustering'"):
        get_dataset("iris", task="clustering")


def test_adapter_validates_fields() -> None:
    with pytest.raises(ValueError, match="unknown modality 'audio'"):
        DatasetAdapter("x", "x", "classification", "audio", "y", lambda: (None, None))
