"""Bad augmentation settings are one-line errors before any data loads."""

from __future__ import annotations

import pytest

from cvkit.errors import CvkitError
from cvkit.training.config import RunConfig
from cvkit.training.plan import resolve_plan


@pytest.mark.parametrize(("head", "aug", "message"), [
    ("localization", ["mixup"], "augmentation 'mixup' has no meaning for localization yet; it supports classification"),
    ("fcn8s", ["cutmix"], "it supports classification"),
    ("classification", ["mixupp"], "did you mean 'mixup'"),
    ("classification", ["randaugment(k=3)"], "has no parameter 'k'"),
    ("classification", ["pca(sigm=0.2)"], r"has no parameter 'sigm' \(did you mean 'sigma'\?\)"),
])
def test_plan_refuses_bad_augmentations(head, aug, message):
    with pytest.raises(CvkitError, match=message):
        resolve_plan(RunConfig(arch="resnet18", head=head, dataset="shapes", augmentations=aug))


@pytest.mark.parametrize(("name", "params", "message"), [
    ("pca", {}, "pca needs RGB images .* use jitter"),
    ("pca", {"sigma": 2.0}, "sigma must be in"),
    ("mixup", {"probability": 1.5}, "probability must be in"),
    ("randaugment", {"m": 11.0}, "magnitude"),
    ("randaugment", {"ops": "rotate warp"}, "not in its pool"),
])
def test_builders_refuse_bad_values(name, params, message):
    from cvkit.data.augment import build_augmentation
    from cvkit.data.statistics import DatasetStatistics

    channels = 1 if name == "pca" and not params else 3
    statistics = DatasetStatistics(num_classes=3, task="classification", channels=channels)
    with pytest.raises(CvkitError, match=message):
        build_augmentation([{"name": name, **params}], image_size=(32, 32), channels=channels, seed=0,
                           statistics=statistics)
