"""Test-time augmentation views and the check of a ``--tta`` value (no TensorFlow: the CLI
checks ``--tta`` before anything heavy loads). The model that averages them: :mod:`cvkit.models.tta`."""

from __future__ import annotations

from cvkit.errors import CvkitError, close_matches_hint

CROP_SCALE = 0.875
# view -> the tasks it can be undone for
TTA_VIEWS = {"flip": ("classification", "localization", "segmentation"),
             "crop": ("classification", "localization", "segmentation")}


def parse_tta(text: str | list[str] | None, task: str) -> tuple[str, ...]:
    """``"flip,crop"`` -> ``("flip", "crop")``; a view without an inverse for ``task`` is one line."""
    if not text:
        return ()
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    for name in names:
        if name in TTA_VIEWS and task in TTA_VIEWS[name]:
            continue
        from cvkit.contract.plugins import get_registries

        if name in get_registries().augmentations.names():
            raise CvkitError(f"--tta {name}: augmentation {name!r} has no inverse for {task} predictions; "
                             f"test-time augmentation supports {', '.join(TTA_VIEWS)}")
        raise CvkitError(f"unknown --tta view {name!r}{close_matches_hint(name, list(TTA_VIEWS))}; "
                         f"choose from {', '.join(TTA_VIEWS)}")
    return tuple(dict.fromkeys(names))


def crop_windows(height: int, width: int, crop: bool) -> list[tuple[int, int, int, int] | None]:
    """``None`` (the full image), then with ``crop`` the five (top, left, height, width) windows."""
    if not crop:
        return [None]
    ch, cw = max(1, round(height * CROP_SCALE)), max(1, round(width * CROP_SCALE))
    corners = [(0, 0), (0, width - cw), (height - ch, 0), (height - ch, width - cw),
               ((height - ch) // 2, (width - cw) // 2)]
    return [None] + [(top, left, ch, cw) for top, left in corners]
