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
