"""Faithful rows: learned precision, exact relations, conditions and constraints, in torch and in
ONNX Runtime sampling alike (parity), and through artifacts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganaug.core import conditions as cond_mod
from ganaug.core.conditions import parse_constraint, parse_where
from ganaug.core.exact import learn_relations
from ganaug.core.precision import learn_grid, significant
from ganaug.core.schema import Schema
from ganaug.errors import ConditionError, ConstraintError
from ganaug.gan.codec import TableCodec

pytest.importorskip("onnxscript")

from ganaug.gan.export import export_onnx
from ganaug.learn.sampler import GANAugmenter
from ganaug.runtime import OnnxGenerator


def shop(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A retail table full of exact structure: prices in cents, a sale price = list - discount,
    a total of three parts, a copy of a column, quantities in steps of 5, a store id that fixes
    its name, a region that drives the city, an age with missing values."""
    rng = np.random.default_rng(seed)
    list_price = np.round(rng.uniform(5, 50, n), 2)
    discount = np.round(rng.uniform(0, 5, n), 2)
    shipping = np.round(rng.choice([0.0, 4.99, 9.99], n), 2)
    region = rng.choice(["north", "south"], n, p=[0.4, 0.6])
    city = np.where(
        region == "north", rng.choice(["oslo", "bergen"], n, p=[0.8, 0.2]),
        rng.choice(["oslo", "bergen"], n, p=[0.2, 0.8]),
    )
    store = rng.choice(["s1", "s2", "s3", "s4"], n)
    age = rng.integers(18, 80, n).astype(float)
    age[rng.random(n) < 0.15] = np.nan
    X = pd.DataFrame({
        "list_price": list_price,
        "discount": discount,
        "sale_price": np.round(list_price - discount, 2),
        "shipping": shipping,
        "total": np.round(list_price - discount + shipping, 2),
        "weight": rng.gamma(2.0, 1.5, n),
        "qty": rng.integers(1, 10, n) * 5,
        "region": region,
        "city": city,
        "store": store,
        "store_name": pd.Series(store).map({"s1": "Main", "s2": "Dock", "s3": "Main", "s4": "Mall"}).to_numpy(),
        "age": age,
    })
    X["weight_copy"] = X["weight"]
    y = pd.Series(np.where(rng.random(n) < 0.3, "yes", "no"), name="churn")
    return X, y


_CACHE: dict = {}


@pytest.fixture
def tiny(tiny):
    """The shrunk default preset without the held-out selection (a few seconds per fit)."""
    return tiny.with_overrides(holdout_selection=False, epochs=1)


def fitted(tiny, tmp_path_factory, **params):
    key = tuple(sorted((k, str(v)) for k, v in params.items()))
    if key not in _CACHE:
        X, y = shop()
        aug = GANAugmenter(preset=tiny, random_state=0, **params).fit(X, y)
        path = tmp_path_factory.mktemp("onnx") / "m.onnx"
        export_onnx(aug.model_, path, exporter="torchscript")  # 20x faster to export
        _CACHE[key] = (aug, OnnxGenerator(path), X, y)
    return _CACHE[key]


@pytest.fixture
def model(tiny, tmp_path_factory):
    return fitted(
        tiny, tmp_path_factory,
        constraints=("list_price >= sale_price", "discount in [0, list_price]", "fixed region, city"),
    )


def assert_same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """torch rows == ONNX rows: equal levels and missing values; numbers equal, but for the
    float32 last bits of continuous columns (7 significant digits)."""
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for name in a.columns:
        x, z = a[name], b[name]
        assert (x.isna().to_numpy() == z.isna().to_numpy()).all(), name
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            x, z = x.to_numpy(dtype=float), z.to_numpy(dtype=float)
            ok = np.isnan(x) | np.isclose(x, z, rtol=2e-5, atol=0)
            assert ok.mean() >= 0.999, name
        else:
            assert (x.astype(str).to_numpy() == z.astype(str).to_numpy()).mean() >= 0.999, name


