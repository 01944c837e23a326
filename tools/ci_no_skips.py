"""pytest plugin: under CI, a skipped test fails the run.

Some tests skip themselves, with a visible reason, where an optional tool is
missing: PyTorch for the reference tests, Playwright for the browser tests.
That is right on a contributor's machine and wrong in CI, where ``make test``
installs all of them: there a skip means a broken install step, and a green
run would hide it. With ``CI`` set in the environment, this plugin lists
every skip and turns a passing run into a failing one.
"""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("CI") or hasattr(session.config, "workerinput"):
        return  # not CI, or an xdist worker (the controller sees every report)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if not skipped:
        return
    reporter.write_sep("=", "skipped under CI", red=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        reason = reason.removeprefix("Skipped: ")
        reporter.write_line(f"{report.nodeid or report.fspath}: {reason}")
    reporter.write_line(
        "CI installs every optional dependency, so nothing may be skipped.",
        red=True,
    )
    if exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
