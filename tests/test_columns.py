"""The one column-typing rule (ganaug.core.columns) and the places that use it."""

import numpy as np
import pandas as pd
import pytest

from ganaug.core.columns import column_kinds, is_categorical, named_columns
from ganaug.evaluation.fidelity import column_fidelity
from ganaug.gan.codec import TableCodec
from ganaug.learn.preprocessing import categorical_columns, make_preprocessor, numeric_columns


@pytest.fixture
def table():
    n = 6
    return pd.DataFrame(
        {
            "f": np.linspace(0, 1, n),
            "i": np.arange(n),
            "obj": np.array(["a", "b", None, "a", "b", "a"], dtype=object),
            "obj_num": np.array([1.0, 2.5, None, 4.0, 1.0, 2.0], dtype=object),
            "cat": pd.Categorical(list("xyxyxy")),
            "b": [True, False] * 3,
            "s": pd.array(list("pqpqpq"), dtype="string"),
        }
    )


EXPECTED = {
    "f": "numeric",
    "i": "numeric",
    "obj": "categorical",
    "obj_num": "numeric",  # an object column of numbers is numeric (the codec's rule)
    "cat": "categorical",
    "b": "categorical",
    "s": "categorical",
}


def test_the_rule(table):
    assert column_kinds(table) == EXPECTED
    assert is_categorical(table["i"], named=True)
    assert column_kinds(table, categorical_features=["i"])["i"] == "categorical"
    assert column_kinds(table, categorical_features=[1])["i"] == "categorical"
    mask = np.array([c == "f" for c in table.columns])
    assert named_columns(table, mask) == {"f"}
    with pytest.raises(ValueError, match="unknown column 'zz'"):
        named_columns(table, ["zz"])
    # several frames: categorical in any of them
    other = table.assign(f=table["f"].astype(str))
    assert column_kinds(table, other)["f"] == "categorical"


def test_codec_preprocessing_and_metrics_agree(table):
    codec = TableCodec().fit(table)
    codec_kinds = {c.name: c.kind for c in codec.schema_.columns}
    assert codec_kinds == EXPECTED
    assert categorical_columns(table) == [c for c, k in EXPECTED.items() if k == "categorical"]
    assert numeric_columns(table) == [c for c, k in EXPECTED.items() if k == "numeric"]
    report = column_fidelity(table, table)
    assert {c: r["kind"] for c, r in report["columns"].items()} == EXPECTED
    Z = make_preprocessor(scale=True).fit_transform(table)
    # 3 numeric columns, one-hot: obj a/b, cat x/y, b True/False, s p/q
    assert Z.shape == (6, 3 + 2 + 2 + 2 + 2)


def test_one_preprocessing_factory_options():
    X = pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, 5.0],
            "c": np.array(["a", None, "b", "a"], dtype=object),
            "hi": np.array(["p", "q", "r", "s"], dtype=object),
        }
    )
    Z = make_preprocessor(
        scale=True, missing_indicator=True, missing_category=True, max_one_hot=3
    ).fit_transform(X)
    # x scaled | c one-hot over the missing level, a, b | hi ordinal (4 levels > 3) | x missing 0/1
    assert Z.shape == (4, 1 + 3 + 1 + 1)
    np.testing.assert_allclose(Z[:, 0].mean(), 0.0, atol=1e-12)
    assert Z[:, 1:4].sum(axis=1).tolist() == [1, 1, 1, 1] and Z[1, 1:4].tolist() == [1, 0, 0]  # the missing level sorts first
    assert Z[:, 4].tolist() == [0, 1, 2, 3]
    assert Z[:, 5].tolist() == [0, 1, 0, 0]  # the indicator is not scaled


def test_detection_features_come_from_the_factory():
    from ganaug.evaluation.frames import _encode_pair

    real = pd.DataFrame({"x": [1.0, np.nan, 2.0], "c": ["a", "b", None]})
    synthetic = pd.DataFrame({"x": [4.0, 5.0, 6.0], "c": ["a", "z", "a"]})
    A, B = _encode_pair(real, synthetic)
    # x (median of both tables imputed) | c over a, b, z and missing | x missing
    assert A.shape == B.shape == (3, 1 + 4 + 1)
    assert A[1, 0] == 4.0 and A[:, -1].tolist() == [0, 1, 0] and B[:, -1].tolist() == [0, 0, 0]


def test_dates_are_numeric_in_the_metrics():
    from ganaug.evaluation.detection import detection_auc
    from ganaug.evaluation.frames import _encode_pair

    t = pd.Series(pd.date_range("2020", periods=40))
    t[3] = pd.NaT
    real = pd.DataFrame({"t": t, "x": np.arange(40.0)})
    A, _ = _encode_pair(real, real)
    assert A.shape == (40, 3) and A[3, 0] == np.nanmedian(A[:, 0]) and A[3, 2] == 1
    assert column_fidelity(real, real)["columns"]["t"] == {
        "kind": "numeric", "ks": 0.0, "missing_difference": 0.0
    }
    from sklearn.linear_model import LogisticRegression

    assert 0.0 <= detection_auc(real, real, classifier=LogisticRegression(), cv=2) <= 1.0


def test_detection_features_of_arrays_with_labels():
    from sklearn.linear_model import LogisticRegression

    from ganaug.evaluation.detection import detection_auc

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    auc = detection_auc(X, X + 0.1, y_real=y, y_synthetic=y, classifier=LogisticRegression(), cv=2)
    assert 0.0 <= auc <= 1.0
