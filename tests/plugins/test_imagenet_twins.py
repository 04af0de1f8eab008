"""ImageNet weights: every registered variant with a keras.applications twin loads its weights exactly.

Each case builds the twin (as keras.applications builds it for its ImageNet weights, at the
smallest input it allows) with random weights, writes them in the layout of Keras' published
files, loads them as ``--weights imagenet`` does, and compares the logits and every BN layer's
output (every conv's for VGG) within 1e-4. With random weights the logits hardly depend on the
image (6e-8 apart for two images in MobileNetV2), so the layers are what catch a misplaced one.
The full-size model is built here only, so its SPEC parameter count is checked here too
(tests/contract/test_param_counts.py skips these variants).
"""

from __future__ import annotations

import pytest
from param_reference import REFERENCE

from cvkit import count_params
from cvkit.models.pretrained import imagenet_variants
from cvkit.testing import check_imagenet_twin


# One variant per converter runs by default; the deeper rows of each family (same converter, more
# blocks) run in the extended suite, `uv run pytest -m heavy`, to keep the default under 15 minutes.
EVERY_CONVERTER = {"vgg16", "resnet50", "densenet121", "mobilenet_v1", "mobilenet_v2", "efficientnet_b0", "inception_v3"}


@pytest.mark.slow
@pytest.mark.parametrize("variant", [
    pytest.param(variant, marks=() if variant in EVERY_CONVERTER else pytest.mark.heavy)
    for variant in imagenet_variants()
])
def test_imagenet_twin_loads_exactly(variant: str) -> None:
    model = check_imagenet_twin(variant)
    assert variant in REFERENCE, f"{variant}: add its trainable parameter count to tests/param_reference.py"
    assert count_params(model)[0] == REFERENCE[variant][0]


@pytest.mark.slow
def test_a_misplaced_layer_fails_the_twin_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A converter that swaps two early BN layers' weights (logits barely move) is caught."""
    import dataclasses

    from cvkit.models import pretrained

    original = pretrained.imagenet_weights_of("mobilenet_v1")

    def swapping_convert(source, model) -> None:
        original.load_converter()(source, model)
        first, second = model.get_layer("stem_bn"), model.get_layer("block1_dw_bn")
        first_weights = first.get_weights()
        first.set_weights(second.get_weights())
        second.set_weights(first_weights)

    broken = dataclasses.replace(original, convert=swapping_convert)
    monkeypatch.setattr(pretrained, "imagenet_weights_of", lambda variant: broken)
    with pytest.raises(AssertionError, match="differs from the twin's layer"):
        check_imagenet_twin("mobilenet_v1")
