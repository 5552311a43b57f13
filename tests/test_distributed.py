"""Distributed (torchrun, 2 CPU processes on gloo over loopback) and streamed training.

One torchrun job (module fixture) trains on a 3-row-group Parquet table; its artifact is compared
with a single-process fit on the same rows: same codec, same copula (exact statistics), and
detection AUC within 0.1.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from ganaug.cli import main
from ganaug.core.errors import ShardError, TableSchemaError
from ganaug.evaluation.detection import detection_auc
from ganaug.gan.codec import Span, TableCodec
from ganaug.gan.copula import copula_statistics
from ganaug.gan.networks import Generator
from ganaug.gan.stream import StreamRows, fit_codec, fit_source
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.gan.tables import TableSource
from ganaug.learn.sampler import GANAugmenter, fit_seeds

REPO = Path(__file__).resolve().parents[1]
EPOCHS = 2


def _table(n: int = 450, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "x2": 0.9 * x + 0.3 * rng.normal(size=n),
            "count": rng.poisson(3, n),
            "gap": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(size=n)),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "label": np.where(x + rng.normal(size=n) > 0.8, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "table.parquet"
    _table().to_parquet(path, row_group_size=150)  # 3 row groups
    return path


@pytest.fixture(scope="module")
def two_rank_artifact(parquet, tmp_path_factory):
    out = tmp_path_factory.mktemp("art") / "ddp"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
               "-m", "ganaug.distributed", str(parquet), "--target", "label", "-o", str(out),
               "--epochs", str(EPOCHS), "--device", "cpu", "--seed", "0"]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def single_process(parquet):
    # the distributed trainer seeds as GANAugmenter(random_state=0).fit does
    model = ConditionalGAN(epochs=EPOCHS, device="cpu", random_state=fit_seeds(0)[0])
    return fit_source(model, TableSource.parquet(parquet, "label"))


def test_two_ranks_write_a_loadable_artifact(two_rank_artifact, parquet):
    aug = GANAugmenter.load(two_rank_artifact)
    X, y = aug.sample(200, random_state=1)
    assert list(X.columns) == ["x", "x2", "count", "gap", "city"]
    assert set(y) <= {"no", "yes"} and len(X) == 200
    assert aug.model_.class_counts_.sum() == 450  # every rank's rows counted once


def test_two_ranks_match_a_single_process_fit(two_rank_artifact, single_process, parquet):
    ddp = GANAugmenter.load(two_rank_artifact).model_
    full = pd.read_parquet(parquet)
    # the codec: quantiles of the merged samples are those of all rows
    expected = TableCodec().fit(full.drop(columns="label")).schema_.to_dict()
    assert ddp.codec_.schema_.to_dict() == expected
    # the copula: all-reduced statistics give the single-process base
    for name in ("base_mean", "base_factor", "component_cdf", "logit_mask"):
        torch.testing.assert_close(
            getattr(ddp.generator_, name), getattr(single_process.generator_, name),
            atol=1e-5, rtol=1e-4,
        )


def test_two_rank_quality_is_within_tolerance_of_single_process(
    two_rank_artifact, single_process, parquet
):
    full = pd.read_parquet(parquet)
    X, y = full.drop(columns="label"), full["label"]
    ddp = GANAugmenter.load(two_rank_artifact).model_
    aucs = []
    for model in (single_process, ddp):
        X_syn, y_syn = model.sample(len(X), random_state=3)
        aucs.append(detection_auc(X, X_syn, y_real=y, y_synthetic=y_syn, cv=3))
    assert abs(aucs[0] - aucs[1]) <= 0.1, aucs


def test_more_processes_than_row_groups_is_refused_before_launching(parquet, tmp_path):
    result = CliRunner().invoke(
        main, ["pretrain", str(parquet), "--target", "label", "--nproc-per-node", "4",
               "-o", str(tmp_path / "a")],
    )
    assert result.exit_code == 1
    assert "4 processes but the Parquet data has 3 row group(s)" in result.output
    assert not (tmp_path / "a").exists()
    with pytest.raises(ShardError, match="3 rows"):
        TableSource.frame(pd.DataFrame({"a": [1, 2, 3]}), [0, 1, 0]).shard(0, 4)


def test_parquet_files_with_different_schemas_are_refused(tmp_path):
    data = tmp_path / "ds"
    data.mkdir()
    _table(60).to_parquet(data / "part-0.parquet")
    _table(60).assign(count=lambda d: d["count"].astype(str)).to_parquet(data / "part-1.parquet")
    with pytest.raises(TableSchemaError, match=r"part-1\.parquet.*'count' is \w*string, expected int64"):
        TableSource.parquet(data, "label")
    result = CliRunner().invoke(main, ["pretrain", str(data), "--target", "label", "--epochs", "1"])
    assert result.exit_code == 1 and "part-1.parquet" in result.output


def test_shards_cover_every_row_once(parquet, tmp_path):
    full = _table()
    csv = tmp_path / "t.csv"
    full.to_csv(csv, index=False)
    sources = [
        TableSource.parquet(parquet, "label"),
        TableSource.csv(csv, "label"),
        TableSource.frame(full.drop(columns="label"), full["label"]),
    ]
    for source in sources:
        for world in (1, 2, 3):
            ids = [ids for r in range(world) for _, _, ids in source.shard(r, world).batches(64)]
            assert np.array_equal(np.sort(np.concatenate(ids)), np.arange(450)), (source.kind, world)
        X, y, ids = next(source.shard(1, 2).batches(10))
        assert X["x"].tolist() == full["x"].iloc[ids].tolist() and list(y) == full["label"].iloc[ids].tolist()


def test_statistics_of_parts_add_up_to_the_whole():
    g = torch.Generator().manual_seed(0)
    Z, labels = torch.randn(300, 5, generator=g), torch.randint(0, 3, (300,), generator=g)
    Z[:, 3:] = (Z[:, 3:] > 0).float()
    spans = [Span("numeric", 1, i) for i in range(3)] + [Span("missing", 2, 3)]
    parts = copula_statistics(Z[:100], labels[:100], 3) + copula_statistics(Z[100:], labels[100:], 3)
    whole, split = (Generator(8, 3, 5, (8,), copula=True) for _ in range(2))
    whole.set_copula(Z, labels, spans)
    split.set_copula(None, None, spans, statistics=parts)
    torch.testing.assert_close(whole.base_factor, split.base_factor)
    torch.testing.assert_close(whole.base_mean, split.base_mean)


def test_streamed_codec_keeps_exact_levels_and_rates_from_a_bounded_sample(tmp_path):
    full = _table(3000, seed=1)
    full.loc[5, "city"] = "brest"  # a level one row has
    path = tmp_path / "big.parquet"
    full.to_parquet(path, row_group_size=500)
    codec, classes, counts = fit_codec(TableSource.parquet(path, "label"), sample_rows=400)
    exact = TableCodec().fit(full.drop(columns="label")).schema_
    for got, want in zip(codec.schema_.columns, exact.columns):
        assert (got.name, got.kind, got.dtype, got.integer, got.missing_rate, got.categories) == (
            want.name, want.kind, want.dtype, want.integer, want.missing_rate, want.categories)
        if got.kind == "numeric":
            # 400 of 3000 rows: knots from the sample (never the exact extremes, which are
            # training values), the decoded range its outermost knots, a median within 5%
            q = np.asarray(got.quantiles)
            values = full[got.name].dropna()
            assert len(q) <= 400 and (got.minimum, got.maximum) == (q[0], q[-1])
            assert values.min() <= q[0] <= q[-1] <= values.max()
            median = np.interp(0.5, np.linspace(0, 1, len(q)), q)
            assert abs(median - values.median()) < 0.05 * (values.max() - values.min())
    assert list(classes) == ["no", "yes"] and counts.tolist() == full["label"].value_counts().sort_index().tolist()


def test_streamed_training_matches_the_in_memory_copula_with_a_bounded_buffer(tmp_path):
    full = _table(1200, seed=2)
    path = tmp_path / "t.parquet"
    full.to_parquet(path, row_group_size=200)
    source = TableSource.parquet(path, "label")
    streamed = fit_source(ConditionalGAN(epochs=1, device="cpu", random_state=0), source, stream=True)
    in_memory = fit_source(ConditionalGAN(epochs=1, device="cpu", random_state=0), source, stream=False)
    torch.testing.assert_close(streamed.generator_.base_factor, in_memory.generator_.base_factor, atol=1e-5, rtol=1e-4)
    assert streamed.history_["validation_steps"][0] == 0  # held-out rows were scored
    # the shuffle buffer holds at most buffer_rows rows and is refilled as rows are drawn
    codec, classes, counts = fit_codec(source)
    rows = StreamRows(source, codec, classes, counts, buffer_rows=256, batch_rows=128)
    rows.start(torch.device("cpu"), 2)
    before = rows.pools.data.clone()
    gen = torch.Generator().manual_seed(0)
    for _ in range(8):
        batch, _ = rows.draw(32, gen, uniform=True)
    assert len(rows.pools.data) == 256 and batch.shape == (32, codec.output_dim)
    assert not torch.equal(before, rows.pools.data)
