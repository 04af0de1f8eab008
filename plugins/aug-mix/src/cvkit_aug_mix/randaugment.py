"""RandAugment (Cubuk et al. 2019): each image gets ``n`` ops drawn uniformly from a pool, all at
one magnitude ``m`` (0-10).

The pool is every registered augmentation that declares a ``magnitude`` mapping (parameter ->
its values at magnitudes 0 and 10) and is not a mixing one, so a third-party augmentation joins
by registering with ``magnitude=``. Each op is built at magnitude ``m`` through cvkit's own
augmentation builder, so it moves boxes and masks as it does alone.
"""

from __future__ import annotations

from typing import Any

from cvkit import Augmentation, CvkitError, DatasetStatistics, build_augmentation, get_registries


def pool(channels: int = 3) -> list[str]:
    """The names RandAugment draws from (``pca`` only joins on RGB images)."""
    names = []
    for spec in get_registries().augmentations:
        if spec.magnitude and spec.effect != "mixing" and spec.name != "randaugment":
            if spec.name == "pca" and channels != 3:
                continue
            names.append(spec.name)
    return sorted(names)


class RandAugment:
    """Per round, each sample draws an op; each op runs on the samples that drew it alone
    (gathered, augmented, scattered back), so a round costs one op per image whatever the pool."""

    def __init__(self, ops: list[Any], n: int):
        self.ops, self.n = ops, n
        self.layers = [layer for op in ops for layer in op.layers]  # for inspection, as build_augmentation's

    def __call__(self, batch: dict, training: bool = True, seed: Any = None) -> dict:
        import tensorflow as tf

        fold = tf.random.experimental.stateless_fold_in
        for round_ in range(self.n):
            round_seed = fold(seed, round_)
            count = tf.shape(batch["images"])[0]
            choice = tf.random.stateless_uniform((count,), round_seed, 0, len(self.ops), dtype=tf.int32)
            for k, op in enumerate(self.ops):
                chosen = tf.where(tf.equal(choice, k))  # (m, 1) indices of the samples that drew op k
                part = tf.nest.map_structure(lambda t: tf.gather_nd(t, chosen), batch)
                done = op(part, fold(round_seed, 100 + k))
                batch = tf.nest.map_structure(lambda full, new: _scatter(full, chosen, new), batch, done)
        return batch


def _scatter(full: Any, indices: Any, new: Any) -> Any:
    """``new`` written into ``full`` at ``indices``, in ``full``'s dtype (some Keras layers return
    float masks and labels)."""
    import tensorflow as tf

    if full.dtype.is_integer and new.dtype.is_floating:
        new = tf.round(new)
    return tf.tensor_scatter_nd_update(full, indices, tf.cast(new, full.dtype))


def _chosen_ops(ops: str | list[str], channels: int) -> list[str]:
    """The pool, or the part of it ``ops`` names (a list, or names separated by spaces or +)."""
    names = pool(channels)
    wanted = ops.replace("+", " ").split() if isinstance(ops, str) else list(ops)
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise CvkitError(f"randaugment ops {unknown} are not in its pool; choose from {' '.join(names)}")
    return wanted or names


def randaugment(*, image_size: tuple[int, int], channels: int, seed: int | None,
                statistics: DatasetStatistics | None = None, n: int = 2, m: float = 9.0,
                ops: str | list[str] = "") -> Augmentation:
    if not isinstance(n, int) or not 1 <= n <= 10:
        raise CvkitError(f"randaugment n (ops per image) must be an integer in [1, 10], got {n}")
    if not 0 <= m <= 10:
        raise CvkitError(f"randaugment m (magnitude) must be in [0, 10], got {m}")
    registry = get_registries().augmentations
    names = _chosen_ops(ops, channels)
    if not names:
        raise CvkitError("randaugment has an empty pool; install cvkit-aug-geometric or cvkit-aug-color")
    ops = []
    for offset, name in enumerate(names):
        params = registry.get(name).at_magnitude(m)
        op_seed = None if seed is None else seed * 31 + offset
        ops.append(build_augmentation([{"name": name, **params}], image_size=image_size, channels=channels,
                                      seed=op_seed, statistics=statistics))
    return RandAugment(ops, n)