# ------------------------------------------------------------------------------ precision
def test_learn_grid_decimals_steps_and_multiples():
    assert learn_grid(np.array([17.99, 3.5, 10.0])) == (2, 1)
    assert learn_grid(np.array([5.0, 15.0, 100.0])) == (0, 5)
    assert learn_grid(np.array([0.25, 0.75, 1.5])) == (2, 25)
    assert learn_grid(np.array([1.0, 2.0, 7.0])) == (0, 1)
    assert learn_grid(np.random.default_rng(0).normal(size=50)) is None
    # a float32 column's 17.99 is 17.989999771118164 in float64: still 2 decimals
    assert learn_grid(np.array([17.99, 2.5], dtype=np.float32).astype(np.float64), float32=True) == (2, 1)
    assert significant(np.array([12.971818923950195, -0.000123456789, 0.0, np.nan]), 7)[:3].tolist() == [
        12.97182, -0.0001234568, 0.0,
    ]


def test_sampled_prices_have_their_decimals(model):
    aug, _gen, _X, _ = model
    S, _ = aug.sample(300, random_state=0)
    for name in ("list_price", "discount", "sale_price", "total"):
        text = S[name].map(repr)
        assert text.str.split(".").str[1].str.len().max() <= 2, name  # 17.99, never 17.990000000000002
    assert (S["qty"] % 5 == 0).all()
    assert set(S["shipping"]) <= {0.0, 4.99, 9.99} | set(np.round(np.arange(0, 10, 0.01), 2))
    # float64 continuous columns: 7 significant digits, not float32 noise
    assert S["weight"].map(lambda v: len(repr(v).replace("-", "").replace(".", "").lstrip("0"))).max() <= 7
    schema = aug.model_.codec_.schema_
    by = {c.name: c for c in schema.columns}
    assert (by["list_price"].decimals, by["list_price"].multiple) == (2, 1)
    assert (by["qty"].decimals, by["qty"].multiple) == (0, 5)
    assert by["weight"].decimals is None and by["weight"].significant == 7


# ------------------------------------------------------------------------------ relations
def test_relations_found_on_the_training_rows():
    X, _ = shop()
    codec = TableCodec(exact=True).fit(X)
    found = {r["target"]: r for r in codec.schema_.relations}
    # sale = list - discount: one of the three is derived from the other two (which one depends
    # on the search order; the total's relation then uses what is left free)
    prices = {"list_price", "discount", "sale_price"}
    derived = [found[t] for t in prices if t in found]
    assert len(derived) == 1 and {name for name, _ in derived[0]["terms"]} == prices - {derived[0]["target"]}
    assert {name for name, _ in found["total"]["terms"]} >= {"shipping"}
    assert found["weight_copy"]["terms"] == [["weight", 1]]
    assert found["store_name"] == {
        "kind": "map", "target": "store_name", "source": "store", "mapping": [1, 0, 1, 2],
    }
    assert "city" not in found and "age" not in found  # only what holds in every row


def test_relation_broken_in_one_row_is_not_kept():
    X, _ = shop()
    X.loc[7, "sale_price"] += 0.01
    X.loc[X.index[X["store"] == "s1"][0], "store_name"] = "Mall"
    names = {r["target"] for r in TableCodec(exact=True).fit(X).schema_.relations}
    assert "sale_price" not in names and "store_name" not in names


def test_relation_with_missing_values_follows_the_missing_pattern():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 100, 200).astype(float)
    b = rng.integers(0, 100, 200).astype(float)
    a[:20] = np.nan
    X = pd.DataFrame({"a": a, "b": b, "c": a + b})
    rel = TableCodec(exact=True).fit(X).schema_.relations
    assert rel == [{"kind": "linear", "target": "c", "terms": [["a", 1], ["b", 1]]}]
    X.loc[25, "c"] = np.nan  # missing where the inputs are not: no longer exact
    assert TableCodec(exact=True).fit(X).schema_.relations == []


