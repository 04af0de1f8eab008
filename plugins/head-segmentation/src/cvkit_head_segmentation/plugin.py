"""Semantic segmentation heads: FCN-32s, FCN-16s, FCN-8s and U-Net."""

from cvkit import RegisterHead, hookimpl

HEADS = {
    "fcn32s": "FCN-32s: 1x1 scores on the stride-32 map, one learnable 32x upsampling; per-pixel softmax",
    "fcn16s": "FCN-16s: FCN-32s plus a skip from stride 16",
    "fcn8s": "FCN-8s: FCN-16s plus a skip from stride 8; pixel accuracy and mean IoU",
}


@hookimpl
def register_heads(register: RegisterHead) -> None:
    for name, description in HEADS.items():
        register(
            name,
            build=f"cvkit_head_segmentation.head:build_{name}",
            objectives="cvkit_head_segmentation.head:segmentation_objectives",
            targets="cvkit_head_segmentation.head:segmentation_targets",
            tasks={"segmentation"},
            defaults={"filters": 0, "dropout": 0.0},
            description=description,
        )
    register(
        "unet",
        build="cvkit_head_segmentation.head:build_unet",
        objectives="cvkit_head_segmentation.head:segmentation_objectives",
        targets="cvkit_head_segmentation.head:segmentation_targets",
        tasks={"segmentation"},
        defaults={"filters": 16, "max_filters": 256},
        description="U-Net style decoder: transposed-conv upsampling, concatenated skips from every stride",
    )
