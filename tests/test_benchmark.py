"""benchmarks/run.py: a tiny run of every section, and its one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import pytest

from helpers import ROOT

SCRIPT = ROOT / "benchmarks" / "run.py"


def run_bench(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.parametrize("args,fragments", [
    (["--section", "10"], ["unknown section '10'", "1 (throughput)", "9 (jax)"]),
    (["--section", "1,speed"], ["unknown section 'speed'", "5 (first-step)"]),
    (["--arch", "resnet50,vgg16"], ["unknown arch 'vgg16'", "resnet50, densenet121, mobilenet_v2, efficientnet_b0"]),
])
def test_unknown_section_or_arch_is_one_line_listing_the_valid_ones(args, fragments):
    result = run_bench(*args, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("run.py: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.slow
@pytest.mark.heavy  # about a minute and a half; the extended suite runs it
def test_tiny_quick_run_measures_every_section(tmp_path):
    result = run_bench("--tiny", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads((tmp_path / "tiny-cpu.json").read_text())
    assert {row["section"] for row in data["rows"]} == set(range(1, 10))
    assert not [row for row in data["rows"] if "failed" in row["name"]]
    by_section = {row["section"]: row for row in reversed(data["rows"])}  # each section's first row
    table = (tmp_path / "tiny-cpu.md").read_text()
    assert by_section[1]["cvkit"] > 0 and by_section[1]["peer"] > 0 and by_section[1]["ratio"] > 0, table
    assert 0 < by_section[2]["cvkit"] < 1 and 0 < by_section[2]["peer"] < 1, table  # shares of the matmul peak
    assert by_section[5]["cvkit"] > 0 and 0 <= by_section[6]["cvkit"] <= 1, table
    assert "## 1. Training images per second" in table and "## 8. Memory-efficient DenseNet" in table


def test_uv_run_does_not_recompile_the_environment_every_time():
    # compile-bytecode made every `uv run` recompile ~11,000 files (about half a second, plus a
    # "Bytecode compiled" line); Python caches the bytecode of what it imports instead.
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text()).get("tool", {}).get("uv", {})
    assert not settings.get("compile-bytecode")