def test_sampled_rows_keep_every_relation_in_torch_and_onnx(model):
    aug, gen, _X, _ = model
    for S in (aug.sample(400, random_state=1)[0], gen.sample(400, random_state=1)[0]):
        assert (S["sale_price"] == np.round(S["list_price"] - S["discount"], 2)).all()
        assert np.allclose(S["total"], S["sale_price"] + S["shipping"], atol=1e-9)
        assert (S["weight_copy"] == S["weight"]).all()
        names = S["store"].map({"s1": "Main", "s2": "Dock", "s3": "Main", "s4": "Mall"})
        assert (S["store_name"] == names).all()
    lines = aug.model_.history_["exact"]
    assert "store_name determined by store" in lines and "weight_copy = weight" in lines
    assert {"sale_price = list_price - discount", "discount = list_price - sale_price"} & set(lines)


def test_exact_structure_can_be_turned_off(tiny, tmp_path_factory):
    aug, gen, _, _ = fitted(tiny, tmp_path_factory, exact_structure=False)
    schema = aug.model_.codec_.schema_
    assert schema.relations == [] and all(c.decimals is None for c in schema.columns)
    S, _ = aug.sample(200, random_state=0)
    assert (S["sale_price"] != np.round(S["list_price"] - S["discount"], 2)).mean() > 0.5
    assert gen.metadata["schema"]["relations"] == []


def test_relation_search_is_bounded_on_wide_tables():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.integers(0, 1000, (300, 80)).astype(float), columns=[f"c{i}" for i in range(80)])
    X["sum"] = X["c0"] + X["c1"] - X["c2"]
    rel = learn_relations(X, TableCodec().fit(X).schema_.columns)
    # only the first 40 numeric columns are searched: "sum" (the 81st) is out of reach
    assert rel == []
    X = X[["c0", "c1", "c2", "sum"] + [f"c{i}" for i in range(3, 30)]]
    rel = learn_relations(X, TableCodec().fit(X).schema_.columns)
    assert [r["target"] for r in rel] == ["sum"]
    assert sorted(map(tuple, rel[0]["terms"])) == [("c0", 1), ("c1", 1), ("c2", -1)]


# ------------------------------------------------------------------------------ conditions
def test_parse_where():
    assert parse_where(["age>=30", "age<40", "region=north", "income=NA", "n==3"]) == {
        "age": (30, np.nextafter(40.0, -np.inf)), "region": "north", "income": None, "n": 3,
    }
    with pytest.raises(ConditionError, match="needs a number"):
        parse_where(["region>north"])
    with pytest.raises(ConditionError, match="cannot read"):
        parse_where(["nonsense"])


def test_conditions_equal_range_missing_and_class(model):
    aug, gen, _, _ = model
    for sampler in (aug, aug.model_, gen):
        S, y = sampler.sample(150, random_state=2, conditions={
            "churn": "yes", "region": "north", "age": (30, 40)})
        assert len(S) == 150 and (y == "yes").all() and (S["region"] == "north").all()
        assert S["age"].between(30, 40).all()
        S, _ = sampler.sample(60, random_state=2, conditions={"age": None, "store": ["s1", "s2"]})
        assert S["age"].isna().all() and S["store"].isin(["s1", "s2"]).all()


def test_bad_and_rare_conditions_are_typed_errors(model, monkeypatch):
    aug, gen, _, _ = model
    with pytest.raises(ConditionError, match="nowhere"):
        aug.sample(5, conditions={"nowhere": 1})
    with pytest.raises(ConditionError, match="not a level"):
        gen.sample(5, conditions={"region": "east"})
    with pytest.raises(ConditionError, match="no missing values"):
        gen.sample(5, conditions={"qty": None})
    monkeypatch.setattr(cond_mod, "MAX_CANDIDATES", 5000)
    for sampler in (aug, gen):
        with pytest.raises(ConditionError, match="too rare"):
            sampler.sample(10, conditions={"list_price": (1000, 2000)})


