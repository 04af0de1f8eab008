"""The ``shapes`` data set: synthetic, seeded, made on the fly (the default)."""

from cvkit import RegisterDataset, hookimpl


@hookimpl
def register_datasets(register: RegisterDataset) -> None:
    register(
        "shapes",
        load="cvkit_data_shapes.dataset:load_shapes",
        tasks={"classification", "localization", "segmentation", "detection"},
        takes_argument=True,
        description="synthetic coloured shapes (5 classes) with boxes and masks, 0-4 per image for detection; "
                    "shapes:N for N images",
    )
