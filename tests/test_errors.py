"""The exception hierarchy: one base class, every public error importable from ganaug.errors."""

import inspect

import pytest

import ganaug.core.errors as core_errors
import ganaug.errors as public_errors
from ganaug.errors import DatasetFileNotFoundError, GanaugError, LabelError


def _exceptions(module):
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, Exception)
        and not issubclass(obj, Warning)
        and obj.__module__ == module.__name__
    }


def test_every_exception_shares_the_base_and_stays_a_value_error():
    found = _exceptions(core_errors)
    assert len(found) >= 10
    for name, cls in found.items():
        assert issubclass(cls, GanaugError), name
        assert issubclass(cls, ValueError), name


def test_ganaug_errors_exports_every_error_and_warning():
    defined = {
        name
        for name, obj in vars(core_errors).items()
        if inspect.isclass(obj) and obj.__module__ == core_errors.__name__
    }
    assert defined == set(public_errors.__all__)
    for name in defined:
        assert getattr(public_errors, name) is getattr(core_errors, name)


def test_no_exception_class_outside_core_errors_bypasses_the_base():
    # the modules that used to define their own error classes now re-export the shared ones
    from ganaug.evaluation import MethodSkipped
    from ganaug.registry.datasets import DatasetFileNotFoundError as registry_error

    assert registry_error is DatasetFileNotFoundError
    assert issubclass(MethodSkipped, GanaugError)
    assert issubclass(DatasetFileNotFoundError, FileNotFoundError)


def test_a_raised_error_is_caught_by_the_base():
    import numpy as np

    from ganaug.core.labels import check_labels_present

    with pytest.raises(GanaugError):
        check_labels_present(np.array([None, None], dtype=object))
    assert issubclass(LabelError, GanaugError)


def test_gan_config_is_exported_from_the_package():
    import ganaug
    from ganaug.gan.presets import GANConfig

    assert ganaug.GANConfig is GANConfig
    assert "GANConfig" in dir(ganaug)
