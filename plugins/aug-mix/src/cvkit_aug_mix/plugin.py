"""Mixing augmentations (MixUp, CutMix) and RandAugment."""

from cvkit import RegisterAugmentation, hookimpl


@hookimpl
def register_augmentations(register: RegisterAugmentation) -> None:
    register(
        "mixup", build="cvkit_aug_mix.mixing:mixup", family="mixing", effect="mixing",
        defaults={"alpha": 0.2, "probability": 1.0}, tasks={"classification"},
        description="MixUp: blend each image with another, labels too (weight ~ Beta(alpha, alpha))",
    )
    register(
        "cutmix", build="cvkit_aug_mix.mixing:cutmix", family="mixing", effect="mixing",
        defaults={"alpha": 1.0, "probability": 1.0}, tasks={"classification"},
        description="CutMix: paste a box of another image, labels mixed by the pasted area",
    )
    register(
        "randaugment", build="cvkit_aug_mix.randaugment:randaugment", family="mixing", effect="geometric",
        defaults={"n": 2, "m": 9.0, "ops": ""},
        description="RandAugment: n ops per image at magnitude m (0-10), from every augmentation declaring a magnitude",
    )
