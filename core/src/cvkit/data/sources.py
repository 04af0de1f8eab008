"""What every data set loader shares: ``NAME:ARG?option`` options and skipping bad examples."""

from __future__ import annotations

from cvkit.errors import CvkitError, close_matches_hint

OPTIONS = ("skip_invalid",)


def split_options(argument: str, dataset: str) -> tuple[str, dict[str, bool]]:
    """``"PATH?skip_invalid"`` -> (``"PATH"``, ``{"skip_invalid": True}``)."""
    base, sep, query = argument.partition("?")
    options = dict.fromkeys(OPTIONS, False)
    for item in filter(None, query.split("&") if sep else []):
        key, has_value, value = item.partition("=")
        if key not in options:
            raise CvkitError(
                f"unknown {dataset} option {key!r}{close_matches_hint(key, OPTIONS)}; valid options: "
                f"{', '.join(OPTIONS)} (as in --dataset '{dataset}:{base}?skip_invalid')"
            )
        options[key] = value.lower() not in ("0", "false", "no") if has_value else True
    return base, options


class Skipper:
    """Raises a one-line error for a bad example, or counts it when the user asked to skip."""

    def __init__(self, source: str, skip: bool):
        self.source, self.skip, self.count = source, skip, 0

    def __call__(self, error: CvkitError) -> None:
        if not self.skip:
            option = self.source if "?" in self.source else f"{self.source}?skip_invalid"
            raise CvkitError(f"{error}; or skip such examples with --skip-invalid (--dataset '{option}')")
        self.count += 1

