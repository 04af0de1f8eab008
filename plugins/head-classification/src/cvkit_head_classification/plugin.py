"""Classification head plugin."""

from cvkit import RegisterHead, hookimpl


@hookimpl
def register_heads(register: RegisterHead) -> None:
    register(
        "classification",
        build="cvkit_head_classification.head:build_classifier",
        objectives="cvkit_head_classification.head:classification_objectives",
        targets="cvkit_head_classification.head:classification_targets",
        tasks={"classification"},
        defaults={"dropout": 0.0, "label_smoothing": 0.0, "aux_weight": 0.3},
        description="global pooling -> (dropout) -> dense softmax; top-1 and top-5 accuracy",
    )
