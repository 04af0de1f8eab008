"""The backbone interface: what a builder returns, and checks every builder needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cvkit.errors import CvkitError

if TYPE_CHECKING:
    from cvkit.contract.hookspecs import NativeTop

FEATURE_STRIDES = (2, 4, 8, 16, 32)


@dataclass
class Features:
    """What a backbone builder returns.

    ``maps`` holds the feature maps by stride (``{4: x4, 8: x8, 16: x16, 32: x32}``), following
    :func:`required_feature_strides`: a map at every power of two from 4 up to the deepest
    map's stride (the total stride), stride 2 optional. ``pooled`` is the pre-logits vector a
    classifier attaches to (global pooling for most families, the FC trunk for AlexNet, VGG and LeNet); it
    is built only when the builder is called with ``include_top=True``. ``aux`` holds
    training-only auxiliary pre-logits with the paper's loss weight (GoogLeNet: 0.3); the
    classification head makes each an ``<name>_probabilities`` output weighted by its own
    ``aux_weight`` parameter (default 0.3). ``inputs`` is the
    preprocessed image tensor the backbone was called on; cvkit fills it in, so dense heads can
    match their output to the input size. ``top`` is the network's own classifier when its
    paper ends in one (a 1x1 convolution to the classes, then pooling): ``top(x, *,
    num_classes)`` maps the deepest feature map to class scores before the softmax, and the
    classification head uses it instead of its Dense layer.
    """

    maps: dict[int, Any]
    pooled: Any = None
    aux: dict[str, tuple[Any, float]] = field(default_factory=dict)
    inputs: Any = None
    top: NativeTop | None = None

    @property
    def last(self) -> Any:
        """The deepest feature map."""
        return self.maps[max(self.maps)]


def required_feature_strides(total_stride: int) -> tuple[int, ...]:
    """The strides at which a backbone whose deepest map has ``total_stride`` must give maps.

    The rule, stated once: ``Features.maps`` is keyed by stride, every key is one of
    ``FEATURE_STRIDES`` (2 to 32), and there is a map at every power of two from 4 up to the
    total stride (a map at stride 2 is optional). Small architectures stop early (LeNet-5: 4)
    and big ones at 32; nothing more is required, because the dense heads need no more: FCN and
    U-Net start from the deepest map, take skips from whichever finer strides exist, and need an
    input size that the total stride divides (``default_image_size`` gives one).
    """
    if total_stride not in FEATURE_STRIDES:
        raise ValueError(f"a backbone's total stride must be one of {FEATURE_STRIDES}, got {total_stride}")
    return tuple(stride for stride in FEATURE_STRIDES if 4 <= stride <= total_stride) or (total_stride,)


def default_image_size(min_input_size: int, multiple: int = 32) -> int:
    """The training size when none is given: 32, or the arch's smallest input rounded up to
    a multiple of 32, so every head (dense ones need the total stride to divide it) fits."""
    return max(multiple, -(-min_input_size // multiple) * multiple)


def check_input_size(arch: str, input_shape: tuple, min_size: int) -> None:
    """Refuse inputs smaller than an architecture's total stride."""
    height, width = input_shape[0], input_shape[1]
    for side in (height, width):
        if side is not None and side < min_size:
            raise CvkitError(
                f"{arch} needs inputs of at least {min_size}x{min_size} pixels, got "
                f"{height}x{width}; pass a larger --image-size"
            )


def register_variants(
    register: Callable[..., None],
    variants: Mapping[str, Mapping[str, Any]],
    *,
    build: Callable | str,
    family: str,
    default: str,
    describe: Callable[[str, Mapping[str, Any]], str] | None = None,
    **shared: Any,
) -> None:
    """Register every row of a family's ``VARIANTS`` table through ``register_backbones``.

    ``shared`` keywords go to every ``register`` call; a callable value is called with
    ``(name, params)`` to give a per-variant value (an input size that grows with the variant).
    A ``build`` string may name the variant: ``"pkg.backbone:build_{name}"``.
    """
    for name, params in variants.items():
        extra = {key: value(name, params) if callable(value) else value for key, value in shared.items()}
        register(
            name,
            build=build.format(name=name) if isinstance(build, str) else build,
            family=family,
            defaults=params,
            default=name == default,
            description=describe(name, params) if describe else "",
            **extra,
        )
