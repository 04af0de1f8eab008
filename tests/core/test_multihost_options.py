"""Data-parallel and multi-host options: their one-line errors, and each process's slice of a batch."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from cvkit import CvkitError
from cvkit.training.config import RunConfig
from cvkit.training.distribute import check_batch_split
from tests.helpers import run_python

HOSTS = dict(coordinator="127.0.0.1:12355", num_processes=2)


@pytest.mark.parametrize("settings,message", [
    ({**HOSTS, "process_id": 2}, r"--process-id 2 is outside \[0, 2\)"),
    ({**HOSTS, "process_id": -1}, r"--process-id -1 is outside \[0, 2\)"),
    ({"coordinator": "127.0.0.1:12355", "process_id": 0}, "add --num-processes"),
    ({"num_processes": 2, "process_id": 0}, "add --coordinator"),
    ({**HOSTS, "process_id": 0, "coordinator": "node0"}, "is not HOST:PORT"),
    ({**HOSTS, "process_id": 0, "strategy": "mirrored"}, "multi-host runs are data-parallel"),
    ({"coordinator_timeout": 0}, "--coordinator-timeout must be a positive number"),
    ({"strategy": "data-paralel"}, "did you mean 'data-parallel'"),
])
def test_bad_multi_host_settings_are_refused(settings, message):
    with pytest.raises(CvkitError, match=message):
        RunConfig(**settings).validate()


def test_a_batch_that_does_not_split_over_the_devices_names_sizes_that_do():
    check_batch_split(12, 4)
    with pytest.raises(CvkitError, match="--batch-size 10 does not split evenly over 4 devices; use a multiple of 4, e.g. 8 or 12"):
        check_batch_split(10, 4)
    with pytest.raises(CvkitError, match="e.g. 3$"):
        check_batch_split(2, 3)


def test_multi_host_flags_on_tensorflow_are_refused():
    from cvkit.training.multihost import start_processes

    with pytest.raises(CvkitError, match="need the JAX backend.*not tensorflow"):
        start_processes(RunConfig(**HOSTS, process_id=0))


def test_resuming_with_another_process_count_is_refused(tmp_path):
    from cvkit.training.resume import resume_point

    RunConfig(**HOSTS, process_id=0, out=str(tmp_path)).write(tmp_path)
    with pytest.raises(CvkitError, match="trained with 2 processes, not 1; resume it with --num-processes 2"):
        resume_point(tmp_path, {})
    with pytest.raises(CvkitError, match="trained with 2 processes, not 3"):
        resume_point(tmp_path, {"num_processes": 3, "process_id": 0})


def test_an_unreachable_coordinator_fails_within_the_timeout():
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = ("from cvkit.errors import CvkitError\nfrom cvkit.training.config import RunConfig\n"
            "from cvkit.training.multihost import join_coordinator\n"
            f"config = RunConfig(coordinator='127.0.0.1:{port}', num_processes=2, process_id=1, coordinator_timeout=2)\n"
            "try:\n    join_coordinator(config)\nexcept CvkitError as error:\n    print(error)\n")
    start = time.monotonic()
    result = run_python(code, env={"KERAS_BACKEND": "jax"}, timeout=120)
    message = result.stdout.strip()
    assert f"could not reach the coordinator at 127.0.0.1:{port} within 2 s" in message, result.stderr[-2000:]
    assert len(message.splitlines()) == 1 and "--coordinator-timeout" in message
    assert time.monotonic() - start < 90  # the import, then the 2-second wait: no hang


def test_each_process_keeps_its_slice_of_every_whole_batch():
    import tensorflow as tf

    from cvkit.training.engine import make_pipeline

    data = tf.data.Dataset.from_tensor_slices({"images": np.arange(10, dtype="float32")[:, None]})

    def batches(**kwargs):
        ds = make_pipeline(data, batch_size=4, to_xy=lambda b: b["images"], num_examples=10, **kwargs)
        return [batch.numpy()[:, 0].tolist() for batch in ds]

    whole = batches(full_batches=True)
    assert whole == [[0, 1, 2, 3], [4, 5, 6, 7]]  # the remainder of 2 is dropped
    parts = [batches(full_batches=True, shard=(index, 2)) for index in range(2)]
    assert [a + b for a, b in zip(*parts)] == whole
    stream = make_pipeline(data, batch_size=4, to_xy=lambda b: b["images"], num_examples=10, shuffle=True,
                           epochs=range(0, 1), full_batches=True)
    sizes = [len(batch) for batch in stream]
    assert sizes == [4, 4, 4]  # three steps, the last filled from the epoch's start


def test_tensorflow_is_kept_off_the_gpu_under_jax(monkeypatch):
    import tensorflow as tf

    from cvkit.runtime import hide_gpus_from_tensorflow

    calls = []
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda devices, kind: calls.append((devices, kind)))
    hide_gpus_from_tensorflow()
    assert calls == [([], "GPU")]
