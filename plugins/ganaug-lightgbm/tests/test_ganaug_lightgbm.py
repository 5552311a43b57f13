"""ganaug finds the ganaug-lightgbm plugin through its entry point, lists it and uses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import metadata

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

try:
    DIST = metadata.distribution("ganaug-lightgbm")
except metadata.PackageNotFoundError:  # pragma: no cover
    pytest.skip(
        "ganaug-lightgbm is not installed: pip install -e ./plugins/ganaug-lightgbm",
        allow_module_level=True,
    )

from ganaug.cli import main
from ganaug.registry.datasets import get_dataset
from ganaug.registry.info import get_plugins
from ganaug.registry.manager import load_plugins, pm
from ganaug.registry.models import get_model, list_models, make_model


def test_entry_point_is_advertised() -> None:
    (ep,) = [ep for ep in metadata.entry_points(group="ganaug") if ep.name == "lightgbm"]
    assert ep.value == "ganaug_lightgbm"
    assert ep.dist is not None and ep.dist.name.replace("_", "-") == "ganaug-lightgbm"
    assert [e.name for e in DIST.entry_points if e.group == "ganaug"] == ["lightgbm"]


def test_plugin_is_loaded_from_its_entry_point(monkeypatch) -> None:
    monkeypatch.delenv("GANAUG_PLUGINS", raising=False)
    load_plugins()
    import ganaug_lightgbm

    assert pm.get_plugin("lightgbm") is ganaug_lightgbm
    info = {p.name: p for p in get_plugins()}["lightgbm"]
    assert not info.builtin
    assert (info.package.replace("_", "-"), info.version) == ("ganaug-lightgbm", DIST.version)
    assert info.models == (("lgbm", "classification"), ("lgbm", "regression"))


def test_plugin_is_listed_by_cli() -> None:
    result = CliRunner().invoke(main, ["plugins", "--json"])
    plugins = {p["name"]: p for p in json.loads(result.output)}
    assert plugins["lightgbm"]["hooks"] == ["register_models"]
    assert {"name": "lgbm", "task": "regression"} in plugins["lightgbm"]["models"]
    names = [(s.name, s.task, s.plugin) for s in list_models()]
    assert ("lgbm", "classification", "lightgbm") in names
    assert names[0][2] == "ganaug.default_plugins.sklearn_models"  # built-ins first


@pytest.mark.skipif(shutil.which("ganaug") is None, reason="ganaug executable not installed")
@pytest.mark.parametrize(
    ("value", "listed"), [(None, True), ("", False), ("ganaug-lightgbm", True)]
)
def test_executable_lists_plugin(value, listed) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GANAUG_PLUGINS"}
    if value is not None:
        env["GANAUG_PLUGINS"] = value
    result = subprocess.run(
        ["ganaug", "plugins", "--json"], capture_output=True, text=True, env=env, check=True
    )
    assert ("lightgbm" in {p["name"] for p in json.loads(result.stdout)}) is listed


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_lgbm_fits_and_predicts(task) -> None:
    name = "breast_cancer" if task == "classification" else "diabetes"
    X, y = get_dataset(name).load()
    model = make_model("lgbm", task, random_state=0)
    assert get_model("lgbm", task).plugin == "lightgbm"
    assert model.get_params()["model__n_jobs"] == 1
    assert model.fit(X, y).score(X, y) > 0.5
    rng = np.random.default_rng(0)
    mixed = pd.DataFrame(
        {"num": rng.normal(size=60), "cat": rng.choice(["a", "b", None], 60)}
    ).astype({"cat": object})
    target = rng.integers(0, 2, 60) if task == "classification" else rng.normal(size=60)
    assert make_model("lgbm", task).fit(mixed, target).predict(mixed).shape == (60,)
