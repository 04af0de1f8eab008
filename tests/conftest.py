"""Shared fixtures. TensorFlow's C++ logging is silenced before anything imports it."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402

SHARED_SCOPES = ("module", "package", "session")


@pytest.fixture(autouse=True)
def _clear_keras_session():
    yield
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks (--dist loadgroup)
def pytest_collection_modifyitems(items):
    """Tests that share a module-scoped fixture (a trained run, mostly) go to one xdist worker.

    Plain `--dist load` deals tests to the workers one by one, so both would build the fixture.
    """
    for item in items:
        fixture_defs = getattr(item, "_fixtureinfo", None)
        if fixture_defs is None:
            continue
        # baseid "" marks pytest's and plugins' own fixtures (tmp_path_factory is session-scoped)
        shared = any(defs[-1].scope in SHARED_SCOPES and defs[-1].baseid for defs in fixture_defs.name2fixturedefs.values()
                     if defs)
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
