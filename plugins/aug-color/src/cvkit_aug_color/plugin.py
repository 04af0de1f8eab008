"""Colour augmentations."""

from cvkit import RegisterAugmentation, hookimpl


@hookimpl
def register_augmentations(register: RegisterAugmentation) -> None:
    register(
        "jitter", build="cvkit_aug_color.layers:jitter", family="color",
        defaults={"brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.05},
        description="colour jitter: brightness, contrast, saturation, hue", effect="photometric",
        magnitude={"brightness": (0.0, 0.3), "contrast": (0.0, 0.5), "saturation": (0.0, 0.5), "hue": (0.0, 0.1)},
    )
    register(
        "pca", build="cvkit_aug_color.layers:pca", family="color", defaults={"sigma": 0.1},
        description="AlexNet's PCA colour: offsets along the training RGB's principal components",
        effect="photometric", magnitude={"sigma": (0.0, 0.2)},
    )
