"""Plugin machinery: hook specs, registration order, entry points, GANAUG_PLUGINS."""

from __future__ import annotations

import sys
import textwrap
import warnings
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pluggy
import pytest
from click.testing import CliRunner

import ganaug
from ganaug.cli import main
from ganaug.registry import hookspecs
from ganaug.registry import manager as plugins
from ganaug.registry.datasets import DatasetAdapter, DatasetScheme, get_dataset, list_datasets
from ganaug.registry.info import get_plugins
from ganaug.registry.manager import (
    DEFAULT_PLUGINS,
    PluginWarning,
    create_plugin_manager,
    load_entrypoint_plugins,
    load_plugins,
    pm,
)
from ganaug.registry.models import ModelSpec, get_model, list_models, make_model

# every hook in hookspecs.py must appear here and have a test below
TESTED_HOOKS = {
    "register_datasets",  # test_register_datasets_hook
    "register_dataset_schemes",  # test_register_dataset_schemes_hook
    "register_models",  # test_register_models_hook
    "register_commands",  # test_register_commands_hook
}


@pytest.fixture
def register_plugin():
    """Register plugin objects on the global manager; always unregister them."""
    load_plugins()
    names: list[str] = []

    def register(plugin: Any, name: str) -> Any:
        pm.register(plugin, name=name)
        names.append(name)
        return plugin

    yield register
    for name in names:
        if pm.has_plugin(name):
            pm.unregister(name=name)


def _rows() -> tuple[list[list[float]], list[int]]:
    return [[0.0], [1.0]], [0, 1]


def test_every_hookspec_is_tested() -> None:
    specs = {n for n in dir(pm.hook) if not n.startswith("_") and getattr(pm.hook, n).has_spec()}
    assert specs == TESTED_HOOKS


def test_hookimpl_marker_is_exported() -> None:
    assert ganaug.hookimpl is hookspecs.hookimpl
    assert isinstance(hookspecs.hookspec, pluggy.HookspecMarker)


def test_builtin_plugins_load_first_and_once() -> None:
    load_plugins()
    names = [name for name, _ in pm.list_name_plugin()]
    assert names[: len(DEFAULT_PLUGINS)] == list(DEFAULT_PLUGINS)
    load_plugins()  # second call is a no-op
    assert [name for name, _ in pm.list_name_plugin()] == names
    pm.check_pending()


def test_register_datasets_hook(register_plugin) -> None:
    class Plugin:
        @ganaug.hookimpl
        def register_datasets(self, register):
            register(DatasetAdapter("toy", "two rows", "classification", "table", "y", _rows))

    register_plugin(Plugin(), "toy-datasets")
    names = [d.name for d in list_datasets()]
    assert names[:5] == ["breast_cancer", "wine", "iris", "digits", "diabetes"]
    assert names[-1] == "toy"  # plugins registered later are listed after built-ins
    ds = get_dataset("toy")
    assert ds.plugin == "toy-datasets"
    assert ds.load() == _rows()


def test_register_dataset_schemes_hook(register_plugin) -> None:
    seen = []

    def factory(path: str, target: str | None) -> DatasetAdapter:
        seen.append((path, target))
        return DatasetAdapter(f"mem:{path}", "memory", "classification", "table", "y", _rows)

    class Plugin:
        @ganaug.hookimpl
        def register_dataset_schemes(self, register):
            register(DatasetScheme("mem", "in-memory data", factory, extensions=(".mem",)))

    register_plugin(Plugin(), "mem-scheme")
    assert get_dataset("MEM:abc", target="y").plugin == "mem-scheme"
    assert get_dataset("data/file.mem").name == "mem:data/file.mem"
    assert seen == [("abc", "y"), ("data/file.mem", None)]


def test_register_models_hook(register_plugin) -> None:
    from sklearn.dummy import DummyClassifier

    def factory(random_state: int | None = None) -> DummyClassifier:
        return DummyClassifier(random_state=random_state)

    class Plugin:
        @ganaug.hookimpl
        def register_models(self, register):
            register(ModelSpec("dummy", "classification", "constant", factory))

    register_plugin(Plugin(), "dummy-models")
    assert get_model("dummy").plugin == "dummy-models"
    assert list_models("classification")[-1].name == "dummy"
    model = make_model("dummy", random_state=3)
    assert model.random_state == 3
    assert list(model.fit(*_rows()).predict([[5.0]])) in ([0], [1])


def test_register_commands_hook(register_plugin) -> None:
    class Plugin:
        @ganaug.hookimpl
        def register_commands(self, cli):
            @cli.command()
            def hello():
                """Say hello."""
                print("hello from a plugin")

            @cli.command(name="models")
            def models_clash():
                """Clashes with a built-in command."""

    register_plugin(Plugin(), "hello-cmd")
    runner = CliRunner()
    with pytest.warns(PluginWarning, match="'models' from plugin 'hello-cmd' clashes"):
        result = runner.invoke(main, ["hello"])
    assert result.exit_code == 0, result.output
    assert "hello from a plugin" in result.output
    result = runner.invoke(main, ["--help"])  # harvested once: no second warning
    assert "hello " in result.output and "models " in result.output
    result = runner.invoke(main, ["models", "--json"])
    assert '"logreg"' in result.output  # the built-in command won
    info = {p.name: p for p in get_plugins()}["hello-cmd"]
    assert info.commands == ("hello", "models") and info.hooks == ("register_commands",)


