"""Single-shot detection head (YOLO v1)."""

from cvkit import RegisterHead, hookimpl


@hookimpl
def register_heads(register: RegisterHead) -> None:
    register(
        "yolo",
        build="cvkit_head_detection.head:build_yolo",
        objectives="cvkit_head_detection.head:yolo_objectives",
        targets="cvkit_head_detection.head:yolo_targets",
        postprocess="cvkit_head_detection.head:yolo_postprocess",
        tasks={"detection"},
        defaults={"grid": 0, "boxes_per_cell": 2, "coord_weight": 5.0, "noobj_weight": 0.5, "width": 256},
        description="YOLO v1: S x S grid (grid 0 = image size / 32), B boxes per cell with objectness, "
                    "per-cell classes; per-class NMS; AP50 on validation each epoch",
    )
