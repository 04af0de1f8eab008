"""Shared fixtures. TensorFlow's C++ logging is silenced before anything imports it."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402

SHARED_FIXTURE = re.compile(r"""@pytest\.fixture\([^)]*scope=["'](module|package|session)["']""")


@pytest.fixture(autouse=True)
def _clear_keras_session():
    yield
    import sys

    if "keras" in sys.modules:
        # Keras' names, dtype policy and kernel cache; without its full garbage collection, which cost
        # about 0.2 s of CPU after every test (measured; Python's own collector still frees the cycles)
        sys.modules["keras"].backend.clear_session(free_memory=False)


@functools.cache
def shares_a_fixture(module: Path) -> bool:
    """Whether a test module defines a fixture its tests share (a trained run, mostly)."""
    try:
        return bool(SHARED_FIXTURE.search(module.read_text()))
    except OSError:
        return False


@pytest.hookimpl(optionalhook=True)  # an xdist hook: pytest -p no:xdist still runs
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``: tests go to the workers one by one, except that a module sharing a
    fixture goes whole to one worker. Plain ``load`` deals a module's tests to both workers, so
    each built its trained run; xdist's own loadgroup needs nodeids pytest 9 no longer lets it
    rename, so the grouping is done here, where the scheduler sees nodeids only."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if shares_a_fixture(config.rootpath / path) else nodeid

    return SharedFixtureScheduling(config, log)
