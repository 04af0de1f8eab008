"""A plugin written only from docs/writing-a-plugin.md installs, lists, builds, trains and
passes its documented contract tests (``cvkit.testing``) run as a third party runs them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT, run_cli

DOCUMENTED_TESTS = "tests/test_contract.py"


def write_plugin_from_docs(dest):
    """Every code block preceded by ``<!-- file: PATH -->`` in the guide, written to PATH."""
    text = (ROOT / "docs" / "writing-a-plugin.md").read_text()
    files = re.findall(r"<!-- file: (\S+) -->\s*```\w*\n(.*?)```", text, re.S)
    assert {path for path, _ in files} >= {"pyproject.toml", "src/cvkit_tinynet/plugin.py", "src/cvkit_tinynet/backbone.py",
                                           DOCUMENTED_TESTS}
    for path, body in files:
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    return dest


@pytest.mark.slow
def test_plugin_from_the_docs_is_listed_and_trains(tmp_path):
    uv = shutil.which("uv")
    assert uv, "uv is needed to install the throwaway plugin distribution"
    package = write_plugin_from_docs(tmp_path / "cvkit-tinynet")
    site = tmp_path / "site"
    install = subprocess.run(
        [uv, "pip", "install", "--no-deps", "--target", str(site), "--python", sys.executable, str(package)],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    env = {"PYTHONPATH": str(site)}

    listed = run_cli("list", "archs", env=env)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"tinynet_s\s+tinynet\s.*cvkit-tinynet", listed.stdout), listed.stdout
    plugins = run_cli("plugins", env=env)
    assert re.search(r"tinynet\s+cvkit-tinynet\s+0\.1\.0\s+ok", plugins.stdout), plugins.stdout

    run = tmp_path / "run"
    trained = run_cli("train", "--arch", "tinynet", "--dataset", "shapes:64", "--epochs", "1", "--out", str(run), env=env)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "validation accuracy:" in trained.stdout
    assert (run / "model.keras").is_file()
    evaluated = run_cli("evaluate", str(run), env=env)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]

    checked = run_documented_tests(package, env)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    assert re.search(r"\b2 passed\b", checked.stdout), checked.stdout[-2000:]


def run_documented_tests(package, env):
    """``pytest tests/test_contract.py`` in the package, in a fresh process, as its author would."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", DOCUMENTED_TESTS],
        cwd=package, capture_output=True, text=True, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
    )
