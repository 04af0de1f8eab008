"""Run by test_multihost.py in a fresh JAX process: ``cvkit train ARGS`` through the CLI, then the
trained model's weights (after the final recalibration and save) into an .npz file.

Usage: python multihost_probe.py WEIGHTS.npz TRAIN-ARGS...
"""

from __future__ import annotations

import sys

import numpy as np

from cvkit.training import run as run_module
from cvkit_cli.main import app


def main(weights_file: str, args: list[str]) -> None:
    finish = run_module._finish

    def finish_and_record(prepared, outputs, run_dir):
        results = finish(prepared, outputs, run_dir)
        weights = {f"{index:03d}:{w.path}": np.asarray(w.value) for index, w in enumerate(prepared.model.weights)}
        # every device's copy of every weight, compared with the first (one copy per device of this process)
        copies = [[np.asarray(shard.data) for shard in w.value.addressable_shards] for w in prepared.model.weights]
        same = all(np.array_equal(copy, group[0]) for group in copies for copy in group)
        np.savez(weights_file, **weights, devices=len(copies[0]), replicas_equal=same)
        return results

    run_module._finish = finish_and_record
    app(["train", *args], standalone_mode=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
