"""Every registered augmentation keeps its declared effect on boxes and masks, draws per sample
and repeats under a seed, as the training pipeline runs it.

Parametrised over the registry: a new augmentation plugin is checked the moment it registers.
The checks are ``cvkit.testing``'s, the ones a plugin's own tests call.
"""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import check_augmentation


@pytest.mark.parametrize("name", cvkit.list_augmentations())
def test_augmentation_keeps_the_contract(name):
    check_augmentation(name)
