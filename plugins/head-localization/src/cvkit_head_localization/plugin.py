"""Classification + localization head."""

from cvkit import RegisterHead, hookimpl


@hookimpl
def register_heads(register: RegisterHead) -> None:
    register(
        "localization",
        build="cvkit_head_localization.head:build_localizer",
        objectives="cvkit_head_localization.head:localization_objectives",
        targets="cvkit_head_localization.head:localization_targets",
        tasks={"localization"},
        defaults={"class_specific": False, "dropout": 0.0, "box_loss": "giou", "box_weight": 1.0},
        description="class + one rel_xyxy box per image; L2/smooth-L1/GIoU box loss; mean IoU, accuracy at IoU>=0.5",
    )
