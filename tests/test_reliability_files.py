"""Reliability probes, round three: values past float32's range, and model files that were
edited into contradicting themselves (dtypes against values, knot counts against row counts,
categories against the graph, parser limits, forged weights with their checksum recomputed).

Each case once loaded and sampled silently wrong rows, or crashed with a RecursionError, a
ValueError of the json module, an OverflowError or an IndexError deep in the decode; each now
gets an ArtifactError naming the file and the field (or a DataError naming the column at fit).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from conftest import TINY
from ganaug import GANAugmenter
from ganaug.core.errors import ArtifactError, DataError
from ganaug.gan import artifact
from ganaug.gan.export import export_onnx
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime import OnnxGenerator


def _table(n: int = 120) -> tuple[pd.DataFrame, np.ndarray]:
    """A fractional float column, an integer column of 50 values, a categorical int column
    and a text column."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame(
        {
            "price": rng.normal(100, 10, n).round(2),
            "count": rng.integers(0, 50, n),
            "level": rng.integers(0, 4, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
        }
    )
    return X, np.where(np.arange(n) % 3 == 0, "yes", "no")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X, y = _table()
    model = ConditionalGAN(TINY, categorical_features=["level"], random_state=0).fit(X, y)
    root = tmp_path_factory.mktemp("files")
    artifact.save(model, root / "art")
    export_onnx(model, root / "m.onnx", exporter="torchscript")
    return root


def _edited(saved: Path, tmp_path: Path, edit) -> Path:
    root = shutil.copytree(saved / "art", tmp_path / "art")
    path = root / "ganaug.json"
    text = edit(json.loads(path.read_text()))
    path.write_text(text if isinstance(text, str) else json.dumps(text))
    return root


def _column(meta: dict, name: str) -> dict:
    return next(c for c in meta["schema"]["columns"] if c["name"] == name)


def _change(name: str, **fields):
    def edit(meta):
        _column(meta, name).update(fields)
        return meta

    return edit


def _cut_knots(meta):
    q = _column(meta, "price")["quantiles"]
    _column(meta, "price")["quantiles"] = [q[0], q[len(q) // 4], q[len(q) // 2], q[3 * len(q) // 4], q[-1]]
    return meta


def _huge_count(meta):
    meta["class_counts"][0] = 10**30
    return meta


def _long_integer(meta):
    return json.dumps(meta).replace('"seed": 0', '"seed": 1' + "0" * 5000)


def _deep_history(meta):
    return json.dumps(meta).replace('"history": {', '"history": {"deep": ' + "[" * 200_000 + "]" * 200_000 + ", ")


# ------------------------------------------------------------ 3. values past float32's range
@pytest.mark.parametrize("value", [1e300, np.finfo(np.float64).max, -1e39], ids=["1e300", "max", "-1e39"])
def test_values_past_float32_are_refused_at_fit_naming_the_column(value):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.random(40) * value, "b": rng.normal(size=40)})
    with pytest.raises(DataError, match=r"column 'a' holds values up to .* past the 1e\+38"):
        ConditionalGAN(TINY, random_state=0).fit(X, np.arange(40) % 2)
    with pytest.raises(DataError, match="column 'a'"):
        GANAugmenter(preset=TINY, random_state=0).fit_resample(X, np.arange(40) % 2)


def test_values_up_to_the_limit_come_back_finite(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(-1e38, 1e38, 60), "b": rng.normal(size=60)})
    model = ConditionalGAN(TINY, random_state=0).fit(X, np.arange(60) % 2)
    rows, _ = model.sample(2000, random_state=0)
    assert np.isfinite(rows["a"]).all() and rows["a"].abs().max() <= 1e38
    onnx_rows, _ = OnnxGenerator(export_onnx(model, tmp_path / "m.onnx", exporter="torchscript")).sample(
        2000, random_state=0
    )
    assert np.isfinite(onnx_rows["a"]).all()


# ---------------------------------------------------- 4. ganaug.json contradicting itself
ARTIFACT_EDITS = {
    "int8 on a fractional column": (_change("price", dtype="int8"), "column 'price': field 'dtype'"),
    "int8 too narrow": (_change("count", dtype="int8", maximum=300.5), "column 'count': field 'dtype'"),
    "str on a numeric column": (_change("price", dtype="str"), "column 'price': field 'dtype' is 'str'"),
    "bool on an integer column": (_change("count", dtype="bool"), "column 'count': field 'dtype' is 'bool'"),
    "bool on integer levels": (_change("level", dtype="bool"), "column 'level': field 'dtype' is 'bool'"),
    "quantiles cut to 5 knots": (_cut_knots, "column 'price': field 'quantiles' has 5 knots"),
    # 5. parser limits
    "class count 1e30": (_huge_count, "field 'class_counts'"),
    "5,000-digit integer": (_long_integer, "field 'seed' is an integer of 5,001 digits"),
    "200,000-deep history": (_deep_history, "field 'history' is nested too deeply"),
}


