"""ResNeXt plugin: registers ResNeXt-50 (32x4d) and ResNeXt-101 (32x8d)."""

from cvkit import hookimpl
from cvkit_resnext.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    for name, params in VARIANTS.items():
        register(
            name,
            build="cvkit_resnext.backbone:build_resnext",
            family="resnext",
            defaults=params,
            input_shape=(224, 224, 3),
            min_input_size=32,
            paper=PAPER,
            default=name == DEFAULT,
            tiny=TINY,
            description=f"ResNeXt, blocks {params['blocks']}, cardinality {params['groups']} x {params['width_per_group']}d",
        )