def test_duplicate_command_names_warn_and_first_wins(register_plugin) -> None:
    def command_plugin(text: str) -> object:
        class Plugin:
            @ganaug.hookimpl
            def register_commands(self, cli):
                @cli.command(name="greet")
                def greet():
                    print(text)

        return Plugin()

    register_plugin(command_plugin("first"), "greet-a")
    register_plugin(command_plugin("second"), "greet-b")
    with pytest.warns(PluginWarning, match="'greet-b'.*'greet-a'"):
        result = CliRunner().invoke(main, ["greet"])
    assert result.output.strip() == "first"


def test_duplicate_dataset_names_both_plugins(register_plugin) -> None:
    class Plugin:
        @ganaug.hookimpl
        def register_datasets(self, register):
            register(DatasetAdapter("iris", "fake", "classification", "table", "y", _rows))

    register_plugin(Plugin(), "fake-iris")
    with pytest.raises(ValueError, match=r"'iris'.*'fake-iris'.*sklearn_datasets"):
        list_datasets()


def test_duplicate_model_names_both_plugins(register_plugin) -> None:
    class Plugin:
        @ganaug.hookimpl
        def register_models(self, register):
            register(ModelSpec("rf", "regression", "fake", lambda random_state=None: None))

    register_plugin(Plugin(), "fake-rf")
    with pytest.raises(ValueError, match=r"regression model 'rf'.*'fake-rf'.*sklearn_models"):
        list_models()


def test_duplicate_scheme_names_both_plugins(register_plugin) -> None:
    class Plugin:
        @ganaug.hookimpl
        def register_dataset_schemes(self, register):
            register(DatasetScheme("CSV", "fake", lambda path, target: None))

    register_plugin(Plugin(), "fake-csv")
    with pytest.raises(ValueError, match=r"'CSV'.*'fake-csv'.*file_datasets"):
        get_dataset("csv:x.csv")


def test_register_rejects_wrong_objects(register_plugin) -> None:
    class Plugin:
        @ganaug.hookimpl
        def register_models(self, register):
            register("not a spec")

    register_plugin(Plugin(), "bad-register")
    with pytest.raises(TypeError, match="'bad-register'.*ModelSpec"):
        list_models()


# ---------------------------------------------------------------- entry points


@dataclass
class FakeEntryPoint:
    name: str
    value: str
    dist: Any = None
    group: str = "ganaug"

    def load(self) -> Any:
        import importlib

        return importlib.import_module(self.value)


def _write_module(path, name: str, body: str) -> None:
    (path / f"{name}.py").write_text(textwrap.dedent(body))
    sys.modules.pop(name, None)


@pytest.fixture
def fake_entry_points(tmp_path, monkeypatch):
    """Fake installed plugins: good, broken on import, misspelled hook, bad signature."""
    monkeypatch.syspath_prepend(str(tmp_path))
    hook = "from ganaug import hookimpl\n"
    _write_module(
        tmp_path,
        "ganaug_test_good",
        hook + "@hookimpl\ndef register_models(register):\n    pass\n",
    )
    _write_module(tmp_path, "ganaug_test_broken", "raise RuntimeError('boom')\n")
    _write_module(
        tmp_path,
        "ganaug_test_typo",
        hook + "@hookimpl\ndef register_modles(register):\n    pass\n",
    )
    _write_module(
        tmp_path,
        "ganaug_test_badsig",
        hook + "@hookimpl\ndef register_models(registr):\n    pass\n",
    )
    eps = [
        FakeEntryPoint(
            "broken", "ganaug_test_broken", SimpleNamespace(name="broken-dist", version="1")
        ),
        FakeEntryPoint(
            "good", "ganaug_test_good", SimpleNamespace(name="ganaug-good", version="2.0")
        ),
        FakeEntryPoint("typo", "ganaug_test_typo"),
        FakeEntryPoint("badsig", "ganaug_test_badsig"),
    ]
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: list(eps))
    yield eps
    for ep in eps:
        sys.modules.pop(ep.value, None)


def test_failing_plugin_warns_and_others_load(fake_entry_points) -> None:
    manager = create_plugin_manager()
    with pytest.warns(PluginWarning) as record:
        loaded = load_entrypoint_plugins(manager, allowed=None)
    messages = [str(w.message) for w in record]
    assert any("'broken (broken-dist)' failed to load: RuntimeError: boom" in m for m in messages)
    assert any("'badsig' failed to load" in m for m in messages)
    assert any("'typo'" in m and "unknown hook 'register_modles'" in m for m in messages)
    assert [(name, dist) for name, _, dist in loaded] == [
        ("good", ("ganaug-good", "2.0")),
        ("typo", None),
    ]
    assert manager.has_plugin("good") and not manager.has_plugin("broken")