@pytest.mark.parametrize("edit", sorted(ARTIFACT_EDITS))
def test_edited_description_is_refused_naming_file_and_field(saved, tmp_path, edit):
    change, field = ARTIFACT_EDITS[edit]
    root = _edited(saved, tmp_path, change)
    with pytest.raises(ArtifactError) as info:
        GANAugmenter.load(root)
    assert "ganaug.json" in str(info.value) and field in str(info.value), str(info.value)


def test_unedited_files_still_load(saved):
    GANAugmenter.load(saved / "art").sample(10, random_state=0)
    OnnxGenerator(saved / "m.onnx").sample(10, random_state=0)


# ------------------------------------------------------------------- 5. forged weights
@pytest.mark.parametrize("forge", ["nan", "scaled"])
def test_forged_weights_with_a_recomputed_checksum_are_refused(saved, tmp_path, forge):
    root = shutil.copytree(saved / "art", tmp_path / "art")
    meta = json.loads((root / "ganaug.json").read_text())
    tensors = st_load((root / meta["weights"]["file"]).read_bytes())
    generator = [k for k in tensors if k.startswith("generator.") and tensors[k].is_floating_point()]
    if forge == "nan":  # one tensor
        tensors[generator[-1]] = torch.full_like(tensors[generator[-1]], float("nan"))
    else:  # every tensor, all finite: only running them tells
        tensors.update({k: tensors[k] * 1e38 for k in generator})
    blob = st_save(tensors, metadata={"format": "ganaug-artifact"})
    sha = hashlib.sha256(blob).hexdigest()
    (root / meta["weights"]["file"]).unlink()
    meta["weights"] = {"file": f"weights-{sha[:16]}.safetensors", "sha256": sha, "bytes": len(blob)}
    (root / meta["weights"]["file"]).write_bytes(blob)
    (root / "ganaug.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=r"weights-.*safetensors: .*tensor 'generator\."):
        GANAugmenter.load(root)


# ------------------------------------------------------------ 4./5. .onnx metadata
def _rewrite(path: Path, out: Path, change) -> Path:
    proto = onnx.load(str(path))
    raw = {p.key: p.value for p in proto.metadata_props}["ganaug"]
    text = change(json.loads(raw))
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, {"ganaug": text if isinstance(text, str) else json.dumps(text)})
    onnx.save(proto, str(out))
    return out


def _one_level_fewer(meta):
    column = _column(meta, "city")
    column["categories"] = column["categories"][:-1]
    return meta


def _onnx_long_integer(meta):
    meta["class_counts"][0] = 7
    return json.dumps(meta).replace('"class_counts": [7', '"class_counts": [1' + "0" * 5000)


ONNX_EDITS = {
    "one category fewer than the graph": (_one_level_fewer, "column 'city' level 2"),
    "bool on an integer column": (_change("count", dtype="bool"), "column 'count': field 'dtype' is 'bool'"),
    "class count 1e30": (_huge_count, "metadata field 'class_counts'"),
    "5,000-digit integer": (_onnx_long_integer, "metadata field 'class_counts[0]' is an integer of 5,001"),
    "200,000-deep history": (
        lambda m: json.dumps(m)[:-1] + ', "history": ' + "[" * 200_000 + "]" * 200_000 + "}",
        "metadata field 'history' is nested too deeply",
    ),
}


@pytest.mark.parametrize("edit", sorted(ONNX_EDITS))
def test_edited_onnx_metadata_is_refused_naming_file_and_field(saved, tmp_path, edit):
    change, field = ONNX_EDITS[edit]
    path = _rewrite(saved / "m.onnx", tmp_path / "m.onnx", change)
    with pytest.raises(ArtifactError) as info:
        OnnxGenerator(path)
    assert str(path) in str(info.value) and field in str(info.value), str(info.value)


# ------------------------------------------- 6. integer columns stay in [minimum, maximum]
def test_bare_graph_keeps_integer_columns_inside_the_documented_range(tmp_path):
    """A rare smallest value (0, one row) makes the outermost knot 0.5: rounding once gave 0."""
    rng = np.random.default_rng(0)
    n = 200
    small = np.concatenate([[0], rng.integers(1, 6, n - 2), [9]])  # 0 and 9 held by one row each
    X = pd.DataFrame({"small": small, "x": rng.normal(size=n)})
    model = ConditionalGAN(TINY, random_state=0).fit(X, np.arange(n) % 2)
    gen = OnnxGenerator(export_onnx(model, tmp_path / "m.onnx", exporter="torchscript"))
    column = gen.schema.numeric_columns[0]
    assert (column.minimum, column.maximum) == (0.5, 7.0)  # 9 is rare: (5 + 9) / 2
    rng = np.random.default_rng(1)
    # wide noise drives the generator's outputs past the CDF's float32 range, where the decode
    # lands exactly on the outermost knots (as a trained model's tails do in a few rows in 1,000)
    noise = (20 * rng.standard_normal((20_000, gen.noise_dim))).astype(np.float32)
    numeric, _ = gen.run(noise, np.arange(20_000) % 2)  # the raw graph outputs
    values = numeric[:, 0]
    assert values.min() >= column.minimum and values.max() <= column.maximum
    assert np.array_equal(values, np.round(values)) and values.min() == 1.0
    torch_rows, _ = model.sample(20_000, random_state=0)
    assert torch_rows["small"].between(column.minimum, column.maximum).all()