def test_conditional_frequencies_follow_the_data(tiny):
    """P(city | region = north) in the sampled rows matches the training rows' within sampling
    error (4 standard errors of the two estimates, plus the model's own error on the marginal)."""
    X, y = shop(1500, seed=3)
    aug = GANAugmenter(preset=tiny, random_state=0).fit(X, y)
    S, _ = aug.sample(1500, random_state=0, conditions={"region": "north"})
    real = X.loc[X["region"] == "north", "city"].eq("oslo")
    fake = S["city"].eq("oslo")
    se = np.sqrt(real.mean() * (1 - real.mean()) * (1 / len(real) + 1 / len(fake)))
    S_all, _ = aug.sample(1500, random_state=1)
    marginal_error = abs(S_all["city"].eq("oslo").mean() - X["city"].eq("oslo").mean())
    assert abs(fake.mean() - real.mean()) <= 4 * se + marginal_error
    # and the condition changes the rows: south gives the other city mostly
    S, _ = aug.sample(1500, random_state=0, conditions={"region": "south"})
    assert S["city"].eq("oslo").mean() < fake.mean() - 0.3


# ------------------------------------------------------------------------------ constraints
def test_parse_constraint():
    assert parse_constraint("end >= start")[0] | {"text": ""} == {
        "kind": "compare", "left": "end", "op": ">=", "right": "start", "text": ""}
    low, high = parse_constraint("amount in [0, limit]")
    assert (low["op"], low["right"], high["op"], high["right"]) == (">=", 0, "<=", "limit")
    assert parse_constraint("fixed (city, zip)")[0]["columns"] == ["city", "zip"]
    with pytest.raises(ConstraintError, match="cannot read"):
        parse_constraint("end after start")


def test_constraints_hold_in_every_sampled_row(model):
    aug, gen, _, _ = model
    pairs = {("north", "oslo"), ("north", "bergen"), ("south", "oslo"), ("south", "bergen")}
    for S in (aug.sample(300, random_state=4)[0], gen.sample(300, random_state=4)[0],
              aug.fit_resample(*shop())[0].iloc[400:]):
        assert (S["list_price"] >= S["sale_price"]).all()
        assert S["discount"].between(0, S["list_price"]).all()
        assert set(zip(S["region"], S["city"])) <= pairs
    assert gen.metadata["schema"]["constraints"][0]["text"] == "list_price >= sale_price"


def test_fixed_combinations_allow_only_training_pairs(tiny):
    X, y = shop(300)
    X = X[X["region"].ne("north") | X["city"].ne("bergen")].reset_index(drop=True)  # no (north, bergen)
    aug = GANAugmenter(preset=tiny, random_state=0, constraints=["fixed region, city"]).fit(X, y[: len(X)])
    S, _ = aug.sample(400, random_state=0)
    assert not ((S["region"] == "north") & (S["city"] == "bergen")).any()


def test_constraints_broken_by_the_training_rows_are_refused(tiny):
    X, y = shop(100)
    with pytest.raises(ConstraintError, match="'discount >= list_price'"):
        GANAugmenter(preset=tiny, constraints=["discount >= list_price"]).fit(X, y)
    with pytest.raises(ConstraintError, match="nowhere"):
        GANAugmenter(preset=tiny, constraints=["nowhere >= 0"]).fit(X, y)
    with pytest.raises(ConstraintError, match="not numeric"):
        GANAugmenter(preset=tiny, constraints=["region >= 0"]).fit(X, y)


# ------------------------------------------------------------------------------ parity
@pytest.mark.parametrize("where", [None, {"region": "south", "age": (20, 60)}, {"age": None}])
def test_torch_and_onnx_give_the_same_rows(model, where):
    aug, gen, _, _ = model
    a, ya = aug.sample(500, random_state=5, conditions=where)
    b, yb = gen.sample(500, random_state=5, conditions=where)
    c, _ = aug.model_.sample(500, random_state=5, conditions=where)
    assert_same_rows(a, b)
    assert a.equals(c) and (np.asarray(ya) == np.asarray(yb)).all()


def test_onnx_file_alone_reproduces_the_rules(model, tmp_path):
    aug, gen, _, _ = model
    import shutil

    copy = tmp_path / "alone.onnx"
    shutil.copy(gen.path, copy)  # no sidecar, no artifact
    alone = OnnxGenerator(copy)
    assert alone.schema.relations == aug.model_.codec_.schema_.relations
    assert alone.schema.constraints == aug.model_.codec_.schema_.constraints
    assert alone.target == "churn"
    assert_same_rows(alone.sample(300, random_state=6)[0], aug.sample(300, random_state=6)[0])


