"""Training across hosts: one process per host, joined by JAX's distributed runtime.

``--coordinator HOST:PORT --num-processes N --process-id I`` calls ``jax.distributed.initialize``
before anything else touches JAX, then the run is data-parallel over every process's devices
(:func:`cvkit.training.distribute.keras_distribution`). Every process runs the same steps in the
same order (the collectives need it); only process 0 writes the run directory, the others work in
a private scratch directory deleted when they exit.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError

MULTI_HOST_FLAGS = ("--coordinator", "--num-processes", "--process-id")


def is_multi_host(config: Any) -> bool:
    return config.coordinator is not None or (config.num_processes or 1) > 1


def is_chief(config: Any) -> bool:
    """Whether this process writes the run directory: process 0, or the only process."""
    return not config.process_id


def check_multi_host_settings(config: Any) -> None:
    """The three flags come together, with a HOST:PORT address and an id in [0, N)."""
    given = (config.coordinator, config.num_processes, config.process_id)
    if isinstance(config.coordinator_timeout, bool) or not isinstance(config.coordinator_timeout, int | float) \
            or config.coordinator_timeout <= 0:
        raise CvkitError(f"--coordinator-timeout must be a positive number of seconds, got {config.coordinator_timeout!r}")
    if all(value is None for value in given) or given[1] == 1 and given[0] is None and given[2] in (None, 0):
        return
    missing = [flag for flag, value in zip(MULTI_HOST_FLAGS, given) if value is None]
    if missing:
        raise CvkitError(f"multi-host training needs {', '.join(MULTI_HOST_FLAGS)} together; add {', '.join(missing)}")
    count, index = config.num_processes, config.process_id
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise CvkitError(f"--num-processes must be a positive whole number, got {count!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise CvkitError(f"--process-id {index!r} is outside [0, {count}); give the {count} processes "
                         f"the ids 0 to {count - 1}, one each")
    host, _, port = str(config.coordinator).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CvkitError(f"--coordinator {config.coordinator!r} is not HOST:PORT; give process 0's address "
                         f"and a free port, e.g. node0:12355")
    if config.strategy == "mirrored":
        raise CvkitError("--strategy mirrored is one host's; multi-host runs are data-parallel over every "
                         "process's devices: drop --strategy or use --strategy data-parallel")


def start_processes(config: Any) -> None:
    """Join the other processes through the coordinator (a no-op on one host or when joined)."""
    if not is_multi_host(config):
        return
    from cvkit.runtime import import_keras

    backend = import_keras().backend.backend()
    if backend != "jax":
        raise CvkitError(f"{'/'.join(MULTI_HOST_FLAGS)} need the JAX backend (TensorFlow's multi-worker "
                         f"training does not work with Keras 3's fit), not {backend}; pass --backend jax")
    join_coordinator(config)


def join_coordinator(config: Any) -> None:
    """``jax.distributed.initialize`` with the run's address, count, id and timeout; one-line errors."""
    import jax

    if jax.distributed.is_initialized():
        return
    # CPU devices of different processes exchange their all-reduces over gloo (the XLA default
    # has no cross-process CPU collectives); GPUs and TPUs keep their own.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    timeout = max(1, round(config.coordinator_timeout))
    if config.process_id and not coordinator_answers(config.coordinator, timeout):
        # JAX ends the process on a failed connect (no exception to catch), so look first
        raise CvkitError(
            f"process {config.process_id} of {config.num_processes} could not reach the coordinator at "
            f"{config.coordinator} within {timeout} s; start process 0 there first with the same --coordinator "
            f"(its address and a free port), check the port is open, or raise --coordinator-timeout")
    try:
        # the same timeout for a peer that stops answering and for the goodbye at exit, so a
        # lost process fails the others instead of hanging them
        jax.distributed.initialize(coordinator_address=config.coordinator, num_processes=config.num_processes,
                                   process_id=config.process_id, initialization_timeout=timeout,
                                   heartbeat_timeout_seconds=max(10, timeout), shutdown_timeout_seconds=timeout)
    except Exception as exc:  # jaxlib raises its runtime error for a timeout or a refused address
        detail = " ".join(str(exc).split())[:160]
        if "initialize" in detail and "before" in detail:  # JAX already ran a computation in this process
            raise CvkitError("multi-host training must start before JAX computes anything in the process; "
                             "run cvkit train in a fresh process") from None
        raise CvkitError(
            f"process {config.process_id} of {config.num_processes} could not join the coordinator at "
            f"{config.coordinator} within {timeout} s ({detail}); start all {config.num_processes} processes "
            f"with the same --coordinator (process 0's address and a free port), or raise --coordinator-timeout"
        ) from None


def coordinator_answers(address: str, timeout: float) -> bool:
    """Whether something accepts TCP connections at HOST:PORT within ``timeout`` seconds."""
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=max(0.1, min(1.0, left))):
                return True
        except OSError:
            if left <= 0:
                return False
            time.sleep(min(0.2, max(0.0, left)))


def stop_processes() -> None:
    """Leave the coordinator together (every process calls it after the run), so none waits at exit
    for a process 0 that has already gone."""
    import sys

    if "jax" in sys.modules and sys.modules["jax"].distributed.is_initialized():
        sys.modules["jax"].distributed.shutdown()


def worker_run_dir(resumed_from: Path | None) -> Path:
    """A scratch directory for a process other than 0: the same files are written there (every
    process runs the same steps) and deleted at exit. A resumed run starts from a copy of the run."""
    scratch = Path(tempfile.mkdtemp(prefix="cvkit-worker-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    if resumed_from is not None:
        shutil.copytree(resumed_from, scratch, dirs_exist_ok=True)
    return scratch


def check_resume_processes(run_dir: Path, stored: Any, given: dict[str, Any]) -> None:
    """A run resumes with the process count it trained with (the batch shards, and so the run, depend on it)."""
    trained, now = stored.num_processes or 1, given.get("num_processes") or 1
    if trained != now:
        raise CvkitError(f"run {run_dir} trained with {trained} process{'es' if trained > 1 else ''}, not {now}; "
                         f"resume it with --num-processes {trained} (one process per host), or start a new run with --out")
