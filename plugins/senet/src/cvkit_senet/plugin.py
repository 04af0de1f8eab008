"""SE-Net plugin: registers SE-ResNet-50 and SE-ResNeXt-50 (32x4d)."""

from cvkit import hookimpl
from cvkit_senet.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    for name, params in VARIANTS.items():
        register(
            name,
            build="cvkit_senet.backbone:build_senet",
            family="senet",
            defaults=params,
            input_shape=(224, 224, 3),
            min_input_size=32,
            paper=PAPER,
            default=name == DEFAULT,
            tiny={**TINY, **({"groups": 4, "width_per_group": 16, "stage_widths": [16, 32, 64, 128]}
                             if params["groups"] > 1 else {})},
            description=f"SE-{'ResNeXt' if params['groups'] > 1 else 'ResNet'}-50, reduction r={params['se_ratio']}",
        )
