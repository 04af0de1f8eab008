"""A run resolved once: the RunPlan, the config left alone, the TrainResult."""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from collections import Counter

import pytest

from cvkit import CvkitError
from cvkit.training.config import RunConfig


def _count_calls(monkeypatch, name: str, label) -> Counter:
    """Count calls of ``name`` made from cvkit's training modules, wherever they import it from."""
    calls: Counter = Counter()
    for module_name, module in list(sys.modules.items()):
        original = getattr(module, name, None) if module_name.startswith("cvkit.training") else None
        if original is None:
            continue

        def counting(*args, _original=original, **kwargs):
            calls[label(*args)] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    return calls


def test_train_resolves_the_run_once_and_leaves_the_config_alone(tmp_path, monkeypatch):
    import cvkit.training.run  # noqa: F401  (its names are the ones to count)

    params = _count_calls(monkeypatch, "check_params", lambda owner, *_: owner)
    tasks = _count_calls(monkeypatch, "pick_task", lambda head, *_: head.name)
    preflights = _count_calls(monkeypatch, "preflight", lambda config: config.arch)
    config = RunConfig(arch="lenet5", dataset="shapes:32", epochs=1, batch_size=16, augmentations=["flip"],
                       head_params={"dropout": 0.1}, out=str(tmp_path / "run"))
    given = copy.deepcopy(config)
    result = cvkit.train(config, verbose=0)
    assert config == given  # image_size and out were resolved in the plan, not written into the config
    assert dict(params) == {"lenet5": 1, "head classification": 1, "augmentation flip": 1}
    assert dict(tasks) == {"classification": 1}
    assert dict(preflights) == {"lenet5": 1}
    assert isinstance(result, cvkit.TrainResult)
    assert result.run_dir == tmp_path / "run"
    assert result.validation == json.loads((result.run_dir / "metrics.json").read_text())["validation"]
    saved = json.loads((result.run_dir / "config.json").read_text())
    assert saved["image_size"] == 32 and saved["out"] == str(tmp_path / "run")  # the resolved values


def test_the_plan_holds_specs_merged_params_and_parsed_augmentations():
    from cvkit.training.plan import RunPlan, resolve_plan

    config = RunConfig(arch="densenet", dataset="folder:/photos", head_params={"dropout": 0.2},
                       backbone_params={"growth_rate": 12}, augmentations=["flip", "crop(scale=0.5)"])
    plan = resolve_plan(config)
    assert isinstance(plan, RunPlan)
    assert plan.backbone.name == "densenet121" and plan.head.name == "classification"
    assert (plan.dataset.name, plan.dataset_argument, plan.task) == ("folder", "/photos", "classification")
    assert plan.backbone_params == {**plan.backbone.defaults, "growth_rate": 12}
    assert plan.head_params == {"dropout": 0.2, "label_smoothing": 0.0, "aux_weight": 0.3}
    assert plan.augmentations == (("flip", {"mode": "horizontal"}), ("crop", {"scale": 0.5}))
    assert plan.image_size == plan.config.image_size == 32 and config.image_size is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.task = "segmentation"
    with pytest.raises(TypeError):
        plan.head_params["dropout"] = 0.9
    config.head_params["dropout"] = 0.7  # the caller's dict changing later does not reach the plan
    assert plan.config.head_params == {"dropout": 0.2}


def test_run_config_is_frozen_and_changed_by_replace():
    config = RunConfig(epochs=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 4
    assert dataclasses.replace(config, epochs=4).epochs == 4 and config.epochs == 3


@pytest.mark.parametrize("changes,message", [
    (dict(head="unet", dataset="digits"), "head 'unet' trains on segmentation"),
    (dict(head_params={"dropout_rate": 0.1}), "head classification has no parameter 'dropout_rate'"),
    (dict(augmentations=["crop(size=3)"]), "augmentation crop has no parameter 'size'"),
    (dict(arch="densenet", image_size=8), "needs inputs of at least 32x32"),
])
def test_an_unresolvable_config_fails_before_tensorflow(changes, message):
    from cvkit.training.plan import resolve_plan

    with pytest.raises(CvkitError, match=message):
        resolve_plan(RunConfig(**changes))

