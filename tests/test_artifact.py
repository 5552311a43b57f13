"""Artifacts: safe load, integrity checks, atomic saves, the store."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from ganaug.core.errors import ArtifactError
from ganaug.gan import artifact
from ganaug.gan.store import Store, safe_name
from ganaug.gan.synthesizer import ConditionalGAN


@pytest.fixture
def fitted(mixed_df, tiny):
    X, y = mixed_df
    return ConditionalGAN(preset=tiny, random_state=0).fit(X, y)


def test_layout_and_description(fitted, tmp_path):
    root = artifact.save(fitted, tmp_path / "a")
    meta = json.loads((root / "ganaug.json").read_text())
    assert meta["format_version"] == artifact.FORMAT_VERSION
    for key in ("ganaug_version", "schema", "config", "classes", "history", "weights"):
        assert key in meta
    assert meta["classes"] == ["no", "yes"]
    files = sorted(p.name for p in root.iterdir())
    assert files == ["ganaug.json", meta["weights"]["file"]]
    assert not any(name.endswith((".pkl", ".pt")) for name in files)


def test_truncated_weights_are_refused(fitted, tmp_path):
    root = artifact.save(fitted, tmp_path / "a")
    weights = next(root.glob("weights-*"))
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ArtifactError, match="truncated"):
        artifact.load(root)


def test_altered_weights_are_refused(fitted, tmp_path):
    root = artifact.save(fitted, tmp_path / "a")
    weights = next(root.glob("weights-*"))
    blob = bytearray(weights.read_bytes())
    blob[-10] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match="checksum"):
        artifact.load(root)


def test_truncated_json_and_unknown_version_are_refused(fitted, tmp_path):
    root = artifact.save(fitted, tmp_path / "a")
    meta_path = root / "ganaug.json"
    text = meta_path.read_text()
    meta = json.loads(text)
    meta["format_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="format version 99"):
        artifact.load(root)
    meta_path.write_text(text[: len(text) // 2])
    with pytest.raises(ArtifactError, match="not valid JSON"):
        artifact.load(root)
    with pytest.raises(ArtifactError, match="missing"):
        artifact.load(tmp_path / "nothing-here")


def test_interrupted_save_keeps_previous_artifact(fitted, mixed_df, tiny, tmp_path, monkeypatch):
    X, y = mixed_df
    root = artifact.save(fitted, tmp_path / "a")
    before = fitted.sample(10, random_state=1)[0]
    other = ConditionalGAN(preset=tiny, random_state=1).fit(X, y)

    real_replace = os.replace

    def crash_on_description(src, dst):
        if str(dst).endswith("ganaug.json"):
            raise KeyboardInterrupt("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_description)
    with pytest.raises(KeyboardInterrupt):
        artifact.save(other, root)
    monkeypatch.undo()
    loaded, _ = artifact.load(root)
    pd.testing.assert_frame_equal(loaded.sample(10, random_state=1)[0], before)
    assert not list(root.glob(".*.tmp"))  # no temp litter


def test_load_path_never_unpickles(fitted, tmp_path, monkeypatch):
    import pickle

    root = artifact.save(fitted, tmp_path / "a")

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used on the load path")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    model, _ = artifact.load(root)
    assert model.sample(3, random_state=0)[0].shape == (3, 5)


def test_store_keeps_one_artifact_per_dataset(fitted, tmp_path, monkeypatch):
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    store = Store()
    assert store.root == tmp_path / "home"
    assert store.list() == [] and not store.exists("sklearn:wine")
    store.save("sklearn:wine", fitted)
    store.save("sklearn:wine", fitted)  # replaced, not duplicated
    assert store.list() == [safe_name("sklearn:wine")]
    model, _ = store.load("sklearn:wine")
    np.testing.assert_array_equal(model.classes_, fitted.classes_)
    with pytest.raises(ValueError, match="no pretrained artifact"):
        store.load("iris")


@pytest.mark.parametrize("name", ["../../etc", "a/../../b", "..", ""])
def test_store_names_cannot_escape_root(name, tmp_path):
    store = Store(tmp_path)
    try:
        path = store.path(name)
    except ValueError:
        return
    assert tmp_path in path.resolve().parents


def test_version_1_artifacts_still_load(fitted, tmp_path):
    """A format-1 artifact (Gaussian one-hot codes, one copula factor for all classes) loads and
    samples as it did: its one-hot codes are then logits, sampled like any others."""
    import hashlib

    import torch
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    root = artifact.save(fitted, tmp_path / "v2")
    meta = json.loads((root / "ganaug.json").read_text())
    tensors = st_load((root / meta["weights"]["file"]).read_bytes())
    del tensors["generator.logit_mask"]
    n_classes = len(fitted.classes_)
    factor = tensors["generator.base_factor"]
    tensors["generator.base_factor"] = factor[:, : factor.shape[1] // n_classes].contiguous()
    blob = st_save(tensors, metadata={"format": artifact.FORMAT})
    sha = hashlib.sha256(blob).hexdigest()
    (root / f"weights-{sha[:16]}.safetensors").write_bytes(blob)  # named as every version names it
    meta["weights"] = {"file": f"weights-{sha[:16]}.safetensors", "sha256": sha, "bytes": len(blob)}
    meta["format_version"] = 1
    (root / "ganaug.json").write_text(json.dumps(meta))
    model, _ = artifact.load(root)
    assert not bool(model.generator_.logit_mask.any())
    block = model.generator_.base_factor.shape[1] // n_classes
    assert torch.equal(model.generator_.base_factor[:, :block], model.generator_.base_factor[:, block:2 * block])
    X, _ = model.sample(50, random_state=0)
    assert len(X) == 50 and list(X.columns) == list(fitted.codec_.schema_.names)
