"""ImageNet weights: every twin of the VGG, ResNet and DenseNet families loads exactly.

Each case builds the keras.applications model with random weights, writes them in the layout of
Keras' published files, loads them as ``--weights imagenet`` does and compares logits (1e-4).
VGG needs 224x224: its FC layers take the 7x7 map the published weights were trained on.
"""

from __future__ import annotations

import pytest

from cvkit.testing import check_imagenet_twin

TWINS = [("resnet50", 32), ("resnet101", 32), ("resnet152", 32), ("densenet121", 32), ("densenet169", 32),
         ("densenet201", 32), ("vgg16", 224), ("vgg19", 224)]


@pytest.mark.slow
@pytest.mark.parametrize("variant,size", TWINS, ids=[variant for variant, _ in TWINS])
def test_imagenet_twin_logits_agree(variant, size):
    check_imagenet_twin(variant, size=size, batch=2)
