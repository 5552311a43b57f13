"""Suite-wide rule: a test skipped because a dependency is missing is a failure.

The README's test command installs the dev extras, so every optional dependency the tests use
is there; a skip for a missing import means the install is broken, and a green run must not hide
it. ``GANAUG_ALLOW_MISSING_DEPS=1`` turns the rule off for a partial local environment.
"""

from __future__ import annotations

import os

import pytest

#: substrings of the skip reasons that pytest.importorskip and our own guards produce
_MISSING_DEPENDENCY = ("could not import", "not installed", "no module named")


def _missing_dependency(report: pytest.TestReport) -> bool:
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return False
    reason = str(report.longrepr[2]).lower()
    return any(marker in reason for marker in _MISSING_DEPENDENCY)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if os.environ.get("GANAUG_ALLOW_MISSING_DEPS") != "1" and _missing_dependency(report):
        report.outcome = "failed"
        report.longrepr = f"skipped for a missing dependency (a failure here): {report.longrepr[2]}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    # module-level pytest.importorskip skips the whole module at collection time
    report = yield
    if os.environ.get("GANAUG_ALLOW_MISSING_DEPS") != "1" and _missing_dependency(report):
        report.outcome = "failed"
        report.longrepr = f"skipped for a missing dependency (a failure here): {report.longrepr[2]}"
    return report
