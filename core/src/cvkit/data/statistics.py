"""Facts about a run's training data that augmentation builders may ask for.

A builder that declares a ``statistics`` parameter gets a :class:`DatasetStatistics`. What it
asks for is computed once per run, on first use, and written to the run directory
(``augmentation_statistics.json``), so a resumed run reuses it and predict/evaluate never need it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy loads where it is used, so the CLI starts fast
    import numpy as np

from cvkit.errors import CvkitError

STATISTICS_FILE = "augmentation_statistics.json"
PCA_SAMPLE_IMAGES = 512  # images read for the colour PCA; the covariance settles long before
PCA_SAMPLE_PIXELS = 200_000


@dataclass(frozen=True)
class RgbPca:
    """Principal components of the training set's RGB pixels, values scaled to [0, 1].

    ``eigenvalues`` are the variances along each component, largest first; ``eigenvectors[i]``
    is the unit (r, g, b) direction of ``eigenvalues[i]``. AlexNet's PCA colour augmentation adds
    ``sum_i alpha_i * eigenvalues[i] * eigenvectors[i]`` (times 255) to every pixel of an image.
    """

    eigenvalues: tuple[float, ...]
    eigenvectors: tuple[tuple[float, ...], ...]

    @classmethod
    def of_pixels(cls, pixels: np.ndarray) -> RgbPca:
        """From ``(n, 3)`` pixel values 0-255."""
        import numpy as np

        covariance = np.cov((np.asarray(pixels, "float64") / 255.0).T)
        values, vectors = np.linalg.eigh(covariance)
        order = np.argsort(values)[::-1]
        return cls(tuple(float(max(v, 0.0)) for v in values[order]),
                   tuple(tuple(float(c) for c in vectors[:, i]) for i in order))


class DatasetStatistics:
    """What an augmentation may need to know about a run's training data.

    ``num_classes`` and ``task`` are the run's; ``channels`` the images'. :meth:`rgb_pca` reads
    a sample of ``train`` (a ``tf.data.Dataset`` of example dicts, or an image array) the first
    time it is called, unless ``stored`` (a run directory) already holds it.
    """

    def __init__(self, *, num_classes: int, task: str, channels: int, train: Any = None,
                 stored: str | Path | None = None, seed: int = 0):
        self.num_classes, self.task, self.channels = num_classes, task, channels
        self._train, self._seed = train, seed
        self._computed: dict[str, Any] = {}
        path = Path(stored) / STATISTICS_FILE if stored is not None else None
        if path is not None and path.is_file():
            self._computed = json.loads(path.read_text())

    def rgb_pca(self) -> RgbPca:
        """The principal components of the training RGB pixels (see :class:`RgbPca`)."""
        if self.channels != 3:
            raise CvkitError(f"the colour PCA needs RGB images, but these have {self.channels} channel(s); "
                             f"use jitter(brightness=0.2, contrast=0.2) instead")
        if "rgb_pca" not in self._computed:
            if self._train is None:
                raise CvkitError("the colour PCA needs the training images; build it through a run, "
                                 "cvkit augment preview or cvkit.testing")
            self._computed["rgb_pca"] = asdict(RgbPca.of_pixels(self._sample_pixels()))
        stored = self._computed["rgb_pca"]
        return RgbPca(tuple(stored["eigenvalues"]), tuple(tuple(v) for v in stored["eigenvectors"]))

    def _sample_pixels(self) -> np.ndarray:
        import numpy as np

        if isinstance(self._train, np.ndarray):
            images = self._train[:PCA_SAMPLE_IMAGES]
        else:
            sample = self._train.take(PCA_SAMPLE_IMAGES).map(lambda example: example["images"])
            images = np.stack(list(sample.as_numpy_iterator()))
        pixels = images.reshape(-1, images.shape[-1])
        if len(pixels) > PCA_SAMPLE_PIXELS:
            rng = np.random.default_rng(self._seed)
            pixels = pixels[rng.choice(len(pixels), PCA_SAMPLE_PIXELS, replace=False)]
        return pixels

    def write(self, run_dir: str | Path) -> None:
        """Store what was computed in ``run_dir`` (nothing when nothing was asked for)."""
        if self._computed:
            from cvkit.fileio import write_text_atomic

            write_text_atomic(Path(run_dir) / STATISTICS_FILE, json.dumps(self._computed, indent=2) + "\n")
