"""Every registered augmentation keeps its declared effect on boxes and masks, draws per sample
and repeats under a seed, as the training pipeline runs it.

Parametrised over the registry: a new augmentation plugin is checked the moment it registers.
The checks are ``cvkit.testing``'s, the ones a plugin's own tests call. Every augmentation
with a RandAugment ``magnitude`` is also checked at several magnitudes, and RandAugment itself
on its geometric pool (colour ops recolour the mask channel the geometric check reads), one op
per image: two rotations in a row give the box of a rotated box, looser than the object's own,
as in any pipeline that carries boxes rather than polygons.
"""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import check_augmentation

MAGNITUDES = (4, 10)


def _randaugment_geometric_pool() -> str:
    from cvkit_aug_mix.randaugment import pool

    registry = cvkit.get_registries().augmentations
    return " ".join(name for name in pool() if registry.get(name).effect == "geometric")


def _params(name: str) -> dict:
    return {"ops": _randaugment_geometric_pool(), "n": 1} if name == "randaugment" else {}


@pytest.mark.parametrize("name", cvkit.list_augmentations())
def test_augmentation_keeps_the_contract(name):
    check_augmentation(name, **_params(name))


def _scaled() -> list[tuple[str, int]]:
    registry = cvkit.get_registries().augmentations
    # the defaults (above) and magnitude 10 run by default; magnitude 4 in the extended suite (-m heavy)
    return [pytest.param(name, m, marks=pytest.mark.heavy if m < max(MAGNITUDES) else ())
            for name in cvkit.list_augmentations() if registry.get(name).magnitude for m in MAGNITUDES]


@pytest.mark.parametrize(("name", "magnitude"), _scaled())
def test_randaugment_pool_keeps_the_contract_at_every_magnitude(name, magnitude):
    check_augmentation(name, **cvkit.get_registries().augmentations.get(name).at_magnitude(magnitude))


def test_randaugment_keeps_the_contract_at_a_low_magnitude():  # the registry test runs its default, 9
    check_augmentation("randaugment", m=4.0, n=1, ops=_randaugment_geometric_pool())
