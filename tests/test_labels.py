"""The one set of class-label helpers (ganaug.core.labels) and the places that use it."""

import numpy as np
import pandas as pd
import pytest

from ganaug.core import labels
from ganaug.core.labels import (
    TARGET_COLUMN,
    class_index,
    classes_from_json,
    classes_to_json,
    parse_label,
    to_python,
)


def test_to_python():
    assert to_python(np.int64(3)) == 3 and type(to_python(np.int64(3))) is int
    assert to_python(np.str_("a")) == "a" and type(to_python(np.str_("a"))) is str
    for missing in (None, np.nan, np.float64("nan"), pd.NA):
        assert to_python(missing) is None


@pytest.mark.parametrize(
    "classes", [np.array([10, 20, 30]), np.array(["a", "b"]), np.array([0.5, 1.5]), np.array([True, False])]
)
def test_classes_json_round_trip(classes):
    import json

    back = classes_from_json(json.loads(json.dumps(classes_to_json(classes))))
    assert back.dtype == classes.dtype and (back == classes).all()


def test_class_index_and_parse_label():
    classes = np.array([10, 20, 30])
    assert class_index([20, np.int64(30), 10.0], classes).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match=r"unknown class 40.*\[10, 20, 30\]"):
        class_index([40], classes)
    assert parse_label("20", classes) == 1  # typed labels are strings
    assert parse_label(20, classes) == 1
    with pytest.raises(ValueError, match="unknown class 'x'"):
        parse_label("x", classes)
    mixed = np.array([1, "1"], dtype=object)  # "1" is the string class itself, exactly
    assert parse_label("1", mixed) == 1 and parse_label(1, mixed) == 0


def test_one_definition_everywhere():
    from ganaug.cli.plumbing import _parse_label
    from ganaug.gan import codec, export
    from ganaug.learn import sampler

    assert export.TARGET_COLUMN is sampler.TARGET_COLUMN is TARGET_COLUMN == "__target__"
    assert codec._to_python is labels.to_python
    assert _parse_label("b", np.array(["a", "b"])) == "b"
    assert _parse_label("2", np.array([1, 2])) == 2