def test_check_pending_catches_misspelled_hook() -> None:
    class Typo:
        @ganaug.hookimpl
        def register_dataset(self, register):  # missing "s"
            pass

    manager = create_plugin_manager()
    manager.register(Typo(), name="typo")
    with pytest.raises(pluggy.PluginValidationError, match="register_dataset"):
        manager.check_pending()
    assert plugins.unknown_hooks(manager, manager.get_plugin("typo")) == ["register_dataset"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"good", "typo"}),
        ("", set()),
        ("good", {"good"}),
        ("ganaug_good", {"good"}),  # distribution name, normalised
        (" typo , GOOD ", {"good", "typo"}),
    ],
)
def test_env_var_restricts_plugins(fake_entry_points, monkeypatch, value, expected) -> None:
    if value is None:
        monkeypatch.delenv(plugins.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(plugins.ENV_VAR, value)
    manager = create_plugin_manager()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        loaded = load_entrypoint_plugins(manager)
    assert {name for name, _, _ in loaded} == expected


def test_env_var_unknown_name_warns(fake_entry_points, monkeypatch) -> None:
    monkeypatch.setenv(plugins.ENV_VAR, "good,nonexistent")
    with pytest.warns(PluginWarning, match="'nonexistent'"):
        loaded = load_entrypoint_plugins(create_plugin_manager())
    assert [name for name, _, _ in loaded] == ["good"]


def test_plugin_info_lists_builtins() -> None:
    infos = {p.name: p for p in get_plugins()}
    sk = infos["ganaug.default_plugins.sklearn_datasets"]
    assert sk.builtin and sk.package is None
    assert sk.datasets == ("breast_cancer", "wine", "iris", "digits", "diabetes")
    assert infos["ganaug.default_plugins.file_datasets"].dataset_schemes == (
        "csv",
        "parquet",
        "npz",
    )
    models = infos["ganaug.default_plugins.sklearn_models"].to_dict()["models"]
    assert {"name": "ridge", "task": "regression"} in models


def test_cli_reports_plugin_load_warnings(fake_entry_points, monkeypatch) -> None:
    monkeypatch.delenv(plugins.ENV_VAR, raising=False)
    monkeypatch.setattr(plugins, "_loaded", False)
    monkeypatch.setattr(plugins, "_distributions", {})
    try:
        result = CliRunner().invoke(main, ["models", "--json"])
        assert result.exit_code == 0 and "Traceback" not in result.output
        assert "Warning: ganaug plugin 'broken (broken-dist)' failed to load" in result.stderr
        assert pm.has_plugin("good")  # the healthy plugin still loaded
        assert '"logreg"' in result.stdout
    finally:
        for name in ("good", "typo"):
            if pm.has_plugin(name):
                pm.unregister(name=name)


def test_plugin_commands_harvested_once_per_plugin_set(register_plugin, monkeypatch) -> None:
    """list_commands/get_command reuse the harvest until a plugin is (un)registered."""
    from ganaug.registry import manager

    calls = []
    real = manager.collect_commands
    monkeypatch.setattr(manager, "collect_commands", lambda *a: calls.append(1) or real(*a))
    runner = CliRunner()
    for _ in range(3):
        assert runner.invoke(main, ["--help"]).exit_code == 0
    assert len(calls) <= 1

    class Plugin:
        @ganaug.hookimpl
        def register_commands(self, cli):
            @cli.command()
            def bonjour():
                print("bonjour")

    register_plugin(Plugin(), "bonjour-cmd")
    assert runner.invoke(main, ["bonjour"]).output.strip() == "bonjour"
    assert len(calls) <= 2


def test_hook_order_follows_tryfirst_trylast_then_registration(register_plugin) -> None:
    """Each plugin is called through pluggy's hook call; tryfirst/trylast order the calls."""
    from ganaug.registry.manager import call_order, call_register_hook

    seen = []

    def plugin(tag, **marker):
        class Plugin:
            @ganaug.hookimpl(**marker)
            def register_models(self, register):
                seen.append(tag)

        return Plugin()

    register_plugin(plugin("last", trylast=True), "p-last")
    register_plugin(plugin("plain-1"), "p-plain-1")
    register_plugin(plugin("first", tryfirst=True), "p-first")
    register_plugin(plugin("plain-2"), "p-plain-2")
    names = [name for name, _ in call_order("register_models", pm)]
    assert names[0] == "p-first" and names[-1] == "p-last"
    assert names.index("p-plain-1") < names.index("p-plain-2")
    assert names[1] == "ganaug.default_plugins.sklearn_models"  # built-ins before later plugins
    call_register_hook("register_models", lambda name: lambda spec: None)
    assert seen == ["first", "plain-1", "plain-2", "last"]
