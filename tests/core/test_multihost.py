"""Data-parallel training on JAX: two processes on 127.0.0.1 train as one process on the global
batch does, and two local devices as one device does (BatchNorm statistics included)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROBE = Path(__file__).with_name("multihost_probe.py")
# tiny resnet18 (it has BatchNorm), 32 training images = 4 whole steps of 8, 8 validation images;
# no recalibration, so the saved moving statistics are the ones the sharded training steps left
TRAIN = ["--arch", "resnet18", "--set", "blocks=[1,1,1,1]", "--set", "stage_widths=[8,16,32,64]",
         "--set", "stem_filters=8", "-d", "shapes:40", "--batch-size", "8", "--image-size", "32",
         "--epochs", "1", "--optimizer", "sgd", "--lr", "0.01", "--schedule", "constant",
         "--bn-recalibration-batches", "0", "--out", "run"]
TIMEOUT = 600  # seconds for all processes: a hung peer fails the test instead of hanging CI
TOLERANCE = 1e-5  # measured: 2.3e-6 (moving variances; float sums in another order)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(workdir: Path, weights: Path, args: list[str], devices: int = 1, **env: str) -> subprocess.Popen:
    """The probe in its own working directory (so --out run is a directory of its own)."""
    workdir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
                "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", **env}
    log = open(workdir.parent / f"{workdir.name}.log", "w")
    return subprocess.Popen([sys.executable, str(PROBE), str(weights), *TRAIN, *args], cwd=workdir, env=full_env,
                            stdout=log, stderr=subprocess.STDOUT)


def finish(processes: dict[str, subprocess.Popen], tmp_path: Path) -> None:
    """Wait for every process within TIMEOUT; any that fails or hangs fails the test (the rest are killed)."""
    try:
        for name, process in processes.items():
            process.wait(timeout=TIMEOUT)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    for name, process in processes.items():
        assert process.returncode == 0, (name, (tmp_path / f"{name}.log").read_text()[-3000:])


def weights(path: Path) -> dict[str, np.ndarray]:
    return dict(np.load(path))


def assert_close(got: dict, want: dict) -> None:
    names = [name for name in want if ":" in name]
    assert names and [name for name in got if ":" in name] == names
    for name in names:
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=TOLERANCE, err_msg=name)


@pytest.mark.slow  # three JAX processes train 4 steps each (the brief asks it in the default run)
def test_two_processes_train_bitwise_alike_and_as_one_process_on_the_global_batch(tmp_path):
    hosts = ["--coordinator", f"127.0.0.1:{free_port()}", "--num-processes", "2", "--coordinator-timeout", "120"]
    scratch = tmp_path / "tmp1"
    scratch.mkdir()
    processes = {
        "p0": start(tmp_path / "p0", tmp_path / "w0.npz", [*hosts, "--process-id", "0"]),
        "p1": start(tmp_path / "p1", tmp_path / "w1.npz", [*hosts, "--process-id", "1"], TMPDIR=str(scratch)),
        "one": start(tmp_path / "one", tmp_path / "one.npz", []),
    }
    finish(processes, tmp_path)
    first, second, one = (weights(tmp_path / f"{name}.npz") for name in ("w0", "w1", "one"))
    for name in first:
        assert np.array_equal(first[name], second[name]), name  # bitwise, BatchNorm statistics included
    assert_close(first, one)
    run = tmp_path / "p0" / "run"  # written once: by process 0, nothing by process 1 (not even scratch)
    for name in ("model.keras", "metrics.json", "checkpoints/epoch-001.keras", "curves.png"):
        assert (run / name).is_file(), name
    assert len((run / "metrics.csv").read_text().strip().splitlines()) == 2  # the header and one epoch
    assert json.loads((run / "config.json").read_text())["num_processes"] == 2
    assert not any((tmp_path / "p1").iterdir()) and not list(scratch.glob("cvkit-worker-*"))
    assert "process 1 of 2 finished" in (tmp_path / "p1.log").read_text()


@pytest.mark.slow
@pytest.mark.heavy  # two more JAX processes; the two-process test above covers the same DataParallel path
def test_data_parallel_over_two_local_devices_keeps_one_device_batch_norm(tmp_path):
    ema = ["--ema", "0.9"]  # the saved average too (on JAX a compiled step once deleted the buffer it shared)
    processes = {
        "two": start(tmp_path / "two", tmp_path / "two.npz", ["--strategy", "data-parallel", *ema], devices=2),
        "one": start(tmp_path / "one", tmp_path / "one.npz", ema),
    }
    finish(processes, tmp_path)
    two, one = weights(tmp_path / "two.npz"), weights(tmp_path / "one.npz")
    assert int(two["devices"]) == 2 and bool(two["replicas_equal"])  # one replicated value on both devices
    assert_close(two, one)
    assert json.loads((tmp_path / "two" / "run" / "config.json").read_text())["strategy"] == "data-parallel"
