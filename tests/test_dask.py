"""ganaug.dask and ganaug.runtime.partitions: rows sampled in pieces, on a 2-process LocalCluster.

Partition k covering rows [a, b) must be rows a..b-1 of single-process ``OnnxGenerator.sample``,
for any partitioning, class labels included; workers must hold one partition at a time.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")
pytest.importorskip("onnx")

import itertools

from click.testing import CliRunner
from imblearn.utils import check_sampling_strategy

import ganaug.dask as gd
from ganaug.cli import main
from ganaug.core.errors import ClusterError, SchemaMismatchError
from ganaug.core.noise import split_counts
from ganaug.dask.cluster import local_cluster_options
from ganaug.gan.export import export_onnx
from ganaug.gan.presets import PRESETS
from ganaug.learn.sampler import GANAugmenter
from ganaug.learn.strategy import grow, oversampling_targets
from ganaug.runtime import OnnxGenerator
from ganaug.runtime.partitions import partition_bounds, sample_range, sample_table

# the default preset's graph (copula base, residual MLP, sampled categories), one short epoch
FAST = PRESETS["default"].with_overrides(
    generator_hidden=(16, 16), discriminator_hidden=(16, 16), batch_size=32, epochs=1, noise_dim=8
)
CLASSES = np.array(["high", "low", "mid"], dtype=object)


def table(n: int, seed: int = 0) -> pd.DataFrame:
    """A mixed table whose ``label`` column has three imbalanced string classes."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "count": rng.integers(0, 9, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "flag": rng.random(n) > 0.5,
            "gap": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, size=n)),
            "label": rng.choice(CLASSES, n, p=[0.15, 0.6, 0.25]),
        }
    )


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny default-preset GAN exported to ONNX (TorchScript exporter: same format, faster)."""
    from ganaug.gan.synthesizer import ConditionalGAN

    df = table(240)
    gan = ConditionalGAN(FAST, time_budget=0.3, random_state=0).fit(
        df.drop(columns="label"), df["label"]
    )
    return export_onnx(gan, tmp_path_factory.mktemp("dask") / "model.onnx", exporter="torchscript")


@pytest.fixture(scope="module")
def gen(model_path):
    return OnnxGenerator(model_path)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on loopback, 1 GiB each (the workers inherit
    PYTHONPATH, so they import this checkout's ganaug)."""
    options = {**local_cluster_options(2, "1GiB"), "silence_logs": 30}
    with distributed.LocalCluster(**options) as cluster, distributed.Client(cluster) as c:
        yield c


def reference(gen, n, seed, y=None):
    """Single-process ``OnnxGenerator.sample`` as one DataFrame (features, then ``label``)."""
    return sample_table(gen, *gen.sample(n, y=y, random_state=seed))


def test_sample_range_pieces_are_the_single_process_rows(gen, model_path):
    n = 5003
    whole = reference(gen, n, 7)
    for cuts in ([0, n], [0, 1, 2, 1024, 1025, 3000, n], [0, 2047, 2048, 2049, n]):
        pieces = [sample_range(model_path, a, b, n, 7) for a, b in itertools.pairwise(cuts)]
        pd.testing.assert_frame_equal(pd.concat(pieces), whole, check_exact=True)
    # one label, n labels (a piece may get its own slice of them), and {label: rows}
    pd.testing.assert_frame_equal(
        sample_range(gen, 100, 300, n, 2, y="mid"),
        reference(gen, n, 2, "mid").iloc[100:300],
        check_exact=True,
    )
    labels = np.random.default_rng(0).choice(CLASSES, 50)
    expected = reference(gen, 50, 3, labels)
    pd.testing.assert_frame_equal(sample_range(gen, 10, 30, 50, 3, y=labels), expected.iloc[10:30])
    pd.testing.assert_frame_equal(
        sample_range(gen, 10, 30, 50, 3, y=labels[10:30]), expected.iloc[10:30]
    )
    counts = {"mid": 7, "high": 20}
    grouped = reference(gen, 27, 4, np.repeat(list(counts), list(counts.values())))
    pd.testing.assert_frame_equal(sample_range(gen, 5, 27, 27, 4, y=counts), grouped.iloc[5:])
    with pytest.raises(ValueError, match=r"row range \[5, 5\)"):
        sample_range(gen, 5, 5, 10, 0)
    with pytest.raises(ValueError, match="sum to 27, not n=30"):
        sample_range(gen, 0, 5, 30, 0, y=counts)
    with pytest.raises(ValueError, match="'nope'"):
        sample_range(gen, 0, 5, 30, 0, y="nope")
    with pytest.raises(ValueError, match="npartitions must be an integer in \\[1, n=3\\]"):
        partition_bounds(3, 4)


