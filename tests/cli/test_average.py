"""cvkit average and cvkit evaluate --ensemble, run in-process on one tiny trained run."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import cvkit
from cvkit.training.config import RunConfig
from cvkit_cli.main import main


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("average") / "run"
    cvkit.train(RunConfig(arch="resnet18", dataset="shapes:96", epochs=3, batch_size=16, image_size=32,
                          backbone_params=dict(cvkit.get_backbone("resnet18").tiny), out=str(out)), verbose=0)
    return out


def _accuracy(model, run):
    from cvkit.training.ensemble import _datasets, _run_context

    _, plan, _ = _run_context(run)
    right = total = 0
    for images, targets in _datasets(plan, model)[1]:
        (probabilities,) = model.predict(images, verbose=0).values()
        (labels,) = targets.values()
        right += int(np.sum(np.argmax(probabilities, -1) == np.asarray(labels).reshape(-1)))
        total += len(probabilities)
    return right / total


def test_average_prints_the_averaged_and_last_scores_it_wrote(run, tmp_path, capsys):
    out = tmp_path / "avg.keras"
    assert main(["average", str(run), "--last", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "checkpoints: epoch-002.keras, epoch-003.keras" in printed
    last, averaged, gain = (float(v) for v in re.search(r"^accuracy\s+(\S+)\s+(\S+)\s+(\S+)$", printed, re.M).groups())
    assert averaged == pytest.approx(_accuracy(cvkit.load_model(out), run), abs=6e-5)
    assert last == pytest.approx(_accuracy(cvkit.load_model(run / "checkpoints" / "epoch-003.keras"), run), abs=6e-5)
    assert gain == pytest.approx(averaged - last, abs=2e-4)
    assert f"wrote {out}" in printed and not (run / "averaged.keras").exists()


def test_evaluate_ensemble_reports_the_gain(run, capsys):
    assert main(["evaluate", str(run), "--ensemble", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["checkpoints"] == ["epoch-002.keras", "epoch-003.keras"]
    assert report["gain"]["accuracy"] == pytest.approx(report["ensemble"]["accuracy"] - report["last"]["accuracy"])
    assert report["last"]["accuracy"] == pytest.approx(_accuracy(cvkit.load_model(run / "checkpoints" / "epoch-003.keras"), run), abs=1e-6)


@pytest.mark.parametrize("args, fragment", [
    (["average", "{tmp}", "--last", "2"], "not a cvkit run directory"),
    (["average", "{run}", "--last", "0"], "--last must be at least 1"),
    (["average", "{run}", "--best", "4"], "--best 4 asks for more checkpoints than"),
    (["average", "{run}", "--last", "2", "--best", "2"], "pass only one of them"),
    (["average", "{run}"], "--last K or --best K"),
    (["evaluate", "{run}", "--ensemble", "4"], "--ensemble 4 asks for more checkpoints"),
])
def test_bad_input_exits_2_with_one_line(run, tmp_path, capsys, args, fragment):
    argv = [a.format(tmp=tmp_path, run=run) for a in args]
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cvkit: error: ") and fragment in lines[0], lines
