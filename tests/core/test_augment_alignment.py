"""An augmentation declares its effect on boxes and masks, and ``check_augmentation`` tests each kind.

The registered ones are checked by tests/contract/test_augmentations.py; here in-process fakes
prove the check tells a kept declaration from a broken one.
"""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import check_augmentation


def _erase(batch, training=True, seed=None):
    """Cutout: a 10x10 patch of each image, at a place drawn per sample, set to 0."""
    import tensorflow as tf

    images = batch["images"]
    count, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    corner = tf.random.stateless_uniform((count, 2), seed, 0, height - 10, dtype=tf.int32)
    ys, xs = tf.range(height)[None, :, None], tf.range(width)[None, None, :]
    inside = ((ys >= corner[:, 0, None, None]) & (ys < corner[:, 0, None, None] + 10)
              & (xs >= corner[:, 1, None, None]) & (xs < corner[:, 1, None, None] + 10))
    return {**batch, "images": tf.where(inside[..., None], 0.0, images)}


def _flip_pixels_only(batch, training=True, seed=None):
    """Mirrors half the images, chosen per sample, but not their masks or boxes."""
    import tensorflow as tf

    flip = tf.random.stateless_uniform((tf.shape(batch["images"])[0], 1, 1, 1), seed) < 0.5
    return {**batch, "images": tf.where(flip, batch["images"][:, :, ::-1], batch["images"])}


FAKES = {"fake_cutout": (_erase, "erasing"), "fake_mirror": (_flip_pixels_only, "photometric"),
         "fake_mirror_geometric": (_flip_pixels_only, "geometric"), "fake_mirror_erasing": (_flip_pixels_only, "erasing")}


@pytest.fixture(scope="module", autouse=True)
def fake_augmentations():
    class Plugin:
        @cvkit.hookimpl
        def register_augmentations(self, register):
            for name, (fn, effect) in FAKES.items():
                register(name, build=lambda *, image_size, channels, seed, fn=fn: fn, family="fake", effect=effect)

    cvkit.register_plugin(Plugin(), "fake-augmentations")
    yield
    cvkit.unregister_plugin("fake-augmentations")


def test_an_erasing_augmentation_passes():
    check_augmentation("fake_cutout")


@pytest.mark.parametrize(("name", "message"), [
    ("fake_mirror", "is photometric but moved pixels"),
    ("fake_mirror_geometric", "masks did not move with the image"),
    ("fake_mirror_erasing", "not one fill value"),
])
def test_an_augmentation_that_breaks_its_declared_effect_fails(name, message):
    with pytest.raises(AssertionError, match=message):
        check_augmentation(name)


def test_the_effect_is_declared_or_derived_from_geometric():
    augmentations = cvkit.get_registries().augmentations
    assert augmentations.get("fake_cutout").effect == "erasing"
    assert augmentations.get("flip").effect == "geometric" and augmentations.get("flip").geometric
    assert augmentations.get("jitter").effect == "photometric" and not augmentations.get("jitter").geometric
    assert cvkit.AugmentationSpec(name="old", plugin="p", geometric=True).effect == "geometric"


def test_an_unknown_effect_is_refused():
    with pytest.raises(cvkit.PluginError, match="use one of"):
        cvkit.AugmentationSpec(name="odd", plugin="p", effect="warping")