def test_dask_sample_is_the_single_process_sample(client, gen, model_path):
    n = 20011
    whole = reference(gen, n, 3)
    for k in (1, 2, 5, 13):
        frame = gd.sample(model_path, n, npartitions=k, random_state=3)
        assert frame.npartitions == k and frame.known_divisions
        pd.testing.assert_frame_equal(frame.compute(), whole, check_exact=True)
    a, b = partition_bounds(n, 5)[3]
    part = gd.sample(model_path, n, npartitions=5, random_state=3).get_partition(3).compute()
    pd.testing.assert_frame_equal(part, whole.iloc[a:b], check_exact=True)
    # exact counts per class, in training proportions (largest remainder)
    expected = split_counts(n, gen.class_counts_)
    counts = Counter(gd.sample(model_path, n, npartitions=4, random_state=9)["label"].compute())
    assert [counts[c] for c in gen.classes_] == expected.tolist()
    only = gd.sample(model_path, 999, npartitions=3, random_state=1, y="high").compute()
    assert set(only["label"]) == {"high"} and len(only) == 999
    with pytest.raises(ValueError, match="npartitions"):
        gd.sample(model_path, 3, npartitions=4)


@pytest.fixture(scope="module")
def wide_path(tmp_path_factory):
    """A classic GAN on a float32 array of 64 columns: 256 bytes a row, so memory is measurable."""
    from ganaug.gan.synthesizer import ConditionalGAN

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 64)).astype(np.float32), rng.integers(0, 2, 200)
    config = PRESETS["classic"].with_overrides(
        epochs=1, noise_dim=4, generator_hidden=(16,), discriminator_hidden=(16,)
    )
    gan = ConditionalGAN(config, random_state=0).fit(X, y)
    return export_onnx(gan, tmp_path_factory.mktemp("wide") / "wide.onnx", exporter="torchscript")


def test_workers_hold_one_partition_at_a_time(client, wide_path):
    """800,000 rows (200 MiB) are summed by the workers; a worker's peak memory grows by far less
    than its half, which it would hold if partitions piled up. (The Parquet writer works
    partition by partition too; writing is left out here only because it is slow.)"""
    limits = {w["memory_limit"] for w in client.scheduler_info()["workers"].values()}
    assert limits == {2**30}
    # warm up with one partition of the same size per worker: the baseline holds one partition
    n, k = 800_000, 32
    gd.sample(wide_path, 2 * n // k, npartitions=2, random_state=1).drop(
        columns="label"
    ).sum().compute()
    before = client.run(gd.peak_memory_mib)
    frame = gd.sample(wide_path, n, npartitions=k, random_state=0)
    whole_mib = frame.get_partition(0).compute().memory_usage().sum() * k / 2**20
    assert whole_mib > 190
    sums = frame.drop(columns="label").sum().compute()
    assert len(sums) == 64 and np.isfinite(sums).all()
    after = client.run(gd.peak_memory_mib)
    growth = {w: after[w] - before[w] for w in after}
    assert max(growth.values()) < 0.25 * whole_mib, (growth, whole_mib)


def test_unreachable_scheduler_is_a_clear_error():
    with socket.socket() as s:  # a free port on loopback: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(ClusterError, match=f"tcp://127.0.0.1:{port} within 1 s"):
        gd.connect(f"tcp://127.0.0.1:{port}", timeout=1)
    assert time.monotonic() - start < 5
    with pytest.raises(ClusterError, match="invalid Dask scheduler address 'host:port'"):
        gd.connect("host:port")
    # something listens, but it is not a Dask scheduler
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer_garbage():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)
            time.sleep(2)

    threading.Thread(target=answer_garbage, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    with pytest.raises(ClusterError, match=f"no Dask scheduler answered at {address}"):
        gd.connect(address, timeout=1)
    server.close()


def test_cli_writes_a_parquet_dataset(client, gen, model_path, tmp_path):
    out = tmp_path / "rows"
    runner = CliRunner()
    args = [
        "sample",
        str(model_path),
        "-n",
        "30011",
        "--seed",
        "5",
        "--engine",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "--npartitions",
        "3",
        "-o",
        str(out),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"part.{i}.parquet" for i in range(3)]
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back, reference(gen, 30011, 5), check_exact=True)
    # the output exists and is not empty: refused before any work
    result = runner.invoke(main, args)
    assert (
        result.exit_code == 1
        and f"output directory '{out}' exists and is not empty" in result.output
    )
    (tmp_path / "file").write_text("x")
    result = runner.invoke(main, [*args[:-1], str(tmp_path / "file")])
    assert "exists and is not a directory" in result.output
    result = runner.invoke(main, ["sample", str(model_path), "-n", "5", "--scheduler", "x:1"])
    assert result.exit_code == 2 and "--scheduler apply only with --engine dask" in result.output
    result = runner.invoke(
        main,
        [
            *args[:8],
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--timeout",
            "1",
            "-o",
            str(tmp_path / "new"),
        ],
    )
    assert (
        result.exit_code == 1
        and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in result.output
    )
    assert not (tmp_path / "new").exists()


