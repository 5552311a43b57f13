"""ONNX export: parity with torch, metadata, checker, entry points and errors."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
torch = pytest.importorskip("torch")

from ganaug.gan.export import export_onnx, read_metadata
from ganaug.gan.presets import PRESETS
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime import OnnxGenerator

#: both presets, shrunk so that a fit takes well under a second
CONFIGS = {
    "classic": PRESETS["classic"].with_overrides(
        generator_hidden=(32,), discriminator_hidden=(32,), batch_size=32, epochs=2, noise_dim=8
    ),
    "default": PRESETS["default"].with_overrides(
        generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=32, epochs=2, noise_dim=8
    ),
}


def mixed_table(n: int = 150) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": np.exp(rng.normal(10, 1, n)),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "member": rng.random(n) > 0.3,
            "score": np.where(rng.random(n) < 0.15, np.nan, rng.normal(size=n)),
            "tier": pd.Categorical(rng.choice(["gold", "silver", None], n, p=[0.3, 0.5, 0.2])),
        }
    )
    y = rng.choice(np.array(["a", "b", "c"]), n, p=[0.6, 0.3, 0.1])
    return X, y


def digits_images(n: int = 150) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    keep = np.flatnonzero(y < 3)[:n]
    return X[keep], y[keep]


DATA = {"table": mixed_table, "image": digits_images}
_CACHE: dict = {}


def fitted(preset: str, data: str, tmp_path_factory: pytest.TempPathFactory):
    """(model, onnx path) per preset and data, fitted and exported once per test session."""
    key = (preset, data)
    if key not in _CACHE:
        X, y = DATA[data]()
        model = ConditionalGAN(CONFIGS[preset], random_state=0).fit(X, y)
        path = export_onnx(model, tmp_path_factory.mktemp("export") / f"{preset}-{data}.onnx")
        _CACHE[key] = (model, path, X, y)
    return _CACHE[key]


@pytest.mark.parametrize("data", ["table", "image"])
@pytest.mark.parametrize("preset", ["classic", "default"])
def test_parity_with_torch(preset, data, tmp_path_factory):
    model, path, X, _ = fitted(preset, data, tmp_path_factory)
    gen = OnnxGenerator(path)
    module = model.sampling_module()
    assert module.fast  # the re-ordered output layer reproduces the generator
    n_classes = len(model.classes_)
    rng = np.random.default_rng(42)
    for batch in (1, 2, 37):
        noise = rng.standard_normal((batch, model.sampling_noise_dim), dtype=np.float32)
        cond = (np.arange(batch) % n_classes).astype(np.int64)
        with torch.no_grad():
            t_num, t_codes = module(torch.from_numpy(noise), torch.from_numpy(cond))
        o_num, o_codes = gen.run(noise, cond)
        assert o_num.shape == tuple(t_num.shape) and o_codes.shape == tuple(t_codes.shape)
        assert o_num.dtype == np.float32 and o_codes.dtype == np.int64
        np.testing.assert_allclose(o_num, t_num.numpy(), rtol=1e-4, atol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(o_codes, t_codes.numpy())
    if data == "image":
        assert o_codes.shape[1] == 0  # images: no categorical columns
    # decoded rows: same seed and conditions -> the rows of the torch sampler
    cond = np.repeat(np.arange(n_classes), [20, 1, 16][:n_classes])
    onnx_rows = gen.generate(cond, random_state=7)
    torch_rows = model.generate(cond, random_state=7)
    if isinstance(torch_rows, pd.DataFrame):
        pd.testing.assert_frame_equal(onnx_rows, torch_rows, rtol=1e-4)
        assert list(onnx_rows.columns) == list(X.columns)
    else:
        assert onnx_rows.dtype == torch_rows.dtype == X.dtype
        np.testing.assert_allclose(onnx_rows, torch_rows, rtol=1e-4, equal_nan=True)


def test_sampling_module_falls_back_for_unknown_generators(tmp_path_factory):
    from ganaug.gan.decode import SamplingModule

    model = fitted("default", "table", tmp_path_factory)[0]
    generator = model.generator_

    class Shifted(type(generator)):
        def forward(self, noise, condition):  # a generator this module does not know
            return super().forward(noise, condition) + 0.5

    odd = Shifted.__new__(Shifted)
    odd.__dict__.update(generator.__dict__)
    module = SamplingModule(odd, model.head_)
    assert not module.fast
    noise, cond = torch.randn(9, module.noise_dim), torch.arange(9) % 3
    g_noise, draws = noise[:, : generator.noise_dim], noise[:, generator.noise_dim :]
    with torch.no_grad():
        got, expected = module(noise, cond), model.head_(odd(g_noise, cond), draws)
    torch.testing.assert_close(got[0], expected[0], equal_nan=True)
    torch.testing.assert_close(got[1], expected[1])


def test_metadata_round_trip_and_checker(tmp_path_factory):
    model, path, _, _ = fitted("default", "table", tmp_path_factory)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["noise", "condition"]
    assert [o.name for o in proto.graph.output] == ["numeric", "codes"]
    # dynamic batch dimension on every input and output
    for value in list(proto.graph.input) + list(proto.graph.output):
        dim0 = value.type.tensor_type.shape.dim[0]
        assert dim0.dim_param and not dim0.dim_value
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert proto.graph.input[1].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert proto.graph.output[1].type.tensor_type.elem_type == onnx.TensorProto.INT64

    meta = read_metadata(path)
    assert json.loads({p.key: p.value for p in proto.metadata_props}["ganaug"]) == meta
    assert meta["format"] == "ganaug-onnx" and meta["format_version"] == 2
    assert meta["ganaug_version"]
    assert meta["exporter"] in ("dynamo", "torchscript")
    assert meta["schema"] == model.codec_.schema_.to_dict()
    assert meta["classes"] == ["a", "b", "c"]
    assert meta["class_counts"] == [int(c) for c in model.class_counts_]
    assert meta["noise_dim"] == model.sampling_noise_dim
    assert meta["task"] == "classification" and meta["target"] is None
    gen = OnnxGenerator(path)
    assert gen.schema == model.codec_.schema_
    np.testing.assert_array_equal(gen.classes_, model.classes_)
    assert gen.classes_.dtype == model.classes_.dtype
    # the missing-value handling is described: rates per column, None as a category label
    score = next(c for c in meta["schema"]["columns"] if c["name"] == "score")
    assert score["missing_rate"] > 0
    tier = next(c for c in meta["schema"]["columns"] if c["name"] == "tier")
    assert None in tier["categories"]
    assert not list(path.parent.glob(".*.tmp"))  # atomic write left no temporary file


def test_augmenter_and_artifact_entry_points(tmp_path):
    from ganaug import GANAugmenter

    X, y = mixed_table(80)
    aug = GANAugmenter(preset=CONFIGS["classic"], random_state=0).fit(X, y)
    path = aug.export_onnx(tmp_path / "sub" / "aug.onnx")
    gen = OnnxGenerator(path)
    assert gen.task == "classification" and list(gen.columns) == list(X.columns)
    # the same rows as the augmenter's own sample
    X_aug, y_aug = aug.sample(30, random_state=3)
    X_onx, y_onx = gen.sample(30, random_state=3)  # one int seed, one noise stream
    pd.testing.assert_frame_equal(X_onx, X_aug, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(y_onx, y_aug)

    # from an artifact directory, and the module-level function on the augmenter itself
    aug.save(tmp_path / "artifact")
    p2 = export_onnx(tmp_path / "artifact", tmp_path / "from_artifact.onnx", exporter="torchscript")
    assert read_metadata(p2)["exporter"] == "torchscript"
    pd.testing.assert_frame_equal(OnnxGenerator(p2).generate([0, 1, 2], 5), gen.generate([0, 1, 2], 5), rtol=1e-4)
    # an OnnxGenerator (or .onnx file) is copied as is
    p3 = export_onnx(gen, tmp_path / "copy.onnx")
    assert p3.read_bytes() == path.read_bytes()


def test_regression_export(tmp_path):
    from ganaug import GANAugmenter

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"u": rng.normal(size=60), "v": rng.choice(["p", "q"], 60)})
    y = X["u"].to_numpy() * 2 + rng.normal(0, 0.1, 60)
    aug = GANAugmenter(preset=CONFIGS["classic"], task="regression", random_state=0).fit(X, y)
    path = export_onnx(aug, tmp_path / "reg.onnx", exporter="torchscript")
    gen = OnnxGenerator(path)
    assert gen.task == "regression" and gen.target == "__target__"
    X_syn, y_syn = gen.sample(25, random_state=2)
    assert list(X_syn.columns) == ["u", "v"] and y_syn.dtype == np.float64 and len(y_syn) == 25
    with pytest.raises(ValueError, match="None"):
        gen.sample(5, y=1.0)


def test_export_errors(tmp_path, tmp_path_factory, monkeypatch):
    with pytest.raises(ValueError, match="not fitted"):
        export_onnx(ConditionalGAN(CONFIGS["classic"]), tmp_path / "x.onnx")
    from ganaug import GANAugmenter

    with pytest.raises(ValueError, match="not fitted"):
        export_onnx(GANAugmenter(), tmp_path / "x.onnx")
    with pytest.raises(TypeError):
        export_onnx(object(), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="neither"):
        export_onnx(tmp_path / "nothing-here", tmp_path / "x.onnx")
    model = fitted("classic", "table", tmp_path_factory)[0]
    with pytest.raises(ValueError, match="exporter"):
        export_onnx(model, tmp_path / "x.onnx", exporter="jit")
    with pytest.raises(ValueError, match="__target__"):
        export_onnx(model, tmp_path / "x.onnx", task="regression")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install .onnx>=1.16"):
        export_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