def test_artifact_round_trip_keeps_the_rules(model, tmp_path):
    aug, _, _, _ = model
    aug.save(tmp_path / "art")
    text = (tmp_path / "art" / "ganaug.json").read_text()
    assert "sale_price" in text and "pickle" not in text
    loaded = GANAugmenter.load(tmp_path / "art")
    schema = loaded.model_.codec_.schema_
    assert schema == aug.model_.codec_.schema_
    assert loaded.model_.target_name_ == "churn"
    a, _ = aug.sample(200, random_state=7, conditions={"region": "north"})
    b, _ = loaded.sample(200, random_state=7, conditions={"region": "north"})
    assert a.equals(b)


def test_old_schema_without_rules_still_reads():
    X, _ = shop(50)
    d = TableCodec().fit(X).schema_.to_dict()
    d["version"] = 1
    for c in d["columns"]:
        for key in ("decimals", "multiple", "significant"):
            c.pop(key)
    d.pop("relations"), d.pop("constraints")
    schema = Schema.from_dict(d)
    assert schema.relations == [] and schema.columns[0].decimals is None


def test_damaged_relations_are_an_artifact_error():
    from ganaug.errors import ArtifactError

    X, _ = shop(50)
    d = TableCodec(exact=True).fit(X).schema_.to_dict()
    d["relations"][0]["target"] = "nowhere"
    with pytest.raises(ArtifactError, match="relation"):
        Schema.from_dict(d)


