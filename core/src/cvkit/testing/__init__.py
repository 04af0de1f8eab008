"""The contract checks cvkit's own tests run, for any plugin's tests to call.

Each raises AssertionError with a message naming the broken rule, and takes seconds (tiny
models, 32x32 inputs)::

    from cvkit.testing import check_augmentation, check_backbone, check_dataset, check_head

    def test_my_backbone():
        check_backbone("my_net")   # builds, round-trips, stride rule, memorises 32 images
"""

from __future__ import annotations

from cvkit.testing.augmentations import check_augmentation
from cvkit.testing.blocks import check_block
from cvkit.testing.datasets import check_dataset, fake_prepared_tfds
from cvkit.testing.heads import check_head
from cvkit.testing.imagenet import check_imagenet_twin
from cvkit.testing.models import assert_overfits, check_backbone, create_tiny_model, tiny_input_shape

__all__ = [
    "assert_overfits", "check_augmentation", "check_backbone", "check_block", "check_dataset", "check_head",
    "check_imagenet_twin", "create_tiny_model", "fake_prepared_tfds", "tiny_input_shape",
]
