"""The S x S grid: which S fits an input, which feature map feeds it, and the head's input checks."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features, list_heads

GRID_STRIDE = 32  # the default grid is the stride-32 map's: image size / 32


def working_grids(size: int) -> list[int]:
    """The grids whose cells are whole pixels, at least 4 wide, at this image size."""
    return [grid for grid in range(1, size // 4 + 1) if size % grid == 0]


def resolve_grid(size: Any, grid: int) -> int:
    """The grid S for an input of ``size`` (``(height, width)``); ``grid`` 0 means size / 32."""
    height, width = (int(side) if side is not None else None for side in size)
    if height is None or height != width:
        raise CvkitError(f"the yolo head needs a square input of known size, got {height}x{width}; "
                         "pass --image-size N")
    if not isinstance(grid, int) or isinstance(grid, bool) or grid < 0:
        raise CvkitError(f"grid must be a whole number of cells (0 for image size / {GRID_STRIDE}), got {grid!r}")
    chosen = grid or max(1, height // GRID_STRIDE)
    if chosen not in working_grids(height):
        given = f"grid {chosen}" if grid else f"the default grid {chosen} (image size / {GRID_STRIDE})"
        fits = ", ".join(str(g) for g in working_grids(height)) or "none"
        raise CvkitError(f"{given} does not divide the {height} px input into cells of at least 4 px; "
                         f"at {height} px use --head-param grid= one of {fits}, or with grid {chosen} an "
                         f"--image-size that is a multiple of {chosen} (at least {4 * chosen}), e.g. "
                         f"{max(4 * chosen, -(-height // chosen) * chosen)}")
    return chosen


def feature_map_for(features: Features, grid: int) -> Any:
    """The stride-32 map (or the deepest, when shallower), brought to ``grid`` x ``grid``: as it is
    when it has that size, average-pooled when its size is a multiple, else resized; a finer grid
    than the stride-32 map takes the deepest map with at least ``grid`` cells."""
    maps = {stride: x for stride, x in features.maps.items() if x.shape[1] is not None}
    deep_enough = [stride for stride, x in maps.items() if x.shape[1] >= grid and stride <= GRID_STRIDE]
    x = maps[max(deep_enough)] if deep_enough else features.last
    side = x.shape[1]
    if side == grid:
        return x
    if side % grid == 0:
        return keras.layers.AveragePooling2D(side // grid, name="yolo_grid_pool")(x)
    return keras.layers.Resizing(grid, grid, interpolation="bilinear", antialias=True, name="yolo_grid_resize")(x)


def check_weights(boxes_per_cell: int, coord_weight: float, noobj_weight: float, width: int) -> None:
    if not isinstance(boxes_per_cell, int) or boxes_per_cell < 1:
        raise CvkitError(f"boxes_per_cell must be a whole number of at least 1, got {boxes_per_cell!r}")
    if not (coord_weight > 0 and noobj_weight >= 0):
        raise CvkitError(f"coord_weight must be positive and noobj_weight at least 0, got {coord_weight} and "
                         f"{noobj_weight} (YOLO v1: 5 and 0.5)")
    if not isinstance(width, int) or width < 1:
        raise CvkitError(f"width (the head's channels) must be a positive whole number, got {width!r}")


def missing_boxes_error() -> CvkitError:
    """This batch has no boxes: name the heads that train without them."""
    others = ", ".join(name for name in list_heads() if name != "yolo") or "none installed"
    return CvkitError("this data set gives no boxes; the yolo head needs detection data (shapes, "
                      f"folder:PATH with COCO JSON or VOC XML); for this data use another head: {others}")