def test_clock_relation_and_numeric_level_maps():
    """An HHMM time = another HHMM time + minutes (a departure = the schedule + the delay, across
    hours and midnight), and a numeric store id that fixes a numeric code and a flag."""
    rng = np.random.default_rng(2)
    n = 400
    sched_min = rng.integers(300, 1439, n)
    delay = rng.integers(-10, 200, n).astype(float)
    sched = (sched_min // 60) * 100 + sched_min % 60
    dep_min = (sched_min + delay) % 1440
    dep = (dep_min // 60) * 100 + dep_min % 60
    dep = np.where(dep == 0, 2400, dep).astype(float)
    delay[:30] = dep[:30] = np.nan  # cancelled: both missing
    store_id = rng.choice([1, 2, 3, 7], n)
    X = pd.DataFrame({
        "sched": sched, "delay": delay, "dep": dep, "store_id": store_id,
        "store": pd.Series(store_id).map({1: 0, 2: 1, 3: 2, 7: 3}).to_numpy(),
        "store7": np.where(store_id == 7, "Yes", "No"),
    })
    schema = TableCodec(exact=True).fit(X).schema_
    kinds = {r["target"]: r for r in schema.relations}
    assert kinds["dep"] == {"kind": "clock", "target": "dep", "time": "sched", "minutes": "delay",
                            "sign": 1, "midnight": 2400}
    assert kinds["store"]["source"] == "store_id" and kinds["store7"]["source"] == "store_id"
    assert Schema.from_dict(schema.to_dict()).relations == schema.relations
    # applied to arbitrary decoded values: the rules hold, the id is snapped to its levels
    from ganaug.core.exact import apply, to_minutes

    num_names = [c.name for c in schema.numeric_columns]
    numeric = np.column_stack([
        rng.integers(0, 2400, 50), rng.integers(-10, 300, 50), np.zeros(50), rng.uniform(1, 7, 50),
        np.zeros(50),
    ]).astype(float)
    numeric[:, num_names.index("sched")] = X["sched"].to_numpy()[:50]
    codes = np.zeros((50, 1), dtype=np.int64)
    out, codes = apply(schema, numeric, codes)
    col = {name: out[:, j] for j, name in enumerate(num_names)}
    assert np.isin(col["store_id"], [1, 2, 3, 7]).all()
    expect = np.mod(to_minutes(col["sched"]) + col["delay"], 1440)
    assert (np.mod(to_minutes(col["dep"]), 1440) == expect).all()
    assert (col["store"] == pd.Series(col["store_id"]).map({1: 0, 2: 1, 3: 2, 7: 3}).to_numpy()).all()
    assert ((codes[:, 0] == 1) == (col["store_id"] == 7)).all()  # "Yes" is level 1


# ------------------------------------------------------------------------------ CLI and server
def test_cli_augment_marks_saves_and_sample_keeps_names(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ganaug.cli import main

    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    X, y = shop(150)
    data = tmp_path / "shop.csv"
    X.assign(churn=y).to_csv(data, index=False)
    runner = CliRunner()
    out = tmp_path / "aug.csv"
    result = runner.invoke(main, [
        "augment", str(data), "--target", "churn", "--epochs", "1", "-o", str(out),
        "--mark-synthetic", "is_synthetic", "--save", str(tmp_path / "model"),
        "--constraint", "list_price >= sale_price",
    ])
    assert result.exit_code == 0, result.output
    assert "kept: list_price >= sale_price" in result.output
    rows = pd.read_csv(out)
    assert rows["is_synthetic"].dtype == bool and not rows["is_synthetic"].iloc[:150].any()
    assert rows["is_synthetic"].iloc[150:].all() and len(rows) > 150
    assert (rows["list_price"] >= rows["sale_price"]).all()
    onnx_file = tmp_path / "m.onnx"
    result = runner.invoke(main, ["export", str(tmp_path / "model"), "-o", str(onnx_file)])
    assert result.exit_code == 0, result.output
    assert '"target": "churn"' in (tmp_path / "m.onnx.json").read_text()
    result = runner.invoke(main, ["sample", str(onnx_file), "-n", "20", "--where", "churn=yes",
                                  "--where", "age>=30", "--where", "age<=50"])
    assert result.exit_code == 0, result.output
    import io

    sampled = pd.read_csv(io.StringIO(result.output))
    assert list(sampled.columns)[-1] == "churn" and (sampled["churn"] == "yes").all()
    assert sampled["age"].between(30, 50).all() and len(sampled) == 20
    result = runner.invoke(main, ["sample", str(onnx_file), "-n", "5", "--where", "age>old"])
    assert result.exit_code != 0 and "--where" in result.output
    result = runner.invoke(main, ["augment", str(data), "--target", "churn", "-o", str(out),
                                  "--mark-synthetic", "age"])
    assert result.exit_code != 0 and "already a column" in result.output
    result = runner.invoke(main, ["augment", str(data), "--target", "churn", "--epochs", "1",
                                  "-o", str(out), "--constraint", "discount >= list_price"])
    assert result.exit_code != 0 and "discount >= list_price" in result.output


def test_server_where_and_class_column_name(model):
    from ganaug.runtime import server

    _aug, gen, _, _ = model
    req = server.parse_sample_request(
        b'{"n": 40, "seed": 1, "format": "csv", "where": {"churn": "no", "age": {"min": 20, "max": 30}}}',
        gen, 1000,
    )
    body = server.sample_response("m", gen, req).body.decode()
    rows = pd.read_csv(__import__("io").StringIO(body))
    assert list(rows.columns)[-1] == "churn" and (rows["churn"] == "no").all()
    assert rows["age"].between(20, 30).all() and len(rows) == 40
    for bad, status in ((b'{"n": 5, "where": {"nowhere": 1}}', 422),
                        (b'{"n": 5, "where": {"age": {"low": 1}}}', 400),
                        (b'{"n": 5, "where": [1]}', 400)):
        with pytest.raises(server.ApiError) as err:
            server.parse_sample_request(bad, gen, 1000)
        assert err.value.status == status
    rare = server.parse_sample_request(b'{"n": 5, "where": {"list_price": {"min": 1000}}}', gen, 1000)
    with pytest.raises(server.ApiError) as err:
        import ganaug.core.conditions as c

        old, c.MAX_CANDIDATES = c.MAX_CANDIDATES, 3000
        try:
            server.sample_response("m", gen, rare)
        finally:
            c.MAX_CANDIDATES = old
    assert err.value.status == 422
