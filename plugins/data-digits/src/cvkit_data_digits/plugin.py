"""The ``digits`` data set, shipped by scikit-learn (no download)."""

from cvkit import RegisterDataset, hookimpl


@hookimpl
def register_datasets(register: RegisterDataset) -> None:
    register(
        "digits",
        load="cvkit_data_digits.dataset:load_digits",
        tasks={"classification"},
        description="scikit-learn's 8x8 handwritten digits: 1,797 real images, 10 classes, grayscale; "
                    "digits:0-4 keeps some digits",
        takes_argument=True,
    )