def test_cli_without_dask_says_how_to_install_it(model_path, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "ganaug.dask" or m.startswith("ganaug.dask.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    result = CliRunner().invoke(
        main,
        ["sample", str(model_path), "-n", "5", "--engine", "dask", "-o", str(tmp_path / "out")],
    )
    assert result.exit_code == 1
    assert "missing dependency" in result.output and "pip install 'ganaug[dask]'" in result.output


@pytest.mark.parametrize(
    "strategy",
    [
        "auto",
        "minority",
        "not minority",
        "not majority",
        "all",
        {"high": 900, "mid": 700},
        {"low": 700},
    ],
)
def test_oversampling_targets_are_imbalanced_learns(strategy):
    y = np.repeat(CLASSES, [120, 700, 300])
    counts = dict(zip(*np.unique(y, return_counts=True)))
    assert oversampling_targets(counts, strategy) == check_sampling_strategy(
        strategy, y, "over-sampling"
    )


def test_oversampling_targets_binary_ratio_and_errors():
    y = np.repeat(np.array([0, 1]), [90, 10])
    counts = {0: 90, 1: 10}
    assert oversampling_targets(counts, 0.5) == check_sampling_strategy(0.5, y, "over-sampling")
    with pytest.raises(ValueError, match="remove samples"):
        oversampling_targets(counts, 0.05)
    with pytest.raises(ValueError, match="binary"):
        oversampling_targets({0: 5, 1: 3, 2: 1}, 0.5)
    with pytest.raises(ValueError, match=r"\[7\] target class"):
        oversampling_targets(counts, {7: 100})
    with pytest.raises(ValueError, match="a callable needs the whole"):
        oversampling_targets(counts, lambda y: {1: 90})
    assert grow(counts, {1: 80}, 0.5) == {0: 45, 1: 125}


@pytest.mark.parametrize(
    "strategy, ratio", [("auto", None), ("minority", 0.25), ({"high": 2000}, None)]
)
def test_augment_adds_the_rows_the_sampler_would(client, model_path, strategy, ratio):
    df = table(1800, seed=1)
    data = dd.from_pandas(df, npartitions=4)
    out = gd.augment(
        data,
        "label",
        generator=model_path,
        sampling_strategy=strategy,
        augment_ratio=ratio,
        npartitions=3,
        random_state=0,
    )
    assert out.dtypes.to_dict() == data.dtypes.to_dict()
    rows = out.compute()
    pd.testing.assert_frame_equal(rows.iloc[: len(df)], data.compute())
    # the in-memory sampler with the same generator gives these class counts
    aug = GANAugmenter(generator=model_path, sampling_strategy=strategy, augment_ratio=ratio)
    _, y_res = aug.fit_resample(df.drop(columns="label"), df["label"].to_numpy())
    assert Counter(rows["label"]) == Counter(y_res)
    assert rows.iloc[len(df) :].notna()["colour"].all()


def test_augment_fits_a_generator_on_a_bounded_stratified_sample(client, tmp_path, monkeypatch):
    # the TorchScript exporter only to keep this test fast; the file format is the same
    monkeypatch.setattr(
        GANAugmenter,
        "export_onnx",
        lambda self, path: export_onnx(self.model_, path, task=self.task_, exporter="torchscript"),
    )
    df = table(3000, seed=2)
    data = dd.from_pandas(df, npartitions=5)
    out = gd.augment(
        data,
        "label",
        fit_rows=300,
        model_path=tmp_path / "fit.onnx",
        random_state=0,
        preset="classic",
        epochs=1,
    )
    fitted = OnnxGenerator(tmp_path / "fit.onnx")
    real = df["label"].value_counts()
    # every class is larger than its share (100 rows) here: 100 rows each
    assert dict(zip(fitted.classes_, fitted.class_counts_.tolist())) == dict.fromkeys(CLASSES, 100)
    counts = Counter(out["label"].compute())
    assert set(counts.values()) == {real.max()}  # "auto": every class up to the majority
    with pytest.raises(SchemaMismatchError, match="'target'"):
        gd.augment(data, "target", generator=tmp_path / "fit.onnx")
    with pytest.raises(SchemaMismatchError, match="columns"):
        gd.augment(data.drop(columns="gap"), "label", generator=tmp_path / "fit.onnx")
    with pytest.raises(ValueError, match="callable"):
        gd.augment(data, "label", generator=tmp_path / "fit.onnx", sampling_strategy=lambda y: {})


def test_fit_quotas():
    assert gd.fit_quotas({"a": 10, "b": 1000, "c": 500}, 300) == {"a": 10, "b": 145, "c": 145}
    assert gd.fit_quotas({"a": 10, "b": 20}, 300) == {"a": 10, "b": 20}
