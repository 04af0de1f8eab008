"""Colour augmentations."""

from cvkit import RegisterAugmentation, hookimpl


@hookimpl
def register_augmentations(register: RegisterAugmentation) -> None:
    register(
        "jitter", build="cvkit_aug_color.layers:jitter", family="color",
        defaults={"brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.05},
        description="colour jitter: brightness, contrast, saturation, hue", effect="photometric",
    )
