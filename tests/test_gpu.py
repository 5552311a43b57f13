"""Training on a CUDA device: reproducibility, RNG isolation, export and the rank/GPU check.

The CUDA tests skip where no GPU is visible (CI has none); they ran on an H200 (see the README's
Scaling section). The rank/GPU check also runs on the CPU, with CUDA faked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TINY, city_table, fit_in_threads
from ganaug import GANAugmenter, scaleout
from ganaug.core.errors import ClusterError
from ganaug.gan.export import export_onnx
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime import OnnxGenerator

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
#: the last step is kept, so the rows depend on every training draw (not only on the copula)
LAST_STEP = TINY.with_overrides(holdout_selection=False)


def _table(n: int = 120) -> tuple[pd.DataFrame, np.ndarray]:
    return city_table(n, missing=True)


def _rows(seed: int, X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    model = ConditionalGAN(LAST_STEP, device="cuda", random_state=seed).fit(X, y)
    return model.sample(50, random_state=0)[0]


@cuda
def test_cuda_fit_is_reproducible_and_leaves_global_rngs_alone():
    X, y = _table()
    cpu, gpu = torch.get_rng_state(), torch.cuda.get_rng_state_all()
    a, b, c = _rows(0, X, y), _rows(0, X, y), _rows(1, X, y)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert torch.equal(torch.get_rng_state(), cpu)
    assert all(torch.equal(s, t) for s, t in zip(torch.cuda.get_rng_state_all(), gpu))


@cuda
def test_cuda_fits_in_threads_give_the_sequential_rows():
    X, y = _table()
    expected = {s: _rows(s, X, y) for s in (0, 1)}

    def meddle():  # another thread seeding and drawing from the global CUDA RNG meanwhile
        torch.cuda.manual_seed_all(123)
        torch.rand(1000, device="cuda")

    got = fit_in_threads(lambda seed: _rows(seed, X, y), meddle)
    for key, seed in (("a", 0), ("b", 0), ("c", 1)):
        pd.testing.assert_frame_equal(got[key], expected[seed])


@cuda
def test_cuda_trained_model_saves_loads_on_cpu_and_exports(tmp_path):
    X, y = _table()
    aug = GANAugmenter(preset=TINY, device="cuda", random_state=0).fit(X, y)
    rows = aug.sample(60, random_state=3)[0]
    aug.save(tmp_path / "art")
    loaded = GANAugmenter.load(tmp_path / "art", device="cpu")
    pd.testing.assert_frame_equal(loaded.sample(60, random_state=3)[0], rows)
    path = export_onnx(aug.model_, tmp_path / "m.onnx")
    onnx_rows = OnnxGenerator(path).sample(60, random_state=3)[0]
    pd.testing.assert_frame_equal(onnx_rows, rows, rtol=1e-4)


def test_more_ranks_than_gpus_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    X, y = _table()
    data = tmp_path / "t.parquet"
    X.assign(label=y).to_parquet(data)
    with pytest.raises(ClusterError, match="2 ranks on this node but 1 GPU.*--nproc-per-node 1"):
        scaleout.pretrain(str(data), "label", tmp_path / "out", device="cuda")
    assert not (tmp_path / "out").exists()
