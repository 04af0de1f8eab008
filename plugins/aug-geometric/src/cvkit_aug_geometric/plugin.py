"""Geometric augmentations: flips, crops, resized crops, translation, rotation, shear, stretch."""

from cvkit import RegisterAugmentation, hookimpl

AUGMENTATIONS = {
    "flip": ({"mode": "horizontal"}, "random horizontal flip"),
    "crop": ({"scale": 0.875}, "random crop of 87.5% of each side, resized back"),
    "resized_crop": ({"min_scale": 0.6}, "random resized crop (zoom in, aspect may change)"),
    "translate": ({"factor": 0.125}, "random shift by up to 12.5% of each side (pad and crop)"),
    "rotate": ({"degrees": 15.0}, "random rotation by up to 15 degrees"),
    "shear": ({"factor": 0.2}, "random shear"),
    "stretch": ({"factor": 0.2}, "random aspect change of up to 20%"),
}
# RandAugment's scale for each: (value at magnitude 0, value at magnitude 10). Flip has no strength.
MAGNITUDES = {
    "crop": {"scale": (1.0, 0.5)},
    "resized_crop": {"min_scale": (1.0, 0.4)},
    "translate": {"factor": (0.0, 0.3)},
    "rotate": {"degrees": (0.0, 30.0)},
    "shear": {"factor": (0.0, 0.3)},
    "stretch": {"factor": (0.0, 0.4)},
}


@hookimpl
def register_augmentations(register: RegisterAugmentation) -> None:
    for name, (defaults, description) in AUGMENTATIONS.items():
        register(name, build=f"cvkit_aug_geometric.layers:{name}", family="geometric",
                 defaults=defaults, description=description, effect="geometric",
                 magnitude=MAGNITUDES.get(name))
